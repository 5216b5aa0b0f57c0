app_name = "audio"

urlpatterns: list = []

from django.urls import path

from audio import views

app_name = "audio"

urlpatterns = [
    # Protected media behind signed URLs (audio.services.audio_url_sign).
    path("s/<str:token>/<path:path>", views.media_serve, name="media"),
]

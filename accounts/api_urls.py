from django.urls import re_path

from accounts import api

# Both spellings, with and without the trailing slash, are accepted (DESIGN section 8).
urlpatterns = [
    re_path(r"^users/?$", api.RegisterView.as_view(), name="users-register"),
    re_path(r"^login/?$", api.LoginView.as_view(), name="login"),
    re_path(r"^logout/?$", api.LogoutView.as_view(), name="logout"),
    re_path(r"^profile/?$", api.ProfileView.as_view(), name="profile"),
]

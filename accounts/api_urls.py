from django.urls import re_path

from accounts import api

# Both spellings, with and without the trailing slash, are accepted: clients differ in which
# they send, and a redirect would drop the body of a POST.
urlpatterns = [
    re_path(r"^users/?$", api.RegisterView.as_view(), name="users-register"),
    re_path(r"^login/?$", api.LoginView.as_view(), name="login"),
    re_path(r"^logout/?$", api.LogoutView.as_view(), name="logout"),
    re_path(r"^profile/?$", api.ProfileView.as_view(), name="profile"),
    re_path(
        r"^profile/email/verify-request/?$",
        api.EmailVerifyRequestView.as_view(),
        name="profile-email-verify-request",
    ),
    re_path(
        r"^profile/phone/verify-request/?$",
        api.PhoneVerifyRequestView.as_view(),
        name="profile-phone-verify-request",
    ),
    re_path(
        r"^profile/phone/verify/?$", api.PhoneVerifyView.as_view(), name="profile-phone-verify"
    ),
]

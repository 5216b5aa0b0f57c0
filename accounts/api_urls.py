from accounts import api
from core.api_urls import api_path

# Each path is taken with and without its trailing slash (api_path).
urlpatterns = [
    api_path(r"users", api.RegisterView, "users-register"),
    api_path(r"login", api.LoginView, "login"),
    api_path(r"logout", api.LogoutView, "logout"),
    api_path(r"profile", api.ProfileView, "profile"),
    api_path(
        r"profile/email/verify-request", api.EmailVerifyRequestView, "profile-email-verify-request"
    ),
    api_path(
        r"profile/phone/verify-request", api.PhoneVerifyRequestView, "profile-phone-verify-request"
    ),
    api_path(r"profile/phone/verify", api.PhoneVerifyView, "profile-phone-verify"),
]

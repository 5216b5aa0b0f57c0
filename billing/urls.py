from django.urls import path

from billing import views, views_payouts

app_name = "billing"

urlpatterns = [
    path("plans/", views.plans_page, name="plans"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscription/", views.subscription_page, name="subscription"),
    path("subscription/members/<uuid:user_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "subscription/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "subscription/invitations/<uuid:invitation_id>/accept/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "subscription/<slug:action>/",
        views.subscription_action,
        name="subscription_action",
    ),
    path("payouts/", views_payouts.payouts_page, name="payouts"),
    path("seats/accept/<str:token>/", views.seat_accept, name="seat_accept"),
    path("checkout/<uuid:checkout_id>/return/", views.checkout_return, name="checkout_return"),
    path("pay/<uuid:checkout_id>/", views.razorpay_checkout, name="razorpay_checkout"),
    path("pay/<uuid:checkout_id>/callback/", views.razorpay_callback, name="razorpay_callback"),
    path("sandbox/checkout/<str:checkout_id>/", views.sandbox_checkout, name="sandbox_checkout"),
    path(
        "sandbox/subscriptions/<str:subscription_id>/<slug:action>/",
        views.sandbox_control,
        name="sandbox_control",
    ),
]

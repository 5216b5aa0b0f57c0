"""How billing's objects look in the API, shared by the views of several jobs. Request
bodies are read by serializers beside their views."""

from django.conf import settings
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from billing import plans, services
from billing.models import (
    CheckoutSession,
    SeatInvitation,
    StudentVerification,
    Subscription,
    SubscriptionMember,
)


class MoneySerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units (paise, cents).")
    currency = serializers.CharField()


class EntitlementsSerializer(serializers.Serializer):
    plan = serializers.CharField()
    premium = serializers.BooleanField()
    max_bitrate_kbps = serializers.IntegerField()
    bitrate_choices = serializers.ListField(child=serializers.IntegerField())
    lossless = serializers.BooleanField()
    ads = serializers.BooleanField()
    skips_per_hour = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    offline_downloads = serializers.BooleanField()
    source = serializers.CharField()

    def to_representation(self, instance):
        return instance.as_dict() if hasattr(instance, "as_dict") else instance


class PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()
    seats = serializers.IntegerField()
    premium = serializers.BooleanField()
    student = serializers.BooleanField()
    interval = serializers.CharField()
    price = MoneySerializer()
    trial_days = serializers.IntegerField()
    entitlements = EntitlementsSerializer()

    def to_representation(self, plan):
        currency = self.context.get("currency")
        return {
            "code": plan.code,
            "name": plan.name,
            "summary": plan.summary,
            "seats": plan.seats,
            "premium": plan.premium,
            "student": plan.student,
            "interval": plan.interval,
            "price": {"amount": plan.price(currency), "currency": plan.price_currency(currency)},
            "trial_days": settings.BILLING_TRIAL_DAYS if plan.premium else 0,
            "entitlements": plan.entitlements(source="own" if plan.premium else "free").as_dict(),
        }


class SubscriptionSerializer(serializers.ModelSerializer):
    plan_name = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = [
            "id",
            "plan",
            "plan_name",
            "status",
            "provider",
            "amount",
            "currency",
            "interval",
            "trial_end",
            "current_period_start",
            "current_period_end",
            "cancel_at_period_end",
            "canceled_at",
            "ended_at",
            "started_at",
            "past_due_since",
        ]
        read_only_fields = fields

    def get_plan_name(self, subscription) -> str:
        return plans.get(subscription.plan).name


class PersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()
    email = serializers.EmailField()


class MemberSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = SubscriptionMember
        fields = ["user", "joined_at"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="subscription.plan", read_only=True)
    invited_by = serializers.CharField(source="invited_by.display_name", read_only=True)
    accept_url = serializers.SerializerMethodField()

    class Meta:
        model = SeatInvitation
        fields = ["id", "email", "status", "plan", "invited_by", "created_at", "accept_url"]
        read_only_fields = fields

    def get_accept_url(self, invitation) -> str | None:
        # The link is the owner's to share, and the invitee's own.
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if invitation.status != "pending" or user is None:
            return None
        if invitation.invited_by_id == user.pk or invitation.email.lower() == user.email.lower():
            return services.invitation_accept_url(invitation)
        return None


class StudentVerificationSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = StudentVerification
        fields = [
            "id",
            "user",
            "institution",
            "student_email",
            "status",
            "note",
            "created_at",
            "reviewed_at",
            "expires_at",
        ]
        read_only_fields = fields


class CheckoutSerializer(serializers.ModelSerializer):
    checkout_url = serializers.CharField(source="url", read_only=True)
    payment = serializers.UUIDField(source="payment_id", read_only=True, allow_null=True)
    subscription = serializers.UUIDField(source="subscription_id", read_only=True, allow_null=True)

    class Meta:
        model = CheckoutSession
        fields = [
            "id",
            "kind",
            "provider",
            "plan",
            "trial_days",
            "status",
            "checkout_url",
            "client_params",
            "payment",
            "subscription",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["owner", "member", "none"])
    plan = PlanSerializer()
    subscription = SubscriptionSerializer(allow_null=True)
    owner = PersonSerializer(allow_null=True)
    members = MemberSerializer(many=True)
    invitations = InvitationSerializer(many=True)
    seats_left = serializers.IntegerField(
        help_text="How many more people the owner may invite now (0 unless the caller owns "
        "a Duo or Family plan): pending invitations hold a seat."
    )
    invitations_for_me = InvitationSerializer(many=True)
    next_charge = inline_serializer(
        "NextCharge",
        fields={
            "amount": serializers.IntegerField(),
            "currency": serializers.CharField(),
            "at": serializers.DateTimeField(),
        },
        allow_null=True,
    )
    entitlements = EntitlementsSerializer()
    trial_eligible = serializers.BooleanField()
    student_verification = StudentVerificationSerializer(allow_null=True)

"""Musicians: your matching profile, and a musician's public figures, packages and reviews."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from orders import selectors, services
from orders.api.base import OrdersView, uuid_or_404
from orders.api.packages import PackageSerializer
from orders.api.reviews import PublicReviewSerializer
from orders.availability import REASONS, musician_availability
from orders.models import MusicianProfile, Occasion

# The figures orders keep for a musician (musician_stats_refresh): shown, never written.
STATS_FIELDS = [
    "rating_average",
    "rating_count",
    "on_time_rate",
    "first_draft_approval_rate",
    "average_completion_days",
    "completed_orders",
]


class MusicianProfileSerializer(serializers.ModelSerializer):
    styles = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False
    )
    occasions = serializers.ListField(
        child=serializers.ChoiceField(choices=Occasion.choices),
        max_length=len(Occasion.values),
        required=False,
    )
    capacity = serializers.IntegerField(min_value=1, max_value=50, required=False)

    class Meta:
        model = MusicianProfile
        fields = [
            "styles",
            "occasions",
            "capacity",
            "accepting_orders",
            "away_from",
            "away_until",
            *STATS_FIELDS,
        ]
        read_only_fields = STATS_FIELDS


class AvailabilitySerializer(serializers.Serializer):
    available = serializers.BooleanField(help_text="Whether they take a new order now.")
    reason = serializers.ChoiceField(
        choices=list(REASONS), allow_null=True, help_text="Why not (null when available)."
    )
    next_free_date = serializers.DateField(
        allow_null=True, help_text="When they are expected to take orders again, if known."
    )
    message = serializers.CharField()


class MusicianProfileView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MusicianProfileSerializer, operation_id="musicians_me_retrieve")
    def get(self, request):
        """Your matching profile: styles, occasions, capacity, time away and your figures."""
        if not request.user.is_musician:
            raise exceptions.PermissionDenied("Only musicians have a matching profile.")
        return Response(MusicianProfileSerializer(services.musician_profile_get(request.user)).data)

    @extend_schema(
        request=MusicianProfileSerializer,
        responses=MusicianProfileSerializer,
        operation_id="musicians_me_partial_update",
    )
    def patch(self, request):
        serializer = MusicianProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile = services.musician_profile_update(
            musician=request.user, **serializer.validated_data
        )
        return Response(MusicianProfileSerializer(profile).data)


class MusicianPublicView(OrdersView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "MusicianPublic",
            {
                "id": serializers.UUIDField(),
                "display_name": serializers.CharField(),
                "profile": MusicianProfileSerializer(),
                "availability": AvailabilitySerializer(),
                "packages": PackageSerializer(many=True),
                "reviews": PublicReviewSerializer(many=True),
            },
        ),
        operation_id="musicians_retrieve",
    )
    def get(self, request, musician_id):
        """A musician's public figures (rating, on-time rate, first-draft approval, average
        completion days), whether they take a new order now, active packages and latest
        reviews."""
        musician = selectors.musician_public(uuid_or_404(musician_id))
        if musician is None:
            raise exceptions.NotFound()
        profile = getattr(musician, "musician_profile", None) or MusicianProfile(musician=musician)
        packages = selectors.packages_for(None, musician_id=musician.pk)
        reviews = selectors.reviews_of(musician)[:10]
        return Response(
            {
                "id": str(musician.pk),
                "display_name": musician.display_name,
                "profile": MusicianProfileSerializer(profile).data,
                "availability": AvailabilitySerializer(musician_availability(musician)).data,
                "packages": PackageSerializer(packages, many=True).data,
                "reviews": PublicReviewSerializer(reviews, many=True).data,
            }
        )

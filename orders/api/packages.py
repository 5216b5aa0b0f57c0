"""Packages: what musicians offer (public to read; a musician manages their own)."""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from orders import selectors, services
from orders.api.base import OrdersView, uuid_or_404
from orders.errors import Invalid
from orders.models import Occasion, Package


class PackageSerializer(serializers.ModelSerializer):
    musician = serializers.UUIDField(source="musician_id", read_only=True)
    musician_name = serializers.CharField(source="musician.display_name", read_only=True)
    price = serializers.IntegerField(
        min_value=1, max_value=services.MAX_PRICE, help_text="Minor units."
    )
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)
    delivery_days = serializers.IntegerField(min_value=1, max_value=365)
    revisions_included = serializers.IntegerField(min_value=0, max_value=20, required=False)
    occasions = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=len(Occasion.values),
        required=False,
        help_text=f"Occasions offered for (empty: any): {', '.join(Occasion.values)}.",
    )

    def validate_occasions(self, value):
        try:
            return services.occasions_clean(value)
        except Invalid as error:
            raise serializers.ValidationError(error.message) from None

    class Meta:
        model = Package
        fields = [
            "id",
            "musician",
            "musician_name",
            *services.PACKAGE_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class PackageListView(OrdersView, generics.ListAPIView):
    serializer_class = PackageSerializer

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Package.objects.none()
        musician = self.request.query_params.get("musician")
        musician_id = None
        if musician:
            try:
                musician_id = uuid.UUID(musician)
            except ValueError:
                raise exceptions.ValidationError({"musician": ["Not a user id."]}) from None
        return selectors.packages_for(self.request.user, musician_id=musician_id)

    @extend_schema(
        parameters=[OpenApiParameter("musician", OpenApiTypes.UUID, description="A musician.")],
        operation_id="packages_list",
    )
    def get(self, request, *args, **kwargs):
        """Packages on offer (public); a musician also sees their own inactive ones."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=PackageSerializer,
        responses={201: PackageSerializer},
        operation_id="packages_create",
    )
    def post(self, request):
        """A musician offers a new package."""
        serializer = PackageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        package = services.package_create(musician=request.user, **serializer.validated_data)
        return Response(PackageSerializer(package).data, status=status.HTTP_201_CREATED)


class PackageDetailView(OrdersView):
    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    def _package(self, request, package_id):
        package = selectors.packages_for(request.user).filter(pk=uuid_or_404(package_id)).first()
        if package is None:
            raise exceptions.NotFound()
        return package

    @extend_schema(responses=PackageSerializer, operation_id="packages_retrieve")
    def get(self, request, package_id):
        return Response(PackageSerializer(self._package(request, package_id)).data)

    def _update(self, request, package_id, *, partial):
        package = self._package(request, package_id)
        serializer = PackageSerializer(package, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        package = services.package_update(
            package=package, actor=request.user, **serializer.validated_data
        )
        return Response(PackageSerializer(package).data)

    @extend_schema(
        request=PackageSerializer, responses=PackageSerializer, operation_id="packages_update"
    )
    def put(self, request, package_id):
        """The owner changes a package (orders placed keep the terms they were placed with)."""
        return self._update(request, package_id, partial=False)

    @extend_schema(
        request=PackageSerializer,
        responses=PackageSerializer,
        operation_id="packages_partial_update",
    )
    def patch(self, request, package_id):
        return self._update(request, package_id, partial=True)

    @extend_schema(responses={204: None}, operation_id="packages_destroy")
    def delete(self, request, package_id):
        """The owner stops offering a package (it is kept for the orders placed with it)."""
        services.package_deactivate(package=self._package(request, package_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

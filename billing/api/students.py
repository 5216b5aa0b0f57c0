"""The student price: asking for it, and staff reviewing the requests."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from billing import selectors, services
from billing.api.base import BillingListView, BillingView
from billing.api.serializers import StudentVerificationSerializer
from billing.models import VerificationStatus


class StudentRequestSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=200)
    student_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class StudentVerificationView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=StudentVerificationSerializer, operation_id="subscriptions_student_get"
    )
    def get(self, request):
        """The caller's latest student verification request."""
        verification = selectors.student_verification_latest(request.user)
        if verification is None:
            raise exceptions.NotFound("You have not asked for the student price.")
        return Response(StudentVerificationSerializer(verification).data)

    @extend_schema(
        request=StudentRequestSerializer,
        responses={201: StudentVerificationSerializer},
        operation_id="subscriptions_student_request",
    )
    def post(self, request):
        """Ask for the student price; staff review the request."""
        serializer = StudentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = services.student_verification_request(
            user=request.user, **serializer.validated_data
        )
        return Response(
            StudentVerificationSerializer(verification).data, status=status.HTTP_201_CREATED
        )


class StudentVerificationStaffListView(BillingListView):
    permission_classes = [IsAdminUser]
    serializer_class = StudentVerificationSerializer

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(VerificationStatus.values))],
        operation_id="subscriptions_student_verifications_list",
    )
    def get(self, request, *args, **kwargs):
        """Staff: student verification requests (oldest first)."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        wanted = self.request.query_params.get("status")
        return selectors.student_verifications_for_staff(
            status=wanted if wanted in VerificationStatus.values else None
        )


class ReviewSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class StudentVerificationReviewView(BillingView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=ReviewSerializer,
        responses=StudentVerificationSerializer,
        operation_id="subscriptions_student_verifications_review",
    )
    def post(self, request, verification_id, action):
        """Staff: approve or reject a student verification request."""
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = services.student_verification_review(
            verification_id=verification_id,
            reviewer=request.user,
            approve=action == "approve",
            note=serializer.validated_data.get("note", ""),
        )
        return Response(StudentVerificationSerializer(verification).data)

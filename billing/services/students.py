"""The student price: a person asks for it, staff approve or reject; an approval lasts a year.
A review is kept in Wagtail's log (who decided) and told to the person."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.log_actions import log

from billing import notices, selectors
from billing.errors import Conflict, Forbidden, Invalid, NotFound
from billing.models import StudentVerification, VerificationStatus

STUDENT_VERIFICATION_VALIDITY = timedelta(days=365)


def student_verification_request(
    *, user, institution: str, student_email: str = ""
) -> StudentVerification:
    institution = (institution or "").strip()
    if not institution:
        raise Invalid("Tell us where you study.", code="institution_required")
    if selectors.student_approved(user):
        raise Conflict("You are already verified as a student.", code="already_verified")
    try:
        with transaction.atomic():
            return StudentVerification.objects.create(
                user=user,
                institution=institution[:200],
                student_email=(student_email or "").strip(),
            )
    except IntegrityError:
        raise Conflict("Your request is waiting for review.", code="already_pending") from None


def student_verification_review(
    *, verification_id, reviewer, approve: bool, note: str = ""
) -> StudentVerification:
    if not reviewer.is_staff:
        raise Forbidden("Only staff review student verifications.")
    with transaction.atomic():
        verification = (
            StudentVerification.objects.select_for_update().filter(pk=verification_id).first()
        )
        if verification is None:
            raise NotFound("No such verification request.")
        if verification.status != VerificationStatus.PENDING:
            raise Conflict("This request was already reviewed.", code="already_reviewed")
        now = timezone.now()
        verification.status = (
            VerificationStatus.APPROVED if approve else VerificationStatus.REJECTED
        )
        verification.reviewed_by = reviewer
        verification.reviewed_at = now
        verification.note = (note or "")[:300]
        verification.expires_at = now + STUDENT_VERIFICATION_VALIDITY if approve else None
        verification.save()
        log(
            verification,
            "billing.student_approve" if approve else "billing.student_reject",
            user=reviewer,
            data={"note": verification.note},
        )
        notices.student_reviewed(verification)
    return verification

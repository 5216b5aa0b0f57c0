"""Student verifications in the Wagtail admin: the queue (oldest first, with the evidence),
approve and reject (with a reason) through billing's review service, logged, the student told."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from wagtail.models import ModelLogEntry

from billing import selectors, services
from billing.models import StudentVerification, VerificationStatus
from notifications.models import Delivery, Notification
from tests.factories import MusicianFactory, UserFactory

pytestmark = pytest.mark.django_db


def ask(user, institution, *, days_ago=0, email=""):
    verification = services.student_verification_request(
        user=user, institution=institution, student_email=email
    )
    StudentVerification.objects.filter(pk=verification.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return verification


def test_the_queue_lists_pending_requests_oldest_first_with_the_evidence(client, staff):
    ask(UserFactory(), "Newer College", days_ago=1)
    oldest = ask(UserFactory(), "Oldest University", days_ago=5, email="ravi@oldest.edu")
    reviewed = ask(UserFactory(), "Reviewed Institute", days_ago=9)
    services.student_verification_review(verification_id=reviewed.pk, reviewer=staff, approve=True)
    client.force_login(staff)

    html = client.get("/admin/billing_students/").content.decode()
    every = client.get("/admin/billing_students/", {"status": ""}).content.decode()
    inspect = client.get(f"/admin/billing_students/inspect/{oldest.pk}/").content.decode()

    assert html.index("Oldest University") < html.index("Newer College")
    assert "Reviewed Institute" not in html  # the queue: waiting for review only
    assert "Reviewed Institute" in every
    assert "ravi@oldest.edu" in html
    assert f"/admin/billing_students/approve/{oldest.pk}/" in html
    assert f"/admin/billing_students/reject/{oldest.pk}/" in html
    assert "ravi@oldest.edu" in inspect and "Oldest University" in inspect
    assert f"/admin/billing_students/approve/{oldest.pk}/" in inspect


def test_staff_approve_a_request_the_student_is_told_and_it_is_logged(
    client, staff, django_capture_on_commit_callbacks
):
    student = UserFactory()
    verification = ask(student, "Delhi University", email="a@du.ac.in")
    client.force_login(staff)

    page = client.get(f"/admin/billing_students/approve/{verification.pk}/")
    assert page.status_code == 200 and "Delhi University" in page.content.decode()
    assert "None: this is their first request." in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/billing_students/approve/{verification.pk}/", {"reason": ""}, follow=True
        )

    verification.refresh_from_db()
    assert verification.status == VerificationStatus.APPROVED
    assert verification.reviewed_by == staff and verification.expires_at > timezone.now()
    assert selectors.student_approved(student)
    assert "Approved: the student has been told." in response.content.decode()
    entry = ModelLogEntry.objects.get(action="billing.student_approve")
    assert entry.user_id == staff.pk and entry.object_id == str(verification.pk)
    told = Notification.objects.get(recipient=student)
    assert told.title == "Your student price is approved"
    assert Delivery.objects.filter(
        recipient=student, event="subscription.student_approved", channel="email"
    ).exists()
    history = client.get(f"/admin/billing_students/history/{verification.pk}/").content.decode()
    assert "Student price approved" in history


def test_a_rejection_needs_a_reason_which_the_student_is_told(
    client, staff, django_capture_on_commit_callbacks
):
    student = UserFactory()
    verification = ask(student, "Nowhere Academy")
    client.force_login(staff)

    blank = client.post(f"/admin/billing_students/reject/{verification.pk}/", {"reason": "  "})
    verification.refresh_from_db()
    assert blank.status_code == 400 and verification.status == VerificationStatus.PENDING
    assert "This field is required." in blank.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/billing_students/reject/{verification.pk}/",
            {"reason": "We could not find Nowhere Academy; send your student email."},
        )

    verification.refresh_from_db()
    assert response.status_code == 302
    assert verification.status == VerificationStatus.REJECTED
    assert verification.note.startswith("We could not find Nowhere Academy")
    told = Notification.objects.get(recipient=student)
    assert "We could not find Nowhere Academy" in told.body
    entry = ModelLogEntry.objects.get(action="billing.student_reject")
    assert entry.user_id == staff.pk and "Nowhere Academy" in entry.data["note"]


def test_a_request_reviewed_meanwhile_is_a_conflict_that_changes_nothing(client, staff):
    verification = ask(UserFactory(), "Race College")
    other = UserFactory(is_staff=True, is_superuser=True)
    services.student_verification_review(
        verification_id=verification.pk, reviewer=other, approve=False, note="first"
    )
    client.force_login(staff)

    response = client.post(f"/admin/billing_students/approve/{verification.pk}/", {"reason": ""})

    verification.refresh_from_db()
    assert response.status_code == 409
    assert "already reviewed" in response.content.decode()
    assert verification.status == VerificationStatus.REJECTED and verification.reviewed_by == other


def test_the_queue_reads_a_bounded_number_of_queries(client, staff, django_assert_max_num_queries):
    for n in range(3):
        ask(UserFactory(), f"College {n}", days_ago=n)
    client.force_login(staff)
    client.get("/admin/billing_students/")

    with django_assert_max_num_queries(16) as captured:
        client.get("/admin/billing_students/")
    for n in range(3, 20):
        ask(UserFactory(), f"College {n}", days_ago=n)
    with django_assert_max_num_queries(len(captured)):
        response = client.get("/admin/billing_students/")

    assert response.status_code == 200 and "College 19" in response.content.decode()


@pytest.mark.parametrize("who", ["customer", "musician", "admin access without staff"])
def test_only_staff_see_the_queue_or_review(client, who):
    verification = ask(UserFactory(), "Secret College", email="s@secret.edu")
    person = UserFactory() if who == "customer" else MusicianFactory()
    if who == "admin access without staff":
        person.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(person)

    responses = [
        client.get("/admin/billing_students/"),
        client.get(f"/admin/billing_students/inspect/{verification.pk}/"),
        client.get(f"/admin/billing_students/approve/{verification.pk}/"),
        client.post(f"/admin/billing_students/approve/{verification.pk}/", {"reason": ""}),
        client.post(f"/admin/billing_students/reject/{verification.pk}/", {"reason": "no"}),
    ]

    for response in responses:
        assert response.status_code in (302, 403)
        assert "s@secret.edu" not in response.content.decode()
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PENDING
    assert not ModelLogEntry.objects.filter(action__startswith="billing.student").exists()

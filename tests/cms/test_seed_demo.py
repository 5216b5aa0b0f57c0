"""seed_demo's commissions: the demo musicians' profiles and packages, and the demo customer's
orders brought to every state through the real services (sandbox payments by signed webhook,
drafts and finals through the audio pipeline), once.

The orders need real commits (the sandbox's webhook leaves after one), so the main test is
transactional; it runs the whole seed twice in one function to pay for the audio only once.
"""

import importlib.util
from collections import Counter

import pytest
from django.core.management import call_command, get_commands
from django.db.models import Sum

from accounts.models import User
from audio.models import AudioAsset, Rendition
from billing.models import LedgerEntry, LedgerTransaction, Payment, PaymentStatus, WebhookEvent
from billing.services.ledger import PLATFORM_FEES, balance, payable_code
from notifications.models import Delivery as Notice
from orders import services
from orders.models import (
    Delivery,
    Dispute,
    MarketplaceSettings,
    MediaStatus,
    MusicianProfile,
    OfferStatus,
    Order,
    OrderEvent,
    OrderOffer,
    OrderStatus,
    Package,
    Review,
    RevisionRequest,
    RevisionStatus,
    Version,
)

S = OrderStatus
TRACKED = (
    Order,
    OrderEvent,
    OrderOffer,
    Version,
    Delivery,
    RevisionRequest,
    Review,
    Dispute,
    Package,
    MusicianProfile,
    Payment,
    LedgerTransaction,
    WebhookEvent,
    AudioAsset,
    Rendition,
    Notice,
)


@pytest.fixture
def sandbox_payments(settings):
    settings.BILLING_CURRENCY = "INR"
    settings.BILLING_PROVIDER = "auto"
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    settings.STRIPE_SECRET_KEY = ""
    # Nothing listens here: the seed must hand the sandbox's webhooks over in process.
    settings.SANDBOX_WEBHOOK_URL = "http://127.0.0.1:9/api/billing/webhooks/sandbox"
    return settings


def snapshot() -> dict:
    counts = {model.__name__: model.objects.count() for model in TRACKED}
    counts["statuses"] = sorted(Order.objects.values_list("recipient_name", "status"))
    counts["profiles"] = sorted(MusicianProfile.objects.values_list("musician_id", "updated_at"))
    counts["packages"] = sorted(Package.objects.values_list("name", "updated_at"))
    return counts


def by_recipient() -> dict[str, Order]:
    return {order.recipient_name: order for order in Order.objects.select_related("musician")}


def escrow(order) -> int:
    return services.escrow_held(order)


def events(order) -> list[str]:
    return list(order.events.values_list("name", flat=True))


@pytest.mark.django_db(transaction=True)
def test_seed_demo_brings_every_demo_order_to_its_state_once(capsys, sandbox_payments):
    call_command("seed_demo", songs=0)  # the catalog has its own test
    first = capsys.readouterr().out

    mira = User.objects.get(email="musician@demo.encore.test")
    theo = User.objects.get(email="musician2@demo.encore.test")
    cora = User.objects.get(email="customer@demo.encore.test")

    # Matching profiles and packages (INR, minor units).
    assert "acoustic pop" in mira.musician_profile.styles
    assert mira.musician_profile.capacity == 6 and mira.musician_profile.accepting_orders
    assert "hip hop" in theo.musician_profile.styles
    assert sorted(Package.objects.filter(musician=mira).values_list("name", "price")) == [
        ("Heartfelt Acoustic", 500_000),
        ("Story Song", 1_000_000),
        ("Wedding Ballad", 2_000_000),
    ]
    assert sorted(Package.objects.filter(musician=theo).values_list("name", flat=True)) == [
        "Anthem",
        "Beat & Rhyme",
    ]
    assert set(Package.objects.values_list("currency", flat=True)) == {"INR"}
    wedding = Package.objects.get(name="Wedding Ballad")
    assert (wedding.delivery_days, wedding.revisions_included) == (14, 3)
    assert "wedding" in wedding.occasions and wedding.description

    orders = by_recipient()
    assert {name: order.status for name, order in orders.items()} == {
        "Asha": S.PLACED,
        "Vikram": S.MATCHING,
        "Kabir": S.IN_PROGRESS,
        "Kamala": S.IN_REVIEW,
        "Meera and Arjun": S.REVISION_REQUESTED,
        "Rohan": S.DELIVERED,
        "Priya": S.COMPLETED,
        "Tara": S.DISPUTED,
    }
    assert {order.customer_id for order in orders.values()} == {cora.pk}
    for order in orders.values():
        assert order.title in first

    # placed: the deposit is waiting, nothing in escrow, nobody offered it yet.
    asha = orders["Asha"]
    deposit = Payment.objects.get(reference=str(asha.pk), purpose="order_deposit")
    assert deposit.status != PaymentStatus.CAPTURED and deposit.amount == 250_000
    assert escrow(asha) == 0 and not asha.offers.exists()

    # matching: matched (no package) and offered to Mira, the only musician who fits.
    vikram = orders["Vikram"]
    assert vikram.match and vikram.package is None and vikram.musician == mira
    offer = vikram.offers.get()
    assert (offer.musician, offer.status) == (mira, OfferStatus.PENDING)
    assert escrow(vikram) == vikram.deposit_amount == 300_000
    assert Notice.objects.filter(event="order.offer", recipient=mira).exists()

    # in_progress at the composition stage, accepted by Theo.
    kabir = orders["Kabir"]
    assert (kabir.musician, kabir.stage) == (theo, "composition")
    assert kabir.offers.get().status == OfferStatus.ACCEPTED
    assert events(kabir) == ["place", "deposit_captured", "offer", "accept", "advance_stage"]

    # in_review: v1's watermarked preview is ready for the customer.
    kamala = orders["Kamala"]
    v1 = kamala.versions.get()
    assert (v1.number, v1.status, v1.asset.status) == (1, MediaStatus.READY, "ready")
    assert v1.asset.renditions.filter(kind=Rendition.Kind.PREVIEW_MP3).exists()
    assert services.version_preview_url(version=v1, user=cora)
    assert events(kamala)[-2:] == ["version_uploaded", "submit_draft"]

    # revision_requested: v1 heard, a granted revision within the package's three.
    meera = orders["Meera and Arjun"]
    assert meera.versions.get().status == MediaStatus.READY
    request = meera.revision_requests.get()
    assert request.status == RevisionStatus.GRANTED and request.included
    assert "monsoon" in request.feedback and meera.revisions_used == 1

    # delivered: finals passed QC, the balance is due, the escrow holds the deposit.
    rohan = orders["Rohan"]
    finals = rohan.deliveries.get()
    assert finals.status == MediaStatus.READY
    assert set(finals.asset.renditions.values_list("kind", flat=True)) >= {
        "delivery_mp3",
        "delivery_wav",
        "delivery_flac",
    }
    assert escrow(rohan) == rohan.deposit_amount
    assert not Payment.objects.filter(reference=str(rohan.pk), purpose="order_balance").exists()
    assert Notice.objects.filter(event="order.delivered", recipient=cora).exists()

    # completed with a review, after one revision: the escrow is released, minus the fee.
    priya = orders["Priya"]
    assert [(v.number, v.status) for v in priya.versions.all()] == [
        (1, MediaStatus.READY),
        (2, MediaStatus.READY),
    ]
    assert priya.versions.get(number=2).revision_request.feedback.startswith("Lovely!")
    assert priya.deliveries.get().status == MediaStatus.READY
    review = Review.objects.get(order=priya)
    assert (review.rating, review.musician) == (5, mira)
    fee = MarketplaceSettings.load().platform_fee(priya.price)
    assert escrow(priya) == 0
    assert balance(code=payable_code(mira.pk), currency="INR") == priya.price - fee
    assert balance(code=PLATFORM_FEES, currency="INR") == fee
    assert sorted(
        Payment.objects.filter(reference=str(priya.pk)).values_list("purpose", "status")
    ) == [("order_balance", "captured"), ("order_deposit", "captured")]
    assert [name for name in events(priya) if name in ("request_revision", "approve")] == [
        "request_revision",
        "approve",
    ]
    assert events(priya)[-2:] == ["balance_captured", "review"]
    mira.musician_profile.refresh_from_db()
    assert mira.musician_profile.rating_average == 5.0
    assert mira.musician_profile.completed_orders == 1
    assert len(services.order_downloads(order=priya, user=cora)) == 3

    # disputed about v1, with the musician's answer on file; the deposit stays in escrow.
    tara = orders["Tara"]
    dispute = tara.disputes.get()
    assert dispute.status == "open" and dispute.opened_by == cora
    assert [e.author for e in dispute.evidence.all()] == [cora, theo]
    assert list(dispute.evidence.first().versions.values_list("number", flat=True)) == [1]
    assert escrow(tara) == tara.deposit_amount

    # The ledger balances: every transaction sums to zero.
    unbalanced = (
        LedgerEntry.objects.values("transaction_id").annotate(total=Sum("amount")).exclude(total=0)
    )
    assert not unbalanced.exists()
    # Every payment came in through the sandbox's signed webhook, processed once.
    captured = Payment.objects.filter(status=PaymentStatus.CAPTURED).count()
    assert captured == 8  # every deposit but Asha's, and Priya's balance
    assert Counter(WebhookEvent.objects.values_list("event_type", "status")) == {
        ("payment.captured", "processed"): captured
    }
    # The seed handed the webhooks over in process and put the setting back.
    assert sandbox_payments.SANDBOX_WEBHOOK_URL.startswith("http://127.0.0.1:9/")

    before = snapshot()
    call_command("seed_demo", songs=0)
    second = capsys.readouterr().out

    assert snapshot() == before
    assert "All already in their state; nothing changed." in second
    assert "All already there; nothing changed." in second
    assert "Warming up" not in second


def test_seed_demo_inside_a_transaction_skips_the_orders_but_not_the_packages(
    db, capsys, sandbox_payments
):
    call_command("seed_demo", songs=0)

    out = capsys.readouterr().out
    assert "Demo orders skipped: seed_demo runs inside a transaction" in out
    assert Package.objects.count() == 5 and MusicianProfile.objects.count() == 2
    assert not Order.objects.exists()


def test_the_demo_data_lives_with_its_command_not_in_the_orders_app():
    assert importlib.util.find_spec("orders.demo") is None
    commands = get_commands()
    assert commands["seed_demo"] == "cms"
    # The module beside the command is not a command of its own.
    assert not any("demo_orders" in name for name in commands)

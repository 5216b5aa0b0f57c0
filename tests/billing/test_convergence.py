"""1,000 webhook deliveries (Razorpay payments and refunds, Stripe subscriptions and invoices),
20 % of them duplicates, in random order, through the endpoint with real signatures: the ledger,
the payments and the subscriptions end exactly as when the same events arrive once, in order."""

import json
import random
import time
import uuid
from collections import Counter

import pytest

from accounts.models import User
from billing import notices, services
from billing.models import (
    BillingCustomer,
    CheckoutSession,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Refund,
    RefundStatus,
    SeatInvitation,
    Subscription,
    SubscriptionMember,
    WebhookEvent,
    WebhookStatus,
)
from notifications.models import Delivery, Notification
from tests.billing.conftest import (
    post_razorpay,
    post_stripe,
    razorpay_event,
    razorpay_payment,
    razorpay_signature,
    stripe_event,
    stripe_invoice,
    stripe_signature,
    stripe_subscription,
)

pytestmark = pytest.mark.django_db

SEED = 20251121
PAYMENTS = 160
SUBSCRIPTIONS = 60
UNIQUE_EVENTS = 800
DUPLICATES = 200


def _payment_pk(i: int) -> uuid.UUID:
    return uuid.UUID(int=10_000 + i)


def _user_pk(i: int) -> uuid.UUID:
    return uuid.UUID(int=20_000 + i)


def build_world():
    for j in range(SUBSCRIPTIONS):
        User.objects.get_or_create(
            pk=_user_pk(j), defaults={"email": f"listener{j}@example.com", "display_name": f"L{j}"}
        )
    for i in range(PAYMENTS):
        Payment.objects.create(
            pk=_payment_pk(i),
            provider="razorpay",
            purpose="order_deposit" if i % 2 else "order_balance",
            reference=f"order-{i // 2}",
            amount=10_000 + 137 * i,
            currency="INR" if i % 3 else "USD",
            provider_order_id=f"order_C{i:04d}",
        )


def wipe_world():
    LedgerEntry.objects.all().delete()
    LedgerTransaction.objects.all().delete()
    LedgerAccount.objects.all().delete()
    Refund.objects.all().delete()
    CheckoutSession.objects.all().delete()
    Payment.objects.all().delete()
    SubscriptionMember.objects.all().delete()
    SeatInvitation.objects.all().delete()
    Subscription.objects.all().delete()
    BillingCustomer.objects.all().delete()
    WebhookEvent.objects.all().delete()
    Notification.objects.all().delete()
    Delivery.objects.all().delete()


def razorpay_events(rng: random.Random, now: int) -> list[tuple]:
    events = []
    for i in range(PAYMENTS):
        amount = 10_000 + 137 * i
        currency = "INR" if i % 3 else "USD"
        order = f"order_C{i:04d}"
        good = f"pay_C{i:04d}"
        created = now - 3600 + i

        def payment_event(
            kind, payment_id, status, at, order=order, amount=amount, currency=currency
        ):
            entity = razorpay_payment(
                payment_id, order, amount=amount, status=status, currency=currency
            )
            return ("razorpay", razorpay_event(kind, {"payment": entity}, created_at=at))

        def refund_event(
            kind,
            refund_id,
            value,
            status,
            at,
            good=good,
            order=order,
            amount=amount,
            currency=currency,
        ):
            refund = {
                "id": refund_id,
                "entity": "refund",
                "amount": value,
                "currency": currency,
                "payment_id": good,
                "notes": [],
                "status": status,
            }
            payment = razorpay_payment(good, order, amount=amount, currency=currency)
            return (
                "razorpay",
                razorpay_event(kind, {"refund": refund, "payment": payment}, created_at=at),
            )

        scenario = rng.choice(["paid", "paid", "failed", "retried", "refunded", "refund_failed"])
        if scenario == "failed":
            events.append(payment_event("payment.failed", f"pay_F{i:04d}", "failed", created))
            continue
        if scenario == "retried":
            events.append(payment_event("payment.failed", f"pay_F{i:04d}", "failed", created))
        events.append(payment_event("payment.authorized", good, "authorized", created + 1))
        events.append(payment_event("payment.captured", good, "captured", created + 2))
        if scenario == "refunded":
            first = rng.randint(1, amount // 2)
            events.append(
                refund_event("refund.created", f"rfnd_A{i:04d}", first, "pending", created + 3)
            )
            events.append(
                refund_event("refund.processed", f"rfnd_A{i:04d}", first, "processed", created + 4)
            )
            if rng.random() < 0.5:
                events.append(
                    refund_event(
                        "refund.processed",
                        f"rfnd_B{i:04d}",
                        amount - first,
                        "processed",
                        created + 5,
                    )
                )
        elif scenario == "refund_failed":
            value = rng.randint(1, amount)
            events.append(
                refund_event("refund.created", f"rfnd_X{i:04d}", value, "pending", created + 3)
            )
            events.append(
                refund_event("refund.failed", f"rfnd_X{i:04d}", value, "failed", created + 4)
            )
    return events


def stripe_events(rng: random.Random, now: int) -> list[tuple]:
    events = []
    for j in range(SUBSCRIPTIONS):
        uid, sub_id, customer = str(_user_pk(j)), f"sub_C{j:03d}", f"cus_C{j:03d}"
        plan = rng.choice(["premium_individual", "premium_duo", "premium_family"])
        t = now - 20 * 86400 + j * 100
        trial = rng.random() < 0.5
        trial_end = t + 10 * 86400 if trial else None
        start = t

        def snap(
            status,
            at,
            period_start,
            cancel=False,
            ended=None,
            uid=uid,
            sub_id=sub_id,
            customer=customer,
            plan=plan,
            trial_end=trial_end,
            start=start,
        ):
            obj = stripe_subscription(
                sub_id,
                status=status,
                user_id=uid,
                plan=plan,
                customer=customer,
                period_start=period_start,
                period_end=period_start + 30 * 86400,
                trial_end=trial_end,
                cancel_at_period_end=cancel,
                start_date=start,
                ended_at=ended,
            )
            obj["canceled_at"] = at if cancel or status == "canceled" else None
            return obj

        def invoice(invoice_id, paid, uid=uid, sub_id=sub_id, customer=customer, plan=plan):
            body = stripe_invoice(invoice_id, sub_id, user_id=uid, plan=plan, paid=paid)
            body["customer"] = customer
            return body

        def add(kind, obj, at):
            events.append(("stripe", stripe_event(kind, obj, created=at)))

        add(
            "checkout.session.completed",
            {
                "id": f"cs_C{j:03d}",
                "object": "checkout.session",
                "mode": "subscription",
                "customer": customer,
                "subscription": sub_id,
                "metadata": {"encore_user": uid, "encore_plan": plan},
            },
            t,
        )
        add("customer.subscription.created", snap("trialing" if trial else "active", t, t), t)
        period = t
        if trial:
            add(
                "customer.subscription.trial_will_end",
                snap("trialing", t + 7 * 86400, t),
                t + 7 * 86400,
            )
            period = trial_end
            add("invoice.paid", invoice(f"in_C{j:03d}_1", True), period)
            add("customer.subscription.updated", snap("active", period, period), period + 1)
        else:
            add("invoice.paid", invoice(f"in_C{j:03d}_1", True), t + 1)
        if rng.random() < 0.6:
            period += 30 * 86400 if trial else 0
            failed_at = period + 2 * 86400
            add("invoice.payment_failed", invoice(f"in_C{j:03d}_2", False), failed_at)
            add(
                "customer.subscription.updated",
                snap("past_due", failed_at, failed_at),
                failed_at + 1,
            )
            if rng.random() < 0.5:
                add("invoice.paid", invoice(f"in_C{j:03d}_2", True), failed_at + 3600)
                add(
                    "customer.subscription.updated",
                    snap("active", failed_at + 3600, failed_at),
                    failed_at + 3601,
                )
                period = failed_at
        if rng.random() < 0.5:
            add(
                "customer.subscription.updated",
                snap("active", period + 5000, period, cancel=True),
                period + 5000,
            )
            if rng.random() < 0.5:
                ended = period + 30 * 86400
                add(
                    "customer.subscription.deleted",
                    snap("canceled", ended, period, cancel=True, ended=ended),
                    ended,
                )
    return events


def state(payment_keys: dict) -> dict:
    """Everything that must converge, keyed by what stays the same between the two runs."""

    def stable(reference: str) -> str:
        kind, _, value = reference.partition(":")
        return f"{kind}:{payment_keys.get(value, value)}" if kind == "payment" else reference

    failed_refunds = {
        f"payment:{r.payment_id}" for r in Refund.objects.filter(status=RefundStatus.FAILED)
    }
    transactions = Counter()
    for txn in LedgerTransaction.objects.prefetch_related("entries__account"):
        if txn.kind in ("refund", "refund_reversal") and txn.reference in failed_refunds:
            continue  # posted then reversed, or never posted: the same nothing either way
        legs = tuple(sorted((e.account.code, e.currency, e.amount) for e in txn.entries.all()))
        transactions[(txn.kind, stable(txn.reference), legs)] += 1
    subscriptions = {
        s.provider_subscription_id: (
            str(s.user_id),
            s.plan,
            s.status,
            s.cancel_at_period_end,
            s.current_period_start,
            s.current_period_end,
            s.trial_end,
            s.past_due_since,
            s.started_at,
            s.had_trial,
            s.ended_at,
            s.amount,
            s.currency,
            s.provider_customer_id,
        )
        for s in Subscription.objects.all()
    }
    sub_keys = {str(s.pk): s.provider_subscription_id for s in Subscription.objects.all()}
    payments = {
        payment_keys[str(p.pk)]: (
            p.purpose,
            sub_keys.get(p.reference, p.reference),
            p.status,
            p.amount,
            p.amount_refunded,
            p.provider_payment_id,
        )
        for p in Payment.objects.all()
    }
    refunds = sorted(
        (payment_keys[str(r.payment_id)], r.provider_refund_id, r.amount, r.status)
        for r in Refund.objects.all()
    )
    return {
        "balances": {f"{a.code}/{a.currency}": a.balance for a in LedgerAccount.objects.all()},
        "transactions": transactions,
        "payments": payments,
        "refunds": refunds,
        "subscriptions": subscriptions,
        "events": WebhookEvent.objects.count(),
    }


def payment_keys() -> dict:
    return {
        str(p.pk): f"{p.provider}/{p.provider_order_id or p.provider_payment_id}"
        for p in Payment.objects.all()
    }


def receive(delivery):
    """The same verification, storage and processing as the endpoint, without Django's HTTP
    stack (the in-order reference run)."""
    provider, event, event_id = delivery
    body = json.dumps(event)
    if provider == "razorpay":
        headers = {
            "X-Razorpay-Signature": razorpay_signature(body),
            "X-Razorpay-Event-Id": event_id,
        }
    else:
        headers = {"Stripe-Signature": stripe_signature(body)}
    _event, created = services.webhook_receive(
        provider=provider, body=body.encode(), headers=headers
    )
    assert created


def deliver(client, delivery):
    provider, event, event_id = delivery
    if provider == "razorpay":
        response = post_razorpay(client, event, event_id=event_id)
    else:
        response = post_stripe(client, event)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_thousand_shuffled_deliveries_with_duplicates_converge_to_the_in_order_state(
    client, razorpay_http, stripe_http, monkeypatch
):
    # What people are told is tested elsewhere; here only the money and the states count.
    told = Counter()
    monkeypatch.setattr(notices, "_notify", lambda event, **kwargs: told.update([event]))
    rng = random.Random(SEED)
    now = int(time.time())
    unique = razorpay_events(rng, now) + stripe_events(rng, now)
    assert len(unique) >= UNIQUE_EVENTS, len(unique)
    unique = unique[:UNIQUE_EVENTS]  # whatever lies beyond has not happened yet
    # Stripe ids live in the body; Razorpay's in the X-Razorpay-Event-Id header.
    deliveries = [
        (provider, event, f"evt_rzp_{n:05d}") for n, (provider, event) in enumerate(unique)
    ]
    in_order = sorted(
        deliveries,
        key=lambda d: d[1]["created_at"] if d[0] == "razorpay" else d[1]["created"],
    )

    build_world()
    started = time.perf_counter()
    for delivery in in_order:
        receive(delivery)
    expected = state(payment_keys())
    assert not WebhookEvent.objects.filter(status=WebhookStatus.FAILED).exists()

    wipe_world()
    build_world()
    shuffled = deliveries + [rng.choice(deliveries) for _ in range(DUPLICATES)]
    rng.shuffle(shuffled)
    assert len(shuffled) >= 1000
    answers = Counter()
    for delivery in shuffled:
        answers["duplicate" if deliver(client, delivery)["duplicate"] else "fresh"] += 1
    elapsed = time.perf_counter() - started
    failed = WebhookEvent.objects.filter(status=WebhookStatus.FAILED)
    assert not failed.exists(), [(e.event_type, e.last_error) for e in failed[:5]]

    actual = state(payment_keys())
    assert answers == {"fresh": len(deliveries), "duplicate": DUPLICATES}
    assert actual["events"] == expected["events"] == len(deliveries)
    assert actual["subscriptions"] == expected["subscriptions"]
    assert actual["payments"] == expected["payments"]
    assert actual["refunds"] == expected["refunds"]
    assert actual["transactions"] == expected["transactions"]
    assert actual["balances"] == expected["balances"]
    # The books balance: per currency, every account together is zero.
    totals = Counter()
    for account in LedgerAccount.objects.all():
        totals[account.currency] += account.balance
    assert set(totals.values()) == {0}
    # Sanity: the scenario exercised every kind of outcome.
    statuses = Counter(p[2] for p in expected["payments"].values())
    assert {"captured", "failed", "partially_refunded"} <= set(statuses)
    assert {"active", "trialing", "past_due", "canceled"} & {
        s[2] for s in expected["subscriptions"].values()
    }
    assert told["subscription.started"] and told["subscription.payment_failed"]
    print(f"\n{len(in_order) + len(shuffled)} deliveries in {elapsed:.1f}s")

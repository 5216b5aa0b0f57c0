"""The listener plans and what each one entitles a person to.

Prices are integers in minor units per currency. The plans page shows them in
``BILLING_CURRENCY``; the sandbox charges them; Stripe charges whatever its Price objects say
(``STRIPE_PRICE_IDS`` maps each paid plan to one).
"""

from dataclasses import asdict, dataclass, field

from django.conf import settings

FREE = "free"
PREMIUM_INDIVIDUAL = "premium_individual"
PREMIUM_DUO = "premium_duo"
PREMIUM_FAMILY = "premium_family"
PREMIUM_STUDENT = "premium_student"

PLAN_CHOICES = [
    (FREE, "Free"),
    (PREMIUM_INDIVIDUAL, "Premium Individual"),
    (PREMIUM_DUO, "Premium Duo"),
    (PREMIUM_FAMILY, "Premium Family"),
    (PREMIUM_STUDENT, "Premium Student"),
]


@dataclass(frozen=True)
class Entitlements:
    """What a person may do while listening. The catalog enforces these on streams and skips."""

    plan: str
    premium: bool
    max_bitrate_kbps: int
    bitrate_choices: tuple[int, ...]
    lossless: bool  # lossless renditions where the song offers one
    ads: bool
    skips_per_hour: int | None  # None: unlimited
    offline_downloads: bool
    # "own" (the person's subscription), "member" (a seat on someone's plan) or "free"
    source: str = "free"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["bitrate_choices"] = list(self.bitrate_choices)
        return data


FREE_ENTITLEMENTS = dict(
    premium=False,
    max_bitrate_kbps=160,
    bitrate_choices=(96, 160),
    lossless=False,
    ads=True,
    skips_per_hour=6,
    offline_downloads=False,
)
PREMIUM_ENTITLEMENTS = dict(
    premium=True,
    max_bitrate_kbps=320,
    bitrate_choices=(96, 160, 320),
    lossless=True,
    ads=False,
    skips_per_hour=None,
    offline_downloads=True,
)


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    seats: int  # people who listen on it, the owner included
    prices: dict[str, int] = field(default_factory=dict)  # currency -> minor units a month
    premium: bool = True
    student: bool = False  # needs an approved student verification
    summary: str = ""
    interval: str = "month"

    def price(self, currency: str | None = None) -> int:
        currency = (currency or settings.BILLING_CURRENCY).upper()
        return self.prices.get(currency, self.prices.get("USD", 0))

    def price_currency(self, currency: str | None = None) -> str:
        currency = (currency or settings.BILLING_CURRENCY).upper()
        return currency if currency in self.prices else "USD"

    def entitlements(self, *, source: str) -> Entitlements:
        values = PREMIUM_ENTITLEMENTS if self.premium else FREE_ENTITLEMENTS
        return Entitlements(plan=self.code, source=source, **values)


PLANS: dict[str, Plan] = {
    plan.code: plan
    for plan in [
        Plan(
            FREE,
            "Free",
            1,
            {"INR": 0, "USD": 0, "EUR": 0, "GBP": 0},
            premium=False,
            summary="Listen with ads at up to 160 kbps, 6 skips an hour.",
        ),
        Plan(
            PREMIUM_INDIVIDUAL,
            "Premium Individual",
            1,
            {"INR": 11900, "USD": 1099, "EUR": 1099, "GBP": 999},
            summary="No ads, 320 kbps and lossless, unlimited skips, offline downloads.",
        ),
        Plan(
            PREMIUM_DUO,
            "Premium Duo",
            2,
            {"INR": 14900, "USD": 1499, "EUR": 1499, "GBP": 1399},
            summary="Premium for two people who live together.",
        ),
        Plan(
            PREMIUM_FAMILY,
            "Premium Family",
            6,
            {"INR": 17900, "USD": 1799, "EUR": 1799, "GBP": 1699},
            summary="Premium for up to six family members.",
        ),
        Plan(
            PREMIUM_STUDENT,
            "Premium Student",
            1,
            {"INR": 5900, "USD": 599, "EUR": 599, "GBP": 549},
            student=True,
            summary="Premium at a student price, once your enrolment is verified.",
        ),
    ]
}

PAID_PLANS = [code for code, plan in PLANS.items() if plan.premium]
PAID_PLAN_CHOICES = [(code, label) for code, label in PLAN_CHOICES if code in PAID_PLANS]


def get(code: str) -> Plan:
    return PLANS[code]


def plan_for_stripe_price(price_id: str) -> str | None:
    for code, configured in settings.STRIPE_PRICE_IDS.items():
        if configured == price_id:
            return code
    return None


def free_entitlements() -> Entitlements:
    return PLANS[FREE].entitlements(source="free")

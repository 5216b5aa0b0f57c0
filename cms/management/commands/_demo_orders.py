"""Demo commissions for ``seed_demo``: the demo musicians' matching profiles and packages, and
the demo customer's orders in every state the order pages show.

Demo data is no part of the orders app, so it lives beside the command that seeds it; the
leading underscore keeps Django from taking it for a command of its own.

Everything goes through the code a browser and the providers would drive: ``orders.services``
for each step, the billing sandbox's checkout page (its signed webhook captures the payment into
escrow), and the audio pipeline for drafts and finals. So the ledger, the timeline, the offers
and the notifications agree with each order's state.

Idempotent: each order is found again by its recipient and occasion and driven on from wherever
it is towards its target state, so a second run changes nothing and a run interrupted halfway
is finished by the next one. Audio is synthesised with ffmpeg into a temporary folder and
processed here and now, so the orders are really in their state when the command returns (the
chain the upload also queued finds every step done when a worker gets to it).
"""

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from audio.errors import MediaRejected, PipelineError
from audio.ffmpeg import ffmpeg
from audio.models import AudioAsset
from audio.services import audio_asset_process
from billing import providers
from billing.errors import BillingError
from billing.providers import sandbox
from notifications.formatting import money
from orders import services
from orders.errors import OrderError
from orders.models import (
    STAGES,
    MarketplaceSettings,
    MediaStatus,
    MusicianProfile,
    Occasion,
    Order,
    OrderStatus,
    Package,
    Review,
    RevisionStatus,
    Stage,
)

S = OrderStatus
Log = Callable[[str], None]

# --- the musicians ----------------------------------------------------------------------------

PROFILES = {
    "musician": {
        "styles": ["acoustic pop", "folk", "ballad", "bollywood unplugged"],
        "occasions": ["birthday", "anniversary", "wedding", "proposal", "tribute"],
        "capacity": 6,
    },
    "musician2": {
        "styles": ["hip hop", "rock", "electronic", "funk"],
        "occasions": ["birthday", "graduation", "proposal", "other"],
        "capacity": 4,
    },
}

PACKAGES = {
    "musician": [
        {
            "name": "Heartfelt Acoustic",
            "description": "Voice and guitar, about two minutes, written from your story. "
            "Lyrics by me unless you bring your own.",
            "price": 500_000,
            "delivery_days": 7,
            "revisions_included": 1,
            "occasions": ["birthday", "anniversary", "graduation"],
        },
        {
            "name": "Story Song",
            "description": "A full arrangement (guitar, keys, strings) around your story: "
            "three minutes, two verses, a chorus they will sing along to.",
            "price": 1_000_000,
            "delivery_days": 10,
            "revisions_included": 2,
            "occasions": [],
        },
        {
            "name": "Wedding Ballad",
            "description": "A first-dance ballad with live strings, mixed for the venue's "
            "speakers, with an instrumental version for the reception.",
            "price": 2_000_000,
            "delivery_days": 14,
            "revisions_included": 3,
            "occasions": ["wedding", "proposal", "anniversary"],
        },
    ],
    "musician2": [
        {
            "name": "Beat & Rhyme",
            "description": "A personal rap over an original beat, names and inside jokes "
            "included. Ninety seconds of pure hype.",
            "price": 400_000,
            "delivery_days": 5,
            "revisions_included": 1,
            "occasions": ["birthday", "graduation", "other"],
        },
        {
            "name": "Anthem",
            "description": "A full-band rock or electronic anthem, produced and mastered, "
            "built to be played loud.",
            "price": 1_300_000,
            "delivery_days": 12,
            "revisions_included": 2,
            "occasions": [],
        },
    ],
}


def musicians_seed(musicians: dict, *, log: Log) -> int:
    """Give each demo musician a matching profile and packages, once. Returns how many
    profiles and packages were made (0 on a second run). A profile or package the musician
    has since edited is left as it is."""
    made = 0
    for local, musician in musicians.items():
        profile = MusicianProfile.objects.filter(musician=musician).first()
        if profile is None or not profile.styles:
            services.musician_profile_update(musician=musician, **PROFILES[local])
            made += 1
            log(f"  Matching profile for {musician.display_name}")
        for package in PACKAGES[local]:
            if Package.objects.filter(musician=musician, name=package["name"]).exists():
                continue
            services.package_create(
                musician=musician, currency=settings.BILLING_CURRENCY, **package
            )
            made += 1
            log(f"  Package {package['name']!r} by {musician.display_name}")
    return made


# --- the orders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOrder:
    target: str
    brief: dict
    musician: str | None = None  # whose package is ordered; None: the customer asks to match
    package: str | None = None
    stage: str = Stage.RECORDING  # reached before the first draft (or the target's stage)
    feedback: tuple[str, ...] = ()  # one revision request per draft, in order
    review: tuple[int, str] | None = None
    dispute: str = ""
    dispute_reply: str = ""
    occasion_after_days: int | None = 21  # past the delivery days; None: no date

    @property
    def recipient(self) -> str:
        return self.brief["recipient_name"]


VERSION_NOTES = {
    1: "First full draft: verse, chorus and bridge. Tell me what you feel!",
    2: "Second draft with your changes, and a slower ending.",
}
STAGE_NOTES = {
    Stage.COMPOSITION: "The lyrics are agreed; writing the melody now.",
    Stage.RECORDING: "Melody done; recording the vocals and the instruments.",
    Stage.PRODUCTION: "Recorded; mixing and mastering.",
}

# Oldest first: the order list shows the newest at the top.
DEMO_ORDERS = (
    DemoOrder(
        target=S.COMPLETED,
        musician="musician",
        package="Story Song",
        stage=Stage.PRODUCTION,
        brief={
            "occasion": Occasion.ANNIVERSARY,
            "recipient_name": "Priya",
            "story": "Ten years ago we met at the Jaipur Literature Festival, arguing about a "
            "poem. We still argue about poems, and I still lose.",
            "genre": "acoustic pop",
            "mood": "tender",
            "tempo_feel": "mid-tempo",
            "language": "English",
            "names_to_include": "Priya, Dev",
            "instructions": "She loves the sound of a cello.",
        },
        feedback=(
            "Lovely! Could the chorus mention the night we met at the festival, and could the "
            "song end a little slower?",
        ),
        review=(
            5,
            "Mira turned our story into a song Priya cried at. The second draft nailed the "
            "chorus, and it arrived days early.",
        ),
    ),
    DemoOrder(
        target=S.DELIVERED,
        musician="musician2",
        package="Beat & Rhyme",
        brief={
            "occasion": Occasion.BIRTHDAY,
            "recipient_name": "Rohan",
            "story": "My little brother turns 18. He lives for cricket, burnt Maggi at 2 am "
            "and his scooter named Bullet.",
            "genre": "hip hop",
            "mood": "hype",
            "tempo_feel": "fast",
            "language": "Hinglish",
            "names_to_include": "Rohan, Bullet",
        },
    ),
    DemoOrder(
        target=S.DISPUTED,
        musician="musician2",
        package="Anthem",
        brief={
            "occasion": Occasion.PROPOSAL,
            "recipient_name": "Tara",
            "story": "I am proposing to Tara on the beach in Goa, where we watched our first "
            "sunset together. She sings along to every rock song on the radio.",
            "genre": "rock",
            "mood": "romantic",
            "language": "English",
            "lyrics_choice": "customer",
            "lyrics": "Tara, the tide keeps time with you,\nevery sunset I come back to...",
        },
        dispute="The draft is an instrumental loop: none of the lyrics I sent are in it, and "
        "the proposal is in two weeks.",
        dispute_reply="The vocals are recorded in the next stage; the draft was meant to show "
        "the arrangement. I can send a version with a guide vocal within three days.",
    ),
    DemoOrder(
        target=S.REVISION_REQUESTED,
        musician="musician",
        package="Wedding Ballad",
        brief={
            "occasion": Occasion.WEDDING,
            "recipient_name": "Meera and Arjun",
            "story": "My best friends marry in December after seven years of a long-distance "
            "relationship between Pune and Toronto. Their first dance needs a song of its own.",
            "genre": "ballad",
            "mood": "romantic",
            "tempo_feel": "slow",
            "language": "English and Hindi",
            "names_to_include": "Meera, Arjun",
        },
        feedback=(
            "Beautiful melody. Please make the second verse about the monsoon they met in and "
            "say both names in the last chorus.",
        ),
    ),
    DemoOrder(
        target=S.IN_REVIEW,
        musician="musician",
        package="Story Song",
        stage=Stage.PRODUCTION,
        brief={
            "occasion": Occasion.TRIBUTE,
            "recipient_name": "Kamala",
            "story": "My grandmother Kamala taught the whole street to sing. She turns 90 and "
            "we want a song about her garden, her radio and her laugh.",
            "genre": "folk",
            "mood": "warm",
            "language": "Tamil and English",
            "lyrics_choice": "musician",
        },
        occasion_after_days=None,
    ),
    DemoOrder(
        target=S.IN_PROGRESS,
        musician="musician2",
        package="Anthem",
        stage=Stage.COMPOSITION,
        brief={
            "occasion": Occasion.GRADUATION,
            "recipient_name": "Kabir",
            "story": "Kabir finishes his engineering degree after four years of night shifts "
            "at his father's shop. He deserves an anthem.",
            "genre": "electronic",
            "mood": "triumphant",
            "tempo_feel": "driving",
            "language": "English",
        },
    ),
    DemoOrder(
        target=S.MATCHING,
        brief={
            "occasion": Occasion.ANNIVERSARY,
            "recipient_name": "Vikram",
            "story": "Our fifth anniversary. Vikram hums old Kishore Kumar songs while he "
            "cooks; I want something in that spirit, just for him.",
            "genre": "acoustic pop",
            "mood": "nostalgic",
            "language": "Hindi",
            "budget": 600_000,
        },
    ),
    DemoOrder(
        target=S.PLACED,
        musician="musician",
        package="Heartfelt Acoustic",
        brief={
            "occasion": Occasion.BIRTHDAY,
            "recipient_name": "Asha",
            "story": "My sister loves the sea and sings in the car every morning. She turns "
            "30 this summer.",
            "genre": "acoustic pop",
            "mood": "joyful",
            "tempo_feel": "upbeat",
            "language": "English",
            "names_to_include": "Asha",
        },
    ),
)


class DemoError(Exception):
    """A demo order could not be brought to its state; seeding goes on with the others."""


@dataclass
class Outcome:
    spec: DemoOrder
    order: Order | None
    actions: int = 0
    problem: str = ""


@contextlib.contextmanager
def _webhooks_in_process():
    """Nothing listens at SANDBOX_WEBHOOK_URL while seeding (``make run`` seeds before it
    serves), so the sandbox hands its signed webhooks to the webhook service in process, its
    other documented path."""
    previous = settings.SANDBOX_WEBHOOK_URL
    settings.SANDBOX_WEBHOOK_URL = ""
    try:
        yield
    finally:
        settings.SANDBOX_WEBHOOK_URL = previous


def why_orders_cannot_be_seeded() -> str:
    """Why the demo orders cannot be made here, or "" when they can."""
    if connection.in_atomic_block:
        return "seed_demo runs inside a transaction, and payments only arrive after a commit"
    if not providers.payments_configured():
        return "no payment provider is configured here (the demo pays through the sandbox)"
    if providers.payment_provider_name() != "sandbox":
        return "payments go to a real provider here (the demo pays through the sandbox)"
    return ""


def orders_seed(*, customer, musicians: dict, log: Log) -> list[Outcome]:
    """Bring every demo order of `customer` to its target state (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="encore-demo-") as folder, _webhooks_in_process():
        seeder = _Seeder(customer=customer, musicians=musicians, folder=Path(folder), log=log)
        return [seeder.seed(index, spec) for index, spec in enumerate(DEMO_ORDERS)]


class _Seeder:
    MAX_STEPS = 30

    def __init__(self, *, customer, musicians: dict, folder: Path, log: Log):
        self.customer = customer
        self.musicians = musicians
        self.folder = folder
        self.log = log
        self.warm = False

    def seed(self, index: int, spec: DemoOrder) -> Outcome:
        outcome = Outcome(spec=spec, order=self._find(spec))
        try:
            if outcome.order is None:
                outcome.order = self._place(spec)
                outcome.actions += 1
                self.log(f"  {outcome.order.title}: placed")
            for _ in range(self.MAX_STEPS):
                order = Order.objects.select_related("musician").get(pk=outcome.order.pk)
                before = (order.status, order.events.count())
                action = self._next(order, spec, index)
                if action is None:
                    break
                outcome.actions += 1
                self.log(f"  {order.title}: {action}")
                order.refresh_from_db()
                if (order.status, order.events.count()) == before:
                    raise DemoError(f"{action}, but the order did not move (still {order.status})")
                outcome.order = order
            else:
                raise DemoError("it took too many steps")
        except (DemoError, OrderError, BillingError, MediaRejected, PipelineError) as error:
            outcome.problem = getattr(error, "message", None) or str(error)
        if outcome.order is not None:
            outcome.order.refresh_from_db()
        return outcome

    def _find(self, spec: DemoOrder) -> Order | None:
        return (
            Order.objects.filter(
                customer=self.customer,
                recipient_name=spec.recipient,
                occasion=spec.brief["occasion"],
            )
            .order_by("created_at")
            .first()
        )

    def _place(self, spec: DemoOrder) -> Order:
        package = None
        if spec.package:
            package = Package.objects.filter(
                musician=self.musicians[spec.musician], name=spec.package
            ).first()
            if package is None:
                raise DemoError(f"the package {spec.package!r} is missing")
            days = package.delivery_days
        else:
            days = MarketplaceSettings.load().match_delivery_days
        brief = dict(spec.brief)
        if spec.occasion_after_days is not None:
            brief["occasion_date"] = timezone.now().date() + timedelta(
                days=days + spec.occasion_after_days
            )
        return services.order_place(
            customer=self.customer, package=package, match=package is None, **brief
        )

    # --- one step towards the target ----------------------------------------------------------

    def _next(self, order: Order, spec: DemoOrder, index: int) -> str | None:
        """Take the next step towards the target and say what it was; None once there (or
        when the order went somewhere the demo does not lead, e.g. the customer cancelled)."""
        target = spec.target
        if order.status == S.PLACED:
            if target == S.PLACED:
                return None
            checkout = services.order_deposit_checkout(order=order, actor=self.customer)
            self._pay(checkout)
            return f"deposit of {money(order.deposit_amount, order.currency)} paid in the sandbox"
        if order.status == S.MATCHING:
            if target == S.MATCHING or order.musician is None:
                return None
            services.order_accept(order=order, musician=order.musician)
            return f"accepted by {order.musician.display_name}"
        if order.status == S.IN_PROGRESS:
            if STAGES.index(order.stage) < STAGES.index(spec.stage):
                order = services.order_advance_stage(
                    order=order,
                    musician=order.musician,
                    note=STAGE_NOTES.get(STAGES[STAGES.index(order.stage) + 1], ""),
                )
                return f"stage {order.stage}"
            if target == S.IN_PROGRESS:
                return None
            return self._draft(order, index)
        if order.status == S.REVISION_REQUESTED:
            if target == S.REVISION_REQUESTED:
                return None
            return self._draft(order, index)
        if order.status == S.IN_REVIEW:
            return self._review(order, spec)
        if order.status == S.APPROVED:
            return self._finals(order, index)
        if order.status == S.DELIVERED:
            if target == S.DELIVERED:
                return None
            self._pay(services.order_balance_checkout(order=order, actor=self.customer))
            return f"balance of {money(order.balance_amount, order.currency)} paid in the sandbox"
        if order.status == S.COMPLETED and spec.review:
            if Review.objects.filter(order=order).exists():
                return None
            rating, text = spec.review
            services.review_create(order=order, customer=self.customer, rating=rating, text=text)
            return f"reviewed, {rating}/5"
        return None

    def _review(self, order: Order, spec: DemoOrder) -> str | None:
        if order.revision_requests.filter(status=RevisionStatus.PENDING).exists():
            return None  # waiting for the musician's consent: the demo leaves it there
        if order.revisions_used < len(spec.feedback):
            services.order_request_revision(
                order=order, customer=self.customer, feedback=spec.feedback[order.revisions_used]
            )
            return "revision requested"
        if spec.target == S.IN_REVIEW:
            return None
        latest = order.versions.order_by("-number").values_list("number", flat=True).first()
        if spec.target == S.DISPUTED:
            services.order_open_dispute(
                order=order, actor=self.customer, reason=spec.dispute, versions=[latest]
            )
            if spec.dispute_reply:
                services.dispute_evidence_add(
                    order=order, actor=order.musician, text=spec.dispute_reply, versions=[latest]
                )
            return f"dispute opened about v{latest}"
        services.order_approve(order=order, customer=self.customer)
        return f"v{latest} approved"

    # --- payments -----------------------------------------------------------------------------

    def _pay(self, checkout) -> None:
        """Pay on the sandbox's checkout page, as the customer's click does: its signed webhook
        captures the payment and moves the order."""
        if checkout is None:
            return  # nothing was due: the order moved at once
        if checkout.provider != "sandbox":
            raise DemoError("the payment is not taken by the sandbox")
        sandbox.checkout_complete(checkout_id=checkout.provider_session_id, outcome="success")

    # --- audio --------------------------------------------------------------------------------

    def _draft(self, order: Order, index: int) -> str:
        version = order.versions.filter(status=MediaStatus.PROCESSING).first()
        if version is None:
            number = order.versions.count() + 1
            version = services.version_upload(
                order=order,
                musician=order.musician,
                upload=self._song(f"{order.recipient_name} draft v{number}", index, number),
                note=VERSION_NOTES.get(number, ""),
            )
        self._process(version.asset, f"draft v{version.number}")
        version.refresh_from_db()
        if version.status != MediaStatus.READY:
            raise DemoError(f"draft v{version.number} failed: {version.failure_reason}")
        return f"draft v{version.number} uploaded and processed"

    def _finals(self, order: Order, index: int) -> str:
        delivery = order.deliveries.filter(status=MediaStatus.PROCESSING).first()
        if delivery is None:
            number = order.versions.count()
            delivery = services.delivery_upload(
                order=order,
                musician=order.musician,
                upload=self._song(f"{order.recipient_name} final", index, number),
            )
        self._process(delivery.asset, "the finals")
        delivery.refresh_from_db()
        if delivery.status != MediaStatus.READY:
            raise DemoError(f"the finals failed: {delivery.failure_reason}")
        return "finals uploaded, passed QC"

    def _process(self, asset: AudioAsset, what: str) -> None:
        """Run the asset's pipeline here (the upload only queued it for a worker that may not be
        running yet). Already done when Celery runs tasks eagerly."""
        asset.refresh_from_db()
        if asset.status in (AudioAsset.Status.READY, AudioAsset.Status.FAILED):
            return
        if not self.warm:
            from audio.analysis import warm_up  # imports librosa: only when there is work

            self.log(
                "  Warming up the audio analysis (numba compiles its kernels once: 20-30 s "
                "the first time)..."
            )
            warm_up()
            self.warm = True
        self.log(f"    processing {what}: probe, QC, analysis, renditions...")
        audio_asset_process(asset=asset, inline=True)

    def _song(self, title: str, index: int, number: int) -> SimpleUploadedFile:
        """A few seconds of something song-like (a plucked arpeggio over I-vi-IV-V and a bass),
        44.1 kHz stereo WAV, transposed per order and draft so each upload differs."""
        semitones = (index * 5 + number * 2) % 12 - 5
        name = f"{title}.wav".replace(" ", "-").replace("&", "and")
        path = self.folder / name
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"aevalsrc=exprs='{_song_expression(2 ** (semitones / 12))}':s=44100:d=8",
            "-c:a",
            "pcm_s16le",
            str(path),
            what="synthesise the demo audio",
        )
        return SimpleUploadedFile(name, path.read_bytes(), content_type="audio/wav")


def _song_expression(transpose: float, beat: float = 0.5) -> str:
    """An ffmpeg aevalsrc expression (left|right): a four-note arpeggio per beat over the chords
    C, Am, F, G (two seconds each), each note a decaying pluck, with a sustained bass an octave
    below. The pluck's attack hides the phase jump when the pitch changes."""
    roots = (261.63, 220.0, 174.61, 196.0)
    chord = f"floor(mod(t,{beat * 16})/{beat * 4})"
    root = (
        f"({transpose:.5f}*if(eq({chord},0),{roots[0]},if(eq({chord},1),{roots[1]},"
        f"if(eq({chord},2),{roots[2]},{roots[3]}))))"
    )
    step = f"mod(floor(t/{beat}),4)"
    ratio = f"if(eq({step},0),1,if(eq({step},1),1.26,if(eq({step},2),1.498,2)))"
    pluck = f"exp(-5*mod(t,{beat}))*(sin(2*PI*{root}*{ratio}*t)+0.3*sin(4*PI*{root}*{ratio}*t))"
    bass = f"(0.6+0.4*exp(-2*mod(t,{beat * 4})))*sin(PI*{root}*t)"
    return f"0.22*{pluck}+0.18*{bass}|0.17*{pluck}+0.18*{bass}"

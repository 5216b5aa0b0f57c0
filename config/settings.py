"""One settings module, driven by the environment (django-environ).

With nothing set Encore runs *embedded*: SQLite, a channel layer on an embedded Redis server
(unix socket under ``var/redis``), a local-memory cache, a Celery worker on kombu's filesystem
transport and files under ``var/``. Each variable in the README's table switches one part to
the real service.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("ENCORE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# The embedded key only exists so a fresh clone runs on this machine; a deployment sets its own.
EMBEDDED_SECRET_KEY = "encore-embedded-insecure-key-change-me-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="") or EMBEDDED_SECRET_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
# Keys anyone can read (here, in the Dockerfile, in old compose files) sign nothing that is served
# to other machines: with DEBUG off and a host that is not this machine, Encore does not start.
PUBLISHED_SECRET_KEYS = {
    EMBEDDED_SECRET_KEY,
    "dev-only-insecure-secret-key-change-me",
    "build-only-not-secret",
}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}
if (
    not DEBUG
    and set(ALLOWED_HOSTS) - LOCAL_HOSTS
    and (SECRET_KEY in PUBLISHED_SECRET_KEYS or SECRET_KEY.startswith("django-insecure-"))
):
    raise ImproperlyConfigured(
        "SECRET_KEY is not set (or is a published development key) while DEBUG is off and "
        f"ALLOWED_HOSTS serves {', '.join(sorted(set(ALLOWED_HOSTS) - LOCAL_HOSTS))}: anyone "
        "could forge sessions, API tokens and signed links. Set SECRET_KEY to a long random "
        "secret, e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))' "
        "(in docker-compose: SECRET_KEY=... in the environment or in .env)."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    # project apps first so their templates and static override the libraries'
    "accounts",
    "cms",
    "audio",
    "notifications",
    "billing",
    "catalog",
    "orders",
    "rooms",
    "studio",
    # wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "cms.wagtail_apps.WagtailUsersConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # libraries
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "storages",
    "phonenumber_field",
    # last: its ready() connects the hooks of the apps above (config/wiring.py)
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.CommonMiddlewareWithoutApiSlashRedirects",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cms.context_processors.navigation",
                "notifications.context_processors.bell",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the embedded worker write to the same file: WAL lets readers
    # proceed during a write, IMMEDIATE transactions queue writers instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Connections are kept between requests (and between a websocket consumer's database calls),
# instead of opened and closed around each.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Catalog search forgives a typo by pg_trgm's `<%` operator, whose threshold is a session
    # setting (an operator cannot take it as a parameter). pg_trgm's default (0.6) misses one
    # swapped or dropped letter in a short word ("sunest" is 0.43 like "Sunset").
    SEARCH_TYPO_SIMILARITY = env.float("SEARCH_TYPO_SIMILARITY", default=0.4)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c pg_trgm.word_similarity_threshold={SEARCH_TYPO_SIMILARITY}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: cache, channel layer, celery broker ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="encore"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="encore"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The web server and the worker are separate processes: what the worker pushes must reach
    # the pages the web server holds open, so they share an embedded Redis server (started on
    # first use, unix socket under var/redis; see core/embedded_redis.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.embedded_redis.EmbeddedRedisChannelLayer",
            "CONFIG": {
                "folder": str(EMBEDDED_REDIS_DIR),
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="encore"),
            },
        }
    }

CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # A broker that needs no server: messages are files under var/celery, picked up by the
    # worker that `make run` starts beside the web server.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    # kombu's filesystem transport expects its folders to exist.
    for folder in ("queue", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "accounts-purge-expired-tokens": {
        "task": "accounts.purge_expired_tokens",
        "schedule": timedelta(hours=6),
    },
}

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/minute"),
        "user": env.str("THROTTLE_USER", default="600/minute"),
        "register": env.str("THROTTLE_REGISTER", default="20/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Encore API",
    "DESCRIPTION": "Custom songs made to order, and a catalog streamed by subscription.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "PREPROCESSING_HOOKS": ["config.api.public_api_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.canonical_paths",
    ],
}

# --- files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [
    BASE_DIR / "site" / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/hls", BASE_DIR / "node_modules" / "hls.js" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_ACCEL_REDIRECT = env.bool("MEDIA_ACCEL_REDIRECT", default=False)
MEDIA_ACCEL_PREFIX = env.str("MEDIA_ACCEL_PREFIX", default="/protected-media/")

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STATIC_STORAGE_BACKEND = env.str(
    "STATIC_STORAGE_BACKEND", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
)
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": STATIC_STORAGE_BACKEND},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)

# --- media pipeline (audio/) ----------------------------------------------------------------
FFMPEG_BINARY = env.str("FFMPEG_BINARY", default="")  # else ffmpeg on PATH, else imageio-ffmpeg's
# ffprobe: else beside ffmpeg or on PATH; without one, probing falls back to ffmpeg alone.
FFPROBE_BINARY = env.str("FFPROBE_BINARY", default="")
NUMBA_CACHE_DIR = env.str("NUMBA_CACHE_DIR", default=str(VAR_DIR / "numba-cache"))
AUDIO_MAX_UPLOAD_BYTES = env.int("AUDIO_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
AUDIO_SIGNED_URL_TTL_SECONDS = env.int("AUDIO_SIGNED_URL_TTL_SECONDS", default=600)
AUDIO_PREVIEW_WATERMARK_FILE = env.str("AUDIO_PREVIEW_WATERMARK_FILE", default="")  # voice tag

# --- email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Encore <hello@encore.test>")

# --- notifications --------------------------------------------------------------------------
# Email goes through the Django backend chosen by EMAIL_URL above (console by default). Amazon
# SES is used through its SMTP interface (django-ses is not installed):
#   EMAIL_URL=smtp+tls://<SES SMTP user>:<SES SMTP password>@email-smtp.<region>.amazonaws.com:587
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# SMS and WhatsApp go through Twilio when the account SID, the auth token and a sender for the
# channel are set; otherwise each message is written to the log and the delivery log records it
# as "logged" with provider "log".
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_SMS_FROM = env.str("TWILIO_SMS_FROM", default="")  # +14155550100
TWILIO_WHATSAPP_FROM = env.str("TWILIO_WHATSAPP_FROM", default="")  # +14155550100
# A Messaging Service is used for a channel that has no FROM number of its own.
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Where Twilio posts status changes; empty: SITE_URL + /notifications/twilio/status (not sent
# when SITE_URL is a loopback address Twilio cannot reach).
TWILIO_STATUS_CALLBACK_URL = env.str("TWILIO_STATUS_CALLBACK_URL", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# Approved WhatsApp templates for messages outside the 24-hour window, by event:
#   TWILIO_WHATSAPP_CONTENT_SIDS=order.draft_ready=HX...,order.delivered=HX...
TWILIO_WHATSAPP_CONTENT_SIDS = env.dict("TWILIO_WHATSAPP_CONTENT_SIDS", default={})
# Transient provider errors are retried with exponential backoff (with jitter) up to a cap.
NOTIFICATIONS_MAX_RETRIES = env.int("NOTIFICATIONS_MAX_RETRIES", default=5)
NOTIFICATIONS_RETRY_BACKOFF_SECONDS = env.int("NOTIFICATIONS_RETRY_BACKOFF_SECONDS", default=30)
NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = env.int(
    "NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS", default=1800
)
CELERY_BEAT_SCHEDULE["notifications-redispatch-stale"] = {
    "task": "notifications.redispatch_stale",
    "schedule": timedelta(minutes=5),
}

# --- billing --------------------------------------------------------------------------------
# Listener subscriptions go through Stripe when STRIPE_SECRET_KEY is set, one-off payments
# (commission milestones) through Razorpay when its keys are set. With BILLING_SANDBOX on (make
# run and the tests turn it on; never in production) whatever has no keys uses the embedded
# sandbox provider: a local checkout page (succeed, fail or cancel) that sends signed webhooks to
# /api/billing/webhooks/sandbox. With it off, paying for what has no provider answers that
# payments are not configured (HTTP 503). BILLING_PROVIDER=sandbox puts both in the sandbox
# even when keys are set (and so turns it on); "auto" picks as above.
BILLING_SANDBOX = env.bool("BILLING_SANDBOX", default=False)
BILLING_PROVIDER = env.str("BILLING_PROVIDER", default="auto")  # auto | sandbox
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# The Stripe Price of each paid plan: premium_individual=price_...,premium_duo=price_...,...
STRIPE_PRICE_IDS = env.dict("STRIPE_PRICE_IDS", default={})
RAZORPAY_KEY_ID = env.str("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env.str("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env.str("RAZORPAY_WEBHOOK_SECRET", default="")
# Razorpay signs webhooks without a timestamp and retries them for 24 hours: older ones are stale.
RAZORPAY_WEBHOOK_MAX_AGE_SECONDS = env.int("RAZORPAY_WEBHOOK_MAX_AGE_SECONDS", default=3 * 86400)
# Prices shown on the plans page and charged by the sandbox (minor units, see billing/plans.py).
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="INR")
BILLING_TRIAL_DAYS = env.int("BILLING_TRIAL_DAYS", default=30)
# A past_due subscription keeps premium this long after the failed payment, then goes free.
BILLING_GRACE_PERIOD_DAYS = env.int("BILLING_GRACE_PERIOD_DAYS", default=7)
# A musician's earnings stay on hold this many days after an order's escrow is released; the
# hourly beat (billing.release_payout_holds) then pays out what is past its hold.
BILLING_PAYOUT_HOLD_DAYS = env.int("BILLING_PAYOUT_HOLD_DAYS", default=7)
# Signed webhooks older than this (or dated in the future by more) are refused as stale.
BILLING_WEBHOOK_TOLERANCE_SECONDS = env.int("BILLING_WEBHOOK_TOLERANCE_SECONDS", default=300)
BILLING_WEBHOOK_MAX_ATTEMPTS = env.int("BILLING_WEBHOOK_MAX_ATTEMPTS", default=8)
BILLING_WEBHOOK_MAX_BYTES = env.int("BILLING_WEBHOOK_MAX_BYTES", default=512 * 1024)
# The sandbox signs its webhooks with this secret (by default derived from SECRET_KEY). With
# SANDBOX_WEBHOOK_URL empty they go to the webhook service in process after the commit; set it
# (e.g. http://127.0.0.1:8000/api/billing/webhooks/sandbox) to POST them from the worker.
SANDBOX_WEBHOOK_SECRET = env.str(
    "SANDBOX_WEBHOOK_SECRET",
    default="whsec_sbx_"
    + hashlib.sha256(f"billing.sandbox:{SECRET_KEY}".encode()).hexdigest()[:40],
)
SANDBOX_WEBHOOK_URL = env.str("SANDBOX_WEBHOOK_URL", default="")
# Billing's choice sets share field names ("status", "plan"): name their OpenAPI enums.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        f"{name}Enum": f"billing.models.{name}"
        for name in (
            "PaymentStatus",
            "RefundStatus",
            "PayoutStatus",
            "WebhookStatus",
            "SubscriptionStatus",
            "InvitationStatus",
            "VerificationStatus",
            "CheckoutStatus",
            "CheckoutKind",
        )
    }
    | {"PlanEnum": "billing.plans.PLAN_CHOICES", "PaidPlanEnum": "billing.plans.PAID_PLAN_CHOICES"}
)
CELERY_BEAT_SCHEDULE.update(
    {
        "billing-retry-failed-webhooks": {
            "task": "billing.retry_failed_webhooks",
            "schedule": timedelta(minutes=1),
        },
        "billing-downgrade-past-due": {
            "task": "billing.downgrade_past_due",
            "schedule": timedelta(hours=1),
        },
        "billing-release-payout-holds": {
            "task": "billing.release_payout_holds",
            "schedule": timedelta(hours=1),
        },
        "billing-sandbox-advance": {
            "task": "billing.sandbox_advance",
            "schedule": timedelta(minutes=5),
        },
    }
)

# --- orders ---------------------------------------------------------------------------------
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "MediaStatusEnum": "orders.models.MediaStatus",
        "OccasionEnum": "orders.models.Occasion",
        "OfferStatusEnum": "orders.models.OfferStatus",
        "RevisionStatusEnum": "orders.models.RevisionStatus",
        "DisputeStatusEnum": "orders.models.DisputeStatus",
        "DisputeOutcomeEnum": "orders.models.DisputeOutcome",
        "LyricsChoiceEnum": "orders.models.LyricsChoice",
    }
)
# --- catalog --------------------------------------------------------------------------------
# Songs, albums and rooms share the public/private choice: one enum in the schema.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "VisibilityEnum": "catalog.models.Visibility",
        "EndedReasonEnum": "catalog.models.PlayEvent.EndedReason",
    }
)
# The marketplace rules admins tune (fee, offer expiry, default revisions) are a Wagtail setting
# (orders.models.MarketplaceSettings); these are the deployment's.
ORDER_DOWNLOAD_TTL_SECONDS = env.int("ORDER_DOWNLOAD_TTL_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE["orders-expire-offers"] = {
    "task": "orders.expire_offers",
    "schedule": timedelta(minutes=1),
}
CELERY_BEAT_SCHEDULE["orders-rematch-waiting"] = {
    "task": "orders.rematch_waiting",
    "schedule": timedelta(minutes=15),
}
# The order chat: a typing indicator lasts this long without a renewal; the unread digest
# (people offline with unread messages) is looked for every five minutes.
ORDERS_CHAT_TYPING_SECONDS = env.float("ORDERS_CHAT_TYPING_SECONDS", default=15.0)
CELERY_BEAT_SCHEDULE["orders-chat-digests"] = {
    "task": "orders.chat_digests",
    "schedule": timedelta(minutes=5),
}

# --- wagtail --------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Encore"
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["pdf", "txt"]
# The admin works offline and sends nothing about its people to third parties: no Gravatar
# images (avatars are the ones people upload to Encore) and no check for new Wagtail releases.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False

# --- i18n / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- health ---------------------------------------------------------------------------------
READINESS_TIMEOUT_SECONDS = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)

# Emails are unique case-insensitively through a functional constraint (Lower("email")), which
# Django's check does not recognise as making the USERNAME_FIELD unique.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]

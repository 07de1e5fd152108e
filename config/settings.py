"""Settings, read from the environment only (see .env.example)."""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.databases import databases, replica_max_lag_seconds
from config.keys import quick_start_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# No public fallback: without DEBUG the key must be given, in the environment or, for the quick start, in the
# file `make run` generates under var/ (config/keys.py).
SECRET_KEY = quick_start_key(env, "SECRET_KEY", VAR_DIR / "secret_key")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set: set it in the environment (see .env.example).")
    SECRET_KEY = "insecure-debug-only-key"
# The audit log's signing key (Ed25519, base64 of the raw 32 bytes; docs/audit.md): the sealer signs the
# Merkle tree heads with it. Like SECRET_KEY, required without DEBUG (`make run` generates var/audit_signing_key).
AUDIT_SIGNING_KEY = quick_start_key(env, "AUDIT_SIGNING_KEY", VAR_DIR / "audit_signing_key")
if not AUDIT_SIGNING_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "AUDIT_SIGNING_KEY is not set: set it in the environment (see .env.example and docs/audit.md)."
        )
    AUDIT_SIGNING_KEY = base64.b64encode(hashlib.sha256(b"insecure-debug-only-audit-key").digest()).decode()
try:
    if len(base64.b64decode(AUDIT_SIGNING_KEY, validate=True)) != 32:
        raise ValueError
except ValueError:
    raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be the base64 of 32 random bytes.") from None
# An audit entry must be in its institution's Merkle tree within this many seconds (audit_verify checks it).
AUDIT_SEAL_MAX_DELAY_SECONDS = env.int("AUDIT_SEAL_MAX_DELAY_SECONDS", default=60)
# audit_verify recomputes the trees in this many processes at once on PostgreSQL (default: one per core).
AUDIT_VERIFY_JOBS = env.int("AUDIT_VERIFY_JOBS", default=os.cpu_count() or 1)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Budapest")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("hu", _("Hungarian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its own copy of Swagger UI for /api/docs (no CDN)
    "template_partials",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "medbook.core",
    "medbook.accounts",
    "medbook.institutions",
    "medbook.patients",
    "medbook.scheduling",
    "medbook.notifications",
    "medbook.webhooks",
    "medbook.partners",
    "medbook.audit",
    "medbook.reports",
    "medbook.online",
    "medbook.privacy",
    "medbook.api",
    "medbook.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "medbook.core.middleware.DatabaseUnavailableMiddleware",  # a database error outside a view: 503
    "medbook.core.middleware.NoStoreMiddleware",  # outermost but one: every API and FHIR answer
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "medbook.accounts.security.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "medbook.accounts.actor.ActorMiddleware",
    "medbook.accounts.security.TwoFactorMiddleware",
    "medbook.accounts.security.NoStoreMiddleware",
    "medbook.core.middleware.DomainErrorMiddleware",
    # Last, as django-axes asks: turns a refused login into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "medbook.core.tenancy.actor_context",
            ],
        },
    }
]

# The quick start runs on SQLite under var/; production sets DATABASE_URL to PostgreSQL, and may add a
# streaming replica for the reports (DATABASE_REPLICA_URL) and PgBouncer (config/databases.py).
DATABASES = databases(env, VAR_DIR)
DATABASE_ROUTERS = ["medbook.core.replica.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG_SECONDS = replica_max_lag_seconds(env)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# The throttle refuses before the password is checked (django-axes); then the ordinary model backend.
AUTHENTICATION_BACKENDS = [
    "medbook.accounts.security.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",  # Argon2id; older hashes upgrade at the next login
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "medbook.accounts.passwords.BreachedPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one account (from any address)
# or from one address (for any account), logins are refused with a 429 until the cool-off has passed; a
# password reset ends the account's refusal. Each wrong password also answers LOGIN_FAILURE_DELAY_SECONDS late.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "medbook.accounts.security.throttle_address"
AXES_USERNAME_FORM_FIELD = "username"  # the login forms' field (the email address)
AXES_USERNAME_CALLABLE = "medbook.accounts.security.throttle_username"
AXES_LOCKOUT_CALLABLE = "medbook.accounts.security.lockout_response"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # logins are recorded in the audit log, not twice
LOGIN_FAILURE_DELAY_SECONDS = env.float("LOGIN_FAILURE_DELAY_SECONDS", default=1.0)
# The password-reset form: at most this many requests per address (and per email address) in the window.
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=5)
PASSWORD_RESET_WINDOW_MINUTES = env.int("PASSWORD_RESET_WINDOW_MINUTES", default=15)
# The patients' manage-link pages (logged out): at most this many requests per address in the window.
MANAGE_LINK_LIMIT = env.int("MANAGE_LINK_LIMIT", default=60)
MANAGE_LINK_WINDOW_MINUTES = env.int("MANAGE_LINK_WINDOW_MINUTES", default=10)
# A move or cancellation on the calendar pages can be undone this long; its e-mails wait as long (issue 23).
UNDO_SECONDS = env.int("UNDO_SECONDS", default=30)

# Two-factor authentication (TOTP, django-otp). With REQUIRE_2FA_FOR_ADMINS the institutions' and partners'
# administrators and the operator must enrol before using the app: on in production (DEBUG off), the quick
# start (`make run`) turns it off.
REQUIRE_2FA_FOR_ADMINS = env.bool("REQUIRE_2FA_FOR_ADMINS", default=not DEBUG)
OTP_TOTP_ISSUER = "MedBook"
# Re-authentication: role changes, partner deletion and data-access changes need the password given within.
REAUTH_MAX_AGE_SECONDS = env.int("REAUTH_MAX_AGE_SECONDS", default=10 * 60)

# Sessions end 8 hours after login and after 30 minutes without a request.
SESSION_COOKIE_AGE = env.int("SESSION_MAX_AGE_SECONDS", default=8 * 3600)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_SECONDS", default=30 * 60)

# Email: EMAIL_URL=smtp://host:port; without it (the quick start) every message is kept as a file under
# var/mail/, and none is printed: the demo's seed sends hundreds, which would bury the demo logins.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(
        {k: v for k, v in environ.Env.email_url_config(EMAIL_URL).items() if v not in ("", None)}
    )
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MedBook <no-reply@medbook.example>")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# The notification outbox (medbook.notifications): the worker's retries, backoff and crash-recovery lease.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_BACKOFF_CAP_SECONDS = env.int("OUTBOX_BACKOFF_CAP_SECONDS", default=3600)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=50)
OUTBOX_POLL_SECONDS = env.float("OUTBOX_POLL_SECONDS", default=2.0)
OUTBOX_MESSAGE_ID_DOMAIN = env.str(
    "OUTBOX_MESSAGE_ID_DOMAIN", default=DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "medbook.local"
)
# How often the worker loop looks for digests whose hour or day has ended (medbook.notifications.digest).
DIGEST_POLL_SECONDS = env.float("DIGEST_POLL_SECONDS", default=60.0)

# Patient-data quotas (P-15): searches of an institution's patients by a partner's users, per user (an hour,
# a day) and per partnership (a day); 0 lifts a limit. A booking opens only a patient that the same user's
# search returned within PATIENT_SEARCH_PICK_MINUTES.
PATIENT_SEARCH_QUOTA_USER_HOUR = env.int("PATIENT_SEARCH_QUOTA_USER_HOUR", default=30)
PATIENT_SEARCH_QUOTA_USER_DAY = env.int("PATIENT_SEARCH_QUOTA_USER_DAY", default=200)
PATIENT_SEARCH_QUOTA_PARTNERSHIP_DAY = env.int("PATIENT_SEARCH_QUOTA_PARTNERSHIP_DAY", default=1000)
# Issue 19: the different patients one user's searches may show within an hour, a ceiling never passed (a
# search that could pass it is refused), so that no user lists a register of a few dozen patients in an hour.
PATIENT_SEARCH_QUOTA_USER_HOUR_PATIENTS = env.int("PATIENT_SEARCH_QUOTA_USER_HOUR_PATIENTS", default=10)
PATIENT_SEARCH_PICK_MINUTES = env.int("PATIENT_SEARCH_PICK_MINUTES", default=30)
# Online booking by logged-out patients (issue 22): booking requests per address, e-mail address and phone
# number an hour and a day (0 = no limit), unconfirmed requests one address or e-mail address may have at
# once, and tries of one e-mailed code.
ONLINE_BOOKING_LIMIT_HOUR = env.int("ONLINE_BOOKING_LIMIT_HOUR", default=5)
ONLINE_BOOKING_LIMIT_DAY = env.int("ONLINE_BOOKING_LIMIT_DAY", default=20)
ONLINE_UNCONFIRMED_MAX = env.int("ONLINE_UNCONFIRMED_MAX", default=3)
ONLINE_CODE_ATTEMPTS = env.int("ONLINE_CODE_ATTEMPTS", default=5)

STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
# Front-end libraries come from npm (package-lock.json), never copied into the repository.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist")]
WHITENOISE_USE_FINDERS = True
# `make serve` collects the static files under hashed names (STATIC_MANIFEST=true), which WhiteNoise serves
# with a far-future, immutable Cache-Control; without it (the quick start, the tests) names stay plain.
if env.bool("STATIC_MANIFEST", default=False):
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
# The load balancer's probes answer over plain HTTP too.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# HTTPS in production: secure cookies, HSTS and the redirect follow SITE_URL unless set explicitly.
HTTPS = not DEBUG and SITE_URL.startswith("https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy: the header it sets, e.g. X-Forwarded-Proto (the proxy must overwrite it).
# Reverse proxies whose X-Forwarded-For is believed (the audited and throttled address is the client's).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
# Preloading is the domain owner's commitment (hstspreload.org), so it is a choice, not a warning.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Logs on standard error: JSON lines with the request id in production (LOG_FORMAT=json, the default
# without DEBUG), plain text on a developer's console.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "medbook.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "medbook.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# The JSON API: requests per token, as django-ninja's rate ("600/m"); past it 429 with Retry-After.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/m")

# Webhooks: HTTPS endpoints outside this network only (the two switches are for a development
# machine's own receiver), a short timeout, retries with backoff like the outbox's.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=10)
WEBHOOK_BACKOFF_CAP_SECONDS = env.int("WEBHOOK_BACKOFF_CAP_SECONDS", default=3600)
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)

# What the worker (`run_worker`) asks of other apps by dotted path, so that the notifications app imports
# none of them: before sending a message of a kind, whether it is still wanted (a patient's reminder of a
# booking that still holds); and the other durable queues it runs each round (the webhook deliveries).
OUTBOX_SEND_CHECKS = {"patient_booking_reminder": "medbook.scheduling.patient_mail.reminder_still_wanted"}
# The expired slot holds are deleted too (they block nothing meanwhile: medbook.scheduling.hold_rules).
WORKER_TASKS = [
    "medbook.webhooks.worker.webhooks_drain",
    "medbook.audit.sealer.audit_seal",
    "medbook.scheduling.holds.slot_holds_sweep",
    "medbook.scheduling.services.booking_undos_sweep",  # moves and cancellations past UNDO_SECONDS
    "medbook.online.services.online_requests_sweep",
    # Partner bookings their patients did not confirm, released where the institution asks (issue 22).
    "medbook.scheduling.manage.partner_bookings_release",
    # Retention (issue 24, G-3): erase patients past their institution's retention, delete what is kept a while.
    "medbook.privacy.retention.retention_task",
]
# Retention's windows (medbook.privacy.retention, docs/privacy.md "Retention"); the run itself at most this often.
RETENTION_INTERVAL_SECONDS = env.int("RETENTION_INTERVAL_SECONDS", default=3600)
RETENTION_MANAGE_LINK_DAYS = env.int("RETENTION_MANAGE_LINK_DAYS", default=30)
RETENTION_THROTTLE_DAYS = env.int("RETENTION_THROTTLE_DAYS", default=1)
RETENTION_EMAIL_BODY_DAYS = env.int("RETENTION_EMAIL_BODY_DAYS", default=30)
# The records of processing (issue 24, G-4; docs/privacy.md): the processors every institution shares (who
# runs and hosts the platform, who delivers its e-mail: by default the SMTP host of EMAIL_URL), and the
# transfers of personal data to third countries, separated by ";" (none unless listed).
PRIVACY_OPERATOR = env.str("PRIVACY_OPERATOR", default="")
PRIVACY_HOSTING = env.str("PRIVACY_HOSTING", default="")
PRIVACY_EMAIL_PROVIDER = env.str("PRIVACY_EMAIL_PROVIDER", default="")
PRIVACY_TRANSFERS = [
    item.strip() for item in env.str("PRIVACY_TRANSFERS", default="").split(";") if item.strip()
]

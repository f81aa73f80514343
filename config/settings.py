"""Årshjul settings: one module, driven by environment variables.

Every variable is documented in docs/deployment.md. Bad values stop the process at start-up
(see config/env.py); nothing falls back silently in production.
"""

import datetime
import re
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.env import database_from_url, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("AARSHJUL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# What a serving process (web, Celery) needs with DEBUG off. Missing values do not stop
# management commands that serve nothing (makemigrations, check); the web and Celery processes
# refuse to start (config.env.ensure_startable), and `check --deploy` reports them.
MISSING_FOR_SERVING: list[str] = []

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105
    else:
        SECRET_KEY = ""  # Django refuses to sign anything with an empty key
        MISSING_FOR_SERVING.append(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    MISSING_FOR_SERVING.append("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The address people use to reach the site; links in e-mails and calendar feeds start here.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "viewflow",
    "viewflow.workflow",
    "audit",
    "governance",
    "permissions",
    "cycles",
    "workflows",
    "notifications",
    "privacy",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.middleware.DropMalformedCookiesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): a second factor checked in this session (step-up).
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.IdleSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'aarshjul.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL, base_dir=BASE_DIR)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- People and authentication ---------------------------------------------------------------
AUTH_USER_MODEL = "governance.Person"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Every page needs a login: guardian keeps no anonymous user.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Shared computers in estate offices: sessions end when the browser closes, after
# SESSION_IDLE_MINUTES without a request (config.middleware.IdleSessionTimeoutMiddleware), and
# after a working day at the latest.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=300)
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Language, time -------------------------------------------------------------------------
LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- E-mail (Django 6.1 MAILERS) ------------------------------------------------------------
# EMAIL_URL: "file" (default with DEBUG: messages written to var/mail/),
# "smtp://user:password@host:port" or "smtp+tls://..." (STARTTLS) or "smtps://..." (implicit TLS).
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Årshjul <aarshjul@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_URL = env_str("EMAIL_URL", "file" if DEBUG else None)
if EMAIL_URL is None:
    MISSING_FOR_SERVING.append(
        "EMAIL_URL must be set when DEBUG is off (smtp://host:port, or 'file' to write "
        "messages under var/mail/).")


def _mailer_from_url(url: str) -> dict:
    from urllib.parse import unquote, urlsplit

    if url == "file":
        return {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    if url == "locmem":
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not supported; use smtp://, smtp+tls://, "
            "smtps:// or 'file'."
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no host (smtp://host:port).")
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": parts.scheme == "smtp+tls",
            "use_ssl": parts.scheme == "smtps",
            "timeout": 30,
        },
    }


# Without EMAIL_URL nothing serves (see MISSING_FOR_SERVING); the dummy backend keeps
# commands like makemigrations working and is reported by `check --deploy` (mail.E001).
MAILERS = {"default": _mailer_from_url(EMAIL_URL) if EMAIL_URL is not None
           else {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}

# --- Background work ------------------------------------------------------------------------
# Unset CELERY_BROKER_URL: tasks run eagerly in the calling process (demo, tests).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "aarshjul")

# Reminders (notifications): delivery attempts before a notification is marked failed, the
# first retry's wait (doubling up to an hour), and how long a "sending" claim may last before
# the row is marked interrupted (never re-sent automatically: at most once per key).
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
NOTIFICATIONS_RETRY_BASE_SECONDS = env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 60, minimum=1)
NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = env_int("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", 600,
                                                minimum=10)
# No e-mail in these hours (Europe/Copenhagen); "" for none.
NOTIFICATIONS_QUIET_HOURS = env_str("NOTIFICATIONS_QUIET_HOURS", "20:00-07:00")
if NOTIFICATIONS_QUIET_HOURS.strip() and not re.fullmatch(
        r"\s*\d\d:\d\d\s*-\s*\d\d:\d\d\s*", NOTIFICATIONS_QUIET_HOURS):
    raise ImproperlyConfigured(
        f"NOTIFICATIONS_QUIET_HOURS={NOTIFICATIONS_QUIET_HOURS!r}: write HH:MM-HH:MM or leave "
        "it empty for none.")
NOTIFICATIONS_SWEEP_SECONDS = env_int("NOTIFICATIONS_SWEEP_SECONDS", 60, minimum=1)
NOTIFICATIONS_BATCH_SIZE = env_int("NOTIFICATIONS_BATCH_SIZE", 50, minimum=1, maximum=1000)
# The demo (AARSHJUL_DEMO with DEBUG) sweeps in the runserver process every minute: no broker.
NOTIFICATIONS_IN_PROCESS_SWEEP_SECONDS = env_int(
    "NOTIFICATIONS_IN_PROCESS_SWEEP_SECONDS", 60 if DEBUG and env_bool("AARSHJUL_DEMO", False)
    else 0, minimum=0)
CELERY_BEAT_SCHEDULE = {
    # One pass: decide what is due, build digests, hand the outbox to the workers. Safe to run
    # twice at once (two beats by mistake): decisions are unique per key, claims skip locked rows.
    "reminders-sweep": {"task": "notifications.sweep",
                        "schedule": float(NOTIFICATIONS_SWEEP_SECONDS)},
    # Personal data past its retention period (RETENTION_* below), daily at 03:15 local time.
    "privacy-retention": {"task": "privacy.apply_retention",
                          "schedule": crontab(hour=3, minute=15)},
}

# Personal data (GDPR): how long what is not part of the governance record is kept; applied
# daily (privacy.services.retention_apply, `manage.py apply_retention`). docs/security.md
# says why each.
# The years settings accept 0: never.
RETENTION_NOTIFICATION_DAYS = env_int("RETENTION_NOTIFICATION_DAYS", 90, minimum=1)
RETENTION_FAILED_LOGIN_DAYS = env_int("RETENTION_FAILED_LOGIN_DAYS", 30, minimum=1)
RETENTION_SIGN_IN_LOG_DAYS = env_int("RETENTION_SIGN_IN_LOG_DAYS", 90, minimum=1)
RETENTION_TASK_COMMENT_YEARS = env_int("RETENTION_TASK_COMMENT_YEARS", 2, minimum=0)
RETENTION_CLOSED_CASE_YEARS = env_int("RETENTION_CLOSED_CASE_YEARS", 5, minimum=0)
RETENTION_INACTIVE_PERSON_YEARS = env_int("RETENTION_INACTIVE_PERSON_YEARS", 5, minimum=0)

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes unauthenticated calls answer 401.
        "config.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Årshjul API",
    "DESCRIPTION": "The governance cycle of a housing organisation's operations programme.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool(
    "BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: everything from this site only; no inline script or style (the
# templates have none), no plugins, not framed. The API documentation page, which loads Redoc
# from its CDN, has its own policy (config/urls.py).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is locked out for AXES_COOLOFF_MINUTES (429, a page that says
# so); a successful login resets the count. Behind a proxy the client address is the first of
# X-Forwarded-For (BEHIND_TLS_PROXY).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "governance.views.locked_out"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False
if env_bool("BEHIND_TLS_PROXY", False):
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# Two-factor (django-otp): an organisation can require a code from an authenticator app of
# everyone who signs on its bodies' behalf (governance/two_factor*.py). Wrong codes are
# throttled per device: 1, 2, 4, 8 ... seconds after each consecutive failure.
OTP_TOTP_ISSUER = "Årshjul"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # django-axes logs usernames and addresses on every failure: personal data stays out of
    # the logs (the audit trail records failed sign-ins without them).
    # At DEBUG Django logs every SQL statement with its parameters (with DEBUG on) and every
    # failed template lookup with the whole context (the signed-in person's name): both held
    # at INFO, even with LOG_LEVEL=DEBUG.
    "loggers": {"axes": {"level": "ERROR"}, "django.db.backends": {"level": "INFO"},
                "django.template": {"level": "INFO"}},
    "root": {"handlers": ["console"], "level": env_choice(
        "LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])},
}

# --- Årshjul --------------------------------------------------------------------------------
# In the demo (no broker) the reminder sweep runs inside the web process.
AARSHJUL_DEMO = env_bool("AARSHJUL_DEMO", False)

"""Round Table settings: one file, driven by the environment.

Every setting read from the environment is listed in README.md with its default. The defaults are the
embedded set-up of `make run`: SQLite, files and a folder broker under var/, emails written to var/mail/.
"""

import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.bootstrap
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
# Only ever used with DEBUG on, on a developer's machine.
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghijklmnop"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is false.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)
ALLOW_SIGNUP = env_bool("ALLOW_SIGNUP", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "csp",
    "accounts",
    "alliances",
    "outbox",
    "meetings",
    "tasks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # After authentication: a signed-in reader's own language and time zone win over the browser's.
    "accounts.middleware.UserPreferencesMiddleware",
    # Cache-Control: private for signed-in readers.
    "accounts.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "roundtable.urls"
WSGI_APPLICATION = "roundtable.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # After Django's csrf processor: a page built for the page cache prints a placeholder.
                "roundtable.page_cache.csrf_placeholder",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'roundtable.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write to one file: WAL lets readers go on during a write,
    # IMMEDIATE takes the write lock at BEGIN so two writers queue instead of failing with
    # "database is locked" halfway through a transaction, and the timeout is how long they queue.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache when set --------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    # Django's Redis backend, keeping its redis client between calls (roundtable/cache.py).
    CACHES = {"default": {"BACKEND": "roundtable.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A file cache is shared by every process on the machine, which the login rate limit needs.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Alliance pages are kept whole for each reader until anything in the alliance changes, a minute at most
# (roundtable/page_cache.py, docs/performance.md); 0 turns the page cache off.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 90)

# --- Accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "alliances:alliance_list"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day
SIGNUP_CONFIRM_MAX_AGE = 60 * 60 * 24 * 3  # three days
# Failed passwords per window for one account from one IP (an IP gets five times as many over all
# accounts), and for one account from anywhere: a stranger's guesses do not lock the owner out.
LOGIN_RATE_LIMIT = env_int("LOGIN_RATE_LIMIT", 10)
LOGIN_ACCOUNT_RATE_LIMIT = env_int("LOGIN_ACCOUNT_RATE_LIMIT", 100)
LOGIN_RATE_WINDOW = env_int("LOGIN_RATE_WINDOW", 15 * 60)  # seconds
# How many reverse proxies in front of the app append to X-Forwarded-For: 0 ignores the header (anyone
# can send it), n takes the n-th address from its right as the visitor's (accounts.ratelimit.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Sign-up, "resend link" and password-reset requests per IP per hour, and account emails per address
# per hour: without them anyone could make the site flood an inbox.
ACCOUNT_REQUEST_RATE_LIMIT = env_int("ACCOUNT_REQUEST_RATE_LIMIT", 30)
ACCOUNT_EMAIL_RATE_LIMIT = env_int("ACCOUNT_EMAIL_RATE_LIMIT", 5)
INVITATION_MAX_AGE_DAYS = 14
# How long the "Mark done" link in an email about a to-do works (tasks/links.py).
TODO_LINK_MAX_AGE_DAYS = env_int("TODO_LINK_MAX_AGE_DAYS", 30)
# Follow-up nudges (tasks/nudges.py): the daily digest goes out in each person's morning, from this hour
# (their time zone) for this many hours, so that an hourly job that runs late still finds everyone once.
NUDGE_MORNING_HOUR = env_int("NUDGE_MORNING_HOUR", 8)
NUDGE_MORNING_HOURS = env_int("NUDGE_MORNING_HOURS", 4)
# How many people one digest job handles (a constant number of queries each).
NUDGE_CHUNK_SIZE = env_int("NUDGE_CHUNK_SIZE", 200)
# How long the "stop these emails" link of a nudge works (RFC 8058 one-click unsubscribe).
NUDGE_UNSUBSCRIBE_MAX_AGE_DAYS = env_int("NUDGE_UNSUBSCRIBE_MAX_AGE_DAYS", 365)

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Bootstrap comes from the XStatic-Bootstrap package; WhiteNoise serves it like our own files.
WHITENOISE_USE_FINDERS = DEBUG

# Links typed without a scheme are taken as https (the Django 6 default).
FORMS_URLFIELD_ASSUME_HTTPS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ----------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Round Table <roundtable@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Django waits forever by default: a hung mail server would pin a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)

# Outbox: how deliveries are batched, retried and swept (see outbox/services.py).
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 50)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_RETRY_BASE_SECONDS = float(env("OUTBOX_RETRY_BASE_SECONDS", "60"))
OUTBOX_RETRY_MAX_SECONDS = float(env("OUTBOX_RETRY_MAX_SECONDS", "3600"))
# A claim older than this belongs to a dead worker and is released: it must be longer than a job can
# live (CELERY_TASK_TIME_LIMIT), or a slow but live job's deliveries would be sent twice (checked at start).
OUTBOX_STALE_SECONDS = float(env("OUTBOX_STALE_SECONDS", "600"))
OUTBOX_SWEEP_SECONDS = float(env("OUTBOX_SWEEP_SECONDS", "30"))
# A send job stops claiming after this long and hands the rest to a fresh job, so that it finishes its
# last message, and records it, well before the soft time limit (checked at start).
OUTBOX_JOB_BUDGET_SECONDS = float(env("OUTBOX_JOB_BUDGET_SECONDS", "60"))

# --- Celery ---------------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # A broker that needs no server: messages are files under var/broker/, read by the worker that
    # `make run` starts next to the web server.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "outbox.jobs.sweep_deliveries", "schedule": OUTBOX_SWEEP_SECONDS},
    # Daily, in the morning in Europe and the Americas' night: each meeting is reminded once at most.
    "meetings-agenda-reminders": {"task": "meetings.jobs.remind_unsent_agendas", "schedule": crontab(hour=7, minute=0)},
    # Hourly: a note taker is reminded 24 hours after the meeting ended, not up to a day later.
    "meetings-notes-reminders": {"task": "meetings.jobs.remind_unsent_notes", "schedule": crontab(minute=20)},
    # Hourly: each person's digest goes out once, in their own morning (NUDGE_MORNING_HOUR, their zone).
    "tasks-todo-digests": {"task": "tasks.jobs.send_todo_digests", "schedule": crontab(minute=5)},
    # Weekly, Monday morning in Europe: the note takers' follow-up of their meetings' to-dos.
    "tasks-followup-digests": {
        "task": "tasks.jobs.send_followup_digests",
        "schedule": crontab(day_of_week="mon", hour=7, minute=30),
    },
}

# --- Security -------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Self only, no inline script or style: our JavaScript lives in static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

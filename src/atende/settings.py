"""Atende settings: one module, chosen by environment variables only.

Embedded profile (default): SQLite in ATENDE_DATA_DIR, Huey on a SQLite file, local-memory
cache, realtime by tailing the outbox table.
Scaled profile: DATABASE_URL=postgres://… and REDIS_URL=redis://… switch the database, the
task queue, the cache and the realtime broker.
"""

import contextlib
import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ATENDE_DATA_DIR", "var")).resolve()
# The database, the secret key, attachments and raw mails: the owner's only. An existing
# directory keeps its mode (docs/deploy.md says how to tighten an older one).
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _private_file(path: Path) -> str:
    """`path`, created empty and readable by the owner only when missing: SQLite takes an
    empty file as a new database, and gives its -wal and -shm files the database's mode."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return str(path)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _persistent_secret(filename: str) -> str:
    """A random secret generated once per data directory (embedded profile convenience)."""
    path = DATA_DIR / filename
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(50)
    path.write_text(value)
    path.chmod(0o600)
    return value


SECRET_KEY = os.environ.get("ATENDE_SECRET_KEY") or _persistent_secret("secret_key")
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation). Derived from
# SECRET_KEY when unset, see atende.crypto.
ENCRYPTION_KEYS = [k for k in os.environ.get("ATENDE_ENCRYPTION_KEYS", "").split(",") if k]

DEBUG = _env_bool("ATENDE_DEBUG")
ALLOWED_HOSTS = os.environ.get(
    "ATENDE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver"
).split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("ATENDE_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]
PUBLIC_URL = os.environ.get("ATENDE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "atende.apps.AtendeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "atende",
    "ninja",
    "atende.tenancy",
    "atende.contacts",
    "atende.channels",
    "atende.connectors",
    "atende.connectors.whatsapp",
    "atende.connectors.email",
    "atende.connectors.telegram",
    "atende.connectors.portal",
    "atende.connectors.consumidor_gov",
    "atende.connectors.voice",
    "atende.connectors.meta_messaging",
    "atende.tickets",
    "atende.webhooks",
    "atende.realtime",
    "atende.workspace",
    "atende.automation",
    "atende.csat",
    "atende.fulltext",
    "atende.kb",
    "atende.reports",
]

MIDDLEWARE = [
    "atende.client_address.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: the whole chain in one (sync) mode, and one write at a time on SQLite.
    "atende.sync_middleware.SyncChain",
]

ROOT_URLCONF = "atende.urls"
ASGI_APPLICATION = "atende.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "atende.workspace.context.workspace",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# During an outage a request waits this long for a connection, then answers 503: quickly,
# so that the providers retry and load balancers see it (docs/deploy.md, "Outages").
DB_UNAVAILABLE_AFTER = float(os.environ.get("ATENDE_DB_TIMEOUT", "1.5"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        pool_max = int(os.environ.get("ATENDE_DB_POOL_MAX", "16"))
        DATABASES["default"]["OPTIONS"] = {
            "pool": {"min_size": 1, "max_size": pool_max, "timeout": DB_UNAVAILABLE_AFTER},
            "connect_timeout": max(2, round(DB_UNAVAILABLE_AFTER)),  # libpq: whole seconds
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _private_file(DATA_DIR / "atende.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on
                # busy_timeout instead of failing with "database is locked" on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- redis: tasks, cache, realtime ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# A prefix keeps several installations (and parallel test runs) apart on one Redis.
REDIS_PREFIX = os.environ.get("ATENDE_REDIS_PREFIX", "atende")

if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": f"{REDIS_PREFIX}-tasks",
        # A Redis that stops answering fails an enqueue in seconds, not never (above the
        # consumer's one-second blocking read).
        "url": REDIS_URL + ("&" if "?" in REDIS_URL else "?")
        + "socket_connect_timeout=2&socket_timeout=5",
        "immediate": _env_bool("ATENDE_TASKS_IMMEDIATE"),
        "consumer": {"workers": int(os.environ.get("ATENDE_WORKER_THREADS", "4")),
                     "worker_type": "thread"},
    }
    CACHES = {
        "default": {
            "BACKEND": "atende.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            # A Redis that stops answering fails a cache call in a second, not never.
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    REALTIME_BROKER = "atende.realtime.brokers.RedisBroker"
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "atende-tasks",
        "filename": _private_file(DATA_DIR / "tasks.sqlite3"),
        "immediate": _env_bool("ATENDE_TASKS_IMMEDIATE"),
        "consumer": {"workers": int(os.environ.get("ATENDE_WORKER_THREADS", "2")),
                     "worker_type": "thread"},
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    REALTIME_BROKER = "atende.realtime.brokers.OutboxBroker"

TASKS = {
    "default": {
        "BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend",
        # Tasks enqueued inside a transaction must not run before it commits.
        "OPTIONS": {"enqueue_on_commit": True},
    }
}

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "tenancy.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Password-reset mail to agents: printed to the console unless SMTP is configured.
_SMTP_HOST = os.environ.get("ATENDE_SMTP_HOST", "")
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _SMTP_HOST,
            "port": int(os.environ.get("ATENDE_SMTP_PORT", "587")),
            "username": os.environ.get("ATENDE_SMTP_USER", ""),
            "password": os.environ.get("ATENDE_SMTP_PASSWORD", ""),
            "use_tls": _env_bool("ATENDE_SMTP_STARTTLS", default=True),
        },
    } if _SMTP_HOST else {"BACKEND": "django.core.mail.backends.console.EmailBackend"},
}
DEFAULT_FROM_EMAIL = os.environ.get("ATENDE_DEFAULT_FROM_EMAIL", "atende@localhost")

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Brazilian Portuguese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
# Elsewhere when a proxy running as another user serves it: the data directory is private.
STATIC_ROOT = Path(os.environ.get("ATENDE_STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at start-up when missing
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("ATENDE_MEDIA_ROOT", DATA_DIR / "media"))
# Attachments, raw mail and every other stored file on S3-compatible storage (AWS S3, MinIO,
# Ceph, Wasabi…) when a bucket is named; on the local disk otherwise (docs/storage.md).
S3_BUCKET = os.environ.get("ATENDE_S3_BUCKET", "")
# "redirect": a file download answers with a short-lived signed URL of the bucket, after the
# app checked who may read it; "proxy": the app streams the file (a bucket browsers cannot
# reach). Inline previews always stream, so the page's CSP need not allow the bucket.
S3_DOWNLOADS = os.environ.get("ATENDE_S3_DOWNLOADS", "redirect")
if S3_DOWNLOADS not in {"redirect", "proxy"}:
    raise ImproperlyConfigured("ATENDE_S3_DOWNLOADS must be 'redirect' or 'proxy'")
if S3_BUCKET:
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET,
                "endpoint_url": os.environ.get("ATENDE_S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("ATENDE_S3_REGION") or None,
                # Unset: boto3's own chain (AWS_* variables, instance role, config files).
                "access_key": os.environ.get("ATENDE_S3_ACCESS_KEY_ID") or None,
                "secret_key": os.environ.get("ATENDE_S3_SECRET_ACCESS_KEY") or None,
                "location": os.environ.get("ATENDE_S3_PREFIX", ""),
                "addressing_style": os.environ.get("ATENDE_S3_ADDRESSING") or None,
                "default_acl": None,  # the bucket's own policy: private
                "querystring_auth": True,
                "querystring_expire": int(os.environ.get("ATENDE_S3_URL_SECONDS", "60")),
                "signature_version": "s3v4",
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
# The website chat's limits per client address and minute (connectors/webchat/limits.py).
WIDGET_SESSIONS_PER_IP_MINUTE = int(os.environ.get("ATENDE_WIDGET_SESSIONS_PER_IP_MINUTE", "20"))
WIDGET_MESSAGES_PER_IP_MINUTE = int(os.environ.get("ATENDE_WIDGET_MESSAGES_PER_IP_MINUTE", "120"))
# Base64 makes a 25 MB attachment about 34 MB of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = 36 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
WHITENOISE_USE_FINDERS = True

# --- security (docs/security.md) ------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
try:
    SESSION_COOKIE_AGE = round(float(os.environ.get("ATENDE_SESSION_HOURS", "336")) * 3600)
except ValueError:
    SESSION_COOKIE_AGE = 0
if SESSION_COOKIE_AGE <= 0:
    raise ValueError("ATENDE_SESSION_HOURS must be a positive number of hours")


def _networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or CIDRs, refused at start-up when one is malformed."""
    networks = []
    for item in os.environ.get(name, "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ImproperlyConfigured(f"{name}: {item.strip()!r} is not a network "
                                           f"(an address or CIDR range, e.g. 10.0.0.0/8): "
                                           f"{exc}") from exc
    return networks


# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (atende.client_address);
# nobody's by default, so a client cannot choose the address its sign-in attempts count on.
TRUSTED_PROXIES = _networks("ATENDE_TRUSTED_PROXIES")
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# "Browsers reach Atende over HTTPS only" (TLS here or at the proxy): cookies only over
# HTTPS, HSTS, and plain-HTTP requests redirected.
BEHIND_TLS = _env_bool("ATENDE_BEHIND_TLS")
if BEHIND_TLS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("ATENDE_HSTS_SECONDS", "86400"))
    SECURE_SSL_REDIRECT = _env_bool("ATENDE_SSL_REDIRECT", default=True)
    # The health checks stay reachable over plain HTTP for a load balancer and a watchdog.
    SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|livez)$"]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "frame-ancestors": [CSP.NONE],
}

# --- API ------------------------------------------------------------------------------------
# Requests per minute per API key; 0 disables the limit.
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("ATENDE_API_RATE_LIMIT", "600"))
# Outbound webhooks are retried with exponential backoff for this long.
WEBHOOK_RETRY_WINDOW_SECONDS = int(os.environ.get("ATENDE_WEBHOOK_RETRY_WINDOW", str(24 * 3600)))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("ATENDE_WEBHOOK_TIMEOUT", "10"))
# Realtime outbox rows are kept this long for Last-Event-ID replay.
# How long the signed link of a satisfaction survey may be used (CORE-14).
CSAT_LINK_MAX_AGE_DAYS = int(os.environ.get("ATENDE_CSAT_LINK_DAYS", "30"))
REALTIME_RETENTION_SECONDS = int(os.environ.get("ATENDE_REALTIME_RETENTION", str(24 * 3600)))
REALTIME_POLL_SECONDS = float(os.environ.get("ATENDE_REALTIME_POLL", "0.2"))
# An open stream checks again this often that its key, session or agent may still read it.
REALTIME_ACCESS_RECHECK_SECONDS = float(os.environ.get("ATENDE_REALTIME_RECHECK", "30"))
if not 0 < REALTIME_ACCESS_RECHECK_SECONDS <= 60:
    raise ValueError("ATENDE_REALTIME_RECHECK must be more than 0 and at most 60 seconds")
# WhatsApp drains working on one channel at once (scaled profile): about the number of
# `atende worker` processes. Each conversation stays in one drain, in order.
# The Bot API's address (a test points it at a fake; a self-hosted Bot API server).
TELEGRAM_BASE_URL = os.environ.get("ATENDE_TELEGRAM_BASE_URL", "https://api.telegram.org")
# Meta's Graph API and Facebook Login's consent dialog (Instagram, Messenger): fakes in tests.
META_GRAPH_URL = os.environ.get("ATENDE_META_GRAPH_URL", "https://graph.facebook.com/v21.0")
META_DIALOG_URL = os.environ.get("ATENDE_META_DIALOG_URL",
                                 "https://www.facebook.com/v21.0/dialog/oauth")
WHATSAPP_DRAIN_SHARDS = int(os.environ.get("ATENDE_WHATSAPP_DRAIN_SHARDS", "1"))
WHATSAPP_GROUP_COMMIT_LINGER_MS = float(os.environ.get("ATENDE_WHATSAPP_LINGER_MS", "2"))
# An online agent whose workspace sent no heartbeat for this long is set offline.
PRESENCE_TIMEOUT_MINUTES = float(os.environ.get("ATENDE_PRESENCE_TIMEOUT_MINUTES", "3"))

# `atende run` lowers the default to WARNING for its console (`--verbose` raises it back).
LOG_LEVEL = os.environ.get("ATENDE_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "httpx": {"level": "WARNING"},
        # Its own handler so that `run_huey` does not add a second one; its per-task lines
        # are INFO.
        "huey": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
# The SSRF guard (atende.net): outbound connections to addresses organisations configure
# (webhooks, API channels, bots, mail servers, OAuth2 token endpoints) never reach a private,
# loopback, link-local or otherwise non-public address. On by default on every profile.
# ATENDE_ALLOW_PRIVATE_WEBHOOKS=1 turns it off everywhere: tests and development only.
ALLOW_PRIVATE_WEBHOOKS = _env_bool("ATENDE_ALLOW_PRIVATE_WEBHOOKS")


# Private networks the operator allows anyway (an on-premises Exchange, an internal ERP);
# only the operator can: organisations' admins never see this list.
ALLOWED_PRIVATE_NETWORKS = [str(n) for n in _networks("ATENDE_ALLOWED_PRIVATE_NETWORKS")]

# The phone channel's FastAGI server (`atende voice`, also started by `atende run`).
VOICE_AGI_HOST = os.environ.get("ATENDE_VOICE_AGI_HOST", "127.0.0.1")
VOICE_AGI_PORT = int(os.environ.get("ATENDE_VOICE_AGI_PORT", "4573"))
# Where prompts are written for the PBX to play and where it leaves voicemail recordings:
# a folder the PBX sees too (the same host, or a shared volume; see docs/telephony.md).
VOICE_DIR = Path(os.environ.get("ATENDE_VOICE_DIR", DATA_DIR / "voice"))

"""Settings for the forum, read from the environment.

Development defaults are safe to run on a laptop; with ``DJANGO_DEBUG`` off
(the default) the site refuses to start without a real secret key and allowed
hosts, so a forgotten variable fails loudly instead of leaking a weak key.
"""

import logging
import os
import tempfile
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    """Read a yes/no environment variable; anything unrecognised is an error."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def env_list(name):
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = env_flag("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for development).")
    SECRET_KEY = "django-insecure-development-only-key-never-used-with-debug-off"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS (or DJANGO_DEBUG=1 for development).")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "mptt",
    "threads",
]

MIDDLEWARE = [
    "forum.logs.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "forum.middleware.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "forum.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "forum.wsgi.application"


def sqlite_options():
    """WAL lets readers run beside the writer; IMMEDIATE takes the write lock
    at BEGIN so two writers queue on the busy timeout instead of failing with
    "database is locked" half-way through, and so that tree writes take turns
    (docs/trees.md)."""
    return {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;"
        ),
    }


# Connections persist for a minute. Django's health check (a "SELECT 1"
# before each request's first query) is off by default, as in Django: it
# added a round trip to every request, a fifth of a vote's database work,
# to spare the one request per worker thread that fails after PostgreSQL
# restarts (answered 503 with Retry-After by forum.middleware; Django then
# drops that connection and the next request reconnects).
# DJANGO_CONN_HEALTH_CHECKS=1 turns it on.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=env_flag("DJANGO_CONN_HEALTH_CHECKS"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = sqlite_options()
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not Django's shared in-memory database: concurrency and browser
    # tests need separate connections that lock the way production ones do.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"forum-test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_settings(redis_url, prefix="forum", socket_timeout=0.25):
    """``CACHES``: Redis at ``redis_url`` (local memory without one), and the
    sessions' view of it (``forum.cache.SessionCache``).

    Redis goes through django-redis, which keeps one client per server for
    the process (Django's own backend builds a client per call, most of a
    vote's CPU with redis-py 8) and increments in one atomic script that
    keeps the key's expiry. ``socket_timeout`` bounds how long a cache call
    waits to connect or for an answer: the site serves without the cache
    (docs/operations.md), so a Redis that stopped answering must cost a
    request a fraction of a second, not hold a worker thread."""
    if redis_url:
        default = {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": socket_timeout, "SOCKET_TIMEOUT": socket_timeout},
        }
    else:
        default = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {"default": default, "sessions": {"BACKEND": "forum.cache.SessionCache"}}


REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = cache_settings(
    REDIS_URL,
    prefix=os.environ.get("DJANGO_CACHE_PREFIX", "forum"),
    socket_timeout=float(os.environ.get("REDIS_SOCKET_TIMEOUT", "0.25")),
)

# Logged-out readers' thread and front pages are served from the cache for
# this many seconds at most, and at once replaced after any write that
# changes them (threads/page_cache.py); 0 turns that cache off.
VISITOR_PAGE_SECONDS = int(os.environ.get("DJANGO_VISITOR_PAGE_SECONDS", "60"))

# Sessions are read on every member's request; the cache answers most of
# those reads and the database keeps them across restarts and cache outages.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"

# Django's model backend, with the session's user read from the cache
# (threads/auth.py): a member's request then needs no user query. Only a
# cache all workers share may hold users, so only with Redis.
AUTHENTICATION_BACKENDS = ["threads.auth.CachedModelBackend"]
AUTH_USER_CACHE = bool(REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "threads:home"
LOGOUT_REDIRECT_URL = "threads:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# Security. Production (DEBUG off) defaults to HTTPS-only cookies, HSTS and
# redirects, and passes `manage.py check --deploy`; each can be switched off
# for a plain-HTTP loopback setup such as the load test.
SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
SESSION_COOKIE_SECURE = env_flag("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD", default=True)
if env_flag("DJANGO_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# No inline scripts or styles anywhere: stored text is hostile (Lemmy's 2023
# XSS came in through federated comments), so a slip in escaping must still
# not run a script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Request size: a reply is at most 10,000 characters; a dump upload in the
# admin at most DUMP_UPLOAD_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DUMP_UPLOAD_MAX_BYTES = int(os.environ.get("DJANGO_DUMP_UPLOAD_MAX_BYTES", str(32 * 1024 * 1024)))
# The longest article an import takes: every listing and thread page carries
# it, and Lemmy itself caps a post body far below this.
DUMP_ARTICLE_MAX_BYTES = int(os.environ.get("DJANGO_DUMP_ARTICLE_MAX_BYTES", str(4 * 1024 * 1024)))
FILE_UPLOAD_HANDLERS = [
    "threads.uploads.DumpSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Rate limits, "count/period" per member (or per client IP when anonymous),
# counted in the default cache. Set DJANGO_RATELIMIT_ENABLED=0 to switch off.
RATELIMIT_ENABLED = env_flag("DJANGO_RATELIMIT_ENABLED", default=True)
RATELIMITS = {
    "reply": os.environ.get("DJANGO_RATELIMIT_REPLY", "10/m"),
    "vote": os.environ.get("DJANGO_RATELIMIT_VOTE", "120/m"),
    "signup": os.environ.get("DJANGO_RATELIMIT_SIGNUP", "5/h"),
    "login": os.environ.get("DJANGO_RATELIMIT_LOGIN", "10/m"),
    "edit": os.environ.get("DJANGO_RATELIMIT_EDIT", "10/m"),
    "delete": os.environ.get("DJANGO_RATELIMIT_DELETE", "10/m"),
    "password": os.environ.get("DJANGO_RATELIMIT_PASSWORD", "5/h"),
}
# Trust X-Forwarded-For (its last address, the one our proxy added) for the
# client IP only behind a proxy that sets it.
RATELIMIT_TRUST_FORWARDED_FOR = env_flag("DJANGO_TRUST_X_FORWARDED_FOR")


# Logging: every record as one JSON line on stderr (forum/logs.py), at
# DJANGO_LOG_LEVEL; errors with a traceback also mailed to ADMINS
# ("Name <address>, ..."), when there are any and DEBUG is off.
def log_level(name, default):
    level = os.environ.get(name, "").strip().upper() or default
    if level not in logging.getLevelNamesMapping():
        raise ImproperlyConfigured(f"{name} must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}")
    return level


def env_addresses(name):
    """``"Name <a@example.org>, b@example.org"`` → ``[("Name", "a@example.org"), ("", "b@example.org")]``."""
    raw = os.environ.get(name, "")
    addresses = getaddresses([raw]) if raw.strip() else []
    for _, address in addresses:
        if "@" not in address:
            raise ImproperlyConfigured(f"{name} must be a comma-separated list of mail addresses, not {address!r}")
    return addresses


LOG_LEVEL = log_level("DJANGO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "tracebacks_only": {"()": "forum.logs.TracebacksOnly"},
    },
    "formatters": {"json": {"()": "forum.logs.JSONFormatter"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "tracebacks_only"],
        },
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    # Django's own records reach stderr through the root; only its errors are mailed.
    "loggers": {"django": {"handlers": ["mail_admins"], "level": LOG_LEVEL}},
}
ADMINS = env_addresses("DJANGO_ADMINS")
SERVER_EMAIL = os.environ.get("DJANGO_SERVER_EMAIL", "root@localhost")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("DJANGO_EMAIL_USE_TLS")
# A mail server that does not answer must not hold the request that failed.
EMAIL_TIMEOUT = 10
EMAIL_SUBJECT_PREFIX = "[forum] "

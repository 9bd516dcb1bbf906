"""Newsroom settings: the only settings module, driven by environment variables.

Defaults are safe for production (DEBUG off, secure cookies); a fresh checkout
runs with DEBUG=true set by the Makefile, SQLite and an embedded Celery broker.
"""

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw not in {"", "true", "false"}:
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {raw!r}")
    return default if raw == "" else raw == "true"


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only for local development: sessions signed with it are worthless elsewhere.
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE {TIME_ZONE!r} is not a known time zone."
    ) from None
USE_TZ = True
LANGUAGE_CODE = "en-gb"
USE_I18N = True

SITE_NAME = env_str("SITE_NAME", "Newsroom")
# Absolute links in emails and feeds.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "newsroom.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "taggit",
    "django_ckeditor_5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "entities",
    "stories",
]

MIDDLEWARE = [
    "newsroom.health.HealthCheckMiddleware",
    # Outside everything that sets headers, so a stored page replays them all
    # (security headers, ETag) when PageCacheApp answers a hit.
    "newsroom.pagecache.PageCacheMiddleware",
    # Inside the page cache, so stored API answers replay the CORS headers.
    "newsroom.middleware.ApiCorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsroom.middleware.AdminNoStoreMiddleware",
    "newsroom.middleware.SecurityHeadersMiddleware",
    "newsroom.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    # The reader site's pages (newsroom/jinja2.py says why Jinja2). First, as
    # they are the busiest; the admin's templates are not in its directory.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "newsroom.jinja2.environment",
            "context_processors": [
                "newsroom.context_processors.site",
                "newsroom.context_processors.addresses",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "newsroom.context_processors.site",
            ],
        },
    },
]

# A fresh checkout uses a SQLite file; production sets DATABASE_URL to PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A file, not memory, so a Celery worker started by a test sees the test data.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Named per process so two test runs in one checkout do not collide.
    DATABASES["default"]["TEST"] = {
        "NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that needs no round trip.
    DATABASES["default"]["ENGINE"] = "newsroom.postgres"
    # A database host that stops answering (rather than refusing) must give
    # readers the 503 page in seconds, not hold a worker for the TCP timeout:
    # on a new connection (connect_timeout), a query sent to it
    # (tcp_user_timeout, ms) and a reply awaited from it (keepalives).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    options.setdefault(
        "tcp_user_timeout", env_int("DATABASE_TCP_USER_TIMEOUT_MS", 10_000)
    )
    options.setdefault("keepalives", 1)
    options.setdefault("keepalives_idle", env_int("DATABASE_KEEPALIVES_IDLE", 5))
    options.setdefault("keepalives_interval", 2)
    options.setdefault("keepalives_count", 3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "newsroom",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "newsroom",
        }
    }

# Public pages: browsers keep them a minute, CDNs five, and may serve a stale
# copy for ten while refetching. Anonymous pages are also kept whole in Redis
# (PAGE_CACHE_SECONDS) and invalidated by tag when what they show changes.
PAGE_MAX_AGE = env_int("PAGE_MAX_AGE", 60)
PAGE_SHARED_MAX_AGE = env_int("PAGE_SHARED_MAX_AGE", 300)
PAGE_STALE_WHILE_REVALIDATE = env_int("PAGE_STALE_WHILE_REVALIDATE", 600)
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)
# Each web process also keeps its latest hits in memory and rechecks the
# cache's clock this often: the most an invalidation can lag.
PAGE_CACHE_RECHECK_MS = env_int("PAGE_CACHE_RECHECK_MS", 250)
PAGE_CACHE_LOCAL_ENTRIES = env_int("PAGE_CACHE_LOCAL_ENTRIES", 500)
# Where publications write the pages they bake as files for the web server
# in front (deploy/nginx.conf) to serve; unset writes none.
BAKED_PAGES_ROOT = env_str("BAKED_PAGES_ROOT", "") or None
# Rendered articles of published revisions kept per process (a revision
# never changes, so these never go stale); 0 renders every request.
ARTICLE_MEMO_ENTRIES = env_int("ARTICLE_MEMO_ENTRIES", 500)

# The Content API (stories/api/): public, read-only, JSON only. No
# authentication classes, so it never reads a session or needs CSRF, and
# answers the same to everyone.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": ["stories.api.throttling.ClientRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "stories.api.views.handle_exception",
    "UNAUTHENTICATED_USER": None,
}
# Requests per client address per minute (0: no limit). Counted in Redis
# when REDIS_URL is set; page-cache hits are answered before it counts.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 300)
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} Content API",
    "DESCRIPTION": "Published explainers, topics, questions, outlets and tags, "
    "read-only. Rich text is sanitised HTML; everything else is plain text.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVERS": [{"url": SITE_URL}],
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "TopicKindEnum": "entities.models.Entity.Kind",
        "CorrectionKindEnum": ["correction", "clarification"],
    },
}

# Failed logins are counted per username and address: five in a row lock that
# pair out for fifteen minutes (django-axes). The counters are cleared by a
# success or the cool-off, so each failure is also logged for audit ("Access
# failures" in the admin).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Lockouts are per reader address, not per proxy (newsroom/proxy.py).
AXES_CLIENT_IP_CALLABLE = "newsroom.proxy.client_address"

# Two-factor sign-in (newsroom/two_factor.py): optional for each staff
# member unless required for all.
ADMIN_REQUIRE_TWO_FACTOR = env_bool("ADMIN_REQUIRE_TWO_FACTOR", False)
OTP_TOTP_ISSUER = SITE_NAME
# The "TOTP devices" admin never shows a key or QR code: whoever could see
# one could copy that person's authenticator.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Uploaded images are served by Django only where no web server in front
# does it (local development, the docker-compose stack).
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
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
# Hero images and editor uploads are decoded and re-encoded before storage.
IMAGE_UPLOAD_MAX_BYTES = env_int("IMAGE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
IMAGE_UPLOAD_MAX_PIXELS = env_int("IMAGE_UPLOAD_MAX_PIXELS", 40_000_000)

# Security: safe by default, relaxed only for local development over plain HTTP.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The HSTS preload list is opt-in; check --deploy should not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Celery: Redis in production; without REDIS_URL a filesystem broker that needs
# no server, so a fresh checkout still runs its worker.
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Longer than the task time limit, so an unacknowledged task is redelivered
    # only when its worker is really gone.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = Path(
        env_str("CELERY_BROKER_DIR", str(BASE_DIR / "var" / "celery-broker"))
    )
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
# Source links (stories/source_links.py): each run checks up to a batch of
# the links least recently checked, those last checked within the recheck
# period excepted, with a few requests at a time.
LINK_CHECK_INTERVAL_SECONDS = env_int("LINK_CHECK_INTERVAL_SECONDS", 60 * 60)
LINK_CHECK_RECHECK_HOURS = env_int("LINK_CHECK_RECHECK_HOURS", 24)
LINK_CHECK_BATCH_SIZE = env_int("LINK_CHECK_BATCH_SIZE", 200)
LINK_CHECK_CONCURRENCY = env_int("LINK_CHECK_CONCURRENCY", 4)
# For connecting and for each read, per request.
LINK_CHECK_TIMEOUT_SECONDS = env_int("LINK_CHECK_TIMEOUT_SECONDS", 10)
# Only for tests, whose HTTP server is on 127.0.0.1: in production a link to
# a private or loopback address would let a story's author make the server
# request its own network.
LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = env_bool(
    "LINK_CHECK_ALLOW_PRIVATE_ADDRESSES", False
)
for _name in (
    "LINK_CHECK_INTERVAL_SECONDS",
    "LINK_CHECK_BATCH_SIZE",
    "LINK_CHECK_CONCURRENCY",
    "LINK_CHECK_TIMEOUT_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
# Timed tasks publish at the second; the sweep is the safety net that catches
# anything a lost or delayed task missed, and says so.
CELERY_BEAT_SCHEDULE = {
    "sweep-schedules": {
        "task": "stories.tasks.sweep_schedules_task",
        "schedule": env_int("SCHEDULE_SWEEP_SECONDS", 5),
        "options": {"expires": 30},
    },
    "check-source-links": {
        "task": "stories.tasks.check_source_links_task",
        "schedule": LINK_CHECK_INTERVAL_SECONDS,
        # Runs missed while no worker was up are not worth doing late.
        "options": {"expires": LINK_CHECK_INTERVAL_SECONDS},
    },
}
# Outgoing webhooks: each URL receives a JSON POST when a story is published,
# republished, withdrawn or expires (comma-separated; none by default).
WEBHOOK_URLS = env_list("WEBHOOK_URLS", [])
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# A scheduled publication later than this is a missed schedule: editors are told.
SCHEDULE_LATE_AFTER = timedelta(seconds=env_int("SCHEDULE_LATE_AFTER_SECONDS", 10))

# CKEditor 5: the toolbar offers only what the sanitiser keeps.
CKEDITOR_5_FILE_UPLOAD_PERMISSION = "staff"
CK_EDITOR_5_UPLOAD_FILE_VIEW_NAME = "stories:editor_image_upload"
CKEDITOR_5_CONFIGS = {
    "default": {
        "toolbar": {
            "items": [
                "heading",
                "|",
                "bold",
                "italic",
                "link",
                "|",
                "bulletedList",
                "numberedList",
                "blockQuote",
                "|",
                "insertImage",
                "|",
                "undo",
                "redo",
            ],
        },
        "heading": {
            "options": [
                {
                    "model": "paragraph",
                    "title": "Paragraph",
                    "class": "ck-heading_paragraph",
                },
                {
                    "model": "heading3",
                    "view": "h3",
                    "title": "Heading 3",
                    "class": "ck-heading_heading3",
                },
                {
                    "model": "heading4",
                    "view": "h4",
                    "title": "Heading 4",
                    "class": "ck-heading_heading4",
                },
            ]
        },
        "image": {"toolbar": ["imageTextAlternative"]},
        "link": {"addTargetToExternalLinks": False},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The embedded broker has no host; kombu warns about that on every connect.
    "loggers": {} if REDIS_URL else {"kombu.connection": {"level": "ERROR"}},
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "newsroom@localhost")
# A mail server that stops answering must not hold a request (the two-factor
# notice is sent from one) until the operating system gives up.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
LOGIN_URL = "admin:login"
# export_content writes times to the microsecond (see newsroom/serializers.py).
SERIALIZATION_MODULES = {"exact-json": "newsroom.serializers"}

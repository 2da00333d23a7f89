"""Settings for the polls project, read from the environment.

Every knob is an environment variable prefixed ``POLLS_``. Secrets may instead be
systemd credentials: when ``$CREDENTIALS_DIRECTORY`` is set, the file
``$CREDENTIALS_DIRECTORY/<name>`` wins over the variable. ``POLLS_ENV`` chooses
the mode: ``development`` (the default: DEBUG on, a throwaway key, SQLite beside
the code) or ``production`` (DEBUG off, every secret required, HTTPS enforced).
"""

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from polls import environ

BASE_DIR = Path(__file__).resolve().parent.parent


POLLS_ENV = environ.choice("POLLS_ENV", "development", {"development", "production"})
PRODUCTION = POLLS_ENV == "production"

DEBUG = environ.boolean("POLLS_DEBUG", not PRODUCTION)

SECRET_KEY = environ.secret("secret_key", "POLLS_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "POLLS_SECRET_KEY is not set (nor the systemd credential secret_key); "
            "production refuses to start without it"
        )
    SECRET_KEY = "django-insecure-development-only-never-in-production"  # noqa: S105

ALLOWED_HOSTS = environ.items(
    "POLLS_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "POLLS_ALLOWED_HOSTS is not set; production needs the site's host names"
    )
CSRF_TRUSTED_ORIGINS = environ.items("POLLS_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "polls.apps.PollsConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

# Django's default stack. Under polls.asgi, polls.fastpath loads the twins of
# these classes, which skip a thread hop per hook.
MIDDLEWARE = [
    # A Django 5.2 workaround (see the module): before anything reads a body.
    "polls.charset.FormCharsetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "polls.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "polls.wsgi.application"
ASGI_APPLICATION = "polls.asgi.application"


# Database: SQLite by default, PostgreSQL when POLLS_DATABASE_URL is given.


def sqlite_database(path: str) -> dict:
    """SQLite tuned for a web server: WAL, IMMEDIATE writes, a busy timeout."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # Opening a connection costs more than the queries of a page.
        "CONN_MAX_AGE": environ.integer("POLLS_DB_CONN_MAX_AGE", 600),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # Writers take the lock when their transaction begins, so two
            # writers queue on the busy timeout instead of failing to upgrade
            # a read lock ("database is locked").
            "transaction_mode": "IMMEDIATE",
            "timeout": environ.integer("POLLS_SQLITE_TIMEOUT", 5),
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA temp_store=MEMORY;"
                "PRAGMA mmap_size=134217728;"
                "PRAGMA cache_size=-20000;"
            ),
        },
    }


def postgresql_database(url: str) -> dict:
    """PostgreSQL (psycopg 3) from a ``postgres://user[:pw]@host[:port]/name`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or not parts.path.strip("/"):
        raise ImproperlyConfigured(
            "POLLS_DATABASE_URL must look like postgres://user@host:5432/dbname"
        )
    options: dict = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    pool = environ.boolean("POLLS_DB_POOL", False)
    if pool:
        # psycopg's pool; Django forbids it together with CONN_MAX_AGE.
        options["pool"] = {
            "min_size": environ.integer("POLLS_DB_POOL_MIN", 2),
            "max_size": environ.integer("POLLS_DB_POOL_MAX", 8),
            "timeout": 10,
        }
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": environ.secret("db_password", "POLLS_DB_PASSWORD")
        or unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        # Persistent: one connection per thread, kept; polls.asgi lends
        # long-lived threads, so it keeps them too. Measured on the index
        # (bench/results/postgres.md): persistent 346 req/s, the pool 245.
        "CONN_MAX_AGE": 0 if pool else environ.integer("POLLS_DB_CONN_MAX_AGE", 600),
        "CONN_HEALTH_CHECKS": True,
    }


DATABASE_URL = environ.text("POLLS_DATABASE_URL")
DATABASES = {
    "default": (
        postgresql_database(DATABASE_URL)
        if DATABASE_URL
        else sqlite_database(
            environ.text("POLLS_SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
        )
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = environ.text("POLLS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static files: nginx serves STATIC_ROOT; hashed names make them cacheable forever.
STATIC_URL = "static/"
STATIC_ROOT = environ.text("POLLS_STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Request limits: a body larger than this is a 400, not a worker tied up.
DATA_UPLOAD_MAX_MEMORY_SIZE = environ.integer("POLLS_MAX_BODY_BYTES", 64 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100

# HTTPS: nginx terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = environ.boolean("POLLS_SSL_REDIRECT", PRODUCTION)
# Health checks come over the unix socket or plain HTTP from a load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS is nginx's: it covers every answer, static files and its own error
# pages included, which Django never sees (roles/nginx, nginx_hsts_*). Django
# sends none, so check --deploy's "no HSTS" warning does not apply here.
SECURE_HSTS_SECONDS = 0
SILENCED_SYSTEM_CHECKS = ["security.W004"]
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Benchmark-only views that wait on a simulated slow upstream (off by default).
BENCH_VIEWS = environ.boolean("POLLS_BENCH_VIEWS", False)
# Threads per worker process that run the sync code of ASGI requests
# (polls.fastpath.threads): at most this many at once, each with its own
# database connection.
ASGI_THREADS = environ.integer("POLLS_ASGI_THREADS", 16, minimum=1)
BENCH_DELAY_SECONDS = environ.integer("POLLS_BENCH_DELAY_MS", 20) / 1000
# /healthz fails when the SQLite database's directory has less room than this:
# a host that cannot store votes takes no traffic (polls.views.storage_problem).
HEALTH_MIN_FREE_BYTES = (
    environ.integer("POLLS_HEALTH_MIN_FREE_MB", 16, minimum=0) * 2**20
)

LOG_LEVEL = environ.text("POLLS_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # journald stamps each line with time and unit already.
        "plain": {"format": "%(levelname)s %(name)s: %(message)s"},
    },
    "filters": {"one_line_refusals": {"()": "polls.logfilters.OneLineRefusals"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_refusals"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

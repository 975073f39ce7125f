"""Settings from the environment.

With nothing set the product runs embedded: SQLite in the data folder, Celery tasks executed
eagerly, the database as cache, mail printed to the console, keys made on first run and kept in
the data folder. `DATABASE_URL` (with `DEBUG` off) is production: it refuses to start without its
own `SECRET_KEY` and `JWT_SIGNING_KEY`, and is HTTPS-only unless `HTTPS_ONLY=false`. `REDIS_URL`
adds the cache and, unless `CELERY_BROKER_URL` names another, the Celery broker.
"""
import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from nymble.keys import embedded_keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The embedded default's own files: the SQLite database and the keys made on first run.
DATA_DIR = Path(env("DATA_DIR", default=str(BASE_DIR / "var")))
PRODUCTION = not DEBUG and bool(env("DATABASE_URL", default=""))

if PRODUCTION:
    _missing = [name for name in ("SECRET_KEY", "JWT_SIGNING_KEY") if not env(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            f"Production settings (DEBUG off, DATABASE_URL set) need {' and '.join(_missing)} in the environment: "
            "long random values of your own, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = env("SECRET_KEY")
    JWT_SIGNING_KEY = env("JWT_SIGNING_KEY")
else:
    _keys = embedded_keys(DATA_DIR / "secret-keys.json")
    SECRET_KEY = env("SECRET_KEY", default="") or _keys["SECRET_KEY"]
    JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="") or _keys["JWT_SIGNING_KEY"]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
# Links in emails start with this (no trailing slash).
PUBLIC_URL = env("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# HTTPS-only in production (`manage.py check --deploy` is clean); HTTPS_ONLY=false for plain HTTP.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=PRODUCTION)
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    # `preload` only consents to a browser list; nothing is submitted unless the operator does it.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Behind a TLS-terminating proxy: e.g. SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
if env("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER"))
    if len(SECURE_PROXY_SSL_HEADER) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is a header name and a value: HTTP_X_FORWARDED_PROTO,https")
# Proxies whose X-Forwarded-For names the client (addresses or networks); empty: the connection's address.
TRUSTED_PROXIES = [ipaddress.ip_network(value, strict=False) for value in env.list("TRUSTED_PROXIES", default=[])]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our own static files: docs work offline
    "django_celery_beat",
    "import_export",  # the admin's CSV/XLSX import (through the services) and every list's export
    "nymble",
    "salesreps",
    "customers",
    "orders",
    "commissions",
    "dashboard",
    "audit",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "nymble.api.middleware.RefuseOversizedBodyMiddleware",
    "nymble.api.middleware.RefuseNulMiddleware",
    "nymble.api.middleware.TrailingSlashMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "nymble.scoping.StaffPrincipalMiddleware",
    "audit.actors.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "nymble.urls"
WSGI_APPLICATION = "nymble.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections between requests (a new PostgreSQL connection costs ~7 ms, more than most requests).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers wait instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # The database is shared by every server process, so limits and revocations hold across them.
    CACHES = {"default": {"BACKEND": "nymble.cache.AtomicDatabaseCache", "LOCATION": "nymble_cache"}}

AUTH_USER_MODEL = "nymble.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True  # the admin's assets are served without a collectstatic step
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["nymble.tokens.NymbleJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["nymble.api.permissions.RolePermission"],
    "DEFAULT_PARSER_CLASSES": ["nymble.api.json.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["nymble.api.json.DecimalJSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "nymble.api.pagination.EnvelopePagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "nymble.api.filters.SearchFilter",
        "nymble.api.filters.SortFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "nymble.schema.NymbleAutoSchema",
    "EXCEPTION_HANDLER": "nymble.api.problems.problem_exception_handler",
    "DEFAULT_METADATA_CLASS": "nymble.api.metadata.RouteMetadata",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "PAGE_SIZE": 25,
}

ACCESS_TOKEN_LIFETIME = timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=15))
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": ACCESS_TOKEN_LIFETIME,
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=7)),
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "UPDATE_LAST_LOGIN": False,
}

API_CLIENT_LOGINS_PER_MINUTE = 10
# §2's login limits: failed password logins per email and address, and per address, in 15 minutes;
# failed API-client secrets per client and address in a minute.
LOGIN_FAILURES_PER_EMAIL_AND_ADDRESS = 10
LOGIN_FAILURES_PER_ADDRESS = 100
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
API_CLIENT_FAILURES_PER_MINUTE = 10

# A reset link is good for an hour and once (Django's token dies with the password it reset);
# an invitation for a week and once.
PASSWORD_RESET_TIMEOUT = 60 * 60
INVITATION_TIMEOUT = 7 * 24 * 60 * 60

# Email: django-environ's EMAIL_URL (smtp://user:pass@host:587, consolemail://, filemail:///path).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Nymble <no-reply@nymble.localhost>")

SPECTACULAR_SETTINGS = {
    "TITLE": "Nymble back office API",
    "DESCRIPTION": "Customers, sales reps, catalog, orders, invoices and commissions of a B2B commerce platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Each closed set is one named enum wherever it appears (no `TypeEnum`, no `OrderStatusStatusEnum`).
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "OrderTypeEnum": "orders.models.OrderType",
        "ChannelEnum": "orders.models.Channel",
        "InvoiceStatusEnum": "orders.models.InvoiceStatus",
        "StatementStatusEnum": "commissions.models.StatementStatus",
        "StatementEventTypeEnum": "commissions.models.EventType",
        "DisputeStatusEnum": "commissions.models.DisputeStatus",
        "CommissionBasisEnum": "commissions.models.CommissionBasis",
        "AcceleratorMethodEnum": "commissions.models.AcceleratorMethod",
        "AttributeTypeEnum": "nymble.models.AttributeType",
        "RoleEnum": "nymble.models.Role",
        "SalesRepRoleEnum": ["SalesRep"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "nymble.schema.camel_case_path_parameters",
        "nymble.schema.empty_query_values",
        "nymble.schema.problem_responses",
        "nymble.schema.unreferenced_components_dropped",
    ],
}

# Celery: with no broker configured, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL) or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Webhook retries (and any delivery whose enqueue was lost) are sent by this sweep.
CELERY_BEAT_SCHEDULE = {"webhook-deliveries-due": {"task": "webhooks.tasks.send_due_deliveries", "schedule": 15.0}}

# Webhooks (§12). Plain http, and addresses on private, loopback or link-local networks, only for
# the hosts named here (names, addresses or networks: WEBHOOK_ALLOWED_HOSTS=hooks.internal,10.1.0.0/16).
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_TIMEOUT_SECONDS = 10  # a 2xx within this is delivered
WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5
WEBHOOK_EAGER_TIMEOUT_SECONDS = 2  # without a broker the request that emitted the event waits at most this long
# The waits before the 2nd … 8th attempt, in seconds (Standard Webhooks' schedule): 8 attempts in all.
WEBHOOK_RETRY_SCHEDULE = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600]
WEBHOOK_DEACTIVATE_AFTER = timedelta(days=3)  # of failures without a success
# Certificates of endpoints are checked against the system's CAs, or this file's (a private CA).
WEBHOOK_CA_FILE = env("WEBHOOK_CA_FILE", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

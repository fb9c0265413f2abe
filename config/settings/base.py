"""Settings shared by every environment. Everything that differs between a laptop and AWS
comes from the environment: `DATABASE_URL` (Aurora PostgreSQL), `REDIS_URL` (ElastiCache),
`KAFKA_BOOTSTRAP_SERVERS` (MSK), `SECRET_KEY`, `ALLOWED_HOSTS`."""

from pathlib import Path

import dj_database_url

from config.settings.environment import env_bool, env_int, env_int_map, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

OMS_ENV = env_str("OMS_ENV", "dev")
DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-for-anything-real-0123456789")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "django_filters",
    "channels",
    "oms",  # the kernel: `manage.py run_consumer` (oms/management/commands)
    "apps.orders",
    "apps.risk",
    "apps.marketdata",
    "apps.processing",
    "apps.accounts",
    "apps.audit",
    "apps.demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "oms.observability.middleware.CorrelationIdMiddleware",
    "oms.api.request_cycles.ReleaseViewCycles",
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise, so the UI it serves at `/` gets them too (config/settings/security.py).
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oms.api.security_headers.ContentSecurityPolicyMiddleware",
    "oms.api.body_limit.RequestBodyLimitMiddleware",
    "oms.api.query_guard.NulQueryParameterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, holding the request weakly (oms/api/request_cycles.py).
    "oms.api.request_cycles.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.audit.middleware.PrivilegedRequestAuditMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "oms.observability.middleware.SyncViewBoundary",
]

# Benchmarks mount their reference views beside the real ones with OMS_ROOT_URLCONF.
ROOT_URLCONF = env_str("OMS_ROOT_URLCONF", "config.urls")
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    ),
}
DATABASES["default"]["OPTIONS"] = {
    "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
    # Parameters bound by the server, and a statement run `prepare_threshold` times on a
    # connection prepared: PostgreSQL stops parsing and planning the hot path's statements
    # again for every batch (`make bench-e2e` at 500 orders/s: PostgreSQL 0.34 -> 0.22
    # cores). Prepared statements live on the connection: point DATABASE_URL at the
    # database or at a pooler that keeps them (PgBouncer >= 1.21, max_prepared_statements).
    "server_side_binding": env_bool("DB_SERVER_SIDE_BINDING", True),
    "prepare_threshold": env_int("DB_PREPARE_THRESHOLD", 5),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    },
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 10},
    },
}

KAFKA_BOOTSTRAP_SERVERS = env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
# Extra librdkafka settings for real clusters (MSK: TLS and IAM or SCRAM), as
# KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD.
KAFKA_CLIENT_CONFIG = {
    key: value
    for key, value in {
        "security.protocol": env_str("KAFKA_SECURITY_PROTOCOL", ""),
        "sasl.mechanism": env_str("KAFKA_SASL_MECHANISM", ""),
        "sasl.username": env_str("KAFKA_SASL_USERNAME", ""),
        "sasl.password": env_str("KAFKA_SASL_PASSWORD", ""),
    }.items()
    if value
}
KAFKA_TOPIC_PARTITIONS = env_int("KAFKA_TOPIC_PARTITIONS", 3)
# Per-topic partition counts over that default, e.g. "orders=20,executions=20".
KAFKA_TOPIC_PARTITIONS_BY_TOPIC = env_int_map("KAFKA_TOPIC_PARTITIONS_BY_TOPIC", "")

# Market and stop orders trade with price protection: at most this fraction beyond the best
# opposite price (or the stop price). A buy reserves funds at that bound.
OMS_MARKET_SLIPPAGE = env_str("OMS_MARKET_SLIPPAGE", "0.05")
# Order entry's global maximums of a price, a quantity and a limit order's notional. An
# instrument may narrow them; oms.money's ceilings (1e9, 1e9, 1e12) cap them, so the money
# arithmetic always has room.
OMS_MAX_PRICE = env_str("OMS_MAX_PRICE", "1000000000")
OMS_MAX_QUANTITY = env_str("OMS_MAX_QUANTITY", "1000000000")
OMS_MAX_NOTIONAL = env_str("OMS_MAX_NOTIONAL", "1000000000000")
# Velocity counters live in Redis under this prefix (a replay uses a prefix of its own).
RISK_COUNTER_PREFIX = env_str("RISK_COUNTER_PREFIX", "")
# Margin (leveraged accounts): default rates of instruments without their own, and the
# asset equity is valued in.
RISK_INITIAL_MARGIN = env_str("RISK_INITIAL_MARGIN", "0.1")
# Four eyes: raising one of these limits above its threshold (or removing it) needs a
# second operator's approval ("name=value,..."; apps/risk/overrides.py).
RISK_FOUR_EYES_THRESHOLDS = dict(
    item.split("=", 1) for item in env_str(
        "RISK_FOUR_EYES_THRESHOLDS",
        "max_order_notional=1000000,max_position_notional=10000000,"
        "max_notional_per_minute=10000000").split(",") if item.strip())
RISK_MAINTENANCE_MARGIN = env_str("RISK_MAINTENANCE_MARGIN", "0.05")
OMS_VALUATION_ASSET = env_str("OMS_VALUATION_ASSET", "USDT")
KAFKA_REPLICATION_FACTOR = env_int("KAFKA_REPLICATION_FACTOR", 1)

# Circuit breakers (oms.resilience), the seed's defaults: open when half of the last WINDOW
# calls failed (once MINIMUM_CALLS were made), try again after RESET_TIMEOUT seconds,
# doubling after each failed trial up to MAX_RESET_TIMEOUT.
RESILIENCE = {
    "WINDOW": env_int("BREAKER_WINDOW", 20),
    "MINIMUM_CALLS": env_int("BREAKER_MINIMUM_CALLS", 5),
    "FAILURE_RATIO": 0.5,
    "RESET_TIMEOUT": env_int("BREAKER_RESET_SECONDS", 30),
    "MAX_RESET_TIMEOUT": env_int("BREAKER_MAX_RESET_SECONDS", 240),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The trading UI (frontend/, `make ui`) at `/`: WhiteNoise serves frontend/dist as the site
# root. It is scanned when the web role starts, so build the UI first (`make up` does).
UI_ROOT = BASE_DIR / "frontend" / "dist"
if UI_ROOT.is_dir():
    WHITENOISE_ROOT = UI_ROOT
    WHITENOISE_INDEX_FILE = True

SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_AGE = 30 * 60  # the seed's 30-minute session TTL
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout rather than absolute
# The admin's messages live in its session: the default storage builds a cookie signer on
# every request (5 us each, on every API request too), this one touches nothing until a
# message is added or read. Ours holds the request weakly (oms/api/request_cycles.py).
MESSAGE_STORAGE = "oms.api.request_cycles.WeakRequestSessionStorage"
LOGIN_URL = "/api-auth/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.CachedTokenAuthentication",
        "apps.accounts.authentication.BearerAuthentication",
        "apps.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["oms.api.permissions.RoleBasedAccess"],
    "DEFAULT_SCHEMA_CLASS": "oms.api.schema.IdempotentAutoSchema",
    "EXCEPTION_HANDLER": "oms.api.errors.structured_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    # A JSON API: form encodings would turn a blank field into "omitted".
    "DEFAULT_PARSER_CLASSES": ["oms.api.parsers.FastJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["oms.api.throttling.ApiUserThrottle"],
}

# Rate limits per scope (`N/s`, `N/m` or `N/h`), counted in Redis (oms.api.throttling):
# order entry per user and per client address; every other API request per user; logins
# (token endpoint, `/api-auth/login/`, `/admin/login/`) per client address; API-key
# creation per user.
OMS_RATE_LIMITS = {
    "orders-user": env_str("RATE_LIMIT_ORDERS_USER", "100/s"),
    "orders-ip": env_str("RATE_LIMIT_ORDERS_IP", "300/s"),
    "api-user": env_str("RATE_LIMIT_API_USER", "50/s"),
    "auth-ip": env_str("RATE_LIMIT_AUTH_IP", "10/m"),
    "api-keys-user": env_str("RATE_LIMIT_API_KEYS_USER", "10/h"),
}
# Networks (CIDRs) of the proxies in front of the web role whose `X-Forwarded-For` is
# believed (oms.api.client_address); none by default: the socket address is the client.
OMS_TRUSTED_PROXIES = env_list("OMS_TRUSTED_PROXIES", "")
# `/metrics` on the public port of the web roles (oms.observability.views); production turns
# it off and Prometheus scrapes the probe port (`OMS_PROBE_PORT`) instead.
OMS_METRICS_ON_WEB = env_bool("OMS_METRICS_ON_WEB", True)
SPECTACULAR_SETTINGS = {
    "TITLE": "Crypto OMS API",
    "DESCRIPTION": "Order entry, order status, instruments, balances, risk and market data.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # An order's `last_refusal.request` (named by its field alone it would be `RequestEnum`).
    "ENUM_NAME_OVERRIDES": {"RefusedRequestEnum": "apps.orders.api.serializers.REFUSED_REQUESTS"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oms.api.schema.add_error_responses",
    ],
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "expire-gtd-orders": {"task": "orders.expire_due", "schedule": 1.0},
    "dead-man-switches": {"task": "orders.fire_dead_man_switches", "schedule": 1.0},
    "maintenance-margin": {"task": "processing.check_margin",
                           "schedule": float(env_int("MARGIN_CHECK_EVERY_SECONDS", 10))},
    "reconcile": {"task": "processing.reconcile",
                  "schedule": float(env_int("RECONCILE_EVERY_SECONDS", 300))},
    "revert-expired-overrides": {"task": "risk.revert_expired_overrides",
                                 "schedule": float(env_int("OVERRIDE_EXPIRY_EVERY_SECONDS",
                                                           5))},
    "prune-outbox": {"task": "processing.prune_outbox",
                     "schedule": float(env_int("OMS_OUTBOX_PRUNE_EVERY_SECONDS", 60))},
}
# How long a published outbox row is kept (apps.processing.outbox.prune_published): longer
# than any consumer's duplicate window, shorter than the topics' retention; reconcile
# compares `executions` with the outbox over this window only.
OMS_OUTBOX_KEEP_SECONDS = env_int("OMS_OUTBOX_KEEP_SECONDS", 24 * 3600)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "oms.observability.logging.CorrelationIdFilter"}},
    "formatters": {"json": {"()": "oms.observability.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["correlation"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

from config.settings.marketdata import *  # noqa: E402, F403
from config.settings.security import *  # noqa: E402, F403

"""Production (EKS behind an ALB that terminates TLS). Secrets are required from the
environment; `manage.py check --deploy` is clean with them given."""

from config.settings.base import *  # noqa: F403
from config.settings.environment import env_bool, env_int, env_list, env_required

SECRET_KEY = env_required("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "")
DEBUG = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
# Kubelet probes scrape pods over plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$"]
# Metrics only on the probe port (OMS_PROBE_PORT), which no load balancer exposes.
OMS_METRICS_ON_WEB = env_bool("OMS_METRICS_ON_WEB", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# The headers every environment sends are in security.py; these need TLS in front.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Three MSK brokers: every topic keeps three copies (the seed), unless told otherwise.
KAFKA_REPLICATION_FACTOR = env_int("KAFKA_REPLICATION_FACTOR", 3)


# The demo market maker is for `make up`, not for a venue.
MARKETDATA_MARKET_MAKER_ENABLED = False
MARKETDATA_DEMO_TAKER_ENABLED = False

"""Development: `make up` on a laptop. Debug pages on, everything local."""

from config.settings.base import *  # noqa: F403
from config.settings.environment import env_bool

# The benchmarks turn it off (DJANGO_DEBUG=0) to measure the roles as production runs
# them: no query log per statement, no static-file look-up on disk per request.
DEBUG = env_bool("DJANGO_DEBUG", True)
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic

"""Development: `make up` on a laptop. Debug pages on, everything local."""

from config.settings.base import *  # noqa: F403

DEBUG = True
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic

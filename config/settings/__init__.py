"""Settings for the environment named by `OMS_ENV` (`dev`, `test` or `prod`; default `dev`).
Only this package imports settings modules."""

import os

_ENV = os.environ.get("OMS_ENV", "dev")

if _ENV == "prod":
    from config.settings.prod import *  # noqa: F403
elif _ENV == "test":
    from config.settings.test import *  # noqa: F403
elif _ENV == "dev":
    from config.settings.dev import *  # noqa: F403
else:
    raise RuntimeError(f"OMS_ENV must be dev, test or prod, not {_ENV!r}")

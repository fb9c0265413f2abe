"""Authentication settings: bearer JWTs and signed API keys, beside API tokens and sessions.
Imported by `base`.

JWTs are short-lived so that a stolen access token is worth little: access 5 minutes,
refresh 1 day; every refresh returns a new refresh token and blacklists the old one, so a
refresh token works once, and `POST /api/auth/token/revoke` blacklists one at logout.
They are signed with `SECRET_KEY` (HS256): rotating it logs every JWT out.

API-key secrets are derived from `API_KEY_PEPPER` (or, unset, from `SECRET_KEY`), which
never enters the database: changing it invalidates every key (`apps/accounts`)."""

from datetime import timedelta

from config.settings.environment import env_int, env_str

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

API_KEY_PEPPER = env_str("API_KEY_PEPPER", "")
# Routes (URL names) on which a `trade` API key may write; every other write needs a token,
# a JWT or a session. `read` keys write nowhere.
API_KEY_TRADE_ROUTES = frozenset({
    "order-list",  # POST /api/orders
    "order-detail",  # PATCH /api/orders/{id}
    "order-cancel",  # POST /api/orders/{id}/cancel
    "order-cancel-all",  # POST /api/orders/cancel-all
    "risk-validate-list",  # POST /api/risk/validate (a what-if, reserves nothing)
})

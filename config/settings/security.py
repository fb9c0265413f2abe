"""Security settings, imported by `base`: authentication (bearer JWTs and signed API keys,
beside API tokens and sessions), response headers and CSRF, request body limits, and what
the audit log records. docs/security.md explains them together.

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

# Response headers, on every response in every environment (SecurityMiddleware and
# XFrameOptionsMiddleware, placed above WhiteNoise in MIDDLEWARE so the UI at `/` gets them
# too). prod.py adds HSTS, the HTTPS redirect and secure cookies, which need TLS in front.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (oms.api.security_headers): the React UI, the admin and the
# browsable API load scripts only from this origin and run no inline script. Inline styles
# stay allowed because DRF's browsable API templates carry `style` attributes. The UI's
# WebSocket is same-origin, which `'self'` covers in `connect-src`.
CONTENT_SECURITY_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'", "'unsafe-inline'"),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}
# Sources added for paths under a prefix: Swagger UI (`/api/docs/`) comes from the CDN that
# drf-spectacular points at (`SWAGGER_UI_DIST`); its own script is served from this origin
# (the split view), so no inline script is allowed there either.
SWAGGER_UI_CDN = "https://cdn.jsdelivr.net"
CONTENT_SECURITY_POLICY_EXTRA_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "/api/docs/": {"script-src": (SWAGGER_UI_CDN,), "style-src": (SWAGGER_UI_CDN,),
                   "img-src": (SWAGGER_UI_CDN,)},
}

# CSRF for sessions: DRF's SessionAuthentication enforces Django's CSRF check on unsafe
# requests authenticated by the session cookie; a token, a bearer JWT or a signed API key
# authenticates first and needs none (a cross-site page cannot set those headers). The UI
# reads the `csrftoken` cookie to send `X-CSRFToken`, so that cookie is readable by script;
# the session cookie is not.
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"

# Request bodies (oms.api.body_limit): larger ones are refused with 413 before any view
# runs. The JSON API's bodies are small (an order is a few hundred bytes); forms elsewhere
# (admin, login) get Django's own limit, lowered from 2.5 MiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
REQUEST_BODY_LIMITS: dict[str, int] = {"/api/": env_int("API_MAX_BODY_BYTES", 64 * 1024)}

# The audit log (apps.audit): every unsafe request by an operator (`ops`, `admin`, staff)
# is recorded; so are these routes (URL names) whoever calls them, because they mint or
# revoke credentials.
AUDIT_ALWAYS_ROUTES = frozenset({
    "api-key-list",  # POST /api/api-keys
    "api-key-revoke",  # POST /api/api-keys/{id}/revoke
})

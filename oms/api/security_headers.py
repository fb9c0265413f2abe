"""The Content-Security-Policy header on every response (Django 5.2 has no CSP of its own):
the policy of `settings.CONTENT_SECURITY_POLICY`, with the sources that
`settings.CONTENT_SECURITY_POLICY_EXTRA_SOURCES` adds under a path prefix. Placed above
WhiteNoise, so the UI's files get it too. The header values are built once, at start."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"
Policy = Mapping[str, tuple[str, ...]]


def render_policy(policy: Policy, extra: Policy | None = None) -> str:
    """`{"script-src": ("'self'",)}` -> `"script-src 'self'"`, with `extra`'s sources
    appended to their directives."""
    merged = {name: (*sources, *(extra or {}).get(name, ())) for name, sources in policy.items()}
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in merged.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        base = settings.CONTENT_SECURITY_POLICY
        self.default = render_policy(base)
        # Longest prefix first, so the most specific one wins.
        self.by_prefix = sorted(
            ((prefix, render_policy(base, extra))
             for prefix, extra in settings.CONTENT_SECURITY_POLICY_EXTRA_SOURCES.items()),
            key=lambda item: len(item[0]), reverse=True)

    def policy_for(self, path: str) -> str:
        return next((policy for prefix, policy in self.by_prefix if path.startswith(prefix)),
                    self.default)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault(HEADER, self.policy_for(request.path))
        return response

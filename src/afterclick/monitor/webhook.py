"""Post the alerts as JSON to a webhook (Slack-style incoming hooks, a chat bot, a pager)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit


class WebhookError(RuntimeError):
    """The webhook could not be reached or refused the alerts (one line saying which and why)."""


def _where(url: str) -> str:
    """The URL without its path and query (they may hold a token) for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


def post_alerts(url: str, payload: dict[str, Any], timeout: float = 10.0) -> int:
    """POST ``payload`` as UTF-8 JSON to ``url``; returns the HTTP status (2xx) or raises
    :class:`WebhookError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"webhook {url!r} is not an http(s) URL such as https://hooks.example.com/…")
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "afterclick-alerts"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"webhook at {_where(url)} answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"webhook at {_where(url)} could not be reached: {reason}") from None

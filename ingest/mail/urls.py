"""A link as a plain web address: its host and path, or nothing when it could mislead (a user part,
another port, another scheme, a URL that does not parse)."""

from __future__ import annotations

import urllib.parse


def web_location(url: str) -> tuple[str, str] | None:
    """(host, path) of an http(s) URL, the host in lower case; None for anything else."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc or port not in (None, 80, 443):
        return None
    return (parts.hostname or "").lower(), parts.path or "/"

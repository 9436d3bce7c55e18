"""Sessions in signed cookies, and the CSRF token of every form.

The cookie (HttpOnly, SameSite=Lax, Secure when asked) holds a random nonce, the account's id and
its time of issue, signed with the workbench's key (itsdangerous); it expires after the configured
hours, and the account is looked up again at every request (a disabled account is logged out). A
login issues a new nonce. Each form carries `csrf`, an HMAC of the nonce: a POST without the right
one is refused with 403.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from store.private import create_private

COOKIE = "intake_session"
CSRF_FIELD = "csrf"


@dataclass(frozen=True, kw_only=True)
class Visit:
    """One browser's session: a nonce, and the account logged in (if any)."""

    nonce: str
    user_id: int | None = None
    fresh: bool = False  # made for this request: the cookie must be set


def new_visit(user_id: int | None = None) -> Visit:
    return Visit(nonce=secrets.token_urlsafe(24), user_id=user_id, fresh=True)


def load_key(path: Path) -> bytes:
    """The signing key from its file, made (random, mode 0600) when there is none yet."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        with os.fdopen(create_private(path), "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
        return key
    except ValueError as exc:
        raise ValueError(f"{path}: not a key written by intake web (hex digits)") from exc


class Cookies:
    """Reads and writes the session cookie; makes and checks CSRF tokens."""

    def __init__(self, *, key: bytes, max_age_seconds: int, secure: bool = False) -> None:
        self.key = key
        self.max_age = max_age_seconds
        self.secure = secure
        self._signer = URLSafeTimedSerializer(key, salt="intake-web-session")

    def read(self, request: Request) -> Visit | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._signer.loads(raw, max_age=self.max_age)
        except BadSignature:  # forged, or older than max_age (SignatureExpired is a BadSignature)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        user = data.get("u")
        return Visit(nonce=data["n"], user_id=user if isinstance(user, int) else None)

    def write(self, response: Response, visit: Visit) -> None:
        response.set_cookie(
            COOKIE,
            self._signer.dumps({"n": visit.nonce, "u": visit.user_id}),
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def forget(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)

    def csrf(self, visit: Visit) -> str:
        return hmac.new(self.key, f"csrf:{visit.nonce}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, visit: Visit, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(visit), str(token))

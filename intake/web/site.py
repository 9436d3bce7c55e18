"""What every page shares: the visitor and its account, the CSRF check, the templates, the errors.

A middleware reads the session cookie (a new visit gets a new cookie), looks the account up again
(in a worker thread: the database is synchronous) and puts both on `request.state`; views call
`account_of` (logged in, or sent to /login) and `posted` (the form, refused with 403 without its
CSRF token).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp

from campaign.notice import (
    FILE_KIND_LABELS,
    KIND_NAMES,
    KIND_SHORT,
    REPLY_KIND_LABELS,
    REPLY_STATUS_LABELS,
    STATUS_LABELS,
    MailboxKind,
    date_text,
    datetime_text,
    local,
)
from ingest.selection import STAGE_NAMES
from intake.accounts import Account, active
from intake.app import App
from intake.web import permissions
from intake.web.session import CSRF_FIELD, Cookies, Visit, new_visit
from intake.web.throttle import Throttle
from intake.web.thumbs import Thumbnails
from notify.render import filesize
from store.enums import ReplyStatus

FORM_LIMIT = 64 * 1024  # a workbench form is a few fields; anything larger is refused

STAGE_LABELS = {stage.value: name for stage, name in STAGE_NAMES.items() if stage is not None}
# a work's page explains a held reply in full
REPLY_STATUS_TEXTS = {
    **REPLY_STATUS_LABELS,
    ReplyStatus.HELD.value: "暂缓发送：自动回复已达发送上限，额度恢复后自动发出",
}


class LoginNeeded(Exception):
    """The page needs a logged-in account: the visitor is sent to /login."""


def _when(ts: dt.datetime | None) -> str:
    return datetime_text(local(ts)) if ts else "—"


def _day(ts: dt.datetime | dt.date | None) -> str:
    if ts is None:
        return "—"
    return date_text(local(ts).date() if isinstance(ts, dt.datetime) else ts)


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("intake.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filesize=filesize, when=_when, day=_day)
    env.globals.update(
        KIND_NAMES={k.value: v for k, v in KIND_NAMES.items()},
        KIND_SHORT={k.value: v for k, v in KIND_SHORT.items()},
        STATUS_LABELS=STATUS_LABELS,
        FILE_KINDS=FILE_KIND_LABELS,
        STAGE_LABELS=STAGE_LABELS,
        REPLY_KINDS=REPLY_KIND_LABELS,
        REPLY_STATES=REPLY_STATUS_TEXTS,
    )
    return env


@dataclass(kw_only=True)
class Site:
    """The workbench's parts, built once by `intake web` (or a test) and shared by every request."""

    app: App
    cookies: Cookies
    throttle: Throttle
    env: Environment
    thumbs: Thumbnails

    @property
    def kinds(self) -> tuple[MailboxKind, ...]:
        return tuple(dict.fromkeys(b.kind for b in self.app.settings.mailboxes))

    def page(self, request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        visit: Visit = request.state.visit
        account: Account | None = request.state.account
        nav = permissions.visible_kinds(account, self.kinds) if account else ()
        html = self.env.get_template(template).render(
            request=request,
            account=account,
            csrf=self.cookies.csrf(visit),
            csrf_field=CSRF_FIELD,
            nav_kinds=[k.value for k in nav if k is not MailboxKind.OFFLINE_ACTIVITY],
            nav_units=bool(account and permissions.can_see_units(account)),
            nav_province=bool(account and permissions.can_recommend(account)),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def account_of(request: Request) -> Account:
    account: Account | None = request.state.account
    if account is None:
        raise LoginNeeded()
    return account


async def posted(request: Request) -> FormData:
    """The POSTed form, after its CSRF token was checked (403 without the right one)."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > FORM_LIMIT):
        raise HTTPException(413, "表单过大")
    form = await request.form(max_files=0, max_fields=50)
    token = form.get(CSRF_FIELD)
    if not site_of(request).cookies.csrf_ok(request.state.visit, token if isinstance(token, str) else None):
        raise HTTPException(403, "表单已失效（缺少或错误的安全令牌），请返回上一页刷新后重试")
    return form


def field(form: FormData, name: str, *, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


class VisitMiddleware(BaseHTTPMiddleware):
    """Puts the visit and its account on every request, sets the cookie of a new visit, and adds the
    security headers every response carries."""

    def __init__(self, app: ASGIApp, *, site: Site) -> None:
        super().__init__(app)
        self.site = site

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        visit = self.site.cookies.read(request)
        account = None
        if visit is not None and visit.user_id is not None:
            account = await run_in_threadpool(active, self.site.app.sessions, visit.user_id)
            if account is None:  # disabled or gone: logged out
                visit = None
        request.state.visit = visit or new_visit()
        request.state.account = account
        response = await call_next(request)
        final: Visit = request.state.visit
        if final.fresh:
            self.site.cookies.write(response, final)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
            "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


async def login_needed(request: Request, exc: Exception) -> Response:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    site = site_of(request)
    if not hasattr(request.state, "visit"):
        request.state.visit = new_visit()
        request.state.account = None
    titles = {403: "没有权限", 404: "找不到页面", 405: "不支持的操作", 413: "内容过大", 429: "请稍后再试"}
    return site.page(
        request,
        "error.html",
        status_code=exc.status_code,
        title=titles.get(exc.status_code, "出错了"),
        detail=exc.detail if exc.detail and exc.detail != "Not Found" else "",
    )

"""The login and logout pages: email and password, throttled, a new session nonce at each login."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake.accounts import authenticate
from intake.web.session import new_visit
from intake.web.site import field, posted, site_of
from store.audit import record, user_target
from store.enums import AuditAction


def _next(value: str) -> str:
    """Only a path of this site (no scheme, no host, no //) is followed after login."""
    parts = urlsplit(value)
    if value.startswith("/") and not value.startswith("//") and not parts.scheme and not parts.netloc:
        return value
    return "/"


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login_page(request: Request) -> Response:
    site = site_of(request)
    if request.state.account is not None:
        return RedirectResponse("/", status_code=303)
    return site.page(
        request, "login.html", title="登录", error="", email="", next=_next(request.query_params.get("next", "/"))
    )


async def login(request: Request) -> Response:
    site = site_of(request)
    form = await posted(request)
    email, password = field(form, "email", limit=320), field(form, "password", limit=1024)
    target = _next(field(form, "next", limit=500))
    client = client_of(request)
    wait = site.throttle.wait(email, client)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        return site.page(
            request,
            "login.html",
            title="登录",
            status_code=429,
            error=f"登录失败次数过多，请 {minutes} 分钟后再试。",
            email=email,
            next=target,
        )
    account = await run_in_threadpool(authenticate, site.app.sessions, email=email, password=password)
    if account is None:
        site.throttle.failed(email, client)
        return site.page(
            request, "login.html", title="登录", status_code=401, error="邮箱或密码不正确。", email=email, next=target
        )
    site.throttle.succeeded(email, client)

    def audit() -> None:
        with site.app.sessions.begin() as session:
            record(
                session,
                actor=account.email,
                action=AuditAction.LOGIN,
                target=user_target(account.email),
                summary=f"登录（{client}）",
            )

    await run_in_threadpool(audit)
    request.state.visit = new_visit(account.id)  # a new nonce: a session fixed before login is worthless
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await posted(request)
    request.state.visit = new_visit()
    return RedirectResponse("/login", status_code=303)

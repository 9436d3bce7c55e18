"""The forms that change things: a verdict overruled, a work shortlisted, selected or recommended.

Each checks the CSRF token and the account's permission, then calls the one module of `ingest/` that
the command line calls too; the change and its audit event are one transaction there. A correction
to the unit is handed to the outbox at once (sent after the response; if SMTP is not reachable
from here, the service's reply job sends it).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from campaign.notice import MailboxKind
from ingest.decide import DecisionRefused, overrule
from ingest.selection import STAGE_NAMES, SelectionRefused, choose
from intake.app import App
from intake.web import permissions
from intake.web.site import Site, account_of, field, posted, site_of
from report.workbench import message_kind
from store.enums import MessageStatus, ReplyStatus, SelectionStage
from store.errors import one_line

log = logging.getLogger(__name__)


def send_now(app: App) -> None:
    try:
        app.send_replies()
    except Exception as exc:  # the service's reply job sends it later
        log.warning("the correction stays pending for the service: %s", one_line(exc))


async def kind_checked(request: Request, site: Site, message_id: int) -> MailboxKind:
    kind = await run_in_threadpool(message_kind, site.app, message_id)
    if kind is None or not permissions.can_view(account_of(request), kind):
        raise HTTPException(404)
    return kind


def back_to(message_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/works/{message_id}?done={quote(notice)}", status_code=303)


async def decide(request: Request) -> Response:
    site = site_of(request)
    account = account_of(request)
    form = await posted(request)
    message_id = int(request.path_params["id"])
    kind = await kind_checked(request, site, message_id)
    if not permissions.can_decide(account, kind):
        raise HTTPException(403)
    verdict = {"accept": MessageStatus.ACCEPTED, "reject": MessageStatus.REJECTED}.get(field(form, "verdict"))
    if verdict is None:
        raise HTTPException(400, "请选择“改为通过”或“改为退回”")
    send = field(form, "send") == "1"
    try:
        outcome = await run_in_threadpool(
            lambda: overrule(
                sessions=site.app.sessions,
                settings=site.app.settings,
                renderer=site.app.renderer,
                blobs=site.app.blobs,
                message_id=message_id,
                verdict=verdict,
                reason=field(form, "reason", limit=2000),
                actor=account.email,
                send=send,
            )
        )
    except DecisionRefused as exc:
        return back_to(message_id, f"未改判：{exc}")
    label = "通过" if outcome.after is MessageStatus.ACCEPTED else "退回"
    if outcome.reply is ReplyStatus.PENDING:
        response = back_to(message_id, f"已改为“{label}”，更正通知正在发给报送单位")
        response.background = BackgroundTask(send_now, site.app)
        return response
    if outcome.already_told:
        return back_to(message_id, f"已改为“{label}”；报送单位此前收到的回复就是“{label}”，无需发更正通知")
    return back_to(message_id, f"已改为“{label}”，未通知报送单位")


async def select(request: Request) -> Response:
    site = site_of(request)
    account = account_of(request)
    form = await posted(request)
    message_id = int(request.path_params["id"])
    kind = await kind_checked(request, site, message_id)
    raw = field(form, "stage")
    stage = None if raw == "none" else next((s for s in SelectionStage if s.value == raw), None)
    if raw != "none" and stage is None:
        raise HTTPException(400, "请选择初选、推荐或撤销")
    if not permissions.can_select(account, kind) or (
        stage is SelectionStage.RECOMMENDED and not permissions.can_recommend(account)
    ):
        raise HTTPException(403, "您的账号不能做这项遴选")
    comment = field(form, "comment", limit=1000) if "comment" in form else None
    try:
        choice = await run_in_threadpool(
            lambda: choose(
                sessions=site.app.sessions,
                settings=site.app.settings,
                message_id=message_id,
                stage=stage,
                comment=comment,
                actor=account.email,
            )
        )
    except SelectionRefused as exc:
        return back_to(message_id, f"未遴选：{exc}")
    back = field(form, "back")
    if back == "list":
        return RedirectResponse(f"/collections/{kind.value}#w{message_id}", status_code=303)
    if back == "province":
        return RedirectResponse(f"/province#w{message_id}", status_code=303)
    return back_to(message_id, f"已设为“{STAGE_NAMES[choice.after]}”")

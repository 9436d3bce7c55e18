"""The pages that show: the campaign at a glance, a collection's works, one work, the units' reports.

Each view checks the account's permission first (404 for a collection it may not see, so that the
pages do not tell what exists) and reads through `report/`.
"""

from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from campaign.notice import KIND_NAMES, MIN_WORKS, MailboxKind, today
from intake.web import permissions
from intake.web.site import account_of, site_of
from report import workbench
from report.sections import deadline_rows
from report.snapshot import gather
from store.enums import MessageStatus, SelectionStage


def kind_param(request: Request, name: str = "kind") -> MailboxKind:
    raw = request.path_params.get(name, "")
    try:
        return MailboxKind(raw)
    except ValueError:
        raise HTTPException(404) from None


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def overview(request: Request) -> Response:
    site = site_of(request)
    account = account_of(request)
    kinds = permissions.visible_kinds(account, site.kinds)
    campaign = await run_in_threadpool(gather, site.app)
    stages = await run_in_threadpool(workbench.stage_counts, site.app)
    collections = [c for c in campaign.collections if c.kind in kinds]
    return site.page(
        request,
        "overview.html",
        title="总览",
        deadlines=deadline_rows(site.app.settings, today()),
        collections=collections,
        stages=stages,
        minimum=MIN_WORKS,
        units=campaign.quota_units if permissions.can_see_units(account) else (),
        total_quota=sum(u.quota or 0 for u in campaign.quota_units),
        total_activities=sum(u.activities for u in campaign.quota_units),
        failed=sum(1 for i in campaign.items if i.kind in kinds and i.status is MessageStatus.FAILED),
        collections_configured=any(k is not MailboxKind.OFFLINE_ACTIVITY for k in site.kinds),
        taken_at=campaign.taken_at,
    )


async def collection(request: Request) -> Response:
    site = site_of(request)
    account = account_of(request)
    kind = kind_param(request)
    if kind not in site.kinds or not permissions.can_view(account, kind):
        raise HTTPException(404)
    q = request.query_params
    status = q.get("status") or None
    stage = q.get("stage") or None
    filters = workbench.Filters(
        status=status if status in {s.value for s in workbench.SHOWN} else None,
        unit=q.get("unit") or None,
        since=_date(q.get("since")),
        until=_date(q.get("until")),
        stage=stage if stage in {s.value for s in SelectionStage} else None,
    )
    rows = await run_in_threadpool(workbench.works, site.app, kind, filters)
    units = await run_in_threadpool(workbench.units_of, site.app, kind)
    stages = (await run_in_threadpool(workbench.stage_counts, site.app)).get(kind.value, {})
    return site.page(
        request,
        "collection.html",
        title=KIND_NAMES[kind],
        kind=kind.value,
        rows=rows,
        units=units,
        filters=filters,
        stages=stages,
        minimum=MIN_WORKS,
        deadlines=deadline_rows(site.app.settings, today()),
        selectable=permissions.can_select(account, kind),
        recommend=permissions.can_recommend(account),
        statuses=[s.value for s in workbench.SHOWN],
        stage_values=[s.value for s in SelectionStage],
        is_work=workbench.is_work,
        notice=request.query_params.get("notice", ""),
    )


async def work(request: Request) -> Response:
    site = site_of(request)
    account = account_of(request)
    detail = await run_in_threadpool(workbench.work, site.app, int(request.path_params["id"]))
    if detail is None or not permissions.can_view(account, MailboxKind(detail.row.kind)):
        raise HTTPException(404)
    kind = MailboxKind(detail.row.kind)
    return site.page(
        request,
        "work.html",
        title=detail.row.name,
        w=detail,
        kind=kind.value,
        can_decide=permissions.can_decide(account, kind) and detail.row.status in ("accepted", "rejected"),
        can_select=permissions.can_select(account, kind)
        and detail.row.status == "accepted"
        and workbench.is_work(detail.row.work_role),
        can_recommend=permissions.can_recommend(account),
        notice=request.query_params.get("done", ""),
    )


async def units(request: Request) -> Response:
    site = site_of(request)
    account = account_of(request)
    if not permissions.can_see_units(account):
        raise HTTPException(404)
    campaign = await run_in_threadpool(gather, site.app)
    return site.page(
        request,
        "units.html",
        title="单位报送",
        units=campaign.units,
        kinds=[c.kind.value for c in campaign.collections],
        total_quota=sum(u.quota or 0 for u in campaign.quota_units),
        total_activities=sum(u.activities for u in campaign.quota_units),
        deadlines=deadline_rows(site.app.settings, today()),
    )


async def province(request: Request) -> Response:
    """The province's recommendation: per category, the works the organisers selected (推荐)."""
    site = site_of(request)
    account = account_of(request)
    if not permissions.can_recommend(account):
        raise HTTPException(404)
    selected = workbench.Filters(stage=SelectionStage.SELECTED.value, status=MessageStatus.ACCEPTED.value)
    groups = []
    for kind in site.kinds:
        if kind is MailboxKind.OFFLINE_ACTIVITY:
            continue
        rows = await run_in_threadpool(workbench.works, site.app, kind, selected)
        groups.append((kind.value, rows))
    return site.page(
        request,
        "province.html",
        title="省总推荐",
        groups=groups,
        deadlines=deadline_rows(site.app.settings, today()),
        minimum=MIN_WORKS,
        notice=request.query_params.get("notice", ""),
    )

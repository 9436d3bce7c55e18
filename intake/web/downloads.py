"""The package downloads: a collection's selected works, the province's recommendation.

Built in a worker thread into a temporary file beside the blob store (never the videos in memory),
streamed to the browser, and removed when sent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from campaign.notice import KIND_SHORT, MailboxKind, today
from ingest.selection import STAGE_NAMES
from intake.web import permissions
from intake.web.site import Site, account_of, site_of
from intake.web.views import kind_param
from report.package import entries, write
from store.enums import SelectionStage


async def _send(
    site: Site, *, kinds: Sequence[MailboxKind], stage: SelectionStage, by_kind: bool, name: str, page: str
) -> Response:
    items = await run_in_threadpool(entries, site.app, kinds=kinds, stage=stage)
    if not items:  # no empty zip: say why
        words = STAGE_NAMES[stage]
        notice = f"还没有标为“{words}”的作品，暂无可下载的作品包：请先在作品上点“{words}”。"
        return RedirectResponse(f"{page}?notice={quote(notice)}", status_code=303)
    fd, raw = tempfile.mkstemp(prefix="package-", suffix=".zip", dir=site.app.blobs.tmp)
    os.close(fd)
    path = Path(raw)
    try:
        await run_in_threadpool(write, items, site.app.blobs, path, kinds=kinds, stage=stage, by_kind=by_kind)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(path.unlink, missing_ok=True),
        headers={"Cache-Control": "no-store"},
    )


async def collection_package(request: Request) -> Response:
    site = site_of(request)
    kind = kind_param(request)
    if kind not in site.kinds or not permissions.can_select(account_of(request), kind):
        raise HTTPException(404)
    name = f"{KIND_SHORT[kind]}_推荐作品_{today().isoformat()}.zip"
    return await _send(
        site, kinds=[kind], stage=SelectionStage.SELECTED, by_kind=False, name=name, page=f"/collections/{kind.value}"
    )


async def province_package(request: Request) -> Response:
    site = site_of(request)
    if not permissions.can_recommend(account_of(request)):
        raise HTTPException(404)
    kinds = [k for k in site.kinds if k is not MailboxKind.OFFLINE_ACTIVITY]
    name = f"省总推荐作品_{today().isoformat()}.zip"
    return await _send(site, kinds=kinds, stage=SelectionStage.RECOMMENDED, by_kind=True, name=name, page="/province")

"""The stored files, served only to an account that may see their message.

Every request checks the permission (a file of a collection the account does not see is a 404, like
one that does not exist); file URLs carry the attachment's number, which is useless without a
session. Files are streamed from the blob store in pieces with HTTP Range (206, Content-Range), so
a player can seek in a large video. Only pictures, video and sound are shown in the page; anything
else is a download (Content-Disposition: attachment, with the RFC 5987 filename*), sandboxed.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from intake.web import permissions
from intake.web.site import account_of, site_of
from report.workbench import FilePlace, file_place
from store.enums import AttachmentKind

INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "audio/mpeg",
        "audio/mp4",
        "audio/x-m4a",
        "audio/aac",
        "audio/wav",
        "audio/x-wav",
        "audio/ogg",
        "audio/flac",
        "audio/x-flac",
    }
)
_UNSAFE = str.maketrans({'"': "_", "\\": "_", "/": "_", ";": "_"})


def download_name(name: str) -> str:
    """A file name fit for Content-Disposition (the display name is already free of controls)."""
    return name.translate(_UNSAFE).strip() or "file"


async def _allowed(request: Request) -> FilePlace:
    site = site_of(request)
    account = account_of(request)
    place = await run_in_threadpool(file_place, site.app, int(request.path_params["id"]))
    if place is None or not permissions.can_view(account, place.kind):
        raise HTTPException(404)
    return place


async def serve(request: Request) -> Response:
    place = await _allowed(request)
    site = site_of(request)
    path = site.app.blobs.path(place.sha256)
    if not path.is_file():
        raise HTTPException(404, "文件不在存储中")
    inline = place.mime in INLINE_TYPES and request.query_params.get("download") is None
    return FileResponse(
        path,
        media_type=place.mime if place.mime in INLINE_TYPES else "application/octet-stream",
        filename=download_name(place.name),
        content_disposition_type="inline" if inline else "attachment",
        headers={
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def thumbnail(request: Request) -> Response:
    place = await _allowed(request)
    if place.file_kind not in (AttachmentKind.PHOTO, AttachmentKind.VIDEO):
        raise HTTPException(404)
    site = site_of(request)
    path = site.app.blobs.path(place.sha256)
    data = await run_in_threadpool(site.thumbs.get, sha256=place.sha256, path=path, kind=place.file_kind)
    if data is None:
        raise HTTPException(404, "无法生成预览")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

"""Find download links in a message body: QQ Mail and NetEase large attachments (超大附件), and
net-disk shares with their codes (ingest.mail.netdisks); both are works to be downloaded by the hosts."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import asdict, dataclass
from typing import Any

from ingest.mail.netdisks import code_of, filename_of, netdisk_of
from ingest.mail.urls import web_location
from notify.linktext import NETDISK as NETDISK_KIND

_URL = re.compile(r"https?://[^\s\"'<>（）()，。；、「」【】]+", re.I)
LARGE_ATTACHMENT = "large-attachment"
NETDISK = NETDISK_KIND
# the providers' download hosts, exactly, and the path each serves its large attachments under
# ("" : every path); any other host, a look-alike suffix or a user part is plain text
PROVIDER_PATHS: dict[str, tuple[str, ...]] = {
    "mail.qq.com": ("/cgi-bin/ftnexs_download", "/ftn/download"),
    "wx.mail.qq.com": ("/ftn/download",),
    "mail.163.com": ("/large-attachment-download",),
    "mail.126.com": ("/large-attachment-download",),
    "fs.163.com": ("",),
    "fs.126.com": ("",),
    "dashi.163.com": ("/html/cloud-attachment-download",),
}
_ENTRY = re.compile(
    r"(?P<name>[^\s()（）<>\"]{1,200}?\.[A-Za-z0-9]{1,8})\s*[(（]\s*(?P<size>[\d.]+\s*[KMGT]i?B?)\s*"
    r"(?:[,，]\s*(?P<expires>[^)）]{1,60}?)\s*(?:到期|过期))?\s*[)）]",
    re.I,
)
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True, kw_only=True)
class LargeLink:
    url: str
    filename: str | None
    size: str | None
    expires: str | None
    provider: str
    kind: str = LARGE_ATTACHMENT  # or NETDISK: a net-disk share, with its code
    code: str | None = None  # the net-disk share's 提取码/访问码, as written

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _provider(host: str) -> str:
    return "QQ邮箱" if host.endswith("qq.com") else "网易邮箱"


def download_host(url: str) -> str | None:
    """The provider host a large-attachment link points to, or None when it is not one: the URL is
    parsed, its host must be one of the providers' exactly (no user part, no other port)."""
    location = web_location(url)
    if location is None:
        return None
    host, path = location
    paths = PROVIDER_PATHS.get(host)
    if paths is None:
        return None
    path = path.lower()
    return host if any(path.startswith(p) for p in paths) else None


def find_links(text: str, html: str) -> list[LargeLink]:
    """Every download link once: large attachments with the file name, size and expiry written before
    them, net-disk shares with their provider, code and the file name the share text gives."""
    plain_html = htmllib.unescape(_TAGS.sub(lambda m: " " + m.group(0) + " ", html))
    found: dict[str, LargeLink] = {}
    for source in (text, plain_html):
        for match in _URL.finditer(source):
            url = htmllib.unescape(match.group(0)).rstrip(".,;")
            if url in found:
                continue
            link = _large(source, match, url) or _netdisk(source, match, url)
            if link is not None:
                found[url] = link
    return list(found.values())


def _large(source: str, match: re.Match[str], url: str) -> LargeLink | None:
    host = download_host(url)
    if host is None:
        return None
    before = _TAGS.sub(" ", source[max(0, match.start() - 600) : match.start()])
    entries = list(_ENTRY.finditer(before))
    entry = entries[-1] if entries else None
    return LargeLink(
        url=url,
        filename=entry.group("name") if entry else None,
        size=entry.group("size").replace(" ", "") if entry else None,
        expires=(entry.group("expires") or None) if entry else None,
        provider=_provider(host),
    )


def _netdisk(source: str, match: re.Match[str], url: str) -> LargeLink | None:
    disk = netdisk_of(url)
    if disk is None:
        return None
    before = _TAGS.sub(" ", source[max(0, match.start() - 600) : match.start()])
    after = _TAGS.sub(" ", source[match.end() : match.end() + 600])
    # the words about the next link are not this one's (the same link again, as a tag's text, is)
    following = next((m for m in _URL.finditer(after) if htmllib.unescape(m.group(0)).rstrip(".,;") != url), None)
    after = after[: following.start()] if following else after
    return LargeLink(
        url=url,
        filename=filename_of(before),
        size=None,
        expires=None,
        provider=disk.name,
        kind=NETDISK,
        code=code_of(url, disk, after=after, before=before),
    )

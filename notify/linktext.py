"""How a recorded download link (large attachment or net-disk share) reads for the hosts, in one line.

The links are kept as JSON on the message (ingest.mail.links); a row without a `kind` is a large
attachment, as all were before net-disk shares were recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notify.safe import clean_text

NETDISK = "netdisk"


def is_netdisk(link: Mapping[str, Any]) -> bool:
    return link.get("kind") == NETDISK


def code_text(link: Mapping[str, Any]) -> str:
    """“提取码 x7k2”, or that none was written."""
    code = clean_text(str(link.get("code") or ""), max_chars=20)
    return f"提取码 {code}" if code else "未写提取码"


def link_line(link: Mapping[str, Any]) -> str:
    """百度网盘 活动视频.mp4 提取码 x7k2 https://…; a large attachment: name, size, expiry, URL."""
    url = clean_text(str(link.get("url") or ""), max_chars=500)
    name = clean_text(str(link.get("filename") or ""), max_chars=120) or "（未写文件名）"
    if is_netdisk(link):
        provider = clean_text(str(link.get("provider") or "网盘"), max_chars=20)
        return f"{provider} {name} {code_text(link)} {url}".strip()
    size = clean_text(str(link.get("size") or ""), max_chars=20)
    expires = clean_text(str(link.get("expires") or ""), max_chars=40)
    return " ".join(p for p in (name, size, expires, url) if p)

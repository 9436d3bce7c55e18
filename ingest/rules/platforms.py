"""Service platforms: what a mail says about its platform (names, links, screenshots) and what it lacks.

A platform is found by its name (微信公众号“果洛职工之家”, 「青海工会」APP), its link, or a
screenshot; with a description of the sender's own words, any one of them is enough.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ingest.rules import Problem
from store.enums import AttachmentKind

if TYPE_CHECKING:  # content.py imports the collection rules, which import this module
    from ingest.rules.content import FileView, Submission

URL = re.compile(r"(?:https?://|www\.)[^\s\"'<>（）()，。、；;“”]+", re.I)
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_TYPES = r"(?:微信)?(?:公众号|服务号|订阅号|视频号|小程序)|APP|App|app|客户端|网站|网页"
_QUOTED = r"[“\"「『《【〈‘']\s*([^“”\"「」『』《》【】〈〉‘’'\n]{2,30}?)\s*[”\"」』》】〉’']"
_NAME_AFTER = re.compile(rf"({_TYPES})\s*[：:]?\s*{_QUOTED}")  # 微信公众号“果洛职工之家”
_NAME_BEFORE = re.compile(rf"{_QUOTED}\s*({_TYPES})")  # 「青海工会」APP


def body_text(sub: Submission) -> str:
    """The body as text: the plain part, or the HTML part without its tags."""
    return sub.text if sub.text.strip() else htmllib.unescape(_TAGS.sub(" ", sub.html))


def body_links(sub: Submission) -> list[str]:
    """Every link in the body (http(s):// or www.), once, in order (the large-attachment ones included)."""
    html_text = htmllib.unescape(_TAGS.sub(" ", sub.html)) if sub.html else ""
    hrefs = re.findall(r"href\s*=\s*[\"'](https?://[^\"']+)", sub.html, re.I) if sub.html else []
    found: dict[str, None] = {}
    for url in [*URL.findall(sub.text), *URL.findall(html_text), *(htmllib.unescape(h) for h in hrefs)]:
        found.setdefault(url.rstrip(".,;:!?"), None)
    return list(found)


def named_platforms(text: str) -> list[str]:
    """The platforms the body names, as 微信公众号“果洛职工之家” / APP“青海工会”, once each, in order."""
    found: dict[str, None] = {}
    hits = [(m.start(), m.group(1), m.group(2)) for m in _NAME_AFTER.finditer(text)]
    hits += [(m.start(), m.group(2), m.group(1)) for m in _NAME_BEFORE.finditer(text)]
    for _, kind, name in sorted(hits):
        label = kind.upper() if kind.lower() == "app" else kind
        found.setdefault(f"{label}“{name.strip()}”", None)
    return list(found)


def service_platform(
    sub: Submission, screenshots: Sequence[FileView], notes: list[str], described: bool
) -> list[Problem]:
    """A description of the sender's own words, and the platform named, linked or shown."""
    problems: list[Problem] = []
    links = body_links(sub)
    names = named_platforms(body_text(sub))
    shots = [f for f in screenshots if f.kind is AttachmentKind.PHOTO]
    if not described:
        problems.append(
            Problem(
                code="no-description",
                text="邮件中没有平台的简要介绍（正文中除网址外少于 10 个字，也没有说明文档）",
                fix="请在正文中介绍平台的名称、服务内容和使用情况，或附上 Word/PDF 介绍文档后重新发送。",
            )
        )
    if not (links or names or shots):
        problems.append(
            Problem(
                code="no-platform",
                text="邮件中没有写明平台的名称或链接，也没有平台截图",
                fix="请在正文中写明平台的名称（如微信公众号“××职工之家”、“××工会”APP）或网址，"
                "或附上平台的截图后重新发送。",
            )
        )
    if names:
        notes.append(f"已记录平台名称：{'、'.join(names[:10])}。")
    if links:
        notes.append(f"已记录正文中的平台链接（{len(links)} 个）：{'、'.join(links[:10])}")
    if shots:
        notes.append(f"已收到平台截图 {len(shots)} 张：{'、'.join(f.name for f in shots[:10])}。")
    return problems

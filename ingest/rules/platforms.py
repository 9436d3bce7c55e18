"""Service platforms: what a mail says about its platform (names, links, screenshots) and what it lacks.

A platform is found by its name (微信公众号“果洛职工之家”, 「青海工会」APP, or unquoted after words
that introduce it: 推荐的平台为西宁职工之家微信公众号, 《西宁职工之家微信公众号》), in the body, in
the subject, or in an attached Word/PowerPoint introduction; by its link; or by a screenshot. With a
description (the sender's own words, a description document, or an attached introduction that names
the platform) any one of them is enough.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Sequence

from ingest.rules import Problem
from ingest.rules.views import FileView, Submission
from store.enums import AttachmentKind

URL = re.compile(r"(?:https?://|www\.)[^\s\"'<>（）()，。、；;“”]+", re.I)
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_TYPES = r"(?:微信)?(?:公众号|服务号|订阅号|视频号|小程序)|抖音号|快手号|头条号|微博|APP|App|app|客户端|网站|网页"
_QUOTED = r"[“\"「『《【〈‘']\s*([^“”\"「」『』《》【】〈〉‘’'\n]{2,30}?)\s*[”\"」』》】〉’']"
_NAME_AFTER = re.compile(rf"({_TYPES})\s*[：:]?\s*{_QUOTED}")  # 微信公众号“果洛职工之家”
_NAME_BEFORE = re.compile(rf"{_QUOTED}\s*({_TYPES})")  # 「青海工会」APP
# unquoted, after the words that introduce a name or at a sentence's start: 平台为西宁职工之家微信公众号,
# 《西宁职工之家APP》, “西宁职工之家微信公众号由…开通”
_CUE = r"平台(?:名称)?(?:为|是|叫|:|：)|名称(?:为|是|:|：)|名为|叫做|推荐的?|关注|开通了?|搭建了?|运营的?|《|\+"
_UNQUOTED = re.compile(rf"(?:{_CUE})\s*(?P<name>[\u4e00-\u9fffA-Za-z0-9·]{{2,20}}?)\s*(?P<kind>{_TYPES})")
_OPENING = re.compile(
    rf"(?:^|(?<=[。！？!?]))\s*(?P<name>[\u4e00-\u9fffA-Za-z0-9·]{{2,12}}?)\s*(?P<kind>{_TYPES})", re.M
)
_NOT_IN_OPENING = re.compile(r"关注|推荐|欢迎|我们|大家|请|通过|利用|依托|的|和|及|与")
# a form's fields: 平台名称：果洛职工之家 / 平台类型：微信服务号 (the name, then its type on the next line)
_FIELDS = re.compile(
    rf"名称\s*[：:]\s*(?P<name>[\u4e00-\u9fffA-Za-z0-9·]{{2,20}})\s*[\n，,；;。]\s*(?:平台)?(?:类型|形式|载体)\s*[：:]\s*"
    rf"(?P<kind>{_TYPES})"
)
_LEADING = re.compile(rf"^(?:{_CUE}|的|为|是)+")
_NOT_NAMES = frozenset(
    {"微信", "官方", "我们", "本单位", "我单位", "单位", "我会", "本会", "该", "这个", "一个", "自己"}
)
_MEANINGFUL = re.compile(r"[\w\u4e00-\u9fff]")
MIN_INTRODUCTION_CHARS = 20  # an attached document that names the platform and says this much introduces it


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
    """The platforms a text names, as 微信公众号“果洛职工之家” / APP“青海工会”, once each, in order."""
    found: dict[str, None] = {}
    hits = [(m.start(), m.group(1), m.group(2)) for m in _NAME_AFTER.finditer(text)]
    hits += [(m.start(), m.group(2), m.group(1)) for m in _NAME_BEFORE.finditer(text)]
    opening = [m for m in _OPENING.finditer(text) if not _NOT_IN_OPENING.search(m.group("name"))]
    for m in [*_UNQUOTED.finditer(text), *_FIELDS.finditer(text), *opening]:
        name = _LEADING.sub("", m.group("name"))  # 推荐的「平台为」西宁职工之家…
        if len(name) >= 2 and name not in _NOT_NAMES and not name.startswith(("微信", "该", "本", "我")):
            hits.append((m.start("name"), m.group("kind"), name))
    for _, kind, name in sorted(hits):
        label = kind.upper() if kind.lower() == "app" else kind
        found.setdefault(f"{label}“{name.strip()}”", None)
    return list(found)


def _introduces(f: FileView) -> bool:
    """Whether an attached Word/PowerPoint file names a platform and says something about it."""
    return (
        f.valid
        and bool(f.text)
        and len(_MEANINGFUL.findall(f.text)) >= MIN_INTRODUCTION_CHARS
        and bool(named_platforms(f.text))
    )


def service_platform(
    sub: Submission, screenshots: Sequence[FileView], notes: list[str], described: bool
) -> list[Problem]:
    """A description of the sender's own words, and the platform named, linked or shown."""
    problems: list[Problem] = []
    links = body_links(sub)
    intros = [f for f in sub.files if _introduces(f)]
    found = [body_text(sub), sub.subject, *(f.text for f in intros)]
    names = list(dict.fromkeys(name for text in found for name in named_platforms(text)))
    shots = [f for f in screenshots if f.kind is AttachmentKind.PHOTO]
    described = described or bool(intros)
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
    if intros:
        notes.append(f"平台介绍见附件：{'、'.join(f'“{f.name}”' for f in intros[:5])}。")
    if links:
        notes.append(f"已记录正文中的平台链接（{len(links)} 个）：{'、'.join(links[:10])}")
    if shots:
        notes.append(f"已收到平台截图 {len(shots)} 张：{'、'.join(f.name for f in shots[:10])}。")
    return problems

"""Where the sender's own words end and the quoted mail below them begins, as the clients write it.

A client that answers or forwards a mail puts the sender's words on top and the earlier mail below,
opened by its own line: `> ` lines, the `原始邮件` / Original Message rulers (QQ Mail), a line of
dashes (Foxmail), Outlook's `发件人:` block, `在 … 写道：` (126/163, QQ, iPhone) or `… wrote:`. The
conversation rule keeps the words above it for the hosts, and the description of a mail that
answers one of our replies is read from them only, never from our quoted reply.
"""

from __future__ import annotations

import html as htmllib
import re

# where a client starts quoting: `> `, 原始邮件 / Original Message rulers, a line of dashes (Foxmail),
# Outlook's 发件人: block, 126/QQ/iPhone `在 … 写道：`, `… wrote:`
QUOTE_START = re.compile(
    r"^[ \t\u3000]*(?:>|-{2,}.{0,30}(?:原始邮件|original message)|_{8,}|(?:发件人|from)[ \t]*[:：]"
    r"|[-=_]{5,}[ \t]*$|在.{0,120}写道[:：]|.{0,160}\bwrote:)",
    re.I | re.M,
)
# a phone's or a client's signature line: never the sender's own words
SIGNATURE = re.compile(r"发自我的\S*|发送自\S*|来自\S*邮箱|sent from my \S+|获取 outlook\S*", re.I)
_BLOCK_TAGS = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|blockquote|hr)\b[^>]*>", re.I)
_TAGS = re.compile(r"<(script|style|head|title)\b.*?</\1>|<!--.*?-->|<[^>]+>", re.S | re.I)


def above_quote(text: str, html: str) -> str:
    """The body's text above the quoted mail (the whole body when nothing is quoted), its lines kept.

    The plain part is read; without one, the HTML part as text (a line at each block tag)."""
    if not text.strip():
        text = htmllib.unescape(_TAGS.sub(" ", _BLOCK_TAGS.sub("\n", html)))
    text = text.replace("\xa0", " ")
    start = QUOTE_START.search(text)
    return text if start is None else text[: start.start()]

"""A unit's answer to one of our replies, as QQ Mail, NetEase 126 and Chinese Outlook write one.

Each client puts its own prefix before our subject (`回复：`, `Re:`, `答复: `) and quotes our reply
below the unit's words in its own way: QQ's `------------------ 原始邮件 ------------------` block,
Coremail's `在 …，"wxb0626" <…> 写道：`, Outlook's `发件人: … 主题: …` block; the HTML part quotes it
in a blockquote. In-Reply-To and References name our reply unless the client lost them.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from devservers import samples

Client = Literal["qq", "netease", "outlook"]
PREFIX: dict[Client, str] = {"qq": "回复：", "netease": "Re:", "outlook": "答复: "}


def _quote(client: Client, reply: EmailMessage, body: str) -> str:
    subject = str(reply["Subject"])
    if client == "qq":
        return (
            "------------------ 原始邮件 ------------------\n"
            f'发件人: "wxb0626"<{samples.MAILBOX}>;\n发送时间: 2020年8月1日(星期六) 上午10:05\n'
            f'收件人: "单位"<{reply["To"]}>;\n主题: {subject}\n\n{body}'
        )
    if client == "netease":
        return f'在 2020-08-01 10:05:00，"wxb0626" <{samples.MAILBOX}> 写道：\n{body}'
    return (
        f"发件人: wxb0626 <{samples.MAILBOX}>\n发送时间: 2020年8月1日 10:05\n收件人: {reply['To']}\n"
        f"主题: {subject}\n\n{body}"
    )


def answer(
    reply: EmailMessage,
    *,
    client: Client,
    text: str,
    photos: Sequence[bytes] = (),
    threaded: bool = True,
    subject: str | None = None,
) -> bytes:
    """The unit's answer to our reply: its words, our reply quoted, photos attached if any; without
    In-Reply-To and References when not threaded (a client that lost them, a mail forwarded back)."""
    body = reply.get_body(("plain",))
    assert body is not None
    ours = str(body.get_content())
    sender = str(reply["To"])
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = samples.MAILBOX
    msg["Subject"] = subject if subject is not None else PREFIX[client] + str(reply["Subject"])
    msg["Date"] = format_datetime(samples._now())
    if client == "qq":
        msg["Message-ID"] = f"<tencent_{secrets.token_hex(20).upper()}@qq.com>"
        msg["X-Mailer"] = samples.QQ_MAILER
    elif client == "netease":
        msg["Message-ID"] = make_msgid(domain="126.com")
        msg["X-Mailer"] = samples.NETEASE_MAILER
    else:
        msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
        msg["X-Mailer"] = samples.OUTLOOK_MAILER
        msg["Thread-Topic"] = str(reply["Subject"])
    if threaded:
        msg["In-Reply-To"] = str(reply["Message-ID"])
        msg["References"] = f"{reply['References'] or ''} {reply['Message-ID']}".strip()
    quoted = _quote(client, reply, ours)
    charset = "utf-8" if client == "netease" else "gb18030"
    msg.set_content(f"{text}\n\n{quoted}\n", charset=charset)
    msg.add_alternative(
        f"<div>{html.escape(text)}</div><br><blockquote>{html.escape(quoted).replace(chr(10), '<br>')}</blockquote>",
        subtype="html",
        charset=charset,
    )
    for i, photo in enumerate(photos, start=1):
        msg.add_attachment(photo, maintype="image", subtype="jpeg", filename=f"活动照片{i}.jpg")
    return msg.as_bytes()

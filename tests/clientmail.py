"""Mail as the units' own clients write it in 2020, byte for byte where it matters.

- Coremail webmail (126/163): multipart/alternative text + HTML, the subject in `=?GBK?B?…?=`,
  `X-Mailer: Coremail Webmail Server …`, attachments with GBK-encoded names, Message-IDs like
  `<6a1b….1234@smtp.163.com>`;
- QQ Mail: `X-QQ-mid`, a GB18030 HTML body of `<div>`s (the text part made from it), files sent as
  `application/octet-stream`, 超大附件 blocks in the HTML;
- Foxmail 7.2: `X-Mailer: Foxmail 7.2.x[cn]`, GB18030 bytes labelled `gb2312`, a `<div>` body;
- Outlook zh-CN: `答复:` / `转发:`, Word-made HTML full of `&nbsp;` and `<o:p>`, `Thread-Topic`;
- iPhone Mail: UTF-8 quoted-printable, `发自我的iPhone`, `X-Mailer: iPhone Mail (17F80)`.

`mail()` returns raw bytes; `answer()` writes a unit's answer to one of our replies.
"""

from __future__ import annotations

import base64
import html
import quopri
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate
from typing import Literal

Client = Literal["coremail", "qq", "foxmail", "outlook", "iphone"]
TO = "wxb0626@126.com"


@dataclass(frozen=True)
class File:
    """An attachment: its name as the sender's disk had it, its bytes, and whether it is a picture."""

    name: str
    data: bytes
    image: bool = False


def _charset(client: Client) -> str:
    return {"coremail": "gbk", "qq": "gb18030", "foxmail": "gb18030", "outlook": "gb2312", "iphone": "utf-8"}[client]


def _label(client: Client) -> str:
    # Foxmail writes GB18030 bytes but calls them gb2312
    return "gb2312" if client == "foxmail" else _charset(client)


def _text_part(text: str, subtype: str, client: Client) -> MIMENonMultipart:
    encoded = text.encode(_charset(client), errors="replace")
    part = MIMENonMultipart("text", subtype, charset=_label(client))
    if client == "iphone":
        part.set_payload(quopri.encodestring(encoded).decode("ascii"))
        part["Content-Transfer-Encoding"] = "quoted-printable"
    else:
        part.set_payload(base64.encodebytes(encoded).decode("ascii"))
        part["Content-Transfer-Encoding"] = "base64"
    return part


def _header(value: str, client: Client) -> str:
    charset = {"coremail": "GBK", "qq": "gb18030", "foxmail": "gb2312", "outlook": "gb2312", "iphone": "utf-8"}[client]
    try:
        value.encode("gb2312")
    except UnicodeEncodeError:
        charset = "gb18030" if client != "iphone" else "utf-8"
    return Header(value, charset).encode()


def _html(text: str, client: Client) -> str:
    lines = [html.escape(line) for line in text.split("\n")]
    if client == "outlook":
        paras = "".join(
            f'<p class="MsoNormal"><span style="font-family:宋体">{line or "&nbsp;"}<o:p></o:p></span></p>\n'
            for line in lines
        )
        return (
            '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
            '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            "<style><!-- p.MsoNormal {margin:0cm;font-size:10.5pt} --></style></head>"
            f'<body lang="ZH-CN"><div class="WordSection1">{paras}<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
            "</div></body></html>"
        )
    if client in ("qq", "foxmail"):
        divs = "".join(f"<div>{line or '<br>'}</div>" for line in lines)
        return f'<meta http-equiv="Content-Type" content="text/html; charset=GB18030">{divs}'
    if client == "coremail":
        return (
            '<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
            + "<br>".join(lines)
            + "</div>"
        )
    return '<html><head></head><body dir="auto">' + "<br>".join(lines) + "</body></html>"


def _ids(client: Client, sender: str) -> tuple[str, list[tuple[str, str]]]:
    token = secrets.token_hex(8)
    domain = sender.rpartition("@")[2]
    if client == "coremail":
        return f"<{token}.{secrets.randbelow(9999)}@smtp.{domain}>", [
            (
                "X-Mailer",
                "Coremail Webmail Server Version XT5.0.13 build 20200703(2f5b6f0f) Copyright (c) 2002-2020 "
                "www.mailtech.cn 163com",
            ),
            ("X-Originating-IP", "[223.220.31.8]"),
        ]
    if client == "qq":
        return f"<tencent_{token.upper()}{secrets.token_hex(8).upper()}@qq.com>", [
            ("X-QQ-mid", f"xmsezb{secrets.randbelow(10**7)}t{secrets.randbelow(10**10)}tac{secrets.randbelow(999)}"),
            ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
            ("X-Mailer", "QQMail 2.x"),
            ("X-QQ-Mailer", "QQMail 2.x"),
        ]
    if client == "foxmail":
        return f"<2020081{secrets.randbelow(9)}{secrets.randbelow(10**6):06d}{token[:6]}@{domain}>", [
            ("X-Mailer", "Foxmail 7.2.18.95[cn]"),
            ("X-Priority", "3"),
        ]
    if client == "outlook":
        return f"<000001d6{token}$0a1b2c3d$@{domain}>", [
            ("X-Mailer", "Microsoft Outlook 16.0"),
            ("Content-Language", "zh-cn"),
            ("Thread-Index", "AdZ2" + secrets.token_hex(10)),
        ]
    return f"<{token.upper()}-{secrets.token_hex(4).upper()}@{domain}>", [("X-Mailer", "iPhone Mail (17F80)")]


def mail(
    *,
    client: Client,
    sender: str,
    name: str,
    subject: str,
    text: str,
    files: Sequence[File] = (),
    html_extra: str = "",
    html_body: str | None = None,
    to: str = TO,
    in_reply_to: str | None = None,
    references: str | None = None,
) -> bytes:
    """A mail as `client` sends it: text and HTML alternatives (iPhone: text only unless files), files."""
    body_html = html_body if html_body is not None else _html(text, client) + html_extra
    if client == "iphone":
        alt: Message = _text_part(text, "plain", client)
    else:
        alt = MIMEMultipart("alternative")
        alt.attach(_text_part(text, "plain", client))
        alt.attach(_text_part(body_html, "html", client))
    if files:
        outer: Message = MIMEMultipart("mixed")
        outer.attach(alt)
        for f in files:
            outer.attach(_file(f, client))
    else:
        outer = alt
    msgid, extra = _ids(client, sender)
    outer["From"] = formataddr((str(Header(name, "utf-8" if client == "iphone" else "gb18030").encode()), sender))
    outer["To"] = to
    outer["Subject"] = _header(subject, client)
    outer["Date"] = formatdate(1597730400 + secrets.randbelow(80000), localtime=False)
    outer["Message-ID"] = msgid
    if in_reply_to:
        outer["In-Reply-To"] = in_reply_to
    if references:
        outer["References"] = references
    if client == "outlook":
        outer["Thread-Topic"] = _header(subject.removeprefix("答复: ").removeprefix("转发: "), client)
    for key, value in extra:
        outer[key] = value
    outer["MIME-Version"] = "1.0"
    return outer.as_bytes()


def _file(f: File, client: Client) -> Message:
    if client == "qq":  # QQ Mail sends everything as octet-stream
        part: Message = MIMEApplication(f.data, "octet-stream")
    elif f.image:
        part = MIMEImage(f.data, "jpeg")
    else:
        part = MIMEApplication(f.data, "octet-stream")
    if client == "iphone":
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", f.name))
        part.set_param("name", f.name)
    else:
        encoded = f.name if f.name.isascii() else Header(f.name, "gb18030" if client != "coremail" else "GBK").encode()
        part.add_header("Content-Disposition", "attachment", filename=encoded)
        part.set_param("name", encoded)
    return part


# -- answers to our replies ------------------------------------------------------------------------


def _our_text(reply: EmailMessage) -> str:
    body = reply.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def answer(
    reply: EmailMessage,
    *,
    client: Client,
    text: str,
    files: Sequence[File] = (),
    subject: str | None = None,
    threaded: bool = True,
) -> bytes:
    """A unit's answer to our reply as `client` writes one: its words, its own quote of ours below."""
    ours = _our_text(reply)
    when = "2020年8月18日 15:12"
    quote = {
        "coremail": f'在 2020-08-18 15:12:08，"wxb0626" <{TO}> 写道：\n'
        + "\n".join(f"> {line}" for line in ours.split("\n")),
        "qq": f'------------------&nbsp;原始邮件&nbsp;------------------\n发件人: "wxb0626"<{TO}>;\n'
        f"发送时间: {when}\n收件人: <{reply['To']}>;\n主题: {reply['Subject']}\n\n{ours}",
        "foxmail": f"\n\n----------\n\n发件人: wxb0626\n发送时间: 2020-08-18 15:12\n收件人: {reply['To']}\n"
        f"主题: {reply['Subject']}\n\n{ours}",
        "outlook": f"发件人: wxb0626 <{TO}> \n发送时间: {when}\n收件人: {reply['To']}\n"
        f"主题: {reply['Subject']}\n\n{ours}",
        "iphone": f"> 在 2020年8月18日，15:12，wxb0626 <{TO}> 写道：\n>\n"
        + "\n".join(f"> {line}" for line in ours.split("\n")),
    }[client].replace("&nbsp;", " ")
    prefix = {"coremail": "Re:", "qq": "回复：", "foxmail": "回复: ", "outlook": "答复: ", "iphone": "回复："}[client]
    signature = "\n\n发自我的iPhone" if client == "iphone" else ""
    sender = str(reply["To"])
    return mail(
        client=client,
        sender=sender,
        name="",
        subject=subject if subject is not None else prefix + str(reply["Subject"]),
        text=f"{text}{signature}\n\n{quote}\n",
        files=files,
        in_reply_to=str(reply["Message-ID"]) if threaded else None,
        references=f"{reply['References'] or ''} {reply['Message-ID']}".strip() if threaded else None,
    )

"""Build realistic campaign mail as raw bytes, written the way the senders' own mail clients write it.

Submissions to the offline-activity mailbox ("单位+线下活动汇总" with photos and a short text) as
Foxmail, NetEase (Coremail) webmail, Chinese Outlook and QQ Mail produce them, with their quirks:
Foxmail labels GB18030 bytes ``gb2312``, QQ Mail sends photos as ``application/octet-stream``,
Outlook replies with ``答复: ``. Also the mail that must get no reply: auto-replies, bounces and
list mail. Every message has a unique Message-ID and a Date; every photo is a distinct small JPEG.
"""

from __future__ import annotations

import base64
import io
import quopri
import random
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Final, Literal
from urllib.parse import quote

from PIL import Image, ImageDraw, ImageFilter

Client = Literal["foxmail", "netease", "outlook", "qq"]
CLIENTS: Final[tuple[Client, ...]] = ("foxmail", "netease", "outlook", "qq")
MAILBOX: Final = "wxb0626@126.com"
CHINA: Final = timezone(timedelta(hours=8))
CRLF: Final = "\r\n"
FOXMAIL_MAILER: Final = "Foxmail 7.2.19.158[cn]"
NETEASE_MAILER: Final = (
    "Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15) Copyright (c) 2002-2024 www.mailtech.cn 163com"
)
OUTLOOK_MAILER: Final = "Microsoft Outlook 16.0"
QQ_MAILER: Final = "QQMail 2.x"

Header = tuple[str, str]


# ------------------------------------------------------------------------------------ public API
def offline_report(
    *,
    unit: str = "西宁市总工会",
    sender: str = "xnzgh@163.com",
    photos: int = 1,
    description: str | None = None,
    subject: str | None = None,
    client: Client = "foxmail",
    sender_name: str | None = None,
    to: str = MAILBOX,
    date: datetime | None = None,
) -> bytes:
    """A unit's report of its offline activities: photos plus a short text, as ``client`` sends it.

    ``subject`` defaults to the notice's convention ``<unit>线下活动汇总`` (Outlook: ``答复: `` in front,
    as when the unit answers the notice); ``description`` defaults to a short report naming the unit.
    """
    when = date or _now()
    if subject is None:
        subject = f"{unit}线下活动汇总"
        if client == "outlook":
            subject = f"答复: {subject}"
    if description is None:
        # The contact's name has a character outside GB2312 (堃, 喆), as many names do.
        contact = "许堃" if unit == "西宁市总工会" else "王喆"
        description = (
            f"{when.month}月{max(when.day - 3, 1)}日，{unit}组织开展“网聚职工正能量·争做中国好网民”"
            f"主题线下活动，参加职工{80 + random.randrange(100)}人（联系人：{contact}）。"
            + ("现将活动图片及简要说明报送如下，请查收。" if photos else "活动图片稍后补发。")
        )
    images = [(_photo_name(client, when, index), jpeg()) for index in range(photos)]
    build = {"foxmail": _foxmail, "netease": _netease, "outlook": _outlook, "qq": _qq}[client]
    return build(
        sender=sender,
        sender_name=sender_name if sender_name is not None else unit,
        to=to,
        subject=subject,
        text=description,
        images=images,
        date=when,
    )


def wrong_subject(
    *,
    subject: str = "线下活动图片",
    unit: str = "西宁市总工会",
    sender: str = "xnzgh@163.com",
    photos: int = 1,
    client: Client = "foxmail",
    date: datetime | None = None,
) -> bytes:
    """A good report whose subject does not follow ``单位+线下活动汇总`` (here: no unit at all)."""
    return offline_report(unit=unit, sender=sender, photos=photos, subject=subject, client=client, date=date)


def no_photo(
    *,
    unit: str = "西宁市总工会",
    sender: str = "xnzgh@163.com",
    client: Client = "foxmail",
    subject: str | None = None,
    date: datetime | None = None,
) -> bytes:
    """A report with the right subject and a text, but no photo attached."""
    return offline_report(unit=unit, sender=sender, photos=0, subject=subject, client=client, date=date)


def auto_reply(
    *,
    sender: str = "xnzgh@163.com",
    to: str = MAILBOX,
    original_subject: str = "已收到：西宁市总工会线下活动汇总",
    body: str = "您好！您的来信已收到，我近期外出，回来后会尽快处理。谢谢！",
    date: datetime | None = None,
) -> bytes:
    """An out-of-office answer (to one of our replies), as NetEase's auto-responder sends it."""
    when = date or _now()
    headers = [
        *_delivery(sender=sender, to=to, date=when, relay="m16.mail.163.com"),
        ("Date", _date(when)),
        ("From", _address(sender, sender)),
        ("To", to),
        ("Subject", _words(f"自动回复: {original_subject}", "UTF-8")),
        ("Message-ID", _coremail_id(sender, when)),
        ("Auto-Submitted", "auto-replied"),
        ("X-Autoreply", "yes"),
        ("X-Mailer", NETEASE_MAILER),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="UTF-8"'),
        ("Content-Transfer-Encoding", "base64"),
    ]
    return _render(headers, _base64_lines(body.encode("utf-8")))


def bounce(
    *,
    recipient: str = "nobody-here@163.com",
    original_subject: str = "已收到：西宁市总工会线下活动汇总",
    original_from: str = MAILBOX,
    to: str = MAILBOX,
    reporting_mta: str = "m15.mail.126.com",
    auto_submitted: bool = True,
    date: datetime | None = None,
) -> bytes:
    """A delivery status notification (RFC 3464) for one of our replies: multipart/report from
    MAILER-DAEMON with a null Return-Path, the original's headers attached.

    Postfix marks its bounces ``Auto-Submitted: auto-replied``; ``auto_submitted=False`` leaves the
    header out, as some servers do, so that only the report itself shows what the message is."""
    when = date or _now()
    sent = when - timedelta(minutes=2)
    original_id = f"<{uuid.uuid4().hex}@intake.local>"
    boundary = f"{secrets.token_hex(6).upper()}.{int(when.timestamp())}/{reporting_mta}"
    queue_id = secrets.token_hex(5).upper()
    explanation = CRLF.join(
        [
            f"This is the mail system at host {reporting_mta}.",
            "",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients. It's attached below.",
            "",
            "                   The mail system",
            "",
            f"<{recipient}>: host mx.163.com said: 550 User not found: {recipient} (in reply to",
            "    RCPT TO command)",
            "",
        ]
    )
    status = CRLF.join(
        [
            f"Reporting-MTA: dns; {reporting_mta}",
            f"X-Postfix-Queue-ID: {queue_id}",
            f"X-Postfix-Sender: rfc822; {original_from}",
            f"Arrival-Date: {_date(sent)}",
            "",
            f"Final-Recipient: rfc822; {recipient}",
            f"Original-Recipient: rfc822;{recipient}",
            "Action: failed",
            "Status: 5.1.1",
            "Remote-MTA: dns; mx.163.com",
            f"Diagnostic-Code: smtp; 550 User not found: {recipient}",
            "",
        ]
    )
    original_headers = CRLF.join(
        [
            f"Return-Path: <{original_from}>",
            f"Date: {_date(sent)}",
            f"From: {_address('网聚职工正能量活动', original_from)}",
            f"To: {recipient}",
            f"Subject: {_words(original_subject, 'UTF-8')}",
            f"Message-ID: {original_id}",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
        ]
    )
    headers = [
        *_delivery(sender="", to=to, date=when, relay=reporting_mta),
        ("Date", _date(when)),
        ("From", f"MAILER-DAEMON@{reporting_mta} (Mail Delivery System)"),
        ("Subject", "Undelivered Mail Returned to Sender"),
        ("To", to),
        *([("Auto-Submitted", "auto-replied")] if auto_submitted else []),
        ("Message-ID", f"<{when.strftime('%Y%m%d%H%M%S')}.{queue_id}@{reporting_mta}>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/report; report-type=delivery-status;{CRLF}\tboundary="{boundary}"'),
        ("Content-Transfer-Encoding", "8bit"),
    ]
    body = _multipart(
        boundary,
        [
            _part(
                [("Content-Description", "Notification"), ("Content-Type", "text/plain; charset=us-ascii")], explanation
            ),
            _part([("Content-Description", "Delivery report"), ("Content-Type", "message/delivery-status")], status),
            _part(
                [("Content-Description", "Undelivered Message Headers"), ("Content-Type", "text/rfc822-headers")],
                original_headers,
            ),
        ],
        preamble="This is a MIME-encapsulated message.",
    )
    return _render(headers, body)


def list_message(
    *,
    list_id: str = "青海省总工会网信工作交流 <qhzgh-wx.lists.example.cn>",
    sender: str = "qhzgh-wx@lists.example.cn",
    to: str = MAILBOX,
    subject: str = "[网信交流] 关于做好2020年“网聚职工正能量”主题活动宣传的提示",
    body: str = "各位同事：请各单位按通知要求，及时报送线下活动开展情况。本邮件由邮件列表自动分发，请勿直接回复。",
    date: datetime | None = None,
) -> bytes:
    """A message distributed by a mailing list to the mailbox (List-Id, Precedence: list)."""
    when = date or _now()
    address = list_id.rpartition("<")[2].rstrip(">").strip()
    name = list_id.rpartition("<")[0].strip()
    local, _, domain = address.partition(".")
    headers = [
        *_delivery(sender=f"{local}-bounces@{domain}", to=to, date=when, relay=domain),
        ("Date", _date(when)),
        ("From", _address(name, sender)),
        ("To", _address(name, sender)),
        ("Subject", _words(subject, "UTF-8")),
        ("Message-ID", f"<{uuid.uuid4().hex}@{domain}>"),
        ("List-Id", f"{_words(name, 'UTF-8')} <{address}>"),
        ("List-Unsubscribe", f"<mailto:{local}-leave@{domain}>"),
        ("List-Post", f"<mailto:{sender}>"),
        ("Precedence", "list"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", "base64"),
    ]
    return _render(headers, _base64_lines(body.encode("utf-8")))


def jpeg(*, seed: int | None = None, width: int = 320, height: int = 240) -> bytes:
    """A small real JPEG (a few KB) of blurred shapes and noise, different for every seed, with EXIF."""
    rng = random.Random(seed if seed is not None else secrets.randbits(64))

    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    image = Image.new("RGB", (width, height), colour())
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = (x0, y0, x0 + rng.randrange(20, width // 2), y0 + rng.randrange(20, height // 2))
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour())
        else:
            draw.rectangle(box, fill=colour())
    image = image.filter(ImageFilter.GaussianBlur(2))
    image = Image.blend(image, Image.effect_noise((width, height), 24).convert("RGB"), 0.12)
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"  # Make
    exif[0x0110] = "ELE-AL00"  # Model
    exif[0x0132] = _now().strftime("%Y:%m:%d %H:%M:%S")  # DateTime
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70, exif=exif)
    return out.getvalue()


# ------------------------------------------------------------------------------------ clients
def _foxmail(
    *, sender: str, sender_name: str, to: str, subject: str, text: str, images: list[tuple[str, bytes]], date: datetime
) -> bytes:
    """Foxmail 7.2 (Windows): GB18030 bytes labelled gb2312 everywhere, base64 text, QP HTML."""
    html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=gb2312">'
        "<style>body { line-height: 1.5; }</style></head><body>\r\n"
        f"<div><span></span>{text}</div>\r\n<div><br></div>"
        '<hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">\r\n'
        f'<div><span><div style="MARGIN: 10px; FONT-FAMILY: verdana; FONT-SIZE: 10pt"><div>{sender}</div>'
        "</div></span></div></body></html>"
    )
    alternative = [
        _part(
            [("Content-Type", f'text/plain;{CRLF}\tcharset="gb2312"'), ("Content-Transfer-Encoding", "base64")],
            _base64_lines(f"{text}\r\n\r\n\r\n\r\n{sender}\r\n".encode("gb18030")),
        ),
        _part(
            [
                ("Content-Type", f'text/html;{CRLF}\tcharset="gb2312"'),
                ("Content-Transfer-Encoding", "quoted-printable"),
            ],
            _quoted_printable(html.encode("gb18030")),
        ),
    ]
    attachments = []
    for name, data in images:
        encoded = _words(name, "gb2312")
        attachments.append(
            _part(
                [
                    ("Content-Type", f'image/jpeg;{CRLF}\tname="{encoded}"'),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", f'attachment;{CRLF}\tfilename="{encoded}"'),
                ],
                _base64_lines(data),
            )
        )
    headers = [
        *_delivery(sender=sender, to=to, date=date, relay="m16.mail.163.com"),
        ("Date", _date(date)),
        ("From", f'"{_words(sender_name, "gb2312")}" <{sender}>'),
        ("To", f'"{_words(to.split("@")[0], "gb2312")}" <{to}>'),
        ("Subject", _words(subject, "gb2312")),
        ("X-Priority", "3"),
        ("X-GUID", str(uuid.uuid4()).upper()),
        ("X-Has-Attach", "yes" if images else "no"),
        ("X-Mailer", FOXMAIL_MAILER),
        ("Mime-Version", "1.0"),
        ("Message-ID", f"<{date.strftime('%Y%m%d%H%M%S')}{_digits(7)}@{sender.split('@')[1]}>"),
    ]
    return _compose(
        headers=headers,
        alternative=alternative,
        attachments=attachments,
        boundaries=(f"----=_001_NextPart{_digits(12)}_=----", f"----=_002_NextPart{_digits(12)}_=----"),
        preamble="This is a multi-part message in MIME format.",
    )


def _netease(
    *, sender: str, sender_name: str, to: str, subject: str, text: str, images: list[tuple[str, bytes]], date: datetime
) -> bytes:
    """NetEase 163/126 webmail (Coremail XT5): UTF-8, base64 everywhere, ``----=_Part_`` boundaries."""
    millis = int(date.timestamp() * 1000)
    html = f'<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial"><p>{text}</p></div>'
    alternative = [
        _part(
            [("Content-Type", "text/plain; charset=UTF-8"), ("Content-Transfer-Encoding", "base64")],
            _base64_lines(text.encode("utf-8")),
        ),
        _part(
            [("Content-Type", "text/html; charset=UTF-8"), ("Content-Transfer-Encoding", "base64")],
            _base64_lines(html.encode("utf-8")),
        ),
    ]
    attachments = []
    for name, data in images:
        encoded = _words(name, "UTF-8")
        attachments.append(
            _part(
                [
                    ("Content-Type", f'image/jpeg; name="{encoded}"'),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", f'attachment; filename="{encoded}"'),
                ],
                _base64_lines(data),
            )
        )
    headers = [
        *_delivery(sender=sender, to=to, date=date, relay="m16.mail.163.com"),
        ("Date", _date(date)),
        ("From", _address(sender_name, sender)),
        ("To", to),
        ("Subject", _words(subject, "UTF-8")),
        ("X-Priority", "3"),
        ("X-Mailer", NETEASE_MAILER),
        ("X-NTES-SC", f"AL_Qu2{secrets.token_urlsafe(18)}"),
        ("Content-Transfer-Encoding", "7bit"),
        ("MIME-Version", "1.0"),
        ("Message-ID", _coremail_id(sender, date)),
        ("X-Coremail-Locale", "zh_CN"),
        ("X-CM-TRANSID", f"_____wD{secrets.token_urlsafe(15)}--.{_digits(5)}S2"),
    ]
    return _compose(
        headers=headers,
        alternative=alternative,
        attachments=attachments,
        boundaries=(f"----=_Part_{_digits(6)}_{_digits(9)}.{millis}", f"----=_Part_{_digits(6)}_{_digits(9)}.{millis}"),
    )


def _outlook(
    *, sender: str, sender_name: str, to: str, subject: str, text: str, images: list[tuple[str, bytes]], date: datetime
) -> bytes:
    """Chinese Outlook 2016 answering the notice: gb2312 text, quoted original, RFC 2231 file names."""
    notice_date = date - timedelta(days=12)
    notice_id = f"<{notice_date.strftime('%Y%m%d%H%M%S')}{_digits(6)}@126.com>"
    quoted = (
        f"{text}\r\n\r\n"
        "-----原始邮件-----\r\n"
        f"发件人: wxb0626 <{to}>\r\n"
        f"发送时间: {notice_date.year}年{notice_date.month}月{notice_date.day}日 9:30\r\n"
        f"收件人: {sender}\r\n"
        "主题: 关于报送线下活动开展情况的通知\r\n\r\n"
        "邮件标题格式统一为“单位+线下活动汇总”。如：西宁市总工会线下活动汇总。\r\n"
    )
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        '<meta http-equiv=Content-Type content="text/html; charset=gb2312"></head>'
        f"<body lang=ZH-CN><div class=WordSection1><p class=MsoNormal>{text}<o:p></o:p></p>"
        "<div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>发件人:</b> "
        f"wxb0626 &lt;{to}&gt;<br><b>主题:</b> 关于报送线下活动开展情况的通知</p></div></div></body></html>"
    )
    alternative = [
        _part(
            [("Content-Type", f'text/plain;{CRLF}\tcharset="gb2312"'), ("Content-Transfer-Encoding", "base64")],
            _base64_lines(quoted.encode("gb18030")),
        ),
        _part(
            [
                ("Content-Type", f'text/html;{CRLF}\tcharset="gb2312"'),
                ("Content-Transfer-Encoding", "quoted-printable"),
            ],
            _quoted_printable(html.encode("gb18030")),
        ),
    ]
    attachments = []
    for name, data in images:
        encoded = "utf-8''" + quote(name.encode("utf-8"), safe="")
        attachments.append(
            _part(
                [
                    ("Content-Type", f"image/jpeg;{CRLF}\tname*={encoded}"),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", f"attachment;{CRLF}\tfilename*={encoded}"),
                ],
                _base64_lines(data),
            )
        )
    outlook_id = f"<00{secrets.token_hex(3)}${secrets.token_hex(4)}${secrets.token_hex(4)}$@{sender.split('@')[1]}>"
    headers = [
        *_delivery(sender=sender, to=to, date=date, relay="smtp.163.com"),
        ("From", _address(sender_name, sender, charset="gb2312")),
        ("To", f'"wxb0626" <{to}>'),
        ("References", notice_id),
        ("In-Reply-To", notice_id),
        ("Subject", _words(subject, "gb2312")),
        ("Date", _date(date)),
        ("Message-ID", outlook_id),
        ("MIME-Version", "1.0"),
        ("X-Mailer", OUTLOOK_MAILER),
        ("Thread-Index", base64.b64encode(secrets.token_bytes(22)).decode("ascii")),
        ("Content-Language", "zh-cn"),
    ]
    mixed = f"----=_NextPart_000_{_digits(4)}_01D{secrets.token_hex(3).upper()}.{secrets.token_hex(4).upper()}"
    return _compose(
        headers=headers,
        alternative=alternative,
        attachments=attachments,
        boundaries=(mixed, mixed.replace("_000_", "_001_")),
        preamble="This is a multipart message in MIME format.",
    )


def _qq(
    *, sender: str, sender_name: str, to: str, subject: str, text: str, images: list[tuple[str, bytes]], date: datetime
) -> bytes:
    """QQ Mail webmail: gb18030 labels, photos as application/octet-stream, ``tencent_`` Message-IDs."""
    html = f'<meta http-equiv="Content-Type" content="text/html; charset=GB18030"><div>{text}</div>'
    alternative = [
        _part(
            [("Content-Type", f'text/plain;{CRLF}\tcharset="gb18030"'), ("Content-Transfer-Encoding", "base64")],
            _base64_lines(text.encode("gb18030")),
        ),
        _part(
            [("Content-Type", f'text/html;{CRLF}\tcharset="gb18030"'), ("Content-Transfer-Encoding", "base64")],
            _base64_lines(html.encode("gb18030")),
        ),
    ]
    attachments = []
    for name, data in images:
        encoded = _words(name, "gb18030")
        attachments.append(
            _part(
                [
                    ("Content-Type", f'application/octet-stream;{CRLF}\tcharset="gb18030";{CRLF}\tname="{encoded}"'),
                    ("Content-Disposition", f'attachment; filename="{encoded}"'),
                    ("Content-Transfer-Encoding", "base64"),
                ],
                _base64_lines(data),
            )
        )
    headers = [
        *_delivery(sender=sender, to=to, date=date, relay="out162-62-57-49.mail.qq.com"),
        ("X-QQ-FEAT", secrets.token_urlsafe(24)),
        ("X-QQ-mid", f"xmsgz{_digits(4)}-{secrets.token_hex(4)}"),
        ("From", f'"{_words(sender_name, "gb18030")}" <{sender}>'),
        ("To", f'"{_words(to.split("@")[0], "gb18030")}" <{to}>'),
        ("Subject", _words(subject, "gb18030")),
        ("Mime-Version", "1.0"),
        ("Date", _date(date)),
        ("X-Priority", "3"),
        ("Message-ID", f"<tencent_{secrets.token_hex(20).upper()}@qq.com>"),
        ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
        ("X-Mailer", QQ_MAILER),
        ("X-QQ-Mailer", QQ_MAILER),
    ]

    def boundary() -> str:
        return "----=_NextPart_" + "_".join(secrets.token_hex(4).upper() for _ in range(3))

    return _compose(
        headers=headers,
        alternative=alternative,
        attachments=attachments,
        boundaries=(boundary(), boundary()),
        preamble="This is a multi-part message in MIME format.",
    )


# ------------------------------------------------------------------------------------ helpers
def _now() -> datetime:
    return datetime.now(CHINA).replace(microsecond=0)


def _date(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=CHINA)
    return format_datetime(when)


def _digits(count: int) -> str:
    """``count`` random decimal digits (boundaries and ids that clients make from counters)."""
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _photo_name(client: Client, when: datetime, index: int) -> str:
    taken = when - timedelta(days=3, minutes=7 * index, seconds=index * 13)
    if client == "foxmail":
        return f"微信图片_{taken.strftime('%Y%m%d%H%M%S')}.jpg"
    if client == "netease":
        return f"活动照片{index + 1}.jpg"
    if client == "outlook":
        return f"{when.month}月线下活动（{index + 1}）.jpg"
    return f"IMG_{taken.strftime('%Y%m%d_%H%M%S')}.jpg"


def _codec(label: str) -> str:
    """The codec a client really uses behind a charset label: GB18030 for every GB-family label."""
    return "gb18030" if label.lower() in {"gb2312", "gbk", "gb18030"} else label


def _words(text: str, label: str) -> str:
    """``text`` as RFC 2047 B encoded-words labelled ``label``, each at most 75 characters, folded.

    Pure-ASCII text is left as it is, as the clients do. Words are split between characters.
    """
    if text.isascii():
        return text
    codec = _codec(label)
    room = (75 - len(f"=?{label}?B??=")) // 4 * 3
    words: list[str] = []
    chunk = b""
    for char in text:
        encoded = char.encode(codec)
        if len(chunk) + len(encoded) > room:
            words.append(chunk.decode(codec))
            chunk = b""
        chunk += encoded
    words.append(chunk.decode(codec))
    return f"{CRLF}\t".join(f"=?{label}?B?{base64.b64encode(word.encode(codec)).decode('ascii')}?=" for word in words)


def _address(name: str, address: str, *, charset: str = "UTF-8") -> str:
    return f'"{_words(name, charset)}" <{address}>'


def _coremail_id(sender: str, when: datetime) -> str:
    local = sender.split("@")[0]
    return (
        f"<{secrets.token_hex(4)}.{_digits(4)}.{int(when.timestamp() * 1000):x}"
        f".Coremail.{local}@{sender.split('@')[1]}>"
    )


def _delivery(*, sender: str, to: str, date: datetime, relay: str) -> list[Header]:
    """Return-Path (``<>`` for an empty sender) and a Received line, as the receiving server adds them."""
    received = (
        f"from {relay} (unknown [127.0.0.1]){CRLF}\tby mx.126.com (Coremail) with SMTP id "
        f"{secrets.token_urlsafe(12)}{CRLF}\tfor <{to}>; {_date(date + timedelta(seconds=2))}"
    )
    return [("Return-Path", f"<{sender}>"), ("Received", received)]


def _base64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return CRLF.join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + CRLF


def _quoted_printable(data: bytes) -> str:
    return quopri.encodestring(data.replace(b"\r\n", b"\n")).decode("ascii").replace("\n", CRLF) + CRLF


def _part(headers: Sequence[Header], body: str) -> str:
    return "".join(f"{name}: {value}{CRLF}" for name, value in headers) + CRLF + body


def _multipart(boundary: str, parts: Sequence[str], *, preamble: str = "") -> str:
    out = f"{preamble}{CRLF}{CRLF}" if preamble else ""
    for part in parts:
        out += f"--{boundary}{CRLF}{part}"
        if not part.endswith(CRLF):
            out += CRLF
        out += CRLF
    return out + f"--{boundary}--{CRLF}{CRLF}"


def _compose(
    *,
    headers: list[Header],
    alternative: Sequence[str],
    attachments: Sequence[str],
    boundaries: tuple[str, str],
    preamble: str = "",
) -> bytes:
    """multipart/mixed(multipart/alternative(text, html), attachments...), or just the alternative."""
    mixed, inner = boundaries
    alternative_type = f'multipart/alternative;{CRLF}\tboundary="{inner}"'
    alternative_body = _multipart(inner, alternative)
    if not attachments:
        return _render([*headers, ("Content-Type", alternative_type)], alternative_body)
    parts = [_part([("Content-Type", alternative_type)], alternative_body), *attachments]
    mixed_type = f'multipart/mixed;{CRLF}\tboundary="{mixed}"'
    return _render([*headers, ("Content-Type", mixed_type)], _multipart(mixed, parts, preamble=preamble))


def _render(headers: Sequence[Header], body: str) -> bytes:
    head = "".join(f"{name}: {value}{CRLF}" for name, value in headers)
    return (head + CRLF + body).encode("ascii")

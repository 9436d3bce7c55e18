"""Mail as senders really send it, through the real Dovecot and SMTP server: subjects as people write
them, look-alike download links, signature logos, tracking pixels, Outlook's empty HTML, programs
under a harmless name, winmail.dat, S/MIME signatures and a failing extra file.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.utils import make_msgid
from pathlib import Path

import mediafactory as mf
import pytest
from PIL import Image
from test_collections_e2e import run

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from store.enums import AttachmentKind, MessageStatus

pytestmark = pytest.mark.servers

DESCRIPTION = "8月18日，西宁市总工会在城东区开展“网聚职工正能量”线下活动，参加职工120人。"
NO_DESCRIPTION = "邮件中没有活动的简要说明（正文少于 10 个字，也没有说明文档）"
Attachment = tuple[str, bytes, str]  # file name, bytes, MIME type


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _mail(
    *,
    subject: str = "西宁市总工会线下活动汇总",
    text: str | None = DESCRIPTION,
    html: str | None = None,
    inline: tuple[tuple[str, bytes], ...] = (),
    files: tuple[Attachment, ...] = (),
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "西宁市总工会 <xnzgh@163.com>"
    msg["To"] = samples.MAILBOX
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="163.com")
    msg["Date"] = "Tue, 18 Aug 2020 21:30:00 +0800"
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
            body = msg
        else:
            msg.add_alternative(html, subtype="html")
            body = msg.get_payload()[-1]
        for cid, data in inline:
            body.add_related(data, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    for name, data, mime in files:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


_judged = run  # deliver, poll, send: the one message as stored and the text of the one reply


PHOTO: Attachment = ("合影.jpg", samples.jpeg(width=640, height=480), "image/jpeg")


# -- subjects as people write them ---------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "关于西宁市总工会线下活动汇总的报告",
        "青海省西宁市总工会线下活动汇总",
        "西宁市总工会7月线下活动汇总",
        "西宁市总工会“网聚职工正能量”线下活动汇总",
        "线下活动汇总（西宁市总工会）",
    ],
)
def test_subjects_as_people_write_them_give_the_unit(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, subject: str
) -> None:
    msg, text = _judged(app, deliver, smtp, _mail(subject=subject, files=(PHOTO,)).as_bytes())
    assert (msg.status, msg.unit) == (MessageStatus.ACCEPTED, "西宁市总工会")
    assert text.startswith("西宁市总工会：") and "已登记的文件（1 个）" in text


def test_two_units_in_one_subject_are_told_one_report_per_unit(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    raw = _mail(subject="西宁市总工会、海东市总工会线下活动汇总", files=(PHOTO,)).as_bytes()
    msg, text = _judged(app, deliver, smtp, raw)
    reason = "标题中有 2 个单位（西宁市总工会、海东市总工会），一封邮件只能报送一个单位的线下活动汇总"
    assert (msg.status, msg.reasons) == (MessageStatus.REJECTED, [reason])
    assert f"1. {reason}" in text


def test_an_unknown_unit_is_quoted_only_when_plausible(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    msg, text = _judged(app, deliver, smtp, _mail(subject="关于线下活动汇总的报告", files=(PHOTO,)).as_bytes())
    assert msg.reasons == ["标题中没有写明活动单位名单中的单位"]
    assert "1. 标题中没有写明活动单位名单中的单位\n" in text and "（空）" not in text
    assert "标题中的单位“" not in text and "请使用名单中的单位全称，最接近的是：" in text


# -- links by exact host -------------------------------------------------------------------------


def test_look_alike_download_hosts_are_not_links(app: App, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    body = (
        f"{DESCRIPTION}\n从网易163邮箱发来的超大附件\n活动视频.mp4 (128.03M, 2020年09月17日 21:59 到期)\n"
        "https://fs.163.com.evil.example/fs/display/?file=abc\nhttps://fs.126.com@evil.example/fs/display/?file=abc\n"
    )
    msg, text = _judged(app, deliver, smtp, _mail(text=body, files=(PHOTO,)).as_bytes())
    assert msg.status is MessageStatus.ACCEPTED and msg.large_attachment_links == []
    assert "超大附件链接" not in text


# -- pictures that are no photos -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("img", "picture", "why"),
    [
        ('<img src="cid:image001" alt="单位logo">', _png(120, 40), "邮件签名或排版中的图片（如单位标志），不计为照片"),
        ('<img src="cid:image001">', _png(120, 40), "图片尺寸 120×40，长边不足 300 像素，不计为照片"),
        ('<img src="cid:image001" width="1" height="1">', _png(1, 1), "1×1 像素的图片（邮件排版或跟踪用），不计入"),
    ],
    ids=["signature-logo", "small", "one-pixel"],
)
def test_a_signature_logo_or_a_pixel_is_no_activity_photo(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, img: str, picture: bytes, why: str
) -> None:
    html = f"<html><body><p>{DESCRIPTION}</p><p>--<br>西宁市总工会 宣传部 {img}</p></body></html>"
    msg, text = _judged(app, deliver, smtp, _mail(html=html, inline=(("image001", picture),)).as_bytes())
    assert (msg.status, msg.reasons) == (MessageStatus.REJECTED, ["邮件中没有活动照片"])
    (logo,) = msg.attachments
    assert (logo.kind, logo.valid, logo.counted, logo.note) == (AttachmentKind.PHOTO, True, False, why)
    assert f"“image001.png”{why}；请把线下活动的照片" in text


def test_outlooks_empty_html_body_is_no_description(app: App, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><!--[if gte mso 9]><xml>'
        "<o:OfficeDocumentSettings><o:AllowPNG/></o:OfficeDocumentSettings></xml><![endif]--><style>p.MsoNormal{margin:0cm}</style></head>"
        '<body lang="ZH-CN"><div class="WordSection1"><p class="MsoNormal">&nbsp;</p><p class="MsoNormal">'
        "&nbsp;&nbsp;&nbsp;</p></div></body></html>"
    )
    msg, text = _judged(app, deliver, smtp, _mail(text=None, html=html, files=(PHOTO,)).as_bytes())
    assert (msg.status, msg.reasons) == (MessageStatus.REJECTED, [NO_DESCRIPTION])
    assert f"1. {NO_DESCRIPTION}" in text


def test_an_html_description_with_entities_counts(app: App, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    html = "<html><body><p>8月18日&nbsp;开展线下活动&ldquo;好网民&rdquo;，参加职工&nbsp;120&nbsp;人。</p></body></html>"
    msg, _ = _judged(app, deliver, smtp, _mail(text=None, html=html, files=(PHOTO,)).as_bytes())
    assert msg.status is MessageStatus.ACCEPTED


# -- programs, winmail.dat, signatures, extra files ----------------------------------------------


def test_a_program_with_a_right_to_left_override_in_its_name_rejects_the_report(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    program = mf.make_elf(tmp_path, name="program").read_bytes()
    raw = _mail(files=(PHOTO, ("活动照片\u202egpj.exe", program, "image/jpeg"))).as_bytes()
    msg, text = _judged(app, deliver, smtp, raw)
    reason = "文件“活动照片 gpj.exe”是可执行程序或脚本，出于安全原因不予接收"
    assert (msg.status, msg.reasons) == (MessageStatus.REJECTED, [reason])
    exe = msg.attachments[1]
    assert (exe.valid, exe.counted, exe.label) == (False, False, "可执行程序")
    assert f"1. {reason}" in text and "请删除“活动照片 gpj.exe”后重新发送" in text


def test_a_script_by_its_first_bytes_is_a_program(app: App, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    raw = _mail(files=(PHOTO, ("说明.pdf", b"#!/usr/bin/env node\nrequire('x')\n", "application/pdf"))).as_bytes()
    msg, _ = _judged(app, deliver, smtp, raw)
    assert msg.status is MessageStatus.REJECTED
    assert msg.reasons[0].endswith("，出于安全原因不予接收") and "说明.pdf" in msg.reasons[0]


def test_the_photo_inside_winmail_dat_is_judged_like_an_attachment(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    tnef = mf.tnef_bytes({"活动合影.jpg": samples.jpeg(width=800, height=600)})
    msg, text = _judged(app, deliver, smtp, _mail(files=(("winmail.dat", tnef, "application/ms-tnef"),)).as_bytes())
    assert msg.status is MessageStatus.ACCEPTED
    packed, photo = msg.attachments
    assert (packed.display_name, packed.counted) == ("winmail.dat", False)
    assert (photo.display_name, photo.container, photo.kind, photo.counted) == (
        "活动合影.jpg",
        "winmail.dat",
        AttachmentKind.PHOTO,
        True,
    )
    assert "已登记的文件（1 个）" in text and "活动合影.jpg（JPEG 图片" in text and "来自“winmail.dat”" in text
    assert "winmail.dat：Outlook 封装文件本身不计入，其中的文件已分别登记" in text


def test_an_smime_signature_is_not_a_submitted_file(app: App, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    inner = _mail(files=(PHOTO,))
    signed = MIMEMultipart("signed", policy=policy.default, protocol="application/pkcs7-signature", micalg="sha-256")
    for name in ("From", "To", "Subject", "Message-ID", "Date"):
        signed[name] = inner[name]
        del inner[name]
    signed.attach(inner)
    der = b"0\x82\x05\x00" + bytes(range(256)) * 4
    signature = MIMEApplication(der, "pkcs7-signature", policy=policy.default, name="smime.p7s")
    signature.add_header("Content-Disposition", "attachment", filename="smime.p7s")
    signed.attach(signature)
    msg, text = _judged(app, deliver, smtp, signed.as_bytes())
    assert msg.status is MessageStatus.ACCEPTED
    assert [a.display_name for a in msg.attachments] == ["合影.jpg"]
    assert "已登记的文件（1 个）" in text and "smime.p7s" not in text


def test_a_failing_extra_file_is_noted_when_the_report_is_complete(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    broken = mf.truncated_copy(mf.make_jpeg(tmp_path, size=(1600, 1200)), tmp_path, name="合影2.jpg").read_bytes()
    raw = _mail(files=(PHOTO, ("合影2.jpg", broken, "image/jpeg"))).as_bytes()
    msg, text = _judged(app, deliver, smtp, raw)
    assert msg.status is MessageStatus.ACCEPTED
    assert msg.notes == ["“合影2.jpg”未计入：图片已损坏，无法完整解码"]
    assert "请留意：\n  - “合影2.jpg”未计入：图片已损坏，无法完整解码" in text
    assert "已登记的文件（1 个）" in text


def test_a_photography_work_whose_photo_fails_is_still_rejected(
    settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    text = settings_path.read_text(encoding="utf-8").replace('kind = "offline-activity"', 'kind = "photography"')
    settings_path.write_text(text, encoding="utf-8")
    app = App.build(load(settings_path))
    broken = mf.truncated_copy(mf.make_jpeg(tmp_path, size=(2400, 1600)), tmp_path, name="二.jpg").read_bytes()
    good = ("一.jpg", samples.jpeg(width=2400, height=1600), "image/jpeg")
    raw = _mail(subject="西宁市总工会《劳动者》", files=(good, ("二.jpg", broken, "image/jpeg"))).as_bytes()
    msg, reply = _judged(app, deliver, smtp, raw)
    assert (msg.status, msg.reasons) == (MessageStatus.REJECTED, ["图片已损坏，无法完整解码"])
    assert "1. 图片已损坏，无法完整解码\n   修改方法：请检查文件“二.jpg”" in reply
    app.engine.dispose()

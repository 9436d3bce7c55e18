"""Reports sent as documents, end to end: the photos placed in a Word, PDF, Excel or PowerPoint file
are the report's photos, its text is the description and states the count; a document without a
picture, a zip bomb inside a .docx and a PDF with a password are told apart in the replies."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import documentfactory as df
import pytest
from click.testing import CliRunner
from conftest import Build
from test_collections_e2e import run

from devservers.smtpsink import SmtpSink
from intake.cli import cli
from store import queries
from store.enums import AttachmentKind, MessageStatus

pytestmark = pytest.mark.servers

SUBJECT = "西宁市总工会线下活动汇总"
SHORT_BODY = "请查收附件。"  # no description of its own: the document is the report


def mail(*files: Path, subject: str = SUBJECT, body: str = SHORT_BODY) -> bytes:
    msg = EmailMessage()
    msg["From"] = "西宁市总工会 <xnzgh@163.com>"
    msg["To"] = "wxb0626@126.com"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="163.com")
    msg["Date"] = "Tue, 18 Aug 2020 21:30:00 +0800"
    msg.set_content(body)
    for path in files:
        msg.add_attachment(path.read_bytes(), maintype="application", subtype="octet-stream", filename=path.name)
    return msg.as_bytes()


def _cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def _reply_text(smtp: SmtpSink) -> str:
    (captured,) = smtp.wait_for(1)
    body = captured.message().get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def test_a_report_whose_photos_are_only_inside_a_docx_is_accepted(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path, settings_path: Path
) -> None:
    # Given a report whose body says only 请查收, with a Word file holding the description and two photos
    report = df.make_docx(tmp_path)
    app = intake("offline-activity")
    # When the intake polls the mailbox
    msg, text = run(app, deliver, smtp, mail(report))
    # Then it is accepted, and the unit is told how many photos were found in which file
    assert (msg.status, msg.reasons) == (MessageStatus.ACCEPTED, [])
    assert "附件“活动汇总.docx”中有 2 张活动照片，已计入。" in text
    assert "活动汇总.docx 中的图片 1（JPEG 图片，" in text
    assert "，来自“活动汇总.docx”" not in text  # its name already says where it was
    assert "已登记的文件（3 个）" in text
    # the pictures are stored files pointing to their document, judged like attached photos
    pictures = [a for a in msg.attachments if a.container == "活动汇总.docx"]
    assert [(a.display_name, a.kind, a.counted) for a in pictures] == [
        ("活动汇总.docx 中的图片 1", AttachmentKind.PHOTO, True),
        ("活动汇总.docx 中的图片 2", AttachmentKind.PHOTO, True),
    ]
    assert pictures[0].facts["image"]["width"] == 1024
    assert app.blobs.path(pictures[0].sha256).read_bytes()[:3] == b"\xff\xd8\xff"
    # and the count is read in the document, which the hosts see as its source
    code, out = _cli(settings_path, "count", str(msg.id))
    assert code == 0
    assert "counts 3 activities: 附件文档中写明“" in out and "线下活动3场”" in out


@pytest.mark.parametrize(
    ("make", "name", "photos"),
    [
        (df.make_xlsx, "活动汇总.xlsx", 2),
        (df.make_pptx, "活动汇总.pptx", 2),
    ],
    ids=["xlsx-table", "pptx"],
)
def test_an_excel_table_or_slides_with_photos_are_a_report(
    intake: Build,
    deliver: Callable[[bytes], int],
    smtp: SmtpSink,
    tmp_path: Path,
    make: Callable[..., Path],
    name: str,
    photos: int,
) -> None:
    # Given a table of the activities (time, place, people, content) with the photos beside it, or slides
    document = make(tmp_path, name=name)
    # When the intake polls
    msg, text = run(intake("offline-activity"), deliver, smtp, mail(document))
    # Then the table's text is the description and its pictures are the photos
    assert (msg.status, msg.reasons) == (MessageStatus.ACCEPTED, [])
    assert f"附件“{name}”中有 {photos} 张活动照片，已计入。" in text


def test_a_pdf_report_imported_from_a_file_is_accepted(settings_path: Path, smtp: SmtpSink, tmp_path: Path) -> None:
    # Given a PDF report (text and a photo a page) in an .eml file, imported while IMAP is down
    eml = tmp_path / "report.eml"
    eml.write_bytes(mail(df.make_pdf(tmp_path)))
    # When it is imported
    code, out = _cli(settings_path, "import", "--mailbox", "reports", str(eml))
    # Then it is accepted with the photos of the PDF counted, and the count read in the PDF
    assert code == 0 and "accepted" in out
    text = _reply_text(smtp)
    assert "附件“活动汇总.pdf”中有 2 张活动照片，已计入。" in text
    assert "活动汇总.pdf 中的图片 2" in text
    code, out = _cli(settings_path, "messages", "--json")
    code, out = _cli(settings_path, "count", "1")
    assert "counts 3 activities: 附件文档中写明" in out


def test_a_document_without_pictures_is_told_why_it_gave_no_photo(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a Word report with the description but no picture in it, and no photo attached
    report = df.make_docx(tmp_path, photos=())
    # When the intake polls
    msg, text = run(intake("offline-activity"), deliver, smtp, mail(report))
    # Then it is rejected for the missing photos, saying why the document did not count
    assert (msg.status, msg.reasons) == (MessageStatus.REJECTED, ["邮件中没有活动照片"])
    assert "附件“活动汇总.docx”中没有图片；请把线下活动的照片" in text
    assert "没有活动的简要说明" not in text  # its text is the description


def test_a_zip_bomb_docx_is_refused_and_the_report_still_judged(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a report with a description and a photo, and a .docx whose “picture” inflates 1000-fold
    bomb = df.make_docx_bomb(tmp_path, name="附件说明.docx")
    photo = tmp_path / "合影.jpg"
    photo.write_bytes(df.jpeg((1024, 768)))
    # When the intake polls
    msg, text = run(intake("offline-activity"), deliver, smtp, mail(bomb, photo, body=df.TEXT))
    # Then the report is accepted, the document is not unpacked and the unit is told why
    assert msg.status is MessageStatus.ACCEPTED
    assert "“附件说明.docx”未计入：文档内部数据异常（解压后过大或压缩比过高），疑似压缩炸弹" in text
    assert [a.display_name for a in msg.attachments] == ["附件说明.docx", "合影.jpg"]


def test_an_encrypted_pdf_is_a_clear_note(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a report whose only carrier is a PDF that opens only with a password
    locked = df.make_encrypted_pdf(tmp_path)
    # When the intake polls
    msg, text = run(intake("offline-activity"), deliver, smtp, mail(locked))
    # Then it is rejected: the PDF cannot be read, so no photos and no description were found
    assert msg.status is MessageStatus.REJECTED
    assert "文档有密码，无法读取" in text
    assert "邮件中没有活动照片" in msg.reasons
    assert "Traceback" not in text


def test_the_digest_explains_a_count_read_in_a_document(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    app = intake("offline-activity")
    msg, _ = run(app, deliver, smtp, mail(df.make_docx(tmp_path)))
    with app.sessions() as session:
        (stored,) = queries.messages(session)
        assert stored.id == msg.id
    out = tmp_path / "digest.txt"
    code, _ = _cli(tmp_path / "config.toml", "digest", "--preview", str(out))
    assert code == 0
    digest = out.read_text(encoding="utf-8")
    assert "计 3 场，附件文档中写明“" in digest

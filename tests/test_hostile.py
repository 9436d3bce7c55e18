"""Hostile input through the real pipeline: every message ends in a recorded verdict with its reasons.

Each test builds its message byte by byte, imports it as `intake import` does, and checks what
was stored and what would be answered. None needs the mail servers. Each would fail on a naive
intake: one that lets the stdlib recurse, trusts names and declared types, or dedupes by Message-ID.
"""

from __future__ import annotations

import base64
import email
import hashlib
import io
import json
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import mediafactory as mf
import pytest
from click.testing import CliRunner
from conftest import write_offline_config

from devservers import samples
from ingest.mail.parse import parse_bytes
from ingest.mail.prescan import ParseLimitExceeded, ParseLimits, prescan
from intake.app import App
from intake.cli import cli
from intake.config import load
from store import queries
from store.enums import AttachmentKind, MessageStatus, ReplyStatus
from store.models import Message

SENDER = "xnzgh@163.com"
SUBJECT = "西宁市总工会线下活动汇总"
TEXT = "6月12日，西宁市总工会在中心广场组织开展“网聚职工正能量”线下活动，参加职工120人，现报送活动照片。"
# Characters that must never reach a header, a terminal or an HTML page from sender data.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _config(tmp_path: Path, db_url: str) -> Path:
    return write_offline_config(tmp_path / "config.toml", db_url=db_url)


@pytest.fixture
def config_path(tmp_path: Path, db_url: str) -> Path:
    return _config(tmp_path, db_url)


@pytest.fixture
def intake(config_path: Path) -> Iterator[App]:
    app = App.build(load(config_path))
    yield app
    app.engine.dispose()


# -- building messages byte by byte --------------------------------------------------------------


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _word(text: str) -> bytes:
    return b"=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")) + b"?="


def text_part(text: str = TEXT) -> bytes:
    return b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + _b64(
        text.encode("utf-8")
    )


def file_part(
    data: bytes, name: str = "活动照片1.jpg", *, ctype: bytes = b"image/jpeg", encoded: bytes | None = None
) -> bytes:
    """An attachment; the name goes as RFC 2231 unless `encoded` gives the body bytes already encoded."""
    filename = b"filename*=UTF-8''" + quote(name, safe="").encode("ascii")
    body = _b64(data) if encoded is None else encoded
    return (
        b"Content-Type: " + ctype + b"\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; " + filename + b"\r\n\r\n" + body
    )


def message(
    parts: Sequence[bytes],
    *,
    subject: str | bytes = SUBJECT,
    sender: bytes = SENDER.encode(),
    extra: bytes = b"",
    content_type: bytes | None = None,
    message_id: bytes | None = None,
) -> bytes:
    boundary = b"=_part_" + uuid.uuid4().hex.encode()
    head = (
        b"From: "
        + sender
        + b"\r\nTo: wxb0626@126.com\r\n"
        + b"Subject: "
        + (subject if isinstance(subject, bytes) else _word(subject))
        + b"\r\n"
        + b"Date: Fri, 12 Jun 2020 10:00:00 +0800\r\n"
        + b"Message-ID: "
        + (message_id or b"<" + uuid.uuid4().hex.encode() + b"@163.com>")
        + b"\r\n"
        + b"MIME-Version: 1.0\r\n"
        + extra
        + b"Content-Type: "
        + (content_type or b'multipart/mixed; boundary="' + boundary + b'"')
        + b"\r\n\r\n"
    )
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"
    return head + body


def good_report() -> bytes:
    return message([text_part(), file_part(samples.jpeg())])


def judge(app: App, raw: bytes, tmp_path: Path) -> Message:
    """Import raw as a file (what `intake import` does) and load what was recorded."""
    path = tmp_path / f"{hashlib.sha256(raw).hexdigest()[:16]}.eml"
    path.write_bytes(raw)
    msg_id, status = app.import_file(mailbox="reports", path=path)
    assert msg_id is not None and status is not None
    with app.sessions() as session:
        (msg,) = queries.messages(session, ids=[msg_id])
    assert msg.status is status
    return msg


def assert_explained_rejection(msg: Message, *phrases: str) -> None:
    """Rejected (never failed), with a reason naming each phrase, and one pending rejection to the sender."""
    assert msg.status is MessageStatus.REJECTED, (msg.status, msg.reasons, msg.failure_traceback)
    for phrase in phrases:
        assert any(phrase in r for r in msg.reasons), (phrase, msg.reasons)
    (reply,) = msg.replies
    assert reply.status is ReplyStatus.PENDING and reply.recipient == SENDER
    for phrase in phrases:
        assert phrase in reply.body_text


# -- structure -------------------------------------------------------------------------------------


def deep_multipart(depth: int) -> bytes:
    inner = text_part() + b"\r\n"
    for level in reversed(range(depth)):
        b = f"nest{level}".encode()
        inner = (
            b'Content-Type: multipart/mixed; boundary="'
            + b
            + b'"\r\n\r\n--'
            + b
            + b"\r\n"
            + inner
            + b"--"
            + b
            + b"--\r\n"
        )
    return message([inner])


def deep_rfc822(depth: int) -> bytes:
    inner = b"Subject: hi\r\n\r\nhello\r\n"
    for _ in range(depth):
        inner = b"Content-Type: message/rfc822\r\n\r\n" + inner
    return message([inner])


@pytest.mark.parametrize("build", [deep_multipart, deep_rfc822], ids=["multipart", "message-rfc822"])
def test_thousand_deep_nesting_is_refused_before_the_stdlib_recurses(
    intake: App, tmp_path: Path, build: Callable[[int], bytes]
) -> None:
    raw = build(1000)
    # the stdlib parser alone dies of it (a naive intake records a failure, or worse)
    with pytest.raises(RecursionError):
        email.message_from_bytes(raw)
    msg = judge(intake, raw, tmp_path)
    assert_explained_rejection(msg, "嵌套超过 20 层")
    assert msg.attachments == [] and msg.sender == SENDER and msg.subject == SUBJECT
    # the scan refuses it without parsing, and legitimate nesting passes it
    with pytest.raises(ParseLimitExceeded, match="嵌套"):
        prescan(raw, ParseLimits())
    assert prescan(build(5), ParseLimits()).depth <= 8


def test_ten_thousand_parts_are_refused(intake: App, tmp_path: Path) -> None:
    raw = message([text_part(), *(b"Content-Type: text/plain\r\n\r\npart %d" % i for i in range(10_000))])
    started = time.monotonic()
    msg = judge(intake, raw, tmp_path)
    elapsed = time.monotonic() - started
    assert_explained_rejection(msg, "部分超过 500 个")
    assert msg.attachments == []
    print(f"10,000 parts judged in {elapsed:.2f} s")


@pytest.mark.parametrize("where", ["subject", "other-header"])
def test_a_200_kb_header_is_refused_and_its_sender_still_answered(intake: App, tmp_path: Path, where: str) -> None:
    big = ("很长的标题" * 14_000)[:68_000]  # about 200 KB in UTF-8
    if where == "subject":
        raw = message([text_part(), file_part(samples.jpeg())], subject=SUBJECT + big)
    else:
        raw = message([text_part(), file_part(samples.jpeg())], extra=b"X-Filler: " + big.encode() + b"\r\n")
    assert len(raw.split(b"\r\n\r\n", 1)[0]) > 200_000
    msg = judge(intake, raw, tmp_path)
    assert_explained_rejection(msg, "邮件头过大", "上限 100 KB")
    assert msg.subject is not None and len(msg.subject) <= 1000  # stored bounded, marked as cut
    assert msg.replies[0].subject.startswith("回复：") and len(msg.replies[0].subject) < 260


@pytest.mark.parametrize("field", ["Content-Type", "Content-Disposition"])
def test_twenty_thousand_semicolons_in_a_mime_header(intake: App, tmp_path: Path, field: str) -> None:
    # policy.default needs about 10 s for this header; the limit refuses it before any parser sees it
    if field == "Content-Type":
        raw = good_report().replace(b"multipart/mixed; ", b"multipart/mixed;" + b";" * 20_000 + b" ", 1)
    else:
        part = file_part(samples.jpeg()).replace(b"attachment; ", b"attachment;" + b";" * 20_000 + b" ", 1)
        raw = message([text_part(), part])
    started = time.monotonic()
    msg = judge(intake, raw, tmp_path)
    print(f"20,000 ';' in {field} judged in {time.monotonic() - started:.2f} s")
    assert_explained_rejection(msg, f"Content-{field.split('-')[1]} 中有 2000")


def test_two_boundary_parameters_are_ambiguous(intake: App, tmp_path: Path) -> None:
    # Read with boundary A the message holds a photo; read with B it holds only a text.
    photo = file_part(samples.jpeg())
    body = (
        b"--A\r\n" + text_part() + b"\r\n--A\r\n" + photo + b"\r\n--A--\r\n"
        b"--B\r\n" + text_part("nothing to see") + b"\r\n--B--\r\n"
    )
    raw = message([], content_type=b'multipart/mixed; boundary="A"; boundary="B"').rsplit(b"\r\n\r\n", 1)[0]
    raw += b"\r\n\r\n" + body
    msg = judge(intake, raw, tmp_path)
    assert_explained_rejection(msg, "2 个不同的 boundary 参数")
    assert msg.attachments == []


def test_broken_base64_is_named_on_the_file(intake: App, tmp_path: Path) -> None:
    photo = samples.jpeg()
    encoded = _b64(photo)
    middle = len(encoded) // 2
    # Junk in the middle: the stdlib skips it and hands back an intact JPEG, so a naive intake accepts.
    junk = encoded[:middle] + b"!!**" + encoded[middle:]
    msg = judge(intake, message([text_part(), file_part(photo, encoded=junk)]), tmp_path)
    assert_explained_rejection(msg, "base64 编码有错误", "邮件中没有活动照片")
    (att,) = msg.attachments
    assert not att.valid and not att.counted
    assert any("base64" in p for p in att.problems)
    # Cut short: what arrived is decoded and judged as the damaged photo it is.
    compact = re.sub(rb"\s", b"", encoded)
    cut = compact[: (len(compact) // 4 - 2) * 4 + 1]  # one character too many for whole bytes
    msg = judge(intake, message([text_part(), file_part(photo, "照片2.jpg", encoded=cut)]), tmp_path)
    assert_explained_rejection(msg, "base64 编码有错误")
    assert msg.attachments[0].kind is AttachmentKind.PHOTO and not msg.attachments[0].valid


@pytest.mark.parametrize(
    "label",
    ["x-unknown-charset", 'utf-8"><script>', "gb2312;evil", "unicode-1-1-utf-7", "a" * 300, "", "utf-8\x00"],
    ids=["unknown", "markup", "semicolon", "utf7", "long", "empty", "nul"],
)
def test_unknown_and_bogus_charsets_are_read_as_the_bytes_say(intake: App, tmp_path: Path, label: str) -> None:
    cs = label.encode("latin-1")
    # an encoded-word's charset must be a token, or the word is plain text (RFC 2047): use the label
    # there when it is one, another unknown one when it is not
    word_cs = cs if re.fullmatch(rb"[A-Za-z0-9._-]+", cs) else b"x-bogus"
    subject = b"=?" + word_cs + b"?B?" + base64.b64encode(SUBJECT.encode()) + b"?="
    text = (
        b'Content-Type: text/plain; charset="'
        + cs
        + b'"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        + TEXT.encode("utf-8")
    )
    photo = (
        b"Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=" + cs.replace(b'"', b"") + b"''%E7%85%A7%E7%89%87.jpg"
        b"\r\n\r\n" + _b64(samples.jpeg())
    )
    msg = judge(intake, message([text, photo], subject=subject), tmp_path)
    # A naive decode raises LookupError (failed); here the UTF-8 bytes are read as UTF-8.
    assert msg.status is MessageStatus.ACCEPTED, (msg.reasons, msg.failure_traceback)
    assert msg.subject == SUBJECT and msg.unit == "西宁市总工会"
    assert msg.attachments[0].valid and msg.attachments[0].kind is AttachmentKind.PHOTO


# -- names and text that could fool a person or a terminal -----------------------------------------

EVIL_SUBJECT = SUBJECT + "\x00\r\nBcc: victim@example.org\r\n\u202e<script>alert(1)</script>\u2066\u200b\x1b[31m"
EVIL_NAME = "照片\x00\r\n\u202egpj.exe\u2069\x07.jpg"


def test_controls_and_bidi_are_stored_safely_and_shown_harmlessly(
    intake: App, config_path: Path, tmp_path: Path
) -> None:
    raw = message([text_part(), file_part(samples.jpeg(), EVIL_NAME)], subject=EVIL_SUBJECT)
    msg = judge(intake, raw, tmp_path)
    assert msg.status in (MessageStatus.ACCEPTED, MessageStatus.REJECTED), msg.failure_traceback
    # stored: NUL replaced (PostgreSQL refuses it), the rest kept as sent for the record
    assert msg.subject is not None and "\x00" not in msg.subject and "\u202e" in msg.subject
    (att,) = msg.attachments
    assert att.filename is not None and "\x00" not in att.filename
    assert not UNSAFE.search(att.display_name) and "/" not in att.display_name
    # shown: the reply's headers and bodies carry none of it, and the HTML escapes the markup
    (reply,) = msg.replies
    for text in (reply.subject, reply.body_text, reply.body_html):
        assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    assert "\n" not in reply.subject and "\r" not in reply.subject
    assert "<script>" not in reply.body_html and "&lt;script&gt;" in reply.body_html
    # shown: the admins' CLI (the JSON for scripts keeps the text exact instead)
    runner = CliRunner()
    for args in (["messages"], ["show", str(msg.id)]):
        result = runner.invoke(cli, ["--config", str(config_path), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        for line in result.output.splitlines():
            assert not UNSAFE.search(line), (args, line)
    result = runner.invoke(cli, ["--config", str(config_path), "messages", "--json"], catch_exceptions=False)
    (row,) = json.loads(result.output)
    assert row["subject"] == msg.subject and row["attachments"][0]["filename"] == att.filename


def test_a_rejection_quoting_a_hostile_subject_shows_it_harmlessly(intake: App, tmp_path: Path) -> None:
    # the subject is recorded as sent; the rules read it, and the reasons quote it, without its controls
    msg = judge(intake, message([text_part()], subject="\u202e海南总工会\u2066活动\x1b[31m照片\u200b\x00"), tmp_path)
    assert msg.status is MessageStatus.REJECTED and "\u202e" in (msg.subject or "")
    assert msg.reasons[0].startswith("邮件标题“海南总工会 活动照片") and not UNSAFE.search(msg.reasons[0])
    (reply,) = msg.replies
    for text in (reply.subject, reply.body_text, reply.body_html):
        assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    assert "海南总工会 活动" in reply.body_text


TRAVERSAL = [
    "../../../../../../tmp/pwned.jpg",
    "..\\..\\..\\Windows\\System32\\evil.jpg",
    "CON",
    "nul.jpg",
    "com1.jpg",
    "..",
    ".",
    "a/b/c.jpg",
    "\\\\server\\share\\x.jpg",
    "LPT1",
]


def test_traversal_and_reserved_names_never_become_paths(intake: App, tmp_path: Path) -> None:
    target = tmp_path / "outside" / "pwned.jpg"
    names = [*TRAVERSAL, str(target)]
    raw = message([text_part(), *(file_part(samples.jpeg(), n) for n in names)])
    msg = judge(intake, raw, tmp_path)
    assert msg.status is MessageStatus.ACCEPTED, msg.reasons  # the photos are photos, whatever their names
    assert not target.exists() and not (tmp_path / "outside").exists()
    assert not Path("/tmp/pwned.jpg").exists()
    assert [a.filename for a in msg.attachments] == names  # kept as sent, for the record
    for att in msg.attachments:
        shown = att.display_name
        assert not re.search(r"[\\/:]", shown) and shown not in ("", ".", "..")
        assert not re.fullmatch(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\..*)?", shown), shown
        assert intake.blobs.path(att.sha256).parent.is_relative_to(intake.settings.store.blob_dir)


# -- files that are not what they say --------------------------------------------------------------


def test_executable_named_as_a_photo_is_not_a_photo(intake: App, tmp_path: Path) -> None:
    elf = mf.make_elf(tmp_path, name="照片1.jpg").read_bytes()
    msg = judge(intake, message([text_part(), file_part(elf, "照片1.jpg")]), tmp_path)
    assert_explained_rejection(msg, "不是图片", "邮件中没有活动照片")
    assert msg.attachments[0].kind is not AttachmentKind.PHOTO


def test_polyglots_are_judged_by_their_bytes(intake: App, tmp_path: Path) -> None:
    # A page that is also a picture (markup first, JPEG bytes after it) declared image/jpeg.
    page = b"<html><body><script>alert(document.cookie)</script><!--" + samples.jpeg() + b"--></body></html>"
    msg = judge(intake, message([text_part(), file_part(page, "活动.jpg")]), tmp_path)
    assert_explained_rejection(msg, "文件“活动.jpg”不是图片")
    # A JPEG with a ZIP appended (zipfile.is_zipfile() says yes): a photo, and the ZIP is never opened.
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("run.exe", b"MZ" + bytes(200))
    polyglot = samples.jpeg() + zipped.getvalue()
    assert zipfile.is_zipfile(io.BytesIO(polyglot))
    msg = judge(intake, message([text_part(), file_part(polyglot, "活动2.jpg")]), tmp_path)
    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    (att,) = msg.attachments  # no member rows: nothing was unpacked
    assert att.kind is AttachmentKind.PHOTO and att.container is None
    assert intake.blobs.path(att.sha256).read_bytes() == polyglot


def test_extension_and_content_mismatch_is_named(intake: App, tmp_path: Path) -> None:
    # A picture named as the description document, and no text in the body: a naive intake counts
    # the .docx as the description and accepts.
    raw = message(
        [
            file_part(samples.jpeg(), "活动照片.jpg"),
            file_part(
                samples.jpeg(),
                "活动说明.docx",
                ctype=b"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
        ]
    )
    msg = judge(intake, raw, tmp_path)
    assert_explained_rejection(msg, "不是文档（实际为JPEG 图片）")


def test_zip_bomb_end_to_end(intake: App, tmp_path: Path) -> None:
    bomb = mf.make_zip_bomb(tmp_path, megabytes=50).read_bytes()
    assert len(bomb) < 200_000
    started = time.monotonic()
    msg = judge(
        intake,
        message([text_part(), file_part(samples.jpeg()), file_part(bomb, "资料.zip", ctype=b"application/zip")]),
        tmp_path,
    )
    print(f"zip bomb judged in {time.monotonic() - started:.2f} s")
    # the report has its photo and description: the bomb is an extra file, noted and never unpacked
    assert msg.status is MessageStatus.ACCEPTED
    bomb_row = next(a for a in msg.attachments if a.display_name == "资料.zip")
    assert bomb_row.kind is AttachmentKind.ARCHIVE and bomb_row.problems and not bomb_row.valid
    assert all(a.size < 10_000_000 for a in msg.attachments)  # nothing of the 50 MB was kept
    assert msg.notes == [f"“资料.zip”未计入：{bomb_row.problems[0]}"]
    reply = msg.replies[0]
    assert reply.status is ReplyStatus.PENDING and reply.kind.value == "acknowledgement"
    assert f"请留意：\n  - “资料.zip”未计入：{bomb_row.problems[0]}" in reply.body_text


def test_pixel_bomb_end_to_end(intake: App, tmp_path: Path) -> None:
    bomb = mf.make_pixel_bomb_png(tmp_path).read_bytes()
    started = time.monotonic()
    msg = judge(intake, message([text_part(), file_part(bomb, "活动.png", ctype=b"image/png")]), tmp_path)
    print(f"pixel bomb judged in {time.monotonic() - started:.2f} s")
    assert_explained_rejection(msg, "邮件中没有活动照片")
    (att,) = msg.attachments
    assert not att.valid and att.problems and att.problems[0] in msg.replies[0].body_text


# -- size and identity -----------------------------------------------------------------------------


def test_a_message_over_the_size_limit_is_recorded_from_its_header_and_answered_once(
    intake: App, tmp_path: Path
) -> None:
    # What the poller stores for a message over max_message_bytes: its header only (see test_imap.py).
    header = good_report().split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    msg_id = intake.pipeline.store_raw(
        mailbox="reports", uidvalidity=7, uid=1, raw=header, size=90 * 1024 * 1024, oversize=True
    )
    assert msg_id is not None
    assert intake.pipeline.process(msg_id) is MessageStatus.REJECTED
    assert intake.pipeline.process(msg_id) is MessageStatus.REJECTED  # a rerun
    with intake.sessions() as session:
        (msg,) = queries.messages(session, ids=[msg_id])
    assert msg.unit == "西宁市总工会" and msg.attachments == []
    assert msg.reasons[-1].startswith("邮件大小 90.0 MB") and "超过本邮箱的上限" in msg.reasons[-1]
    (reply,) = msg.replies  # told once, whatever the reruns
    assert "邮件大小 90.0 MB" in reply.body_text


def test_one_message_id_reused_by_the_same_sender_is_one_submission(intake: App, tmp_path: Path) -> None:
    # a message's identity is its Message-ID with its sender: a second message under the same pair
    # is a second delivery of the first, recorded as such and never judged or answered again
    reused = b"<same-id@163.com>"
    good = message([text_part(), file_part(samples.jpeg())], message_id=reused)
    no_photo = message([text_part()], message_id=reused)
    first = judge(intake, good, tmp_path)
    second = judge(intake, no_photo, tmp_path)
    assert first.id != second.id and first.message_id == second.message_id == reused.decode()
    assert (first.status, second.status) == (MessageStatus.ACCEPTED, MessageStatus.DUPLICATE)
    assert second.duplicate_of == first.id and second.replies == []
    assert second.reasons == [
        f"重复投递：与第 {first.id} 号邮件是同一封邮件（Message-ID 与发件人相同），不再判定，也不再回复"
    ]
    assert [r.kind.value for r in first.replies] == ["acknowledgement"]
    # from another sender the same Message-ID is another submission
    other = judge(intake, message([text_part()], message_id=reused, sender=b"other@126.com"), tmp_path)
    assert other.status is MessageStatus.REJECTED and other.reasons == ["邮件中没有活动照片"]
    assert other.replies[0].reply_message_id != first.replies[0].reply_message_id
    # the same bytes again are the same message: judged once
    path = tmp_path / "again.eml"
    path.write_bytes(good)
    assert intake.import_file(mailbox="reports", path=path) == (None, None)


# -- the sender address and the time limit ---------------------------------------------------------


def test_a_from_header_of_nested_comments_does_not_crash(intake: App, tmp_path: Path) -> None:
    # getaddresses() recurses once per "(": 50,000 of them raised RecursionError (a failed message).
    raw = message([text_part(), file_part(samples.jpeg())], sender=b"(" * 50_000 + SENDER.encode())
    msg = judge(intake, raw, tmp_path)
    assert msg.status is MessageStatus.ACCEPTED and msg.sender is None
    assert msg.replies == []  # nobody to answer


def test_parsing_stops_at_the_time_limit() -> None:
    ticks = iter(range(0, 10_000, 7))  # every look at the clock: 7 more seconds

    def clock() -> float:
        return float(next(ticks))

    raw = message([text_part(), *(file_part(samples.jpeg(seed=i), f"{i}.jpg") for i in range(6))])
    assert len(parse_bytes(raw).parts) == 6
    with pytest.raises(ParseLimitExceeded, match="30 秒"):
        parse_bytes(raw, limits=ParseLimits(max_seconds=30), clock=clock)

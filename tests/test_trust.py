"""Sender trust: allowed senders per unit, Authentication-Results (RFC 8601) from our provider only, DMARC.

The unit always comes from the subject and decisions use the parsed From address only; a display
name never makes a unit or matches an allowed sender. A DMARC failure reported by the configured
authserv-id is never allowlisted and never answered automatically: the hosts see it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import write_offline_config

from campaign.settings import ConfigError, Unit
from devservers import samples
from ingest.mail.parse import parse_address, parse_bytes
from ingest.rules.trust import (
    Dmarc,
    dmarc_verdict,
    judge_sender,
    parse_authentication_results,
    sender_allowed,
)
from intake.app import App
from intake.config import load
from store import queries
from store.enums import MessageStatus, ReplyStatus
from store.models import Message

PROVIDER = "mx.126.com"


def _config(tmp_path: Path, db_url: str, *, mailbox_extra: str = "", unit_extra: str = "") -> Path:
    return write_offline_config(
        tmp_path / "config.toml", db_url=db_url, mailbox_extra=mailbox_extra, unit_extra=unit_extra
    )


@pytest.fixture
def intake(tmp_path: Path, db_url: str) -> Iterator[App]:
    path = _config(
        tmp_path,
        db_url,
        mailbox_extra=f'authserv_id = "{PROVIDER}"',
        unit_extra='allowed_senders = ["xnzgh@163.com", "xining.gov.cn"]',
    )
    app = App.build(load(path))
    yield app
    app.engine.dispose()


def report(
    *,
    sender: str = "xnzgh@163.com",
    results: Sequence[str] = (),
    subject: str | None = None,
    from_header: str | None = None,
) -> bytes:
    """A good Foxmail report, with Authentication-Results headers put on top as the provider would."""
    raw = samples.offline_report(unit="西宁市总工会", sender=sender, subject=subject)
    top = b"".join(b"Authentication-Results: " + r.encode() + b"\r\n" for r in results)
    if from_header is not None:
        head, sep, body = raw.partition(b"\r\n\r\n")
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"from:")]
        raw = b"\r\n".join([*lines, b"From: " + from_header.encode()]) + sep + body
    return top + raw


def judge(app: App, raw: bytes, tmp_path: Path) -> Message:
    path = tmp_path / f"{hashlib.sha256(raw).hexdigest()[:16]}.eml"
    path.write_bytes(raw)
    msg_id, _ = app.import_file(mailbox="reports", path=path)
    assert msg_id is not None
    with app.sessions() as session:
        (msg,) = queries.messages(session, ids=[msg_id])
    return msg


# -- RFC 8601 ------------------------------------------------------------------------------------


def test_authentication_results_are_read_per_rfc_8601() -> None:
    parsed = parse_authentication_results(
        'mx.126.com 1; (a comment; with dmarc=pass "and quotes" (nested)) spf=pass smtp.mailfrom=a@163.com;'
        " dkim=pass (good signature) header.d=163.com header.s=s110527;"
        ' dmarc=fail reason="policy; p=reject" (p=REJECT dis=NONE) header.from=163.com'
    )
    assert parsed is not None and parsed.authserv_id == "mx.126.com"
    assert [(r.method, r.result) for r in parsed.results] == [("spf", "pass"), ("dkim", "pass"), ("dmarc", "fail")]
    assert parsed.results[0].properties == {"smtp.mailfrom": "a@163.com"}
    assert parsed.results[2].reason == "policy; p=reject" and parsed.results[2].properties == {"header.from": "163.com"}
    none = parse_authentication_results("MX.126.COM; none")
    assert none is not None and none.authserv_id == "mx.126.com" and none.results == ()
    assert parse_authentication_results("") is None
    assert parse_authentication_results("; dmarc=pass") is None
    broken = parse_authentication_results("mx.126.com; dmarc; = pass; dkim=neutral")
    assert broken is not None and [(r.method, r.result) for r in broken.results] == [("dkim", "neutral")]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], Dmarc.UNKNOWN),
        ([f"{PROVIDER}; dmarc=pass header.from=163.com"], Dmarc.PASS),
        ([f"{PROVIDER}; dmarc=fail (p=reject) header.from=163.com"], Dmarc.FAIL),
        # a forged header of another authserv-id counts for nothing, in either direction
        (["mx.evil.example; dmarc=pass header.from=163.com"], Dmarc.UNKNOWN),
        ([f"{PROVIDER}; dmarc=fail header.from=163.com", "mx.evil.example; dmarc=pass"], Dmarc.FAIL),
        # a failure anywhere among ours wins over a pass (a sender can add a copy that says pass)
        ([f"{PROVIDER}; dmarc=pass header.from=163.com", f"{PROVIDER}; dmarc=fail header.from=163.com"], Dmarc.FAIL),
        # a pass for another From domain than the one we parsed is not a pass for this sender
        ([f"{PROVIDER}; dmarc=pass header.from=evil.example"], Dmarc.FAIL),
        ([f"{PROVIDER}; dkim=pass header.d=163.com"], Dmarc.NONE),
        ([f"{PROVIDER}; dmarc=temperror"], Dmarc.NONE),
    ],
)
def test_dmarc_comes_only_from_the_configured_authserv_id(headers: list[str], expected: Dmarc) -> None:
    mail = parse_bytes(report(results=headers))
    assert dmarc_verdict(mail, authserv_id=PROVIDER).result is expected
    assert dmarc_verdict(mail, authserv_id=None).result is Dmarc.UNKNOWN


def test_allowed_senders_match_an_address_or_exactly_a_domain() -> None:
    allowed = ["xnzgh@163.com", "xining.gov.cn", "@qhzgh.org.cn"]
    assert sender_allowed("xnzgh@163.com", allowed) and sender_allowed("XNZGH@163.com", allowed)
    assert sender_allowed("anyone@xining.gov.cn", allowed) and sender_allowed("a@qhzgh.org.cn", allowed)
    assert not sender_allowed("other@163.com", allowed)
    assert not sender_allowed("a@mail.xining.gov.cn", allowed)  # no subdomains
    assert not sender_allowed("a@evilxining.gov.cn", allowed)
    assert not sender_allowed(None, allowed)


@pytest.mark.parametrize(
    "header",
    [
        "xnzgh@163.com <eve@evil.example>",  # an address as display name, unquoted
        "eve@evil.example, xnzgh@163.com",
        "xnzgh@163.com)<eve@evil.example>",
        "<eve@evil.example> xnzgh@163.com",
        "x <eve@evil.example>@163.com",
    ],
)
def test_an_ambiguous_from_header_gives_no_sender(header: str) -> None:
    assert parse_address(header)[1] is None


def test_a_quoted_address_in_the_display_name_is_only_a_name() -> None:
    assert parse_address('"xnzgh@163.com" <eve@evil.example>') == ("xnzgh@163.com", "eve@evil.example")
    assert parse_address("西宁市总工会 <X@Elsewhere.Example>") == ("西宁市总工会", "X@elsewhere.example")


def test_two_from_headers_naming_different_senders_give_none() -> None:
    raw = report(from_header="eve@evil.example")
    raw = raw.replace(b"\r\n\r\n", b"\r\nFrom: xnzgh@163.com\r\n\r\n", 1)
    assert parse_bytes(raw).sender is None


# -- through the pipeline --------------------------------------------------------------------------


def test_an_allowed_sender_is_accepted(intake: App, tmp_path: Path) -> None:
    for sender in ("xnzgh@163.com", "gonghui@xining.gov.cn"):
        msg = judge(
            intake,
            report(sender=sender, results=[f"{PROVIDER}; dmarc=pass header.from=" + sender.split("@")[1]]),
            tmp_path,
        )
        assert msg.status is MessageStatus.ACCEPTED, msg.reasons
        assert msg.replies[0].status is ReplyStatus.PENDING


def test_a_sender_not_on_the_units_list_is_rejected_and_told(intake: App, tmp_path: Path) -> None:
    msg = judge(intake, report(sender="someone@163.com"), tmp_path)
    assert msg.status is MessageStatus.REJECTED and msg.unit == "西宁市总工会"
    assert msg.reasons == ["发件地址 someone@163.com 不是“西宁市总工会”登记的报送邮箱"]
    (reply,) = msg.replies
    assert reply.status is ReplyStatus.PENDING and reply.recipient == "someone@163.com"
    assert "请用本单位登记的报送邮箱重新发送" in reply.body_text
    assert "xnzgh@163.com" not in reply.body_text  # the list itself is never shown


def test_a_unit_without_a_list_takes_any_sender(intake: App, tmp_path: Path) -> None:
    raw = samples.offline_report(unit="海南州总工会", sender="anyone@126.com")
    assert judge(intake, raw, tmp_path).status is MessageStatus.ACCEPTED


def test_a_display_name_never_makes_a_unit_or_an_allowed_sender(intake: App, tmp_path: Path) -> None:
    # the name says 西宁市总工会 and an allowed address, the subject names no unit
    msg = judge(
        intake,
        report(from_header='"西宁市总工会 xnzgh@163.com" <x@elsewhere.example>', subject="线下活动汇总"),
        tmp_path,
    )
    assert msg.status is MessageStatus.REJECTED and msg.unit is None and msg.sender == "x@elsewhere.example"
    # the subject names the unit: the parsed address decides, and it is not on the list
    msg = judge(intake, report(from_header="西宁市总工会 <xnzgh@163.com.evil.example>"), tmp_path)
    assert msg.status is MessageStatus.REJECTED
    assert msg.reasons == ["发件地址 xnzgh@163.com.evil.example 不是“西宁市总工会”登记的报送邮箱"]
    # an unquoted address in the name makes the header ambiguous: no sender, nobody answered
    msg = judge(intake, report(from_header="xnzgh@163.com <eve@evil.example>"), tmp_path)
    assert msg.status is MessageStatus.REJECTED and msg.sender is None and msg.replies == []
    assert "（无法识别的发件地址）" in msg.reasons[0]


def test_a_dmarc_failure_is_never_allowlisted_nor_answered(intake: App, tmp_path: Path) -> None:
    failing = f"{PROVIDER}; spf=fail smtp.mailfrom=evil.example; dmarc=fail (p=REJECT) header.from=163.com"
    msg = judge(intake, report(sender="xnzgh@163.com", results=[failing]), tmp_path)
    assert msg.status is MessageStatus.REJECTED  # on the list, but the provider says the From is forged
    assert len(msg.reasons) == 1 and "未通过 DMARC 验证" in msg.reasons[0] and PROVIDER in msg.reasons[0]
    (reply,) = msg.replies  # written for the hosts to read, never sent
    assert reply.status is ReplyStatus.SUPPRESSED and "DMARC" in (reply.last_error or "")
    assert any("DMARC" in n for n in msg.notes)
    # a unit without a list: the same
    raw = samples.offline_report(unit="海南州总工会", sender="hn@126.com")
    msg = judge(
        intake, f"Authentication-Results: {PROVIDER}; dmarc=fail header.from=126.com\r\n".encode() + raw, tmp_path
    )
    assert msg.status is MessageStatus.REJECTED and msg.replies[0].status is ReplyStatus.SUPPRESSED


def test_a_forged_header_of_another_authserv_id_changes_nothing(intake: App, tmp_path: Path) -> None:
    forged = ["mx.126.com.evil.example; dmarc=fail header.from=163.com", "126.com; dmarc=fail"]
    msg = judge(intake, report(results=forged), tmp_path)
    assert msg.status is MessageStatus.ACCEPTED and msg.replies[0].status is ReplyStatus.PENDING


def test_the_authserv_id_is_per_mailbox_and_optional(tmp_path: Path, db_url: str) -> None:
    # without authserv_id no Authentication-Results header is believed, not even a failure
    app = App.build(load(_config(tmp_path, db_url)))
    try:
        raw = report(results=[f"{PROVIDER}; dmarc=fail header.from=163.com"])
        assert judge(app, raw, tmp_path).status is MessageStatus.ACCEPTED
        assert app.settings.mailboxes[0].authserv_id is None and app.settings.units[0].allowed_senders == ()
    finally:
        app.engine.dispose()


def test_judge_sender_reads_only_the_parsed_address() -> None:
    units = [Unit(name="西宁市总工会", allowed_senders=("xnzgh@163.com",))]
    mail = parse_bytes(report(from_header='"xnzgh@163.com" <eve@evil.example>'))
    verdict = judge_sender(mail, unit="西宁市总工会", units=units, authserv_id=None)
    assert verdict.allowlisted is False and verdict.hold is None
    assert [p.code for p in verdict.problems] == ["sender-not-allowed"]


# -- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('["xnzgh@163.com", "not an address"]', "units[0].allowed_senders[1]: expected an address"),
        ('["163.com"]', "units[0].allowed_senders[0]: '163.com' is a public mail provider"),
        ('["@qq.com"]', "units[0].allowed_senders[0]: '@qq.com' is a public mail provider"),
        ('"xnzgh@163.com"', "units[0].allowed_senders: expected a list of strings"),
        ('[""]', "units[0].allowed_senders: every item must be a non-empty string"),
    ],
)
def test_allowed_senders_are_checked(tmp_path: Path, entry: str, message: str) -> None:
    path = _config(tmp_path, "sqlite:///x.db", unit_extra=f"allowed_senders = {entry}")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(path)


def test_authserv_id_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mailboxes\[0\].authserv_id: expected a string"):
        load(_config(tmp_path, "sqlite:///x.db", mailbox_extra="authserv_id = 126"))
    settings = load(
        _config(
            tmp_path,
            "sqlite:///x.db",
            mailbox_extra='authserv_id = "mx.126.com"',
            unit_extra='allowed_senders = ["xnzgh@163.com", "xining.gov.cn"]',
        )
    )
    assert settings.mailboxes[0].authserv_id == "mx.126.com"
    assert settings.units[0].allowed_senders == ("xnzgh@163.com", "xining.gov.cn")


def test_the_example_configuration_still_loads() -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    settings = load(example)
    assert all(not u.allowed_senders for u in settings.units)
    assert settings.safety.per_sender_daily == 10

"""The public corpus: 500 messages written by clients and servers nobody here wrote.

Found through INTAKE_CORPUS_DIR (default ../shared/corpus beside the clone; see corpusdir.py).

Every one goes through the real pipeline, as `intake import` takes it. Each distinct message
(by sha256) must reach exactly one recorded outcome with its reasons; none may fail (a failure
is our bug: hostile or broken mail must end as an explained rejection or as ignored); bounces,
receipts and auto-replies get no reply; judging everything again adds no reply. Prints the
outcome counts, the time taken and the peak memory.
"""

from __future__ import annotations

import collections
import email.parser
import email.policy
import hashlib
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_offline_config
from corpusdir import require_corpus
from sqlalchemy import select

from intake.app import App
from intake.config import load
from store import queries
from store.enums import MessageStatus
from store.models import Message

pytestmark = pytest.mark.slow

NOT_MESSAGES = {"LICENSE", "MIT-LICENSE", "COPYING", "README", "README.md"}
ATTACHMENT_FOLDERS = {("zbateson-mail-mime-parser", "files"), ("flanker", "attachments")}  # sample files
# Machine mail in the corpus, by where it sits: it must be ignored, with no reply.
MACHINE_MAIL = (
    "flanker/bounce/*.eml",
    "flanker/complaints/*.eml",
    "flanker/disposition-notification.eml",
    "mikel-mail/multipart_report_emails/*.eml",
)


def message_files(corpus: Path) -> list[Path]:
    """Every message of the corpus: files without .eml are messages too, except licences, read-mes and
    the sample attachments (images, documents) two projects keep beside their messages."""
    found = []
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus)
        if not path.is_file() or path.name in NOT_MESSAGES or "LICENSES" in rel.parts:
            continue
        if tuple(rel.parts[:2]) in ATTACHMENT_FOLDERS:
            continue
        found.append(path)
    return found


def looks_automatic(raw: bytes) -> str | None:
    """An independent, header-only reading of what must never be answered (not the intake's own code)."""
    head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[: 256 * 1024])
    auto = str(head.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    sender = str(head.get("From", "")).lower()
    if head.get_content_type() in ("multipart/report", "message/delivery-status"):
        return head.get_content_type()
    if auto != "no":
        return f"Auto-Submitted: {auto}"
    if str(head.get("Return-Path", "")).strip() == "<>":
        return "null Return-Path"
    if "mailer-daemon@" in sender or "postmaster@" in sender:
        return "mailer-daemon"
    return None


@pytest.fixture
def intake(tmp_path: Path, db_url: str) -> Iterator[App]:
    path = write_offline_config(tmp_path / "config.toml", db_url=db_url)
    app = App.build(load(path))
    yield app
    app.engine.dispose()


def test_every_corpus_message_reaches_one_explained_outcome(intake: App) -> None:
    corpus = require_corpus()
    files = message_files(corpus)
    assert len(files) >= 480, len(files)
    by_sha: dict[str, list[Path]] = collections.defaultdict(list)
    for path in files:
        by_sha[hashlib.sha256(path.read_bytes()).hexdigest()].append(path)

    # When every file is imported (the same bytes twice are one message, judged once)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    slowest: list[tuple[float, str]] = []
    for path in files:
        begun = time.monotonic()
        intake.import_file(mailbox="reports", path=path)
        slowest.append((time.monotonic() - begun, str(path.relative_to(corpus))))
    elapsed = time.monotonic() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # Then each distinct message is stored once, with one outcome and its reasons
    with intake.sessions() as session:
        rows = queries.messages(session)
    stored = {m.raw_sha256: m for m in rows}
    assert len(rows) == len(stored) == len(by_sha)
    assert set(stored) == set(by_sha)
    failed = [(by_sha[m.raw_sha256 or ""][0].name, m.failure_stage) for m in rows if m.status is MessageStatus.FAILED]
    assert not failed, f"failed (our bug), with stage: {failed}"
    for m in rows:
        where = by_sha[m.raw_sha256 or ""][0].relative_to(corpus)
        assert m.status in (
            MessageStatus.ACCEPTED,
            MessageStatus.REJECTED,
            MessageStatus.IGNORED,
            MessageStatus.DUPLICATE,
        ), where
        if m.status is MessageStatus.DUPLICATE:  # another file of the corpus under the same Message-ID and sender
            original = next(o for o in rows if o.id == m.duplicate_of)
            assert original.status is not MessageStatus.DUPLICATE and m.replies == [], where
            assert (original.message_id, original.sender) == (m.message_id, m.sender), where
        assert m.decided_at is not None and m.attempts == 1, where
        if m.status is not MessageStatus.ACCEPTED:
            assert m.reasons and all(r.strip() for r in m.reasons), where
        assert len(m.replies) <= 1, where
        if m.status is MessageStatus.IGNORED:
            assert m.replies == [], where
        if m.replies:
            assert m.replies[0].recipient == m.sender, where

    # and machine mail is never answered: the known bounces, receipts and complaints are ignored,
    # and nothing that an independent reading of the headers calls automatic gets a reply
    machine = {hashlib.sha256(p.read_bytes()).hexdigest() for pattern in MACHINE_MAIL for p in corpus.glob(pattern)}
    assert len(machine) >= 15
    for sha in machine:
        assert stored[sha].status in (MessageStatus.IGNORED, MessageStatus.DUPLICATE), by_sha[sha]
        assert stored[sha].replies == [], by_sha[sha]
    automatic = {sha: why for sha, paths in by_sha.items() if (why := looks_automatic(paths[0].read_bytes()))}
    for sha, why in automatic.items():
        assert stored[sha].replies == [], (by_sha[sha][0], why)

    # and judging everything again changes no verdict and adds no reply
    before = {m.id: (m.status, len(m.replies)) for m in rows}
    assert intake.rerun(sorted(before)) == {i: s for i, (s, _) in before.items()}
    with intake.sessions() as session:
        again = {m.id: (m.status, len(m.replies)) for m in queries.messages(session)}
        replies_after = session.scalars(select(Message.id).where(Message.replies.any())).all()
    assert again == before
    assert len(replies_after) == sum(n for _, n in before.values())

    counts = collections.Counter(m.status.value for m in rows)
    replies = collections.Counter(
        (m.status.value, f"{m.replies[0].kind.value} {m.replies[0].status.value}" if m.replies else "no reply")
        for m in rows
    )
    folders = collections.Counter(
        (by_sha[m.raw_sha256 or ""][0].relative_to(corpus).parts[0], m.status.value) for m in rows
    )
    print(
        f"\ncorpus: {len(files)} files, {len(by_sha)} distinct messages, imported in {elapsed:.1f} s "
        f"(peak RSS {rss_after / 1024:.0f} MiB, {max(0, rss_after - rss_before) / 1024:.0f} MiB more than before)"
    )
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("replies: " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in sorted(replies.items())))
    print("machine mail ignored: " + str(len(machine)) + ", automatic by headers: " + str(len(automatic)))
    for (folder, status), n in sorted(folders.items()):
        print(f"  {folder:<28} {status:<9} {n}")
    print("slowest: " + ", ".join(f"{name} {secs:.2f} s" for secs, name in sorted(slowest, reverse=True)[:3]))

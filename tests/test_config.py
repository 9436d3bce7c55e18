"""The configuration: the example models the notice; every mistake names its key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from campaign.notice import MailboxKind
from campaign.settings import ConfigError, MissingSecret
from intake.config import load

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_models_the_notice() -> None:
    settings = load(EXAMPLE)
    assert {b.kind for b in settings.mailboxes} == set(MailboxKind)
    assert settings.mailbox("offline-activity").address == "wxb0626@126.com"
    assert settings.mailbox("micro-video").address == "fengxingzixk@163.com"
    annex = [u for u in settings.units if u.activity_quota is not None]
    assert [u.name for u in annex][:3] == ["西宁市总工会", "海南州总工会", "黄南州总工会"]
    assert len(annex) == 12
    assert sum(u.activity_quota or 0 for u in annex) == 65
    assert {u.name for u in settings.units if u.activity_quota is None} >= {"海东市总工会", "玉树州总工会"}
    assert (
        "黄南州总工会"
        in EXAMPLE.read_text(encoding="utf-8").split('name = "micro-film"')[0].rsplit("[[mailboxes]]", 1)[0]
    )


def _write(tmp_path: Path, change: Callable[[str], str]) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(change(EXAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.replace('kind = "song"', 'kind = "songs"'), "mailboxes[6].kind: must be one of"),
        (lambda s: s.replace('security = "ssl"', 'security = "tls"', 1), "smtp.security: must be one of"),
        (lambda s: s.replace("port = 465", 'port = "465"'), "smtp.port: expected an integer"),
        (lambda s: s.replace('blob_dir = "var/blobs"\n', ""), "store.blob_dir: missing"),
        (
            lambda s: s.replace('password_env = "INTAKE_SMTP_PASSWORD"', 'password = "hunter2"'),
            "smtp.password: passwords are never read from the configuration file",
        ),
        (lambda s: s.replace('time = "07:30"', 'time = "7.30am"'), "digest.time: expected a time"),
        (
            lambda s: s.replace('recipients = ["wxb0626@126.com"]', 'recipients = ["not an address"]'),
            "digest.recipients[0]: not an email address",
        ),
        (
            lambda s: s.replace('aliases = ["西宁总工会", "西宁市总"]', 'aliases = ["海南州总工会"]'),
            "'海南州总工会' already names",
        ),
        (lambda s: s.replace("poll_seconds = 300", "pol_seconds = 300", 1), "mailboxes[0].pol_seconds: unknown key"),
        (lambda s: s + "\n[extra]\n", "extra: unknown key"),
        (
            lambda s: s.replace("deadline = 2020-08-20", 'deadline = "August"', 1),
            "mailboxes[0].deadline: expected a date",
        ),
    ],
)
def test_wrong_config_names_key_and_problem(tmp_path: Path, change: Callable[[str], str], message: str) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert message in str(info.value)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[store\nurl=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad)
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load(tmp_path / "absent.toml")


def test_secrets_come_from_environment_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load(EXAMPLE)
    monkeypatch.delenv("INTAKE_SMTP_PASSWORD", raising=False)
    with pytest.raises(MissingSecret, match="INTAKE_SMTP_PASSWORD is not set"):
        settings.smtp.password.read()
    monkeypatch.setenv("INTAKE_SMTP_PASSWORD", "s3cret")
    assert settings.smtp.password.read() == "s3cret"
    secret = tmp_path / "pw"
    secret.write_text("from-file\n", encoding="utf-8")
    path = _write(tmp_path, lambda s: s.replace('password_env = "INTAKE_SMTP_PASSWORD"', 'password_file = "pw"'))
    assert load(path).smtp.password.read() == "from-file"


def test_unattended_keys_have_defaults_and_are_read(tmp_path: Path) -> None:
    settings = load(EXAMPLE)
    assert settings.service.max_attempts == 3 and settings.service.heartbeat_seconds == 10
    assert settings.status.poll_failures == 3
    assert {b.after for b in settings.mailboxes} == {"keep"}
    path = _write(
        tmp_path,
        lambda s: (
            s.replace('folder = "INBOX"', 'folder = "INBOX"\nafter = "move"\nmove_to = "已处理"', 1)
            + "\n[service]\nmax_attempts = 5\nimap_timeout_seconds = 20\nbackoff_seconds = 10\n"
            + "backoff_max_seconds = 600\nheartbeat_seconds = 5\nreply_seconds = 30\n"
            + "\n[status]\npoll_failures = 2\ndigest_age_hours = 26\n"
        ),
    )
    loaded = load(path)
    box = loaded.mailboxes[0]
    assert (box.after, box.move_to) == ("move", "已处理")
    s = loaded.service
    assert (s.max_attempts, s.imap_timeout_seconds, s.backoff_seconds, s.backoff_max_seconds) == (5, 20.0, 10, 600)
    assert (s.heartbeat_seconds, s.reply_seconds, s.stale_seconds) == (5, 30, 12.5)
    assert (loaded.status.poll_failures, loaded.status.digest_age_hours, loaded.status.failed_messages) == (2, 26, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s.replace('folder = "INBOX"', 'folder = "INBOX"\nafter = "delete"', 1),
            "mailboxes[0].after: must be",
        ),
        (
            lambda s: s.replace('folder = "INBOX"', 'folder = "INBOX"\nafter = "move"', 1),
            "mailboxes[0].move_to: missing",
        ),
        (
            lambda s: s.replace('folder = "INBOX"', 'folder = "INBOX"\nmove_to = "Done"', 1),
            'mailboxes[0].move_to: only used with after = "move"',
        ),
        (
            lambda s: s.replace('folder = "INBOX"', 'folder = "INBOX"\nafter = "move"\nmove_to = "INBOX"', 1),
            "mailboxes[0].move_to: must differ from the folder",
        ),
        (lambda s: s + "\n[service]\nmax_attempts = 0\n", "service.max_attempts: must be at least 1"),
        (lambda s: s + "\n[service]\nheartbeat = 5\n", "service.heartbeat: unknown key"),
        (
            lambda s: s + "\n[service]\nbackoff_seconds = 60\nbackoff_max_seconds = 30\n",
            "service.backoff_max_seconds: 30 is less than backoff_seconds 60",
        ),
        (lambda s: s + '\n[status]\npoll_failures = "3"\n', "status.poll_failures: expected an integer"),
    ],
)
def test_wrong_unattended_keys_are_named(tmp_path: Path, change: Callable[[str], str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(_write(tmp_path, change))
    assert message in str(info.value)

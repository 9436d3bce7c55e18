"""security = "none" only towards this machine: towards another host `intake check` and `intake run`
refuse in one line naming the key, unless allow_cleartext says it is intended."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_offline_config

from intake.cleartext import is_loopback
from intake.cli import cli

IMAP = 'host = "127.0.0.1"\nport = 1143'
SMTP = 'host = "127.0.0.1"\nport = 2525'


def _config(tmp_path: Path, db_url: str, *, imap: str = IMAP, smtp: str = SMTP) -> Path:
    path = write_offline_config(tmp_path / "c.toml", db_url=db_url)
    text = path.read_text(encoding="utf-8")
    assert IMAP in text and SMTP in text
    path.write_text(text.replace(IMAP, imap).replace(SMTP, smtp), encoding="utf-8")
    return path


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [["check"], ["run"]])
def test_cleartext_imap_to_another_host_is_refused_naming_the_key(
    tmp_path: Path, db_url: str, command: list[str]
) -> None:
    config = _config(tmp_path, db_url, imap='host = "imap.126.com"\nport = 143')
    code, _, err = _run(config, *command)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0] == (
        f'Error: configuration error in {config}: mailboxes[0].security: "none" would send the password '
        'unencrypted to imap.126.com, which is not this machine; use "ssl" or "starttls", or set '
        "mailboxes[0].allow_cleartext = true if that is intended"
    )


def test_cleartext_smtp_to_another_host_is_refused_naming_the_key(tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url, smtp='host = "10.1.2.3"\nport = 25')
    code, _, err = _run(config, "check")
    assert code == 1 and 'smtp.security: "none" would send the password unencrypted to 10.1.2.3' in err
    assert "set smtp.allow_cleartext = true" in err


def test_allow_cleartext_says_it_is_intended(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TEST_UNUSED", "secret")
    config = _config(
        tmp_path,
        db_url,
        imap='host = "dovecot"\nport = 143\nallow_cleartext = true',
        smtp='host = "mail.lan"\nport = 25\nallow_cleartext = true',
    )
    code, out, err = _run(config, "check")
    assert code == 0, err
    assert "reports@dovecot:143 (none)" in out and out.rstrip().endswith("ok")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost", "LOCALHOST.", "a.localhost"])
def test_loopback_stays_allowed(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["imap.126.com", "10.0.0.1", "localhost.example.org", "127.0.0.1.nip.io", "::2"])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)

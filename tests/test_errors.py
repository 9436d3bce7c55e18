"""Every command says an expected failure in one line on stderr, with what and where, and exits 1;
the traceback comes only with -v."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from devservers import samples
from intake.cli import cli
from store.db import make_engine
from tests.conftest import write_offline_config


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize("command", [["messages"], ["show", "1"], ["status"], ["db", "upgrade"], ["rerun", "1"]])
def test_an_unreachable_database_is_one_sentence(tmp_path: Path, command: list[str]) -> None:
    config = write_offline_config(tmp_path / "c.toml", db_url="postgresql://intake:secret@127.0.0.1:1/intake")
    code, _, err = _run(config, *command)
    line = _one_line(err)
    assert code == 1 and line.startswith("Error: cannot use the database postgresql://intake:***@127.0.0.1:1/intake")
    assert "secret" not in err


def test_a_wrong_url_and_the_traceback_with_v(tmp_path: Path) -> None:
    config = write_offline_config(tmp_path / "c.toml", db_url="nosuchdb://somewhere/x")
    code, _, err = _run(config, "messages")
    assert code == 1 and _one_line(err).startswith("Error: store.url: not a usable database URL")
    code, _, err = _run(config, "-v", "messages")
    assert code == 1 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("Error: store.url:")


def test_schema_too_old_and_too_new(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    config = write_offline_config(tmp_path / "c.toml", db_url=url)
    make_engine(url).dispose()
    code, _, err = _run(config, "messages")
    assert code == 1 and "has no schema yet: run `intake db upgrade` first" in _one_line(err)
    assert _run(config, "db", "upgrade")[0] == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    code, _, err = _run(config, "status")
    assert code == 1 and "has schema 9999, newer than this program knows" in _one_line(err)
    code, _, err = _run(config, "db", "upgrade")
    assert code == 1 and "9999" in _one_line(err)


def test_unwritable_blob_dir_and_output_file(tmp_path: Path, db_url: str) -> None:
    config = write_offline_config(tmp_path / "c.toml", db_url=db_url)
    (tmp_path / "blobs").write_text("a file where the folder should be")
    code, _, err = _run(config, "messages")
    assert code == 1 and _one_line(err) == f"Error: not a folder: {tmp_path / 'blobs' / 'tmp'}"
    (tmp_path / "blobs").unlink()
    code, _, err = _run(config, "digest", "--preview", str(tmp_path / "absent" / "digest.html"))
    assert code == 1 and _one_line(err).startswith(f"Error: cannot write {tmp_path / 'absent' / 'digest.html'}")
    code, _, err = _run(config, "digest", "--preview", "/dev/full")
    assert code == 1 and _one_line(err) == "Error: cannot write /dev/full: No space left on device"


def test_import_exits_non_zero_when_a_message_failed_and_a_missing_secret_is_a_sentence(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_offline_config(
        tmp_path / "c.toml",
        db_url=db_url,
        smtp='port = 2525\nusername = "wxb0626@126.com"\npassword_env = "INTAKE_TEST_NO_SUCH_SECRET"',
        extra='\n[replies]\ntemplates_dir = "templates"\n',
    )
    monkeypatch.delenv("INTAKE_TEST_NO_SUCH_SECRET", raising=False)
    broken = tmp_path / "templates" / "acknowledgement"
    broken.mkdir(parents=True)
    (broken / "body.txt").write_text("{{ no_such_value.attribute }}", encoding="utf-8")
    good, bad = tmp_path / "good.eml", tmp_path / "bad.eml"
    good.write_bytes(samples.offline_report(unit="西宁市总工会", sender="xn@163.com"))
    bad.write_bytes(samples.no_photo(unit="海南州总工会", sender="hn@163.com"))
    code, out, err = _run(config, "import", "--mailbox", "reports", "--no-send", str(good), str(bad))
    assert code == 3 and "imported: failed 1, rejected 1" in out
    assert "1 message(s) failed: see `intake messages --status failed`" in err and "Traceback" not in err
    code, out, err = _run(config, "import", "--mailbox", "reports", str(bad))
    assert code == 1 and "already imported" in out
    assert _one_line(err) == (
        "Error: a password is missing: password_env: the environment variable INTAKE_TEST_NO_SUCH_SECRET is not set"
    )

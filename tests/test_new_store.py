"""A new database over an earlier store's blob folder (`intake db upgrade --new-store`): mail the earlier
store had fetched is judged and recorded again, its reply held; new mail is answered as usual."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from click.testing import CliRunner
from conftest import write_offline_config
from sqlalchemy import text

from devservers import samples
from intake.cli import cli
from store.blobs import BlobStore
from store.db import make_engine
from store.models import Base


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def _empty(db_url: str) -> None:
    """Every row gone, as in a database made anew."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
    engine.dispose()


def test_mail_an_earlier_store_fetched_is_recorded_again_without_a_reply(tmp_path: Path, db_url: str) -> None:
    # Given a report stored (and answered) by a store that was then lost, its blob folder kept
    config = write_offline_config(tmp_path / "c.toml", db_url=db_url)
    old = tmp_path / "old.eml"
    old.write_bytes(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    assert _run(config, "import", "--no-send", "--mailbox", "reports", str(old))[0] == 0
    _empty(db_url)
    time.sleep(0.05)  # file times have a resolution: the new store starts strictly after the blob was written
    BlobStore(root=tmp_path / "blobs").mark_new_store(at=dt.datetime.now(dt.UTC))
    # When the same mail and a new one come into the new store
    new = tmp_path / "new.eml"
    new.write_bytes(samples.offline_report(unit="海南州总工会", sender="hnzzgh@163.com"))
    for path in (old, new):
        assert _run(config, "import", "--no-send", "--mailbox", "reports", str(path))[0] == 0
    # Then both are judged and recorded; only the new one's reply may go out
    code, out, _ = _run(config, "messages", "--json")
    assert code == 0
    rows = {r["sender"]: r for r in json.loads(out)}
    assert {s: (r["status"], r["reply"]["status"]) for s, r in rows.items()} == {
        "xnzgh@163.com": ("accepted", "suppressed"),
        "hnzzgh@163.com": ("accepted", "pending"),
    }
    assert rows["xnzgh@163.com"]["notes"][-1] == (
        "自动回复未发送：此邮件在当前数据库启用（intake db upgrade --new-store）之前已收取过，"
        "当时可能已经回复，不再自动回复"
    )


def test_db_upgrade_refuses_an_empty_sqlite_store_over_an_earlier_stores_files(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    config = write_offline_config(tmp_path / "c.toml", db_url=f"sqlite:///{database}")
    assert _run(config, "db", "upgrade")[0] == 0
    mail = tmp_path / "m.eml"
    mail.write_bytes(samples.offline_report())
    assert _run(config, "import", "--no-send", "--mailbox", "reports", str(mail))[0] == 0
    database.unlink()
    code, _, err = _run(config, "db", "upgrade")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert f"the blob folder {tmp_path / 'blobs'} holds the files of an earlier store" in err
    assert not database.exists()
    code, out, _ = _run(config, "db", "upgrade", "--new-store")
    assert code == 0 and "judged again without a reply" in out and database.exists()
    assert (tmp_path / "blobs" / "new-store-since").is_file()

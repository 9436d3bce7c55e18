"""Revision 0008 keeps every activity count and says where each was read, from what can be known."""

from __future__ import annotations

from pathlib import Path

import documentfactory as df
from alembic import command
from click.testing import CliRunner
from conftest import write_offline_config
from sqlalchemy import text
from test_documents_e2e import mail

from intake.cli import cli
from store.db import make_engine
from store.migrate import alembic_config, upgrade


def test_existing_counts_get_their_source(db_url: str, tmp_path: Path) -> None:
    # Given three accepted reports: a count in the body, a count in the subject only, no count at all
    config = write_offline_config(tmp_path / "config.toml", db_url=db_url)
    files = []
    for number, (subject, body) in enumerate(
        [
            ("西宁市总工会线下活动汇总", "西宁市总工会共开展线下活动3场，参加职工120人。"),
            ("西宁市总工会线下活动汇总（共2场）", "现将我单位线下活动情况报送如下，请查收。"),
            ("海南州总工会线下活动汇总", "现将我单位线下活动情况报送如下，请查收。"),
        ]
    ):
        photo = tmp_path / f"合影{number}.jpg"
        photo.write_bytes(df.jpeg((800, 600), shade=number))
        eml = tmp_path / f"{number}.eml"
        eml.write_bytes(mail(photo, subject=subject, body=body))
        files.append(str(eml))
    result = CliRunner().invoke(cli, ["--config", str(config), "import", "--mailbox", "reports", "--no-send", *files])
    assert "accepted 3" in result.output, result.output
    # When the database was at the revision before, and is upgraded again
    engine = make_engine(db_url)
    try:
        cfg = alembic_config(db_url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT message_id, stated, source FROM activity_counts ORDER BY message_id"))
            found = [tuple(row) for row in rows]
    finally:
        engine.dispose()
    # Then every count is kept, with where it was read
    assert found == [(1, 3, "body"), (2, 2, "subject"), (3, None, "default")]

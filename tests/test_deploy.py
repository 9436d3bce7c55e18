"""The deployment files as an operator uses them: every secret of the example config is passed on,
and docker-compose.yml is valid Compose (checked against the specification's JSON schema)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def password_envs() -> set[str]:
    """Every password_env of config.example.toml: the SMTP server's and each mailbox's."""
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    names = {example["smtp"]["password_env"]}
    names |= {box["password_env"] for box in example["mailboxes"]}
    return names


def compose() -> dict[str, Any]:
    loaded = YAML(typ="safe", pure=True).load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_example_names_nine_secrets() -> None:
    names = password_envs()
    assert len(names) == 9, names  # eight mailboxes and SMTP, each its own
    assert {"INTAKE_SMTP_PASSWORD", "INTAKE_IMAP_WXB0626", "INTAKE_IMAP_MICRO_LESSON"} <= names


def test_compose_passes_every_secret_of_the_example_one_for_one() -> None:
    services = compose()["services"]
    for service in ("intake", "migrate"):
        environment = services[service]["environment"]
        assert isinstance(environment, dict), service
        secrets = {name for name in environment if name.startswith("INTAKE_") and name != "INTAKE_CONFIG"}
        assert secrets == password_envs(), (service, secrets ^ password_envs())
        for name in secrets:
            # passed from the shell under its own name: by name only, or as ${NAME...}
            value = environment[name]
            assert value is None or re.fullmatch(rf"\$\{{{name}(:?[-?][^}}]*)?\}}", str(value)), (name, value)
        assert environment["INTAKE_CONFIG"] == "/etc/intake/config.toml"
    # the bundled Dovecot's user has the password of the example's offline-activity mailbox
    assert "wxb0626:${INTAKE_IMAP_WXB0626:?" in services["dovecot"]["environment"]["DOVECOT_USERS"]


def test_the_systemd_unit_lists_every_secret_of_the_example() -> None:
    unit = (ROOT / "deploy" / "intake.service").read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/intake/secrets.env" in unit.splitlines()
    comment = "\n".join(line for line in unit.splitlines() if line.startswith("#"))
    listed = set(re.findall(r"^#\s+(INTAKE_[A-Z0-9_]+)=\.\.\.$", comment, re.M))
    assert listed == password_envs(), listed ^ password_envs()


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the Compose schema it ships; as root, in a network namespace of its own
    (no network at all), which shows that the schema is not downloaded."""
    offline = ["unshare", "--net"] if os.geteuid() == 0 and shutil.which("unshare") else []
    return subprocess.run(
        [*offline, str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_is_valid_against_the_compose_schema() -> None:
    checked = _check_compose(ROOT / "docker-compose.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok -- validation done" in checked.stdout


def test_the_schema_check_catches_a_mistake(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "    stop_grace_period: 120s\n" in text
    broken.write_text(text.replace("    stop_grace_period: 120s\n", "    stop_grace: 120s\n"), encoding="utf-8")
    checked = _check_compose(broken)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "Schema validation errors were encountered" in checked.stdout + checked.stderr
    assert "stop_grace" in checked.stdout + checked.stderr


def test_the_workbench_runs_beside_the_poller() -> None:
    services = compose()["services"]
    web, poller = services["web"], services["intake"]
    assert web["command"][0] == "web" and poller["command"] == ["run"]
    assert web["image"] == poller["image"] and web["volumes"] == poller["volumes"]
    assert web["environment"] == poller["environment"]  # the same store and the SMTP password for corrections
    assert web["ports"] == ["127.0.0.1:8080:8080"]
    unit = (ROOT / "deploy" / "intake-web.service").read_text(encoding="utf-8").splitlines()
    assert "ExecStart=/opt/intake/venv/bin/intake web --secure-cookies" in unit
    assert (
        "EnvironmentFile=/etc/intake/secrets.env" in unit
        and "After=network-online.target postgresql.service intake.service" in unit
    )

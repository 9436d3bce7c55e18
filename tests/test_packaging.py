"""What users get from the package: a complete sdist whose tests run, a typed wheel, pinned installs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from intake.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("campaign", "intake", "ingest", "report", "notify", "store")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def tracked_files() -> list[str]:
    """The repository's files, when this is a git checkout (an unpacked sdist is not)."""
    if not (ROOT / ".git").exists():
        return []
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as `python -m build` makes them (offline: --no-isolation)."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_sdist_holds_the_whole_project(dist: Path) -> None:
    (sdist,) = dist.glob("mailbox_intake-*.tar.gz")
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    for needed in (
        "tests/conftest.py",
        "tests/mediafactory.py",
        "tests/corpusdir.py",
        "tests/data/decode/mutt-gb18030.eml",
        "config.example.toml",
        "constraints.txt",
        "devservers/dovecot.py",
        "scripts/setup.sh",
        "deploy/intake.service",
        "docker-compose.yml",
        *(f"{package}/py.typed" for package in PACKAGES),
    ):
        assert needed in names, needed
    missing = sorted(set(tracked_files()) - names - {".gitignore"})
    assert not missing, f"tracked but not in the sdist: {missing}"
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


@pytest.mark.slow
def test_the_tests_run_from_the_unpacked_sdist(dist: Path, tmp_path: Path) -> None:
    (sdist,) = dist.glob("mailbox_intake-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    unpacked = tmp_path / sdist.name.removesuffix(".tar.gz")
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_config.py"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert re.search(r"^\d+ passed in ", ran.stdout.splitlines()[-1]), ran.stdout[-500:]
    assert "failed" not in ran.stdout.splitlines()[-1] and "error" not in ran.stdout.splitlines()[-1]


@pytest.mark.slow
def test_the_wheel_is_typed_and_holds_the_packages_only(dist: Path) -> None:
    (wheel,) = dist.glob("mailbox_intake-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for package in PACKAGES:
        assert f"{package}/py.typed" in names, package
    assert "notify/templates/rejection/body.txt" in names and "store/migrations/env.py" in names
    assert {name.split("/")[0] for name in names if not name.startswith("mailbox_intake-")} == set(PACKAGES)
    assert re.search(r"^Requires-Dist: tzdata>=", metadata, re.M), metadata


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: not a pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def test_constraints_pin_every_dependency_within_its_range() -> None:
    pins = _pins()
    project = PYPROJECT["project"]
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (spec, pins[name])
    assert canonicalize_name(project["name"]) not in pins
    assert "pip" not in pins


def test_setup_and_docker_install_with_the_constraints() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "pip install --disable-pip-version-check -c constraints.txt -e '.[dev]'" in setup
    assert "cat pyproject.toml constraints.txt | sha256sum" in setup  # a changed pin installs again
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = [line.split()[1:-1] for line in dockerfile.splitlines() if line.startswith("COPY ")]
    assert any("constraints.txt" in sources for sources in copied)
    assert "RUN pip install -c constraints.txt . " in dockerfile
    for sources in copied:
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_the_docker_healthcheck_runs_an_intake_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (line,) = [line for line in dockerfile.splitlines() if line.startswith("HEALTHCHECK ")]
    command = json.loads(line.split(" CMD ", 1)[1])
    assert command[0] == "intake", command
    result = CliRunner().invoke(cli, [*command[1:], "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output

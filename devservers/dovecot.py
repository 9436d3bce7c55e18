"""Run a real, throwaway Dovecot IMAP server (Debian's dovecot-imapd) in a folder of its own.

Used by the tests and the demo. Each instance has its own standalone config, passwd-file, maildirs,
self-signed certificate, runtime folder and log, so several can run at once. Run as root: Dovecot
drops to the stock ``dovecot``/``dovenull`` users and to uid/gid 5000 for the mail. No folder above
``base_dir`` needs to be open to those users (pytest's temporary folders are 0700): the auth
process reads the passwd-file as root, and the mail processes are chrooted into ``base_dir/mail``.

CLI (leaves Dovecot running in the background)::

    python -m devservers.dovecot start --dir DIR --user NAME:PASS [--user ...] [--profile coremail]
    python -m devservers.dovecot stop --dir DIR
    python -m devservers.dovecot append --dir DIR --user NAME [--folder F] FILE.eml...
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from imapclient import IMAPClient

HOST: Final = "127.0.0.1"
MAIL_UID: Final = 5000
MAIL_GID: Final = 5000
PROFILES: Final = ("coremail", "dovecot")
# What NetEase's Coremail (126.com / 163.com) advertises, limited to what Dovecot really implements:
# no IDLE, no MOVE, no CONDSTORE, but ID and UIDPLUS.
COREMAIL_CAPABILITY: Final = "IMAP4rev1 SPECIAL-USE ID LITERAL+ APPENDLIMIT=71680000 UIDPLUS SASL-IR"
COREMAIL_ID: Final = 'name "Coremail Imap" vendor "Coremail" support-email "kefu@188.com"'
# Coremail's own folder names; Dovecot creates them at first login.
COREMAIL_FOLDERS: Final = (
    ("草稿箱", "\\Drafts"),
    ("已发送", "\\Sent"),
    ("已删除", "\\Trash"),
    ("垃圾邮件", "\\Junk"),
)
STANDARD_FOLDERS: Final = (
    ("Drafts", "\\Drafts"),
    ("Sent", "\\Sent"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
)
MULTIAPPEND_BATCH: Final = 100
_START_ATTEMPTS: Final = 5
_APPENDUID: Final = re.compile(rb"\[APPENDUID \d+ ([0-9:,]+)\]")
# A Unix socket's path has at most 107 bytes; Dovecot's longest in its run folder is
# token-login/imap-urlauth. A base_dir deep enough to pass that gets a run folder in the temp folder.
_RUN_DIR_MAX_BYTES: Final = 107 - len("/token-login/imap-urlauth") - 8


class DovecotError(RuntimeError):
    """Dovecot could not be configured, started or stopped; the message quotes its own words."""


class Dovecot:
    """One running Dovecot instance and what a client needs to reach it."""

    def __init__(
        self,
        *,
        base_dir: Path,
        users: dict[str, str],
        host: str,
        port: int,
        ssl_port: int,
        profile: str,
    ) -> None:
        self.base_dir = base_dir
        self.host = host
        self.port = port
        self.ssl_port = ssl_port
        self.profile = profile
        self._users = dict(users)

    # ------------------------------------------------------------------ paths
    @property
    def conf_path(self) -> Path:
        return self.base_dir / "dovecot.conf"

    @property
    def passwd_path(self) -> Path:
        return self.base_dir / "users"

    @property
    def run_dir(self) -> Path:
        """``base_dir/run``, or a folder in the temp folder when that path is too long for its sockets."""
        beside = self.base_dir / "run"
        if len(os.fsencode(beside)) <= _RUN_DIR_MAX_BYTES:
            return beside
        digest = hashlib.sha256(os.fsencode(self.base_dir)).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"devservers-dovecot-{digest}"

    @property
    def pid_path(self) -> Path:
        return self.run_dir / "master.pid"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "dovecot.log"

    @property
    def cafile(self) -> Path:
        """The self-signed certificate of the IMAPS listener; trust it with ``ssl_context()``."""
        return self.base_dir / "tls" / "cert.pem"

    @property
    def state_path(self) -> Path:
        return self.base_dir / "state.json"

    @property
    def users(self) -> dict[str, str]:
        return dict(self._users)

    def mail_dir(self, user: str) -> Path:
        """The user's home; the Maildir is ``Maildir/`` inside it."""
        return self.base_dir / "mail" / user

    # -------------------------------------------------------------- lifecycle
    @classmethod
    def start(cls, *, base_dir: Path, users: dict[str, str], profile: str = "coremail") -> Dovecot:
        """Configure and start a new instance in ``base_dir``; return once both ports accept."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
        if os.geteuid() != 0:
            raise DovecotError("run as root: Dovecot switches to the dovecot/dovenull users and uid 5000")
        base_dir = base_dir.resolve()
        base_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("state", "tls"):
            (base_dir / sub).mkdir(mode=0o755, exist_ok=True)
        cls(base_dir=base_dir, users=users, host=HOST, port=0, ssl_port=0, profile=profile).run_dir.mkdir(
            mode=0o755, exist_ok=True
        )
        mail_root = base_dir / "mail"
        mail_root.mkdir(mode=0o755, exist_ok=True)
        os.chmod(mail_root, 0o755)
        _make_certificate(base_dir / "tls")
        last_error = ""
        for _ in range(_START_ATTEMPTS):
            port, ssl_port = _free_ports(2)
            server = cls(base_dir=base_dir, users=users, host=HOST, port=port, ssl_port=ssl_port, profile=profile)
            server._write_passwd()
            server.conf_path.write_text(server._config(), encoding="utf-8")
            try:
                server._launch()
            except DovecotError as error:
                last_error = str(error)
                if "in use" in last_error:  # another process took a port we picked: pick again
                    continue
                raise
            server._write_state()
            return server
        raise DovecotError(f"could not bind free ports after {_START_ATTEMPTS} attempts: {last_error}")

    @classmethod
    def attach(cls, *, base_dir: Path) -> Dovecot:
        """Return a handle on an instance started earlier in ``base_dir`` (e.g. by the CLI)."""
        base_dir = base_dir.resolve()
        state = json.loads((base_dir / "state.json").read_text(encoding="utf-8"))
        users: dict[str, str] = {}
        for line in (base_dir / "users").read_text(encoding="utf-8").splitlines():
            name, password = line.split(":")[:2]
            users[name] = password.removeprefix("{PLAIN}")
        return cls(
            base_dir=base_dir,
            users=users,
            host=str(state["host"]),
            port=int(state["port"]),
            ssl_port=int(state["ssl_port"]),
            profile=str(state.get("profile", "coremail")),
        )

    def stop(self, *, timeout: float = 20.0) -> None:
        """Stop the instance with ``doveadm stop`` and wait until its master process has exited."""
        pid = self.pid()
        if pid is None:
            return
        result = subprocess.run(
            [_binary("doveadm"), "-c", str(self.conf_path), "stop"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 and _alive(pid):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                raise DovecotError(f"dovecot (pid {pid}) did not stop within {timeout}s: {result.stderr}")
            time.sleep(0.05)

    def pid(self) -> int | None:
        """The master process id while the instance runs, else None."""
        try:
            pid = int(self.pid_path.read_text(encoding="ascii").strip())
        except (FileNotFoundError, ValueError):
            return None
        try:  # a stale pid file must not make us signal some other process that got the number
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return None
        return pid if b"dovecot" in command and _alive(pid) else None

    def __enter__(self) -> Dovecot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, password: str) -> None:
        """Add (or change) a user; returns once Dovecot's next login will see the change.

        Dovecot's passwd-file driver looks at the file at most once per second of its clock and
        reloads it when size or mtime (whole seconds) differ, so this gives the file a new mtime and
        then waits for the next second to begin (up to one second).
        """
        self._users[name] = password
        written_at = time.time()
        self._write_passwd()
        time.sleep(max(0.0, int(written_at) + 1 - time.time()) + 0.01)

    # ------------------------------------------------------------------- mail
    def client(self, user: str, *, use_ssl: bool = False) -> Any:
        """A logged-in ``IMAPClient`` for ``user``; the caller logs out."""
        if use_ssl:
            client: Any = IMAPClient(self.host, port=self.ssl_port, ssl=True, ssl_context=self.ssl_context())
        else:
            client = IMAPClient(self.host, port=self.port, ssl=False)
        client.login(user, self._users[user])
        return client

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this instance's certificate (valid for 127.0.0.1 and localhost)."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def append(
        self,
        user: str,
        raw: bytes,
        *,
        flags: Sequence[str] = (),
        folder: str = "INBOX",
        internaldate: dt.datetime | None = None,
    ) -> int:
        """APPEND one message as ``user``; return its UID (Dovecot answers with APPENDUID, RFC 4315).

        ``internaldate`` (aware) becomes the message's INTERNALDATE, when the server received it."""
        client = self.client(user)
        try:
            response = client.append(folder, raw, flags=tuple(flags), msg_time=internaldate)
        finally:
            client.logout()
        uids = _appended_uids(response)
        if len(uids) != 1:
            raise DovecotError(f"APPEND answered without one APPENDUID: {response!r}")
        return uids[0]

    def append_many(self, user: str, raws: Iterable[bytes], *, folder: str = "INBOX") -> list[int]:
        """APPEND many messages as ``user`` with MULTIAPPEND, 100 per command; return their UIDs.

        Dovecot always implements MULTIAPPEND (RFC 3502), even where the coremail profile does not
        advertise it, so imapclient's capability check is bypassed through ``__wrapped__``.
        """
        multiappend = IMAPClient.multiappend.__wrapped__
        uids: list[int] = []
        batch: list[bytes] = []
        client = self.client(user)
        try:
            for raw in raws:
                batch.append(raw)
                if len(batch) == MULTIAPPEND_BATCH:
                    uids += _checked_uids(multiappend(client, folder, batch), len(batch))
                    batch = []
            if batch:
                uids += _checked_uids(multiappend(client, folder, batch), len(batch))
        finally:
            client.logout()
        return uids

    def log_text(self) -> str:
        """Everything Dovecot has logged so far (including the clients' ID, see ``imap_id_log``)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def state(self) -> dict[str, object]:
        """What a client needs, as written to ``state.json`` and printed by the CLI."""
        return {
            "host": self.host,
            "port": self.port,
            "ssl_port": self.ssl_port,
            "cafile": str(self.cafile),
            "conf": str(self.conf_path),
            "profile": self.profile,
        }

    # -------------------------------------------------------------- internals
    def _write_passwd(self) -> None:
        lines = []
        for name, password in self._users.items():
            if not name or any(ch in name for ch in ":/\n") or any(ch in password for ch in ":\n"):
                raise ValueError(f"user name or password unusable in a passwd-file: {name!r}")
            home = self.mail_dir(name)
            home.mkdir(mode=0o700, exist_ok=True)
            os.chown(home, MAIL_UID, MAIL_GID)
            # "/./" puts the chroot there (mail_chroot): the mail processes need no access above it.
            chrooted = f"{home.parent}/./{home.name}"
            lines.append(f"{name}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_GID}::{chrooted}::\n")
        # Write beside and rename, so that Dovecot never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=self.base_dir, prefix=".users.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(lines)
        try:
            previous = int(self.passwd_path.stat().st_mtime)
        except FileNotFoundError:
            previous = 0
        mtime = max(int(time.time()), previous + 1)
        os.utime(tmp, (mtime, mtime))
        os.chown(tmp, 0, _dovecot_gid())
        os.chmod(tmp, 0o640)
        os.replace(tmp, self.passwd_path)

    def _config(self) -> str:
        folders = COREMAIL_FOLDERS if self.profile == "coremail" else STANDARD_FOLDERS
        mailboxes = "".join(
            f'  mailbox "{name}" {{\n    special_use = {use}\n    auto = subscribe\n  }}\n' for name, use in folders
        )
        capability = (
            f"imap_capability = {COREMAIL_CAPABILITY}\nimap_id_send = {COREMAIL_ID}\n"
            if self.profile == "coremail"
            else ""
        )
        tls = self.cafile.parent
        return f"""\
# Written by devservers.dovecot: a standalone, throwaway Dovecot (profile {self.profile}).
base_dir = {self.run_dir}
state_dir = {self.base_dir / "state"}
instance_name = intake-{self.port}
log_path = {self.log_path}
listen = {self.host}
protocols = imap
shutdown_clients = yes

default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {MAIL_UID}
last_valid_uid = {MAIL_UID}
first_valid_gid = {MAIL_GID}
last_valid_gid = {MAIL_GID}

ssl = yes
ssl_cert = <{tls / "cert.pem"}
ssl_key = <{tls / "key.pem"}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_verbose_passwords = no

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_path}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.passwd_path}
}}

mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}

imap_id_log = *
{capability}
valid_chroot_dirs = {self.base_dir / "mail"}
# The auth process reads the passwd-file here as root, whatever the modes of base_dir's parents.
service auth {{
  user = root
}}

service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.ssl_port}
    ssl = yes
  }}
}}
"""

    def _launch(self) -> None:
        with tempfile.TemporaryFile() as errors:
            # Dovecot daemonizes: its stderr goes to a file, not a pipe that the daemon would hold open.
            result = subprocess.run(
                [_binary("dovecot"), "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=errors,
                stderr=errors,
                check=False,
            )
            errors.seek(0)
            said = errors.read().decode("utf-8", errors="replace").strip()
        if result.returncode != 0:
            raise DovecotError(f"dovecot -c {self.conf_path} exited {result.returncode}: {said}\n{self.log_text()}")
        deadline = time.monotonic() + 15.0
        pending = [self.port, self.ssl_port]
        while pending:
            if _accepts(self.host, pending[0]):
                pending.pop(0)
                continue
            if time.monotonic() > deadline or (self.pid() is None and self.pid_path.exists()):
                self.stop()
                raise DovecotError(f"dovecot did not accept on port {pending[0]}:\n{self.log_text()}")
            time.sleep(0.02)

    def _write_state(self) -> None:
        self.state_path.write_text(json.dumps(self.state(), indent=2) + "\n", encoding="utf-8")


def _appended_uids(response: object) -> list[int]:
    """The UIDs in an APPENDUID response code (RFC 4315), e.g. ``[APPENDUID 17 4:6]`` -> [4, 5, 6]."""
    text = response if isinstance(response, bytes) else str(response).encode()
    match = _APPENDUID.search(text)
    if match is None:
        return []
    uids: list[int] = []
    for part in match.group(1).split(b","):
        first, _, last = part.partition(b":")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids


def _checked_uids(response: object, count: int) -> list[int]:
    uids = _appended_uids(response)
    if len(uids) != count:
        raise DovecotError(f"MULTIAPPEND of {count} messages answered {response!r}")
    return uids


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise DovecotError(f"{name} not found: install dovecot-imapd (scripts/setup.sh)")
    return found


def _dovecot_gid() -> int:
    import grp

    try:
        return grp.getgrnam("dovecot").gr_gid
    except KeyError as error:
        raise DovecotError("group 'dovecot' missing: install dovecot-imapd (scripts/setup.sh)") from error


def _make_certificate(folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost, made once per folder."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists() and key.exists():
        return
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "3650", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )  # fmt: skip
    os.chmod(key, 0o600)
    os.chmod(cert, 0o644)


def _free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now (held together so that they differ)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie nobody has reaped yet counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def main(argv: Sequence[str] | None = None) -> int:
    """``start`` or ``stop`` an instance in a folder; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m devservers.dovecot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start Dovecot in DIR, print its state as JSON")
    start.add_argument("--dir", type=Path, required=True)
    start.add_argument("--user", action="append", default=[], metavar="NAME:PASS", required=True)
    start.add_argument("--profile", choices=PROFILES, default="coremail")
    stop = commands.add_parser("stop", help="stop the Dovecot started in DIR")
    stop.add_argument("--dir", type=Path, required=True)
    append = commands.add_parser("append", help="put .eml files into a user's folder of the Dovecot running in DIR")
    append.add_argument("--dir", type=Path, required=True)
    append.add_argument("--user", required=True, metavar="NAME")
    append.add_argument("--folder", default="INBOX")
    append.add_argument("files", nargs="+", type=Path, metavar="FILE.eml")
    args = parser.parse_args(argv)

    if args.command == "start":
        users: dict[str, str] = {}
        for item in args.user:
            name, sep, password = str(item).partition(":")
            if not sep:
                parser.error(f"--user wants NAME:PASS, got {item!r}")
            users[name] = password
        server = Dovecot.start(base_dir=args.dir, users=users, profile=args.profile)
        print(json.dumps(server.state()))
        return 0
    state_file = Path(args.dir) / "state.json"
    if not state_file.exists():
        print(f"no Dovecot state in {args.dir}", file=sys.stderr)
        return 1
    if args.command == "append":
        running = Dovecot.attach(base_dir=args.dir)
        if running.pid() is None:
            print(f"the Dovecot of {args.dir} is not running", file=sys.stderr)
            return 1
        if args.user not in running.users:
            print(f"no user {args.user!r} in {args.dir} (users: {', '.join(sorted(running.users))})", file=sys.stderr)
            return 1
        raws = [path.read_bytes() for path in args.files]
        uids = running.append_many(args.user, raws, folder=args.folder)
        for uid, path in zip(uids, args.files, strict=True):
            print(f"UID {uid}: {path} ({path.stat().st_size:,} bytes) in {args.user}'s {args.folder}")
        return 0
    server = Dovecot.attach(base_dir=args.dir)
    pid = server.pid()
    server.stop()
    if pid is not None:
        print(f"stopped Dovecot (pid {pid})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

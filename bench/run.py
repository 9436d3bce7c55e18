"""Benchmark the intake against the project's own Dovecot and SMTP sink, in one run.

    .venv/bin/python -m bench [--db postgresql://postgres@127.0.0.1:5432/test] [--json | --out FILE]

Seeds Dovecot (MULTIAPPEND) and measures, each against a fresh database: the throughput of one
poll over 230 KB and 10 KB reports next to a floor (the same fetch with only sha256 and an fsync'd
write per message), the latency from APPEND to acknowledgement of a running `intake run`, the peak
memory of `intake poll --once` and `intake import` on a 135 MiB message, and optionally a profile.
What each figure means: bench/README.md. Run as root (Dovecot), from the clone.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import platform
import random
import secrets
import shutil
import signal
import tempfile
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, NoReturn

from sqlalchemy import select

from bench import mail, measure
from bench.env import PASSWORD_ENV, Databases, say, write_config
from devservers.dovecot import PROFILES, Dovecot
from devservers.smtpsink import SmtpSink
from intake.config import load
from store.db import make_engine
from store.models import Message

SMALL_TARGET: Final = 500.0  # msg/s for the 10 KB reports on SQLite
MIB: Final = 1024 * 1024
USERS: Final = ("large", "small", "profile", "idle", "memory")
Config = Callable[..., Path]  # (name, user, **write_config options) -> a configuration on a fresh database


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite", help="sqlite (default), or a PostgreSQL URL: throwaway databases")
    parser.add_argument("--reports", type=int, default=400, help="230 KB reports (default 400; 0 skips)")
    parser.add_argument("--small", type=int, default=1000, help="10 KB reports (default 1000; 0 skips)")
    parser.add_argument(
        "--judge-processes",
        type=int,
        default=None,
        metavar="N",
        help="[service] judge_processes for the throughput runs (default: the service's own choice)",
    )
    parser.add_argument("--skip-idle", action="store_true", help="no IDLE latency measurement")
    parser.add_argument("--idle-reports", type=int, default=10, help="reports delivered one at a time (default 10)")
    parser.add_argument("--idle-timeout", type=float, default=20.0, help="seconds to wait for each ack (default 20)")
    parser.add_argument(
        "--idle-poll-seconds",
        type=int,
        default=3600,
        help="poll_seconds of the running service (default 3600: only IDLE can be quick); a small value "
        "(at least 10) measures the polling instead",
    )
    parser.add_argument("--skip-memory", action="store_true", help="no peak-memory measurement (135 MiB message)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile a poll over N 230 KB reports")
    parser.add_argument(
        "--imap-profile",
        choices=PROFILES,
        default="dovecot",
        help="Dovecot's capabilities: dovecot (default: IDLE advertised) or coremail (126.com's: no IDLE)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the results as JSON on stdout (no table)")
    output.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (its path is printed)")
    args = parser.parse_args(argv)
    for name in ("reports", "small", "idle_reports", "profile"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    if args.idle_poll_seconds < 10:
        parser.error("--idle-poll-seconds must be at least 10 (the configuration's minimum)")
    return args


def _interrupt(signum: int, frame: types.FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # cleaned up as on Ctrl-C
    try:
        results = run(args)
    except KeyboardInterrupt:
        say("interrupted: servers stopped, temporary files and databases removed")
        return 130
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    print(table(results))
    for sort in ("cumulative", "tottime"):
        text = results.get("profile", {}).get(sort)
        if text:
            print(f"\nprofile of a poll over {results['profile']['messages']} reports, top 15 by {sort}:\n{text}")
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        say(f"results written to {args.out}")
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "setup": {
            "db": "sqlite" if args.db == "sqlite" else "postgresql",
            "imap_profile": args.imap_profile,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
    }
    with contextlib.ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
        if args.keep:
            say(f"work folder (kept): {work}")
        else:
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        password = secrets.token_urlsafe(12)
        os.environ[PASSWORD_ENV] = password  # the children (intake run, poll, import) inherit it
        dovecot = Dovecot.start(
            base_dir=work / "dovecot", users=dict.fromkeys(USERS, password), profile=args.imap_profile
        )
        stack.callback(dovecot.stop)
        sink = SmtpSink.start()
        stack.callback(sink.stop)
        dbs = Databases(args.db, work=work)
        stack.callback(dbs.close)
        say(f"Dovecot on {dovecot.host}:{dovecot.port} ({args.imap_profile}), SMTP sink on port {sink.port}, {work}")
        rng = random.Random(20200626)

        def config(name: str, user: str, **extra: Any) -> Path:
            if args.judge_processes is not None:
                extra.setdefault("judge_processes", args.judge_processes)
            return write_config(
                work / f"{name}.toml", db_url=dbs.fresh(name), dovecot=dovecot, smtp=sink, user=user, **extra
            )

        large: list[bytes] = []
        if args.reports or args.profile:
            say(f"building {max(args.reports, args.profile)} reports of about 230 KB")
            large = [mail.large_report(i, rng) for i in range(max(args.reports, args.profile))]
        if args.reports:
            results["large"] = throughput("large", large[: args.reports], dovecot, work, config)
        if args.small:
            say(f"building {args.small} reports of about 10 KB")
            small = [mail.small_report(i) for i in range(args.small)]
            results["small"] = throughput("small", small, dovecot, work, config)
        if args.profile:
            seeded = mail.seed(dovecot, "profile", large[: args.profile])
            say(f"profile: seeded {seeded.messages}; polling under cProfile")
            profile = cProfile.Profile()
            polled = measure.intake_poll(config("profile", "profile"), size=seeded.bytes, profile=profile)
            results["profile"] = {
                "messages": polled.poll.messages,
                "seconds": round(polled.poll.seconds, 3),
                "cumulative": measure.profile_text(profile, "cumulative"),
                "tottime": measure.profile_text(profile, "tottime"),
            }
        del large
        if not args.skip_idle and args.idle_reports:
            say(f"idle: starting `intake run` (poll_seconds = {args.idle_poll_seconds})")
            latency = measure.idle_latency(
                config=config("idle", "idle", poll_seconds=args.idle_poll_seconds),
                dovecot=dovecot,
                sink=sink,
                user="idle",
                reports=[mail.idle_report(i, rng) for i in range(args.idle_reports)],
                timeout=args.idle_timeout,
                poll_seconds=args.idle_poll_seconds,
                log=work / "idle.log",
            )
            results["idle"] = latency.as_json()
        if not args.skip_memory:
            results["memory"] = memory(dovecot, work, config)
    return results


def throughput(name: str, raws: list[bytes], dovecot: Dovecot, work: Path, config: Config) -> dict[str, Any]:
    """Seed, the floor, then one intake poll of the same mailbox (fresh database)."""
    seeded = mail.seed(dovecot, name, raws)
    say(
        f"{name}: seeded {seeded.messages} messages ({seeded.bytes / 1e6:.1f} MB, "
        f"{seeded.bytes / seeded.messages / 1024:.0f} KiB each) with {seeded.method} in {seeded.seconds:.1f} s"
    )
    os.sync()  # what earlier steps left dirty is not flushed inside a timed run (each one fsyncs)
    low = measure.floor(dovecot, name, work / f"floor-{name}")
    say(f"{name}: floor {low.seconds:.2f} s ({low.rate:.0f} msg/s)")
    cfg = config(name, name)
    os.sync()
    polled = measure.intake_poll(cfg, size=seeded.bytes)
    say(f"{name}: intake {polled.poll.seconds:.2f} s ({polled.poll.rate:.0f} msg/s), {polled.statuses}")
    if polled.poll.messages != seeded.messages or low.messages != seeded.messages:
        say(f"{name}: WARNING: seeded {seeded.messages}, floor {low.messages}, intake {polled.poll.messages}")
    return {
        "seed": seeded.as_json(),
        "floor": low.as_json(),
        "intake": polled.as_json(),
        "ratio": round(polled.poll.seconds / low.seconds, 2) if low.seconds else None,
    }


def memory(dovecot: Dovecot, work: Path, config: Config) -> dict[str, Any]:
    """Peak RSS of `intake poll --once` and of `intake import FILE` on one 135 MiB message, each in a
    fresh child, less the peak RSS of `intake --version`."""
    folder = work / "memory"
    folder.mkdir()
    say("memory: making a 3-minute MP4 with ffmpeg, padded to 100 MiB")
    video = mail.padded_mp4(folder)
    raw = mail.video_work(video)
    eml = folder / "work.eml"
    eml.write_bytes(raw)
    video.unlink()
    seeded = mail.seed(dovecot, "memory", [raw])
    size = len(raw)
    del raw
    say(f"memory: seeded one message of {size / MIB:.1f} MiB")
    log = work / "memory.log"
    baseline = measure.run_measured(measure.intake_command(None, "--version"), log=log)
    out: dict[str, Any] = {
        "message_bytes": size,
        "attachment": "a real MP4 (ffmpeg: 3 min, 1280x720 H.264 1 fps, AAC) padded to 100 MiB with a `free` box "
        "of random bytes",
        "seed_method": seeded.method,
        "baseline_rss_bytes": baseline.peak_rss,
    }
    for what, args in (
        ("poll", ("poll", "--once")),
        ("import", ("import", "--mailbox", "reports", str(eml))),
    ):
        cfg = config(f"memory-{what}", "memory", kind="micro-video", max_message_bytes=256 * MIB)
        say(f"memory: intake {' '.join(args[:2])} …")
        child = measure.run_measured(measure.intake_command(cfg, *args), log=log)
        engine = make_engine(str(load(cfg).store.url))
        try:
            with engine.connect() as conn:
                statuses = [str(s.value) for s in conn.scalars(select(Message.status))]
        finally:
            engine.dispose()
        over = child.peak_rss - baseline.peak_rss
        out[what] = {
            "returncode": child.returncode,
            "seconds": round(child.seconds, 2),
            "peak_rss_bytes": child.peak_rss,
            "over_baseline_bytes": over,
            "multiple_of_message": round(over / size, 2),
            "statuses": statuses,
        }
        say(f"memory: {what}: peak {child.peak_rss / MIB:.0f} MiB, {over / size:.2f}x the message, {statuses}")
    return out


# ------------------------------------------------------------------------------------------ table
def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = [("figure", "intake", "floor", "ratio", "target")]
    for key, label in (("large", "230 KB reports"), ("small", "10 KB reports")):
        r = results.get(key)
        if r is None:
            continue
        i, f = r["intake"], r["floor"]
        target = ""
        if key == "small":
            met = i["msg_per_s"] >= SMALL_TARGET
            target = f">= {SMALL_TARGET:.0f} msg/s ({'met' if met else 'NOT met'})"
            if results["setup"]["db"] != "sqlite":
                target = f">= {SMALL_TARGET:.0f} msg/s on SQLite"
        mb = r["seed"]["bytes"] / 1e6
        rows.append((f"{label}: poll of {r['seed']['messages']} ({mb:.0f} MB)", _s(i), _s(f), f"{r['ratio']}x", ""))
        rows.append((f"{label}: rate", _rate(i), _rate(f), "", target))
        rows.append((f"{label}: verdicts", _counts(i["statuses"]), "", "", ""))
        rows.append(
            (f"{label}: replies sent after", f"{i['replies_sent']} in {i['replies_seconds']:.2f} s", "", "", "")
        )
    idle = results.get("idle")
    if idle is not None:
        how = f"poll_seconds {idle['poll_seconds']}"
        if idle["acknowledged"]:
            rows.append((f"APPEND -> ack, median ({how})", f"{idle['median_s']:.2f} s", "", "", ""))
            rows.append(
                (f"APPEND -> ack, max of {idle['acknowledged']}", f"{idle['max_s']:.2f} s", "", "", ""),
            )
        if idle["no_ack"]:
            rows.append(
                (
                    f"APPEND -> ack ({how})",
                    f"no ack within {idle['timeout_s']:.0f} s ({len(idle['no_ack'])} of {idle['delivered']})",
                    "",
                    "",
                    "",
                )
            )
    memory = results.get("memory")
    if memory is not None:
        size = memory["message_bytes"] / MIB
        rows.append(
            ("memory: baseline (intake --version)", f"{memory['baseline_rss_bytes'] / MIB:.0f} MiB", "", "", "")
        )
        for what, label in (("poll", "poll --once"), ("import", "import FILE")):
            m = memory[what]
            rows.append(
                (
                    f"memory: {label}, {size:.0f} MiB message",
                    f"{m['peak_rss_bytes'] / MIB:.0f} MiB peak, +{m['over_baseline_bytes'] / MIB:.0f} MiB "
                    f"= {m['multiple_of_message']}x the message",
                    "",
                    "",
                    "",
                )
            )
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    lines = [
        f"intake benchmark: database {results['setup']['db']}, Dovecot profile {results['setup']['imap_profile']}, "
        f"{results['setup']['cpus']} CPUs, Python {results['setup']['python']}",
        "",
    ]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _s(t: dict[str, Any]) -> str:
    return f"{t['seconds']:.2f} s"


def _rate(t: dict[str, Any]) -> str:
    return f"{t['msg_per_s']:.0f} msg/s, {t['mb_per_s']:.1f} MB/s"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"

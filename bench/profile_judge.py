"""Profile: the judging path alone (store_raw, then process), without IMAP or SMTP, under cProfile.

Run on demand, never in the test suite:

    .venv/bin/python bench/profile_judge.py --case photos --messages 200 [--top 30] [--no-profile]
    .venv/bin/python bench/profile_judge.py --case text --messages 500

`photos`: offline-activity reports of about 230 KB, one camera-sized JPEG each; `text`: reports of
about 10 KB of text and no file. Prints the time per message and the profile's top entries by
cumulative and by total time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.env import write_config
from devservers import samples
from devservers.roster import UNITS as ROSTER_UNITS
from intake.app import App
from intake.config import load
from store.db import make_engine
from store.migrate import upgrade

UNITS = ROSTER_UNITS[:4]  # the units with a quota


def photo(seed: int, *, width: int = 1600, height: int = 1200) -> bytes:
    """A camera-like JPEG of about 200 KB, with EXIF (date, make, model)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = (x0, y0, x0 + rng.randrange(40, width // 2), y0 + rng.randrange(40, height // 2))
        draw.ellipse(box, fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = image.filter(ImageFilter.GaussianBlur(3))
    image = Image.blend(image, Image.effect_noise((width, height), 36).convert("RGB"), 0.12)
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"
    exif[0x0110] = "ELE-AL00"
    exif[0x8769] = {0x9003: "2025:06:20 10:00:00"}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75, exif=exif)
    return out.getvalue()


def messages(case: str, count: int, *, seed: int = 0) -> list[bytes]:
    clients = samples.CLIENTS
    if case == "photos":
        base = photo(seed)
        raws = []
        original = samples.jpeg
        try:
            for i in range(count):
                # distinct bytes per photo (never a duplicate), the same decoding cost: a comment segment
                jpeg = base[:2] + b"\xff\xfe\x00\x10" + i.to_bytes(14, "big") + base[2:]
                samples.jpeg = lambda jpeg=jpeg, **_: jpeg
                raws.append(
                    samples.offline_report(
                        unit=UNITS[i % 4], sender=f"u{i}@163.com", photos=1, client=clients[i % len(clients)]
                    )
                )
        finally:
            samples.jpeg = original
        return raws
    text = "".join(
        f"第{n}项：{UNITS[n % 4]}组织职工参加“网聚职工正能量·争做中国好网民”主题活动，参加职工{80 + n}人。\n"
        for n in range(28)
    )
    return [
        samples.offline_report(
            unit=UNITS[i % 4],
            sender=f"u{i}@163.com",
            photos=0,
            description=text,
            client=clients[i % len(clients)],
        )
        for i in range(count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=("photos", "text"), default="photos")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="time only")
    parser.add_argument("--dump", help="write the raw profile here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="intake-profile-"))
    os.chdir(work)
    url = f"sqlite:///{work / 'intake.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    servers = SimpleNamespace(host="127.0.0.1", port=1)
    os.environ["INTAKE_TEST_IMAP_PASSWORD"] = "unused"
    config = write_config(
        work / "config.toml", db_url=url, dovecot=cast(Any, servers), smtp=cast(Any, servers), user="bench"
    )
    app = App.build(load(config))
    raws = messages(args.case, args.messages)
    size = sum(len(r) for r in raws)
    print(f"{len(raws)} messages, {size / len(raws) / 1024:.0f} KB each")

    # one message first, outside the measurement (imports, first template compile)
    warm = app.pipeline.store_raw(mailbox="reports", uidvalidity=2, uid=1, raw=messages(args.case, 1, seed=1)[0])
    assert warm is not None
    app.pipeline.process(warm)

    profiler = cProfile.Profile()
    statuses: dict[str, int] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    if not args.no_profile:
        profiler.enable()
    for uid, raw in enumerate(raws, start=1):
        message_id = app.pipeline.store_raw(mailbox="reports", uidvalidity=1, uid=uid, raw=raw)
        assert message_id is not None
        status = app.pipeline.process(message_id)
        statuses[status.value] = statuses.get(status.value, 0) + 1
    if not args.no_profile:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    app.engine.dispose()
    print(f"cpu {cpu:.2f} s, {cpu / len(raws) * 1000:.2f} ms/message; ", end="")
    print(f"{elapsed:.2f} s, {elapsed / len(raws) * 1000:.2f} ms/message, {len(raws) / elapsed:.0f} msg/s; {statuses}")
    if not args.no_profile:
        if args.dump:
            profiler.dump_stats(args.dump)
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

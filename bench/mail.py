"""The benchmark's messages and how they get into Dovecot (MULTIAPPEND, else one APPEND each)."""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any, Final

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from PIL import Image

from bench.env import MAILBOX_ADDRESS
from devservers import samples
from devservers.dovecot import Dovecot
from devservers.roster import UNITS

CHINA: Final = timezone(timedelta(hours=8))
MULTIAPPEND_BATCH: Final = 100
# A noise JPEG at quality 75 takes about 0.61 bytes a pixel; 640x430 is about 169 KB, which base64
# (76-character lines) makes about 231 KB, plus headers and text: the 230 KB of a report.
REPORT_PHOTO: Final = (640, 430)
VIDEO_BYTES: Final = 100 * 1024 * 1024


def noise_jpeg(rng: random.Random, size: tuple[int, int] = REPORT_PHOTO) -> bytes:
    """A real JPEG of random pixels: different for every message, and nearly incompressible."""
    width, height = size
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    return out.getvalue()


def _message(*, unit: str, sender: str, subject: str, text: str, when: datetime) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = formataddr((unit, sender))
    msg["To"] = MAILBOX_ADDRESS
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sender.partition("@")[2])
    msg["X-Mailer"] = "Foxmail 7.2.19.158[cn]"
    msg.set_content(text, charset="utf-8", cte="base64")
    return msg


def large_report(index: int, rng: random.Random, *, prefix: str = "r") -> bytes:
    """An offline-activity report of about 230 KB: `<unit>线下活动汇总`, a short text, one noise JPEG."""
    unit = UNITS[index % len(UNITS)]
    when = datetime.now(CHINA)
    msg = _message(
        unit=unit,
        sender=f"{prefix}{index}@163.com",
        subject=f"{unit}线下活动汇总",
        text=(
            f"{when.month}月{max(when.day - 3, 1)}日，{unit}组织开展“网聚职工正能量·争做中国好网民”主题线下活动，"
            f"参加职工{80 + rng.randrange(100)}人。现将活动图片及简要说明报送如下，请查收。"
        ),
        when=when,
    )
    msg.add_attachment(noise_jpeg(rng), maintype="image", subtype="jpeg", filename=f"活动照片{index + 1}.jpg")
    return msg.as_bytes()


def small_report(index: int) -> bytes:
    """An offline-activity report of about 10 KB as the mail clients of devservers.samples write it:
    one small real picture (320x240) and a short text."""
    unit = UNITS[index % len(UNITS)]
    client = samples.CLIENTS[index % len(samples.CLIENTS)]
    return samples.offline_report(unit=unit, sender=f"s{index}@163.com", photos=1, client=client)


def idle_report(index: int, rng: random.Random) -> tuple[str, bytes]:
    """A 230 KB report from a sender of its own (the acknowledgement is matched by its recipient)."""
    raw = large_report(index, rng, prefix="idle")
    return f"idle{index}@163.com", raw


def padded_mp4(folder: Path) -> Path:
    """A real MP4 made by ffmpeg (3 minutes, 1280x720 H.264 at 1 fps, AAC tone: what the micro-video
    rules ask for), padded to exactly 100 MiB by an ISO BMFF `free` box of random bytes at its end."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg not found: run scripts/setup.sh")
    path = folder / "作品.mp4"
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=1",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", "180", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(path),
        ],
        stdin=subprocess.DEVNULL,
        check=True,
    )  # fmt: skip
    pad = VIDEO_BYTES - path.stat().st_size
    if pad < 8:
        raise RuntimeError(f"the MP4 made by ffmpeg is already {path.stat().st_size} bytes")
    with path.open("ab") as out:
        out.write(struct.pack(">I4s", pad, b"free"))
        left = pad - 8
        while left:
            chunk = os.urandom(min(left, 8 * 1024 * 1024))
            out.write(chunk)
            left -= len(chunk)
    return path


def video_work(video: Path) -> bytes:
    """A micro-video submission (`<unit>《作品名》`) with the 100 MiB MP4 attached: about 135 MiB raw."""
    unit = UNITS[0]
    msg = _message(
        unit=unit,
        sender="video@163.com",
        subject=f"{unit}《劳动者之歌》",
        text=f"{unit}报送微视频作品《劳动者之歌》，时长3分钟，请查收。",
        when=datetime.now(CHINA),
    )
    msg.add_attachment(video.read_bytes(), maintype="video", subtype="mp4", filename=video.name)
    return msg.as_bytes()


@dataclass(frozen=True, kw_only=True)
class Seeded:
    messages: int
    bytes: int
    seconds: float
    method: str  # "MULTIAPPEND" or "APPEND"

    def as_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "method": self.method,
        }


def seed(dovecot: Dovecot, user: str, raws: Sequence[bytes]) -> Seeded:
    """Put raws into the user's INBOX with MULTIAPPEND (RFC 3502), 100 per command; one APPEND per
    message only when the server refuses MULTIAPPEND.

    Dovecot always implements MULTIAPPEND, also where its coremail profile does not advertise it, so
    imapclient's capability check is passed by (as devservers.dovecot.append_many does)."""
    start = time.perf_counter()
    client: Any = dovecot.client(user)
    method = "MULTIAPPEND"
    try:
        multiappend = IMAPClient.multiappend.__wrapped__
        done = 0
        while done < len(raws):
            batch = list(raws[done : done + MULTIAPPEND_BATCH])
            if method == "MULTIAPPEND":
                try:
                    multiappend(client, "INBOX", batch)
                except IMAPClientError:
                    if done:  # the server took MULTIAPPEND before: this is no refusal of the command
                        raise
                    method = "APPEND"
            if method == "APPEND":
                for raw in batch:
                    client.append("INBOX", raw)
            done += len(batch)
        count = int(client.select_folder("INBOX", readonly=True)[b"EXISTS"])
    finally:
        client.logout()
    if count < len(raws):
        raise RuntimeError(f"{user}: {count} messages in INBOX after appending {len(raws)}")
    return Seeded(messages=len(raws), bytes=sum(map(len, raws)), seconds=time.perf_counter() - start, method=method)

"""How loud a file's sound is at its loudest: ffmpeg's volumedetect over the first sound track."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

TIMEOUT_SECONDS = 120.0  # decoding the sound of a 10-minute video takes a few seconds
_MAX_VOLUME = re.compile(r"max_volume:\s*(-?(?:\d+(?:\.\d+)?|inf))\s*dB")


def max_volume_db(path: Path, *, timeout: float = TIMEOUT_SECONDS) -> float | None:
    """The loudest moment of the first sound track in dB below full scale (-91 for digital silence).

    None when ffmpeg is not installed, fails, or takes longer than `timeout`: loudness is a remark
    for the hosts, never a reason to reject, so a measurement that cannot be made is left out.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    command = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-i",
        f"file:{path.resolve()}",  # never read as a URL or another protocol
        "-map",
        "0:a:0",
        "-af",
        "volumedetect",
        "-f",
        "null",
        "-",
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    found = _MAX_VOLUME.findall(done.stderr.decode("utf-8", "replace"))
    if not found:
        return None
    value = found[-1]
    return -91.0 if value == "-inf" else float(value)

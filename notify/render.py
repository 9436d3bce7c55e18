"""Render an email from its template folder: subject.txt, body.txt and body.html, in Chinese."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from notify.safe import clean_header

TEMPLATE_NAMES = ("acknowledgement", "rejection", "correction", "digest")


@dataclass(frozen=True, kw_only=True)
class Rendered:
    subject: str
    text: str
    html: str


def filesize(value: int) -> str:
    """A byte count as people read it: 512 B, 5.9 KB, 1.2 MB."""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


class Renderer:
    """Templates from the package, overridable file by file from a folder named in the config."""

    def __init__(self, *, override_dir: Path | None = None) -> None:
        loaders: list[Any] = []
        if override_dir is not None:
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(PackageLoader("notify", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html")),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # each template is compiled once and kept; only an admin's folder is looked at again for
            # edits (the package's own templates cannot change while the service runs)
            auto_reload=override_dir is not None,
        )
        self.env.filters["filesize"] = filesize

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        subject = self.env.get_template(f"{name}/subject.txt").render(context)
        return Rendered(
            subject=clean_header(subject, max_chars=250),
            text=self.env.get_template(f"{name}/body.txt").render(context),
            html=self.env.get_template(f"{name}/body.html").render(context),
        )

"""What the terminal shows: tables padded by display width (CJK is two columns) and progress on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import click
from wcwidth import wcswidth

T = TypeVar("T")


def width(text: str) -> int:
    """Columns a terminal gives text: 2 for each CJK character, 0 for combining marks."""
    columns = wcswidth(text)
    return columns if columns >= 0 else len(text)  # a control character: shown by its length


def pad(text: str, columns: int, *, right: bool = False) -> str:
    """text filled with spaces to columns on the terminal (never cut)."""
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def table(rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> list[str]:
    """Lines whose columns line up on the terminal; the last column is not padded."""
    if not rows:
        return []
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell if i == len(row) - 1 else pad(cell, widths[i], right=i in right) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


@contextmanager
def progress(items: Sequence[T], *, label: str) -> Iterator[Iterable[T]]:
    """A progress bar on stderr while items are worked through, only when stderr is a terminal."""
    if not sys.stderr.isatty() or len(items) < 2:
        yield items
        return
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True, show_eta=True) as bar:
        yield bar

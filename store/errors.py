"""One-line descriptions of failures: what went wrong and where, for logs, the CLI and the mailbox state."""

from __future__ import annotations

import errno
import ssl

WHAT = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "not a folder",
    errno.EISDIR: "is a folder",
}


def one_line(exc: BaseException) -> str:
    """`disk full writing /var/x` for file errors, `TypeName: text` for the rest; never more than a line."""
    if isinstance(exc, OSError) and exc.errno in WHAT and exc.filename is not None:
        text = (
            f"{WHAT[exc.errno]} writing {exc.filename}"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else (f"{WHAT[exc.errno]}: {exc.filename}")
        )
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT) and not isinstance(exc, ssl.SSLError):
        text = WHAT[exc.errno]
    else:
        detail = str(exc).strip() or exc.__class__.__doc__ or ""
        text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return " ".join(text.split())[:500]

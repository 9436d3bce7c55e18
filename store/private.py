"""Files and folders the service writes are its owner's only: 0600 files, 0700 folders, whatever the umask.

They hold senders' addresses, mail and files (the blobs, the digest preview, the export); the umask of
a shell or a unit file is commonly 022, under which they would be readable by every local user.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

FILE_MODE, FOLDER_MODE = 0o600, 0o700


def private_folder(path: Path) -> None:
    """Make path and any missing parent with mode 0700; folders that exist are left as they are."""
    missing: list[Path] = []
    at = path
    while not at.is_dir():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():  # a file where a folder should be: named as mkdir -p names it
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
            continue
        os.chmod(folder, FOLDER_MODE)  # the umask is not consulted


def create_private(path: Path) -> int:
    """Create path as a new, empty 0600 file (its missing folders 0700) and return its open descriptor
    for writing; FileExistsError when path exists (nothing is overwritten)."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # the umask is not consulted
    return fd


def make_private(path: Path) -> None:
    """Give a regular file mode 0600 (a device such as /dev/null is left alone)."""
    if stat.S_ISREG(os.stat(path).st_mode):
        os.chmod(path, FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write data to path as a 0600 file (an existing regular file is narrowed to 0600 too)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, FILE_MODE)
        out.write(data)

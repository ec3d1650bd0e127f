"""Files the server writes keep the owner of the data directory, whoever runs the command.

An administrator who runs ``doorstep rotate-kek`` in a root shell would otherwise leave ``kek.json`` owned by root,
and the server, running as its own user, could no longer read its keys (every case read answered 500). Run as the
data directory's owner, this changes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["keep_owner"]


def keep_owner(fd: int, path: Path) -> None:
    """Give the file open as ``fd`` the owner of ``path`` (or, for a new file, of its directory)."""
    if os.geteuid() != 0:
        return
    try:
        owner = path.stat()
    except FileNotFoundError:
        owner = path.parent.stat()
    os.fchown(fd, owner.st_uid, owner.st_gid)

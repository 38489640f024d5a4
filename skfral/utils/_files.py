"""File-system helpers shared by the writers (no heavy imports)."""

import os


def fsync_dir(folder):
    """Flush a folder's entries (a rename into it) to disk, where supported.

    Best effort: a platform or file system that cannot open or sync a folder
    (e.g. Windows) is skipped silently.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)

"""Which students' progress changed: a change feed from the file system, not a poll.

Every save a tutor makes writes its student's database (its `-wal` file, in WAL mode),
and the kernel tells whoever watches the directory (inotify, through `watchfiles`). So
the dashboard learns about a student's answer a moment after it is saved, and between
answers it does nothing: its cost grows with the answers given, not with the size of the
class. Where the file system gives no notifications, watchfiles polls, and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from ..progress import DATABASE, STUDENTS
from .classroom import SHARED


def store_of(data_dir: Path, path: str) -> str | None:
    """The store a changed file belongs to: a student's name, SHARED, or None. Only the
    database and its write-ahead log count: a save writes the log (a checkpoint, the
    database)."""
    try:
        parts = Path(path).relative_to(data_dir).parts
    except ValueError:
        return None
    if not parts or parts[-1] not in (DATABASE, f"{DATABASE}-wal"):
        return None  # not -shm: every reader writes to it (and closing it is an event)
    if len(parts) == 1:
        return SHARED
    if len(parts) == 3 and parts[0] == STUDENTS:
        return parts[1]
    return None


async def changes(data_dir: Path, stop=None) -> AsyncIterator[set[str]]:
    """Sets of stores that changed, as they change (until `stop`, an asyncio.Event, is set)."""
    from watchfiles import awatch

    def progress_file(_change, path: str) -> bool:
        return store_of(data_dir, path) is not None

    async for batch in awatch(
        data_dir, watch_filter=progress_file, debounce=500, step=50, stop_event=stop, recursive=True
    ):
        yield {key for _change, path in batch if (key := store_of(data_dir, path)) is not None}

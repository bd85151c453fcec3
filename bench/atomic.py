"""Atomic file writes: a temp file beside the target, then a rename, so readers never see half a file."""

import json
import os
from pathlib import Path


def temp_path(path: Path) -> Path:
    """Where this process writes `path` before the rename; the pid tells a killed writer's leftover."""
    path = Path(path)
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


def remove_stale_temps(directory: Path):
    """Delete the temp files in `directory` that killed writers left: their process no longer runs on this
    machine (so on a disk that several machines share, build caches from one, as `prepare_data` does)."""
    for tmp in Path(directory).glob("*.tmp-*"):
        pid = tmp.name.rpartition("-")[2]
        if pid.isdigit() and not _running(int(pid)):
            tmp.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's process
        pass
    return True


def atomic_write_bytes(path: Path, data: bytes, previous: Path | None = None):
    """Write `path` by rename; with `previous`, the file it replaces is kept there. The old file moves only once
    the new one is on disk, so a kill leaves at most the two renames' moment without `path`."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if previous is not None and path.exists():
            os.replace(path, previous)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str):
    atomic_write_bytes(path, text.encode())


def atomic_write_json_lines(path: Path, rows, sort_keys: bool = False):
    """A JSON-lines file rewritten whole: an interrupted write keeps the rows written before, never half a row."""
    atomic_write_text(path, "".join(json.dumps(row, sort_keys=sort_keys) + "\n" for row in rows))

"""Atomic file writes: a temp file beside the target, then a rename, so readers never see half a file."""

import os
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes):
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str):
    atomic_write_bytes(path, text.encode())

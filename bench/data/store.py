"""The on-disk image cache: one raw uint8 array (N, C, H, W) plus a manifest, written atomically.

The manifest is written last, by rename, so its presence means the array beside it is complete. A cache whose
manifest does not match the requested parameters or shape is rebuilt, never trusted. An array written to after
its manifest is checked against the manifest's checksum before use, and refused if it no longer matches.
"""

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.atomic import atomic_write_text, remove_stale_temps, temp_path
from bench.errors import UserError

MANIFEST, IMAGES = "manifest.json", "images.u8"
FORMAT_VERSION = 1


def cache_key(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]


class ImageStore:
    """A directory holding `images.u8` and `manifest.json` for one dataset variant."""

    def __init__(self, directory: Path, shape: tuple[int, ...], params: dict):
        self.directory = Path(directory)
        self.shape = tuple(int(s) for s in shape)
        self.params = params

    @property
    def path(self) -> Path:
        return self.directory / IMAGES

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def manifest(self) -> dict | None:
        try:
            manifest = json.loads((self.directory / MANIFEST).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return manifest if isinstance(manifest, dict) else None  # anything else is damage: rebuild

    def is_valid(self) -> bool:
        """Cheap check: the manifest matches and the array has the right size."""
        m = self.manifest()
        return (m is not None and m.get("format") == FORMAT_VERSION and m.get("params") == self.params
                and tuple(m.get("shape", ())) == self.shape and self.path.is_file()
                and self.path.stat().st_size == self.nbytes)

    def verify(self) -> bool:
        """Full check: also recompute the checksum of the array."""
        return self.is_valid() and _checksum(self.path) == self.manifest()["checksum"]

    def open(self) -> np.memmap:
        """The array, memory-mapped so that worker processes share one copy in the page cache."""
        remove_stale_temps(self.directory)
        if self._written_after_manifest():
            self._check_checksum()
        _read_through(self.path)  # random batches from a cold memmap are random disk reads: ~50x slower
        return np.memmap(self.path, dtype=np.uint8, mode="r", shape=self.shape)

    def write(self, chunks: Iterable[np.ndarray], desc: str = "building") -> np.memmap:
        """Write the array from ordered chunks (n_i, C, H, W), then the manifest; both atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.directory)
        self._check_free_space()
        tmp = temp_path(self.path)
        try:
            digest = self._write_chunks(tmp, chunks, desc)
            os.replace(tmp, self.path)
            manifest = {"format": FORMAT_VERSION, "params": self.params, "shape": list(self.shape),
                        "dtype": "uint8", "checksum": digest}
            atomic_write_text(self.directory / MANIFEST, json.dumps(manifest, indent=2))
        except OSError as e:
            raise UserError(f"could not write the image cache {self.directory}: {e.strerror or e}; "
                            "free some disk space or choose another --data-root") from e
        finally:
            tmp.unlink(missing_ok=True)
        return self.open()

    def _write_chunks(self, tmp: Path, chunks, desc) -> str:
        (self.directory / MANIFEST).unlink(missing_ok=True)  # the old array is about to be replaced
        digest = hashlib.blake2b(digest_size=16)
        written = 0
        with open(tmp, "wb") as f, tqdm(total=self.shape[0], desc=desc, unit="img", unit_scale=True) as bar:
            for chunk in chunks:
                chunk = np.ascontiguousarray(chunk, dtype=np.uint8)
                if chunk.shape[1:] != self.shape[1:]:
                    raise ValueError(f"chunk of shape {chunk.shape} does not fit {self.shape}")
                f.write(chunk.data)
                digest.update(chunk.data)
                written += len(chunk)
                bar.update(len(chunk))
            f.flush()
            os.fsync(f.fileno())
        if written != self.shape[0]:
            raise ValueError(f"wrote {written} images, expected {self.shape[0]}")
        return digest.hexdigest()

    def _written_after_manifest(self) -> bool:
        """A stat instead of a checksum on every open: any write through the file system moves the mtime. Equal
        times count as written after: file times advance in clock ticks, so a write in the manifest's own tick
        leaves them equal."""
        return self.path.stat().st_mtime_ns >= (self.directory / MANIFEST).stat().st_mtime_ns

    def _check_checksum(self):
        if not self.verify():
            raise UserError(f"the image cache {self.path} was written to after it was built and no longer matches "
                            "its checksum; delete it and run again to rebuild it")
        # Intact (a copy that did not keep the mtimes): stamp the manifest so later opens trust it again, past
        # the array's time even when "now" is still in the clock tick of the array's last write.
        # A read-only data root cannot be stamped; it is then checked on every open.
        stamp = max(time.time_ns(), self.path.stat().st_mtime_ns + 1)
        with contextlib.suppress(OSError):
            os.utime(self.directory / MANIFEST, ns=(stamp, stamp))

    def _check_free_space(self):
        free = shutil.disk_usage(self.directory).free
        if free < self.nbytes:
            raise UserError(f"not enough disk space in {self.directory}: need {_size(self.nbytes)}, "
                            f"have {_size(free)}; free some space or choose another --data-root")


def _size(nbytes: int) -> str:
    """In the largest binary unit below the size (up to GiB), so that small sizes do not read as 0.0 GiB."""
    if nbytes < 1024:
        return f"{nbytes} B"
    for unit in ("KiB", "MiB", "GiB"):
        nbytes /= 1024
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.1f} {unit}"


def _read_through(path: Path, block: int = 1 << 24):
    with open(path, "rb", buffering=0) as f:
        buffer = bytearray(block)
        while f.readinto(buffer):
            pass


def _checksum(path: Path, block: int = 1 << 24) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while data := f.read(block):
            digest.update(data)
    return digest.hexdigest()


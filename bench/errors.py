"""User-facing errors: one line that says what was wrong and what to do; the CLI exits with code 2."""

import errno
import tempfile
from collections.abc import Mapping
from pathlib import Path


class UserError(Exception):
    """A problem with the user's input or environment, not a bug."""


def lookup(registry: Mapping, name: str, kind: str):
    """Return `registry[name]`, or fail with a message that lists the valid names."""
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        raise UserError(f"unknown {kind} {name!r}; choose one of: {valid}") from None


def unused_name(registry: Mapping, name: str, value, kind: str):
    """Fail unless `name` is free in `registry` (or already holds `value`): a plugin must not replace a built-in."""
    if not isinstance(name, str) or not name:
        raise UserError(f"a {kind} needs a non-empty name, not {name!r}")
    if registry.get(name, value) is not value:
        raise UserError(f"{kind} {name!r} is already registered; give yours another name")


# What to do about the operating-system errors a user's disk or paths cause; any other is reported as it is.
OS_ERROR_HINTS = {
    errno.ENOSPC: "the disk is full; free some space or choose a folder on another disk, then run the same "
                  "command again (finished work is kept)",
    errno.EDQUOT: "the disk quota is used up; free some space, then run the same command again (finished work "
                  "is kept)",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "the file system is read-only; choose a folder you can write to",
    errno.ENOTDIR: "a file stands where a folder is needed; choose another path",
    errno.EEXIST: "a file stands where a folder is needed; choose another path",
    errno.EISDIR: "a folder stands where a file is needed; choose another path",
}


def os_error_message(e: OSError) -> str:
    """One line for an operating-system error: what failed, on which path, and what to do."""
    where = f" ({e.filename})" if e.filename else ""
    hint = OS_ERROR_HINTS.get(e.errno)
    return f"{e.strerror or e}{where}" + (f": {hint}" if hint else "")


def writable_folder(path, option: str) -> Path:
    """Create `path` as a folder and write a file in it, or fail now with one line: hours of work must not end
    in a write error. Trying is the only reliable test (permission bits say nothing for root or read-only
    mounts)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise UserError(f"{option} {path}: {os_error_message(e)}") from None
    return path


def writable_file(path, option: str) -> Path:
    """Fail now, with one line, unless a file can be written at `path`; its folder is created, as every output
    folder of the benchmark is."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option} {path} is a folder; give a file name")
    writable_folder(path.parent, option)
    return path

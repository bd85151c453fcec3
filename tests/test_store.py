import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bench.data import store as store_mod
from bench.data.sources import load_base
from bench.data.store import ImageStore
from bench.errors import UserError


def _chunks(n=10, fail_at=None):
    for i in range(n):
        if i == fail_at:
            raise RuntimeError("killed mid-build")
        yield np.full((1, 1, 2, 2), i, dtype=np.uint8)


def test_write_then_open_round_trip(tmp_path):
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    s.write(_chunks())
    assert s.is_valid() and s.verify()
    np.testing.assert_array_equal(s.open()[:, 0, 0, 0], np.arange(10))


def test_interrupted_build_leaves_nothing_trusted(tmp_path):
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    with pytest.raises(RuntimeError):
        s.write(_chunks(fail_at=5))
    assert not s.is_valid()
    assert list((tmp_path / "c").iterdir()) == []  # no temp file, no manifest


def test_interrupted_rebuild_invalidates_the_old_cache(tmp_path):
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    s.write(_chunks())
    with pytest.raises(RuntimeError):
        s.write(_chunks(fail_at=3))
    assert not s.is_valid()


def test_manifest_mismatch_and_short_file_are_invalid(tmp_path):
    ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1}).write(_chunks())
    assert not ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 2}).is_valid()
    assert not ImageStore(tmp_path / "c", (11, 1, 2, 2), {"a": 1}).is_valid()
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    with open(s.path, "r+b") as f:
        f.truncate(5)
    assert not s.is_valid()


def test_flipped_byte_fails_verify_only(tmp_path):
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    s.write(_chunks())
    with open(s.path, "r+b") as f:
        f.seek(7)
        f.write(b"\xff")
    assert s.is_valid() and not s.verify()


def test_too_little_disk_space_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod.shutil, "disk_usage", lambda p: type("U", (), {"free": 3})())
    with pytest.raises(UserError, match="not enough disk space"):
        ImageStore(tmp_path / "c", (10, 1, 2, 2), {}).write(_chunks())


def test_disk_full_during_write_is_a_clear_error(tmp_path):
    def full_disk():
        yield np.zeros((1, 1, 2, 2), np.uint8)
        raise OSError(errno.ENOSPC, "No space left on device")
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {})
    with pytest.raises(UserError, match="No space left"):
        s.write(full_disk())
    assert list((tmp_path / "c").iterdir()) == []


def test_cache_is_reused_and_rebuilt_when_stale(tmp_path, tiny_dsprites_spec, monkeypatch):
    first = load_base(tiny_dsprites_spec, tmp_path)
    assert first.source.startswith("rendered")
    manifest = next(tmp_path.rglob("manifest.json"))
    stamp = manifest.stat().st_mtime_ns
    load_base(tiny_dsprites_spec, tmp_path)
    assert manifest.stat().st_mtime_ns == stamp  # reused, not rebuilt
    data = json.loads(manifest.read_text())
    data["params"]["render_version"] = "stale"
    manifest.write_text(json.dumps(data))
    again = load_base(tiny_dsprites_spec, tmp_path)
    assert json.loads(manifest.read_text())["params"]["render_version"] == tiny_dsprites_spec.render_version
    np.testing.assert_array_equal(np.asarray(first.array), np.asarray(again.array))


def test_free_space_message_shows_small_sizes_in_small_units(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod.shutil, "disk_usage", lambda p: type("U", (), {"free": 3})())
    with pytest.raises(UserError, match="need 40 B, have 3 B"):
        ImageStore(tmp_path / "c", (10, 1, 2, 2), {}).write(_chunks())
    assert store_mod._size(5 * 2**20) == "5.0 MiB" and store_mod._size(int(2.8 * 2**30)) == "2.8 GiB"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


@pytest.mark.parametrize("action", ["open", "write"])
def test_temp_files_of_killed_builds_are_removed(tmp_path, action):
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    s.write(_chunks())
    stale, live = tmp_path / "c" / f"images.u8.tmp-{_dead_pid()}", tmp_path / "c" / f"images.u8.tmp-{os.getppid()}"
    stale.write_bytes(b"half an array")
    live.write_bytes(b"another process is still writing this")
    s.open() if action == "open" else s.write(_chunks())
    assert not stale.exists() and live.exists()


def _overwrite(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def test_cache_written_to_after_its_build_is_refused(tmp_path, tiny_dsprites_spec):
    load_base(tiny_dsprites_spec, tmp_path)
    images = next(tmp_path.rglob("images.u8"))
    _overwrite(images, 8192, bytes(4096))
    with pytest.raises(UserError, match="written to after it was built and no longer matches") as err:
        load_base(tiny_dsprites_spec, tmp_path)
    assert "\n" not in str(err.value)


def test_cache_with_newer_mtime_but_same_bytes_is_checked_once(tmp_path, monkeypatch):
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    s.write(_chunks())
    _overwrite(s.path, 0, bytes([0]))  # the same byte again: a copy that did not keep the mtimes
    np.testing.assert_array_equal(s.open()[:, 0, 0, 0], np.arange(10))
    monkeypatch.setattr(ImageStore, "verify", lambda self: pytest.fail("checked again"))
    s.open()


def test_a_checked_cache_is_trusted_again_even_when_checked_in_its_last_writes_clock_tick(tmp_path, monkeypatch):
    from bench.data import store
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"a": 1})
    s.write(_chunks())
    _overwrite(s.path, 0, bytes([0]))
    monkeypatch.setattr(store.time, "time_ns", lambda: s.path.stat().st_mtime_ns)  # "now" is the write's tick
    s.open()
    monkeypatch.setattr(ImageStore, "verify", lambda self: pytest.fail("checked again"))
    s.open()


def test_info_verify_exits_non_zero_on_a_corrupt_cache(tmp_path, monkeypatch, capsys):
    from bench import __main__ as cli
    from bench.data import sources
    s = ImageStore(tmp_path / "c", (10, 1, 2, 2), {"source": "rendered", "render_version": "test"})
    s.write(_chunks())
    monkeypatch.setattr(sources, "base_store", lambda spec, root: s)
    assert cli.main(["datasets", "info", "--dataset", "dsprites", "--verify"]) == 0
    _overwrite(s.path, 7, b"\xff")
    assert cli.main(["datasets", "info", "--dataset", "dsprites", "--verify"]) == 2
    assert "CORRUPT" in capsys.readouterr().out

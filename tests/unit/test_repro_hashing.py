"""Streaming hashes, folder manifests and the stat cache (reuse, racy entries, corruption)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from mlgate.errors import ConfigError, ExternalError
from mlgate.repro import hashing
from mlgate.repro.hashing import Hasher, StatCache, hash_file, manifest_digest

OLD = 1_600_000_000  # a file time well outside the racy window


def aged(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    os.utime(path, (OLD, OLD))
    return path


class Counting:
    """A Progress that records what it was told."""

    def __init__(self) -> None:
        self.started: list[tuple[int, int]] = []
        self.advanced = 0
        self.finished = 0

    def start(self, total_bytes: int, files: int) -> None:
        self.started.append((total_bytes, files))

    def advance(self, nbytes: int) -> None:
        self.advanced += nbytes

    def finish(self) -> None:
        self.finished += 1


def test_hash_file_matches_hashlib_across_block_boundaries(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 + 17)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert hash_file(path, bytearray(1024)) == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert hash_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def test_manifest_digest_depends_on_names_and_content_not_order() -> None:
    a = manifest_digest({"x.csv": "1" * 64, "sub/y.csv": "2" * 64})
    assert a == manifest_digest({"sub/y.csv": "2" * 64, "x.csv": "1" * 64})
    assert a != manifest_digest({"x.csv": "1" * 64, "sub/z.csv": "2" * 64})
    assert a != manifest_digest({"x.csv": "1" * 64, "sub/y.csv": "3" * 64})


def test_parallel_hashing_agrees_with_serial_and_reports_progress(tmp_path: Path) -> None:
    files = [aged(tmp_path / f"f{i}", os.urandom(5000 * (i + 1))) for i in range(6)]
    progress = Counting()
    parallel = Hasher(workers=4, progress=progress, block=4096).hash_files(files)
    serial = Hasher(workers=1).hash_files(files)
    assert parallel == serial
    assert {p: h.sha256 for p, h in parallel.items()} == {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }
    total = sum(p.stat().st_size for p in files)
    assert progress.started == [(total, 6)]
    assert progress.advanced == total
    assert progress.finished == 1


def test_stat_cache_skips_unchanged_files_and_persists(tmp_path: Path) -> None:
    data = aged(tmp_path / "data.csv", b"a,b\n1,2\n")
    cache_file = tmp_path / "cache" / "hashes.json"
    first = Hasher(StatCache(cache_file))
    first.hash_files([data])
    assert first.cache.save()
    assert first.stats.hashed_files == 1

    second = Hasher(StatCache(cache_file))
    result = second.hash_files([data])
    assert result[data].cached
    assert result[data].sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert second.stats.hashed_files == 0
    assert second.stats.cached_files == 1
    assert not second.cache.save(), "nothing changed, nothing written"


def test_stat_cache_notices_a_replaced_file_with_the_old_size_and_mtime(tmp_path: Path) -> None:
    data = aged(tmp_path / "data.csv", b"1234")
    cache_file = tmp_path / "hashes.json"
    hasher = Hasher(StatCache(cache_file))
    hasher.hash_files([data])
    hasher.cache.save()
    replacement = aged(tmp_path / "new.csv", b"5678")  # same size and mtime, another inode
    replacement.replace(data)
    result = Hasher(StatCache(cache_file)).hash_files([data])
    assert not result[data].cached
    assert result[data].sha256 == hashlib.sha256(b"5678").hexdigest()


def test_recently_modified_files_are_not_trusted_from_the_cache(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.csv"
    fresh.write_bytes(b"x")  # mtime is now: inside the racy window
    cache_file = tmp_path / "hashes.json"
    hasher = Hasher(StatCache(cache_file))
    hasher.hash_files([fresh])
    hasher.cache.save()
    assert not Hasher(StatCache(cache_file)).hash_files([fresh])[fresh].cached


def test_racy_check_uses_the_time_of_hashing(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    st = path.stat()
    cache = StatCache(tmp_path / "c.json")
    cache.store(path, st, st.st_mtime_ns + hashing.RACY_WINDOW_NS - 1, "0" * 64)
    assert cache.lookup(path, st) is None
    cache.store(path, st, st.st_mtime_ns + hashing.RACY_WINDOW_NS + 1, "0" * 64)
    assert cache.lookup(path, st) == "0" * 64


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b'{"format": 99, "entries": {}}', b'{"format": 1, "entries": []}', b"[]"],
)
def test_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path, content: bytes) -> None:
    data = aged(tmp_path / "d", b"abc")
    cache_file = tmp_path / "hashes.json"
    cache_file.write_bytes(content)
    hasher = Hasher(StatCache(cache_file))
    assert hasher.hash_files([data])[data].sha256 == hashlib.sha256(b"abc").hexdigest()
    assert hasher.cache.save()
    assert json.loads(cache_file.read_text())["format"] == hashing.CACHE_FORMAT


def test_cache_entries_of_deleted_files_are_dropped_on_save(tmp_path: Path) -> None:
    keep, gone = aged(tmp_path / "keep", b"1"), aged(tmp_path / "gone", b"2")
    cache_file = tmp_path / "hashes.json"
    hasher = Hasher(StatCache(cache_file))
    hasher.hash_files([keep, gone])
    gone.unlink()
    hasher.cache.save()
    assert list(json.loads(cache_file.read_text())["entries"]) == [str(keep)]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="input file not found"):
        Hasher().hash_files([tmp_path / "nope"], what="input file")


def test_unreadable_file_is_an_external_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = aged(tmp_path / "secret.csv", b"x")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(hashing, "hash_file", denied)
    with pytest.raises(ExternalError, match=r"cannot read data file .*secret\.csv: Permission"):
        Hasher().hash_files([path], what="data file")


def test_non_regular_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        Hasher().hash_files([tmp_path])


def test_file_rewritten_while_hashing_is_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = aged(tmp_path / "growing.csv", b"one")
    real = hashing.hash_file
    calls = []

    def rewrite_once(p: Path, *args: object, **kwargs: object) -> str:
        calls.append(p)
        digest = real(p)
        if len(calls) == 1:
            p.write_bytes(b"one two")
        return digest

    monkeypatch.setattr(hashing, "hash_file", rewrite_once)
    result = Hasher(workers=1).hash_files([path])
    assert len(calls) == 2
    assert result[path].sha256 == hashlib.sha256(b"one two").hexdigest()


def test_file_that_never_settles_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = aged(tmp_path / "busy.csv", b"0")

    def always_rewrite(p: Path, *args: object, **kwargs: object) -> str:
        p.write_bytes(p.read_bytes() + b"0")  # grows: the size alone shows the change
        return "0" * 64

    monkeypatch.setattr(hashing, "hash_file", always_rewrite)
    with pytest.raises(ExternalError, match="kept changing"):
        Hasher(workers=1).hash_files([path])

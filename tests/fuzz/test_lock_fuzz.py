"""Fuzzing the lock file parser: any mlgate.lock loads or ends in a clean ConfigError (exit 2)."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgate.errors import ConfigError
from mlgate.repro.inputs import fingerprint
from mlgate.repro.lockfile import read_lock, render_lock
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import hostile_fragments, json_values, key_paths, mutate

# A real lock, written by `mlgate lock` on the starter project (regenerate it the same way if
# the lock format changes: mlgate init x && cd x && git init && git add -A && mlgate lock).
VALID_TEXT = (Path(__file__).parent / "data" / "mlgate.lock").read_text("utf-8")
VALID = json.loads(VALID_TEXT)
ENTRY = VALID["models"]["churn"]
ENTRY_PATHS = [p for p in key_paths(ENTRY) if p != ("fingerprint",)]

_DIR = Path(tempfile.mkdtemp(prefix="mlgate-fuzz-lock-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
LOCK = _DIR / "mlgate.lock"


def check(data: str | bytes) -> Any:
    """Read ``data`` as mlgate.lock: a Lock, or a ConfigError that says where."""
    tried("lock")
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    LOCK.write_bytes(raw)
    try:
        return read_lock(LOCK)
    except ConfigError as err:
        assert err.exit_code == 2
        assert err.message
        assert err.location is not None
        assert err.location.file == str(LOCK)
        if err.location.line is not None:
            lines = raw.decode("utf-8", errors="replace").splitlines()
            assert 1 <= err.location.line <= len(lines) + 1
        err.render()
        return None


def test_the_fixture_is_a_valid_lock() -> None:
    lock = check(VALID_TEXT)
    assert lock is not None, "regenerate tests/fuzz/data/mlgate.lock (see the comment above)"
    assert render_lock(lock.models) == VALID_TEXT


@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    check(text)


@given(st.binary(max_size=200))
def test_any_bytes(data: bytes) -> None:
    check(data)


@given(json_values)
def test_any_json_document(value: Any) -> None:
    check(json.dumps(value))


@given(st.lists(hostile_fragments, min_size=1, max_size=4), st.integers(0, len(VALID_TEXT)))
def test_hostile_fragments_spliced_into_a_valid_lock(fragments: list[str], at: int) -> None:
    check(VALID_TEXT[:at] + "".join(fragments) + VALID_TEXT[at:])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ENTRY_PATHS), json_values, st.booleans(), st.booleans())
def test_mutated_entries(
    path: tuple[Any, ...], value: Any, delete: bool, refingerprint: bool
) -> None:
    """A changed entry is refused (fingerprint) unless re-fingerprinted; then the schema decides,
    and whatever loads renders back to the same text."""
    entry = mutate(ENTRY, path, value, delete=delete)
    if refingerprint:
        try:
            entry["fingerprint"] = fingerprint(entry)
        except (TypeError, ValueError):
            return  # not JSON-serialisable (NaN keys etc.): the writer could not produce it
    text = render_lock({"churn": entry})
    lock = check(text)
    if lock is not None:
        assert refingerprint or entry == ENTRY
        assert render_lock(lock.models) == text


@given(st.integers(0, len(VALID_TEXT) - 1), st.integers(0, 255))
def test_single_byte_changes(at: int, byte: int) -> None:
    raw = bytearray(VALID_TEXT.encode())
    raw[at] = byte
    lock = check(bytes(raw))
    if lock is not None:
        # What still loads has every entry intact: the change was outside the fingerprinted
        # entries (the "about" text, whitespace) or renamed a model's key, which leaves the
        # real model without an entry ('mlgate repro --check' reports it as not locked).
        assert sorted(map(str, lock.models.values())) == sorted(map(str, VALID["models"].values()))


# Lone high surrogates only: an escaped pair decodes into one character, which is a change.
@given(st.text(alphabet="\ud800\x00\\\"'", min_size=1, max_size=10))
def test_odd_strings_in_values(odd: str) -> None:
    entry = mutate(ENTRY, ("train", "command"), odd)
    entry["fingerprint"] = fingerprint(entry)
    lock = check(json.dumps({"format": 1, "models": {"churn": entry}}))
    assert lock is not None
    assert lock.models["churn"]["train"]["command"] == odd

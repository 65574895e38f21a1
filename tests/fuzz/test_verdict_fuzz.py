"""Fuzzing the verdict reader (files a job downloads from another job, or a user hands to the
report): any content gives a Verdict equal to what was written, or a clean ConfigError (exit 2)."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import ConfigError
from mlgate.verdict import Check, Status, Verdict, read_verdict, write_verdict
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import hostile_fragments, json_values, key_paths, mutate

_DIR = Path(tempfile.mkdtemp(prefix="mlgate-fuzz-verdict-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
FILE = _DIR / "validation.json"

SAMPLE = Verdict(
    "validation",
    "churn",
    (
        Check("metric:roc_auc", "metric", Status.PASS, "ok", 0.9, 0.8, 0.88, {"delta": 0.02}),
        Check("slice:region", "slice", Status.FAIL, "gap", 0.2, 0.1, config_key=("gates", 0)),
    ),
    notes=("a note",),
    context={"rows": 10},
).to_dict()
PATHS = key_paths(SAMPLE)

scalar = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
checks = st.builds(
    Check,
    id=st.text(min_size=1, max_size=15),
    kind=st.text(min_size=1, max_size=10),
    status=st.sampled_from(Status),
    message=st.text(max_size=30),
    observed=scalar,
    threshold=scalar,
    champion=scalar,
    details=st.dictionaries(st.text(max_size=5), scalar, max_size=3),
    config_key=st.none() | st.lists(st.text(max_size=5) | st.integers(0, 9), max_size=3).map(tuple),
)
verdicts = st.builds(
    Verdict,
    kind=st.text(min_size=1, max_size=10),
    model=st.text(min_size=1, max_size=10),
    checks=st.lists(checks, max_size=4).map(tuple),
    notes=st.lists(st.text(max_size=10), max_size=2).map(tuple),
)


def check(data: str | bytes) -> Verdict | None:
    tried("verdict")
    FILE.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    try:
        return read_verdict(FILE)
    except ConfigError as err:
        assert err.exit_code == 2
        assert err.message
        err.render()
        return None


@given(verdicts)
def test_written_verdicts_read_back_equal(verdict: Verdict) -> None:
    tried("verdict")
    write_verdict(FILE, verdict)
    back = read_verdict(FILE)
    assert back.to_dict() == verdict.to_dict()
    assert back.digest() == verdict.digest()


@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check(text)


@given(st.binary(max_size=100))
def test_any_bytes(data: bytes) -> None:
    check(data)


@given(json_values)
def test_any_json_document(value: Any) -> None:
    check(json.dumps(value))


@given(st.sampled_from(PATHS), json_values, st.booleans())
def test_mutated_verdicts(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    doc = mutate(SAMPLE, path, value, delete=delete)
    verdict = check(json.dumps(doc))
    if verdict is not None:
        assert verdict.kind == doc["kind"]
        assert all(isinstance(c.status, Status) for c in verdict.checks)


@given(st.lists(hostile_fragments, min_size=1, max_size=3))
def test_hostile_fragments(fragments: list[str]) -> None:
    check('{"format": 1, "checks": ' + "".join(fragments) + "}")

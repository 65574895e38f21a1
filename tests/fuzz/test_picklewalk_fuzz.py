"""Fuzzing the static pickle walker and the judgement: any bytes either walk or end in the
scan's own refusal (``Refused``), and nothing is ever imported while judging."""

from __future__ import annotations

import io
import pickle
import sys

import joblib
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from mlgate.safety.judge import judge_bytes
from mlgate.safety.picklewalk import Refused, walk
from tests.fuzz.conftest import tried

_MODEL = LogisticRegression().fit(np.arange(20.0).reshape(10, 2), np.arange(10) % 2)
SEEDS = [pickle.dumps(_MODEL, protocol) for protocol in range(6)]
_buffer = io.BytesIO()
joblib.dump({"m": _MODEL, "o": np.array([1, "a"], dtype=object)}, _buffer)
SEEDS.append(_buffer.getvalue())
for _seed in SEEDS:  # what judging needs once (the allow-list file, numpy's dtypes) is loaded now
    judge_bytes(_seed, "joblib")
OPCODES = [bytes([b]) for b in b"()0125BCFGIJKLMNPQRSTUVX]abcdeghijlopqrstu}"] + [
    bytes([b]) for b in range(0x80, 0x99)
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["flip", "insert", "delete", "opcode", "cut"]))
        if how == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif how == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif how == "opcode":
            data[at:at] = draw(st.sampled_from(OPCODES))
        else:
            del data[at:]
    return bytes(data)


def _judge_without_imports(data: bytes, joblib_mode: bool) -> None:
    before = set(sys.modules)
    try:
        walk(data, joblib=joblib_mode)
    except Refused as exc:
        assert exc.reason
    judgement = judge_bytes(data, "joblib" if joblib_mode else "pickle")
    assert judgement.safe == (judgement.payload is not None)
    assert set(sys.modules) == before, set(sys.modules) - before


@given(st.binary(max_size=512), st.booleans())
def test_random_bytes_walk_or_are_refused(data: bytes, joblib_mode: bool) -> None:
    tried("pickle walker")
    _judge_without_imports(data, joblib_mode)


@given(mutated(), st.booleans())
def test_mutated_real_pickles_walk_or_are_refused(data: bytes, joblib_mode: bool) -> None:
    tried("pickle walker")
    _judge_without_imports(data, joblib_mode)


@given(st.lists(st.sampled_from(OPCODES), max_size=64), st.binary(max_size=64))
def test_opcode_soup_walks_or_is_refused(ops: list[bytes], tail: bytes) -> None:
    tried("pickle walker")
    _judge_without_imports(b"\x80\x04" + b"".join(ops) + tail, joblib_mode=False)

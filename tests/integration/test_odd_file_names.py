"""A pull request can add files whose names are not UTF-8 (Linux allows any bytes). git lists
them, the lock pins them, and every command keeps working instead of crashing on decoding."""

from __future__ import annotations

import os
from pathlib import Path

from mlgate import gitio
from tests.conftest import invoke

ODD = b"caf\xe9-\xff.csv"  # Latin-1 bytes: not UTF-8


def test_files_named_with_bytes_that_are_not_utf8(starter: Path) -> None:
    model = starter / "models" / "churn"
    extra = model / "data" / "extra"
    extra.mkdir()
    odd_data = extra / os.fsdecode(ODD)  # the same bytes on disk (surrogateescape)
    odd_data.write_bytes(b"a\n1\n")
    (model / os.fsdecode(b"helper-\xff.py")).write_bytes(b"X = 1\n")
    config = starter / "mlgate.yaml"
    config.write_text(
        config.read_text().replace(
            "      train: data/train.csv\n",
            "      train: data/train.csv\n      extra: [data/extra]\n",
        )
    )
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "odd names"], starter)

    locked = invoke("lock", cwd=starter)
    assert locked.exit_code == 0, locked.output
    lock = (starter / "mlgate.lock").read_bytes()
    lock.decode("utf-8")  # still UTF-8 text: the odd names are \u escapes
    assert b"\\udcff" in lock
    assert invoke("repro", "--check", cwd=starter).exit_code == 0
    checked = invoke("check", "--stage", "scan", cwd=starter)
    assert checked.exit_code == 0, checked.output

    odd_data.write_bytes(b"a\n1\n2\n")
    changed = invoke("repro", "--check", cwd=starter)
    assert changed.exit_code == 1, changed.output
    for outcome in (locked, checked, changed):
        assert "internal error" not in outcome.output

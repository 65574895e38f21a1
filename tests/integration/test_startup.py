"""Start-up stays light: the CLI imports no heavy library for --help or --version."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlgate import proc

HEAVY = ("pandas", "numpy", "sklearn", "scipy", "docker", "requests", "jsonschema", "jinja2")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["config", "--help"]])
def test_no_heavy_imports(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from mlgate.cli.main import main\n"
        f"rc = main({args!r})\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(heavy)\n"
        "sys.exit(rc)\n"
    )
    result = proc.run([sys.executable, "-c", code])
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_python_dash_m() -> None:
    result = proc.run([sys.executable, "-m", "mlgate", "--version"])
    assert "mlgate, version" in result.stdout


def test_scanning_a_skops_file_imports_neither_skops_nor_sklearn(tmp_path: Path) -> None:
    """``mlgate scan`` judges a skops file statically; skops's audit waits for loading."""
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    path = tmp_path / "m.skops"
    x = np.arange(20.0).reshape(10, 2)
    path.write_bytes(bytes(sio.dumps(LogisticRegression().fit(x, np.arange(10) % 2))))
    code = (
        "import sys\n"
        "from mlgate.cli.main import main\n"
        f"rc = main(['scan', {str(path)!r}])\n"
        "print(sorted(m for m in ('skops', 'sklearn', 'scipy') if m in sys.modules))\n"
        "sys.exit(rc)\n"
    )
    result = proc.run([sys.executable, "-c", code])
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout

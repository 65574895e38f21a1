"""Start-up stays light: the CLI imports no heavy library for --help or --version."""

from __future__ import annotations

import sys

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

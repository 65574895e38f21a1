"""Where the package's data files are, installed or in a source checkout."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

# The GitHub repository users reference in workflows and pre-commit configurations.
MLGATE_REPO = "mlgate-dev/mlgate"


@cache
def templates_dir() -> Path:
    """``templates/``: inside the wheel as ``mlgate/templates``, at the repo root in a checkout."""
    packaged = Path(str(resources.files("mlgate"))) / "templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"mlgate's templates are missing (looked in {packaged} and {checkout})")

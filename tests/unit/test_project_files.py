"""The files every release relies on: one version written the same everywhere, a license that
matches pyproject, the typing marker shipped in the package."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

import mlgate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _bump() -> ModuleType:
    path = ROOT / "tools" / "bump_version.py"
    spec = importlib.util.spec_from_file_location("bump_version", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bump_version", module)
    spec.loader.exec_module(module)
    return module


def test_every_version_reference_matches_the_package() -> None:
    bump = _bump()
    assert bump.current_version() == mlgate.__version__
    assert bump.mismatches(mlgate.__version__) == []
    # ... and the check can fail: every reference differs from another version.
    assert bump.mismatches("9.9.9")


@pytest.mark.parametrize(
    ("text", "versions"),
    [
        ("uses: mlgate-dev/mlgate/actions/check@v1.2.3", ["1.2.3"]),
        ("uses: mlgate-dev/mlgate/.github/workflows/mlgate-pr.yml@v0.4.0", ["0.4.0"]),
        ('ENGINE = "mlgate @ git+https://github.com/mlgate-dev/mlgate@v2.0.1"', ["2.0.1"]),
        ("pip install mlgate==0.3.0", ["0.3.0"]),
        ("    rev: v0.5.0", ["0.5.0"]),
        # model versions and other packages are not mlgate's version
        ("mlgate registry register churn --version v0.1.0", []),
        ("churn@v1.0.0 and notmlgate==1.0.0 and xmlgate==2.0.0", []),
    ],
)
def test_references_are_mlgates_own(text: str, versions: list[str]) -> None:
    assert [v for _, _, v in _bump().references(text)] == versions


def test_license_is_the_one_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_package_is_typed() -> None:
    assert (Path(mlgate.__file__).parent / "py.typed").is_file()


def test_changelog_names_the_current_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert f"## [{mlgate.__version__}]" in changelog


def test_readme_model_entry_is_valid() -> None:
    """The complete model entry README shows passes the schema as written."""
    import jsonschema
    import yaml

    readme = (ROOT / "README.md").read_text()
    block = readme.split("A complete model entry", 1)[1].split("```yaml\n", 1)[1].split("```")[0]
    schema_file = Path(mlgate.__file__).parent / "schemas" / "config.schema.json"
    schema = json.loads(schema_file.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(block)))
    assert errors == []

"""The registry in the report, and ``mlgate audit``: the trail read from the tags alone."""

from __future__ import annotations

import json
from pathlib import Path

from mlgate import gitio
from mlgate.config.loader import load_config
from mlgate.governance.audit import report_document
from tests.conftest import invoke
from tests.integration.governance.conftest import out_dir
from tests.report_fixtures import write_all


def _register(repo: Path, *extra: str) -> None:
    result = invoke("registry", "register", "churn", *extra, cwd=repo)
    assert result.exit_code == 0, result.output


def test_report_shows_the_champion_and_what_merging_would_do(repo: Path) -> None:
    _register(repo, "--version", "v1.0.0")
    result = invoke("registry", "assign", "churn", "v1.0.0", "staging", cwd=repo)
    assert result.exit_code == 0, result.output
    result = invoke("registry", "assign", "churn", "v1.0.0", "prod", cwd=repo)
    assert result.exit_code == 0, result.output
    invoke("report", "--format", "json,md", cwd=repo)
    document = json.loads((out_dir(repo) / "report.json").read_text())
    registry = document["registry"]
    assert registry["available"] is True
    assert registry["champion_stage"] == "prod"
    assert registry["champion"]["version"] == "v1.0.0"
    assert registry["stages"] == {"prod": "v1.0.0", "staging": "v1.0.0"}
    assert registry["next_version"] == "v1.0.1"
    # HEAD already is v1.0.0 (and holds prod): merging it registers nothing new.
    assert registry["would"] == [
        "register nothing new: this commit already is churn@v1.0.0",
        "change nothing at 'prod': v1.0.0 is this commit",
    ]
    assert document["compliance"]["facts"]["registry.history"] is True
    md = (out_dir(repo) / "report.md").read_text()
    assert "Champion (`prod`): **v1.0.0**" in md
    (repo / "NOTES.md").write_text("a change\n")
    gitio.git(["add", "NOTES.md"], repo)
    gitio.git(["commit", "--quiet", "--message", "a change"], repo)
    invoke("report", "--format", "json", cwd=repo)
    registry = json.loads((out_dir(repo) / "report.json").read_text())["registry"]
    assert registry["would"][0] == "register churn@v1.0.1"
    assert registry["would"][1].startswith("challenge v1.0.0 at 'prod'")


def test_an_empty_registry_says_so(repo: Path) -> None:
    invoke("report", "--format", "json", cwd=repo)
    registry = json.loads((out_dir(repo) / "report.json").read_text())["registry"]
    assert registry["available"] is True
    assert registry["champion"] is None
    assert registry["note"] == "no version of churn is registered yet"
    assert registry["would"][0].startswith("register churn@v0.")


def test_audit_reads_who_what_when_and_which_checks_from_the_tags(repo: Path) -> None:
    out = out_dir(repo)
    write_all(out)
    assert invoke("report", cwd=repo).exit_code == 0
    cfg = load_config(repo / "mlgate.yaml")
    document = report_document(cfg.model())
    assert document is not None
    payload = out / "registry-payload.json"  # written by mlgate report
    assert json.loads(payload.read_text()) == {"report": document}
    verdicts = [
        a for k in ("validation", "governance") for a in ("--verdict", str(out / f"{k}.json"))
    ]
    _register(repo, "--version", "v1.0.0", "--payload", str(payload), *verdicts)
    assert invoke("registry", "assign", "churn", "v1.0.0", "staging", cwd=repo).exit_code == 0
    result = invoke("audit", "churn", "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    trail = json.loads(result.stdout)
    events = [(e["event"], e["version"], e["stage"]) for e in trail["events"]]
    assert events == [("register", "v1.0.0", None), ("assign", "v1.0.0", "staging")]
    register = trail["events"][0]
    assert register["who"].startswith("mlgate tests")
    assert len(register["commit"]) == 40
    assert register["documents"]["report"] == document["digest"]
    assert register["checks"]["validation"]["ok"] is True
    assert register["checks"]["governance"]["digest"].startswith("sha256:")
    text = invoke("audit", "churn", cwd=repo)
    assert text.exit_code == 0
    assert "register v1.0.0" in text.stdout
    assert "assign v1.0.0 -> staging" in text.stdout
    assert f"report: {document['digest']}" in text.stdout


def test_audit_of_an_unknown_model_suggests_one(repo: Path) -> None:
    _register(repo, "--version", "v1.0.0")
    result = invoke("audit", "chrun", cwd=repo)
    assert result.exit_code == 2
    assert "did you mean 'churn'?" in result.stderr

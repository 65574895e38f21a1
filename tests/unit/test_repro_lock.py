"""Collecting a model's inputs into a lock entry, the lock file format, and differences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlgate.config.loader import load_config
from mlgate.errors import ConfigError
from mlgate.repro import inputs as inputs_mod
from mlgate.repro import manifests
from mlgate.repro.diff import diff_entries
from mlgate.repro.hashing import Hasher
from mlgate.repro.inputs import Inputs, collect_inputs, fingerprint
from mlgate.repro.lockfile import NewerLockError, read_lock, render_lock, write_lock


def on_disk(folder: Path, whole_repo: bool) -> list[Path]:
    """Stands in for git: every file below the folder counts as tracked."""
    top = folder.parents[1] if whole_repo else folder  # models/churn -> the project
    return sorted(p for p in top.rglob("*") if p.is_file())


def collect(project: Path, tracked: Any = on_disk) -> Inputs:
    config = load_config(project / "mlgate.yaml")
    return collect_inputs(config, config.model("churn"), Hasher(), tracked=tracked)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_starter_entry_pins_data_code_params_command_and_environment(starter: Path) -> None:
    entry = collect(starter).entry
    assert entry["path"] == "models/churn"
    assert entry["data"]["models/churn/data/train.csv"]["role"] == "train"
    assert entry["data"]["models/churn/data/eval.csv"]["kind"] == "file"
    assert sorted(entry["code"]) == ["models/churn/make_data.py", "models/churn/train.py"]
    params = entry["params"]["models/churn/params.yaml"]
    assert params["values"]["model"] == "logistic"
    assert params["values"]["C"] == 1.0
    assert entry["train"] == {
        "command": "python train.py",
        "seed": 42,
        "env": {},
        "outputs": ["models/churn/artifacts/metrics.json", "models/churn/artifacts/model.skops"],
    }
    env = entry["environment"]
    assert env["source"] == "requirements.txt"
    assert "scikit-learn" in env["packages"]
    assert entry["fingerprint"] == fingerprint(entry)


def test_fingerprint_is_stable_and_follows_content(starter: Path) -> None:
    first = collect(starter).fingerprint
    assert collect(starter).fingerprint == first
    edit(starter / "models/churn/params.yaml", "C: 1.0", "C: 2.0")
    assert collect(starter).fingerprint != first


def test_data_folders_are_hashed_by_manifest(starter: Path) -> None:
    folder = starter / "models/churn/data/extra"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.csv").write_text("x\n1\n")
    (folder / "nested" / "b.csv").write_text("x\n2\n")
    (folder / "nested" / "skip.tmp").write_text("scratch")
    edit(
        starter / "mlgate.yaml",
        "      target: churned",
        "      target: churned\n      extra: [data/extra]",
    )
    edit(
        starter / "mlgate.yaml",
        "      mode: predictions",
        "      mode: predictions\n      exclude: ['**/*.tmp']",
    )
    entry = collect(starter).entry["data"]["models/churn/data/extra"]
    assert entry["kind"] == "directory"
    assert entry["role"] == "extra"
    assert entry["count"] == 2
    assert sorted(entry["files"]) == ["a.csv", "nested/b.csv"]
    before = entry["sha256"]
    (folder / "a.csv").rename(folder / "c.csv")  # same content, another name
    assert collect(starter).entry["data"]["models/churn/data/extra"]["sha256"] != before


@pytest.fixture
def large_folder(starter: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``data/many`` (3 files) as an extra data folder, above a lowered MANIFEST_LIMIT of 1."""
    monkeypatch.setattr(inputs_mod, "MANIFEST_LIMIT", 1)
    folder = starter / "models/churn/data/many"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.csv").write_text(str(i))
    edit(
        starter / "mlgate.yaml",
        "      target: churned",
        "      target: churned\n      extra: [data/many]",
    )
    return folder


def test_large_folders_keep_only_digest_and_count(starter: Path, large_folder: Path) -> None:
    entry = collect(starter).entry["data"]["models/churn/data/many"]
    assert entry["count"] == 3
    assert "files" not in entry


def test_a_large_folder_s_changed_files_are_named_from_the_cached_manifest(
    starter: Path, large_folder: Path
) -> None:
    folder = large_folder
    many = "models/churn/data/many"
    old = collect(starter).entry
    (folder / "0.csv").unlink()
    (folder / "1.csv").write_text("changed")
    (folder / "3.csv").write_text("3")
    now = collect(starter)
    new = now.entry
    # The state just hashed lists its own files, without reading the cache back.
    assert sorted(now.listing(starter / "elsewhere", new["data"][many]["sha256"]) or ()) == [
        "1.csv",
        "2.csv",
        "3.csv",
    ]
    assert "files" not in old["data"]["models/churn/data/many"]

    def cached(sha256: str) -> dict[str, str] | None:
        return manifests.load(starter, sha256)

    assert {(d.subject, d.change) for d in diff_entries(old, new, cached)} == {
        (f"{many}/0.csv", "removed"),
        (f"{many}/1.csv", "changed"),
        (f"{many}/3.csv", "added"),
    }
    # A cached list that does not match its digest (edited, truncated) is not believed.
    locked = starter / ".mlgate/cache/manifests" / f"{old['data'][many]['sha256']}.json"
    locked.write_text(json.dumps({"0.csv": "0" * 64}))
    (only,) = diff_entries(old, new, cached)
    assert (only.subject, only.change) == (f"{many}/", "changed")
    assert "3 -> 3 files" in only.note
    assert "none cached for the locked state" in only.note


def test_code_globs_and_excludes(starter: Path) -> None:
    lib = starter / "lib"
    lib.mkdir()
    (lib / "features.py").write_text("X = 1\n")
    edit(
        starter / "mlgate.yaml",
        "      mode: predictions",
        "      mode: predictions\n"
        "      code: ['*.py', '../../lib/*.py']\n"
        "      exclude: [make_data.py]",
    )
    entry = collect(starter).entry
    assert sorted(entry["code"]) == ["lib/features.py", "models/churn/train.py"]


def test_untracked_code_is_not_pinned_by_default(starter: Path) -> None:
    (starter / "models/churn/scratch.py").write_text("print('not committed')\n")

    def tracked_only(folder: Path, whole_repo: bool) -> list[Path]:
        return [p for p in on_disk(folder, whole_repo) if p.name != "scratch.py"]

    assert "models/churn/scratch.py" not in collect(starter, tracked_only).entry["code"]
    assert "models/churn/scratch.py" in collect(starter).entry["code"]


def test_outside_git_code_is_matched_on_disk_with_a_note(starter: Path) -> None:
    result = collect(starter, lambda _folder, _whole: None)
    assert "models/churn/train.py" in result.entry["code"]
    assert any("not a git repository" in n for n in result.notes)


def test_without_requirements_file_the_installed_set_is_used(starter: Path) -> None:
    (starter / "requirements.txt").unlink()
    env = collect(starter).entry["environment"]
    assert env["source"] == "installed"
    assert "sha256" not in env
    assert "pyyaml" in env["packages"]


def test_configured_requirements_file_missing_points_at_mlgate_yaml(starter: Path) -> None:
    edit(
        starter / "mlgate.yaml",
        "      mode: predictions",
        "      mode: predictions\n      requirements: req.lock",
    )
    with pytest.raises(ConfigError) as info:
        collect(starter)
    assert info.value.location is not None
    assert info.value.location.key_path == "models[0].repro.requirements"


# --- the lock file ---------------------------------------------------------------------------


def test_lock_round_trip_is_stable(starter: Path, tmp_path: Path) -> None:
    entry = collect(starter).entry
    path = tmp_path / "mlgate.lock"
    assert write_lock(path, {"churn": entry})
    assert not write_lock(path, {"churn": entry}), "unchanged lock is not rewritten"
    text = path.read_text()
    assert text == render_lock({"churn": json.loads(json.dumps(entry))})
    assert text.index('"format"') < text.index('"models"'), "keys sorted"
    lock = read_lock(path)
    assert lock is not None
    assert lock.entry("churn") == entry
    assert read_lock(tmp_path / "absent.lock") is None


def locked(starter: Path, tmp_path: Path) -> Path:
    path = tmp_path / "mlgate.lock"
    write_lock(path, {"churn": collect(starter).entry})
    return path


def test_hand_edited_lock_is_refused_with_its_line(starter: Path, tmp_path: Path) -> None:
    path = locked(starter, tmp_path)
    edit(path, '"seed": 42', '"seed": 43')
    with pytest.raises(ConfigError, match="does not match its fingerprint") as info:
        read_lock(path)
    assert info.value.exit_code == 2
    assert info.value.location is not None
    assert info.value.location.key_path == "models.churn.fingerprint"
    line = path.read_text().splitlines()[info.value.location.line - 1]  # type: ignore[operator]
    assert '"fingerprint"' in line


def test_invalid_json_lock_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "mlgate.lock"
    path.write_text('{\n  "format": 1,\n  "models": {,}\n}\n')
    with pytest.raises(ConfigError, match="not valid JSON") as info:
        read_lock(path)
    assert (info.value.location.line, info.value.location.column) == (3, 14)  # type: ignore[union-attr]


def test_merge_conflict_markers_are_named(starter: Path, tmp_path: Path) -> None:
    path = locked(starter, tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(5, "<<<<<<< HEAD\n")
    path.write_text("".join(lines))
    with pytest.raises(ConfigError, match="merge conflict markers") as info:
        read_lock(path)
    assert info.value.location.line == 6  # type: ignore[union-attr]


def test_schema_errors_point_at_the_key_once(tmp_path: Path) -> None:
    path = tmp_path / "mlgate.lock"
    path.write_text('{\n  "format": 1,\n  "models": {\n    "churn": {"path": 3}\n  }\n}\n')
    with pytest.raises(ConfigError) as info:
        read_lock(path)
    err = info.value
    assert err.message.startswith("invalid mlgate.lock: ")
    assert len(err.details) == len(set(err.details)), "each problem listed once"
    assert any("missing required key 'fingerprint'" in d for d in [err.message, *err.details])
    assert err.location is not None
    assert err.location.line == 4


def test_newer_lock_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mlgate.lock"
    path.write_text('{"format": 7, "models": {}}\n')
    with pytest.raises(NewerLockError, match="format 7, newer than this mlgate") as info:
        read_lock(path)
    assert info.value.exit_code == 2


# --- differences ------------------------------------------------------------------------------


def test_diff_lists_every_kind_of_difference(starter: Path) -> None:
    old = collect(starter).entry
    model = starter / "models/churn"
    with (model / "data/train.csv").open("a") as fh:
        fh.write("1,2,3\n")
    edit(model / "params.yaml", "C: 1.0", "C: 0.5")
    (model / "helpers.py").write_text("pass\n")
    (model / "make_data.py").unlink()
    edit(starter / "requirements.txt", "numpy==", "numpy==0.0.0\n# was numpy==")
    edit(starter / "mlgate.yaml", "seed: 42", "seed: 7")
    new = collect(starter).entry
    described = {(d.category, d.subject, d.change): d for d in diff_entries(old, new)}
    assert set(described) == {
        ("data", "models/churn/data/train.csv", "changed"),
        ("params", "models/churn/params.yaml: C", "changed"),
        ("code", "models/churn/helpers.py", "added"),
        ("code", "models/churn/make_data.py", "removed"),
        ("environment", "package numpy", "changed"),
        ("train", "train.seed", "changed"),
    }
    assert described["params", "models/churn/params.yaml: C", "changed"].describe() == (
        "models/churn/params.yaml: C: 1.0 -> 0.5"
    )
    assert described["train", "train.seed", "changed"].describe() == "train.seed: 42 -> 7"
    assert "size" in described["data", "models/churn/data/train.csv", "changed"].describe()
    assert diff_entries(new, new) == []


def test_diff_of_comment_only_params_change_says_so(starter: Path) -> None:
    old = collect(starter).entry
    params = starter / "models/churn/params.yaml"
    params.write_text(params.read_text() + "# a new comment\n")
    (only,) = diff_entries(old, collect(starter).entry)
    assert only.category == "params"
    assert "values unchanged" in only.note


def test_diff_inside_a_data_folder_names_the_member(starter: Path) -> None:
    folder = starter / "models/churn/data/parts"
    folder.mkdir()
    (folder / "a.csv").write_text("1")
    (folder / "b.csv").write_text("2")
    edit(
        starter / "mlgate.yaml",
        "      target: churned",
        "      target: churned\n      extra: [data/parts]",
    )
    old = collect(starter).entry
    (folder / "a.csv").write_text("changed")
    (folder / "b.csv").unlink()
    (folder / "c.csv").write_text("3")
    changes = [(d.subject, d.change) for d in diff_entries(old, collect(starter).entry)]
    assert changes == [
        ("models/churn/data/parts/a.csv", "changed"),
        ("models/churn/data/parts/b.csv", "removed"),
        ("models/churn/data/parts/c.csv", "added"),
    ]


@pytest.mark.parametrize("name", ["lock", "run"])
def test_shipped_schemas_are_valid(name: str) -> None:
    import jsonschema

    from mlgate.schemas import load_schema

    schema = load_schema(name)
    jsonschema.validators.validator_for(schema).check_schema(schema)

"""The champion for the validation gate: the model a stage (or version) holds, read from git.

The model file is taken from the registered commit with ``git cat-file`` (no checkout) and kept
under ``.mlgate/cache/champions/<tag_name>/<version>/``; its sha256 is checked against the
registration payload when that recorded one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import gitio, paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import ConfigError, UsageError
from mlgate.registry.backend import ignore_cache, load_state, verify_tags
from mlgate.registry.events import FETCH_HINT
from mlgate.registry.grammar import SemVer, check_stage
from mlgate.registry.policy import policy_for
from mlgate.registry.reads import pick_version
from mlgate.registry.state import VersionState


@dataclass(frozen=True)
class Champion:
    version: str
    commit: str
    stage: str | None
    model_path: Path
    payload: dict[str, Any]


def resolve_champion(config: Config, model: ModelConfig, ref: str) -> Champion | None:
    """The version ``ref`` names ("prod", "latest", "v1.2.0"), or None when there is none."""
    stage, version, latest = _parse(ref)
    policy = policy_for(config, model.name)
    if stage is not None:
        policy.check_stage(stage)
    root = gitio.repo_root(config.root)
    state = load_state(root, None, model.name)
    light = [p for p in state.problems_for(model.name) if p.kind == "lightweight"]
    found = state.get(model.name)
    if light and found is None:
        raise UsageError(
            f"the registry tags of {model.name} are lightweight here ({len(light)}, e.g. "
            f"{light[0].tag}), so the champion cannot be read",
            hint=FETCH_HINT,
        )
    if found is None:
        return None
    chosen, stage_tag = pick_version(found, stage, version, latest=latest)
    if chosen is None:
        return None
    reg = chosen.registration
    if reg is not None and reg.payload_error:
        raise ConfigError(f"registry tag {reg.tag} has a corrupted payload: {reg.payload_error}")
    if policy.verify:
        verify_tags(root, [t for t in (stage_tag, reg.tag if reg else None) if t])
    return Champion(
        version=chosen.version,
        commit=chosen.commit,
        stage=stage,
        model_path=extract_model_file(root, model, chosen),
        payload=dict(chosen.payload or {}),
    )


def _parse(ref: str) -> tuple[str | None, str | None, bool]:
    text = ref.strip()
    if text in ("latest", "greatest"):
        return None, None, True
    if text.startswith("v") and text[1:2].isdigit():
        return None, str(SemVer.parse(text)), False
    try:
        return check_stage(text), None, False
    except UsageError:
        raise UsageError(
            f"invalid champion reference {ref!r}",
            hint="use a stage name (e.g. prod), 'latest' or a version such as v1.2.0",
        ) from None


def extract_model_file(root: Path, model: ModelConfig, version: VersionState) -> Path:
    """The model file of ``version`` as it is in its commit, cached and checksum-verified."""
    recorded = (version.payload or {}).get("model_file") or {}
    rel = str(recorded.get("path") or model.relative(model.model.file))
    expected = recorded.get("sha256")
    target = paths.cache_dir(root) / "champions" / model.tag_name / version.version / Path(rel).name
    if target.is_file() and (expected is None or _sha256(target.read_bytes()) == expected):
        return target
    if not gitio.has_path(root, version.commit, rel):
        raise UsageError(
            f"{model.name} {version.version}: {rel} is not in its commit {version.commit[:12]}",
            hint="commit the model file with the code that produced it, or register with "
            "--release so the release asset holds it",
        )
    data = gitio.show_file(root, version.commit, rel)
    if expected is not None and _sha256(data) != expected:
        raise ConfigError(
            f"{model.name} {version.version}: {rel} at {version.commit[:12]} does not match the "
            f"sha256 its registration recorded ({expected[:12]}...)",
        )
    from mlgate.fsio import atomic_write_bytes  # noqa: PLC0415

    written = atomic_write_bytes(target, data)
    ignore_cache(root)
    return written


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

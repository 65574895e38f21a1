"""The champion for the validation gate: the model a stage (or version) holds, read from git.

The model file is taken from the registered commit with ``git cat-file`` (no checkout) or, when
the commit lacks it, from the asset of the same name on the GitHub Release of the registration
tag (``registry.modelfile``); it is kept under ``.mlgate/cache/champions/<tag_name>/<version>/``
and its sha256 is checked against the registration payload when that recorded one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gitio
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import ConfigError, UsageError
from mlgate.registry.grammar import SemVer, check_stage
from mlgate.registry.modelfile import COMMIT, fetch_model_file
from mlgate.registry.policy import policy_for
from mlgate.registry.queries import pick_version
from mlgate.registry.state import FETCH_HINT
from mlgate.registry.tags import load_state, verify_tags

if TYPE_CHECKING:
    from mlgate.github.client import Connect


@dataclass(frozen=True)
class Champion:
    version: str
    commit: str
    stage: str | None
    model_path: Path
    payload: dict[str, Any]
    source: str = COMMIT  # where model_path came from: "commit" or "release-asset"
    origin: str = ""  # exactly where, for people: path at commit, or asset of a release


def resolve_champion(
    config: Config, model: ModelConfig, ref: str, *, github: Connect | None = None
) -> Champion | None:
    """The version ``ref`` names ("prod", "latest", "v1.2.0"), or None when there is none;
    ``github`` downloads its model file from the release when the commit does not hold it."""
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
    found_file = fetch_model_file(root, model, chosen, github=github)
    return Champion(
        version=chosen.version,
        commit=chosen.commit,
        stage=stage,
        model_path=found_file.path,
        payload=dict(chosen.payload or {}),
        source=found_file.source,
        origin=found_file.origin,
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

"""Stage policy from the ``registry:`` section of a model in mlgate.yaml.

``stages`` (allowed, lowest first), ``require_order`` (a version reaches a stage only after the
one before it), ``require_passing`` (only versions whose payload records passing verdicts),
``sign`` (create signed tags), ``verify`` (check signatures of the tags a read relies on),
``remote`` (where ``--push`` goes) and ``deadline`` (seconds a write retries lost races).
Without mlgate.yaml, or for a model it does not list, every stage is allowed and nothing else
is required, as in GTO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from mlgate.config.sections import RegistrySettings, parse_registry
from mlgate.errors import CheckFailed, Location, UsageError

if TYPE_CHECKING:
    from mlgate.config.model import Config, ModelConfig
    from mlgate.registry.state import ModelState, VersionState


@dataclass(frozen=True)
class RegistryPolicy(RegistrySettings):
    """The ``registry`` section of a model, with the checks a registry write applies."""

    @classmethod
    def parse(cls, section: Mapping[str, Any], where: Location | None = None) -> RegistryPolicy:
        """The policy a raw ``registry`` mapping sets (mlgate.yaml's is parsed by load_config)."""
        return cls.of(parse_registry(section, where))

    @classmethod
    def of(cls, settings: RegistrySettings) -> RegistryPolicy:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(RegistrySettings)})

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": list(self.stages) if self.stages is not None else None,
            **({"follows": {k: list(v) for k, v in self.follows.items()}} if self.follows else {}),
            "require_order": self.require_order,
            "require_passing": self.require_passing,
            "sign": self.sign,
            "verify": self.verify,
            "remote": self.remote,
            "deadline": self.deadline,
        }

    def check_stage(self, stage: str) -> None:
        """UsageError (exit 2) when the policy lists stages and ``stage`` is not one of them."""
        if self.stages is None or stage in self.stages:
            return
        from mlgate.config.validate import suggest

        # "production" for "prod", "stage" for "staging": a prefix either way is a likely slip.
        guess = suggest(stage, self.stages) or next(
            (s for s in self.stages if stage.lower().startswith(s) or s.startswith(stage.lower())),
            None,
        )
        allowed = ", ".join(self.stages) or "(none)"
        raise UsageError(
            f"stage {stage!r} is not allowed by the registry policy (allowed: {allowed})",
            location=self.where,
            hint=f"did you mean {guess!r}?"
            if guess
            else "add it to registry.stages in mlgate.yaml",
        )

    def check_order(self, model: ModelState, version: VersionState, stage: str) -> None:
        """CheckFailed (exit 1) when ``require_order`` wants an earlier stage first."""
        if not self.require_order or not self.stages or stage not in self.stages:
            return
        before = self.before(stage)
        if not before:
            return
        v = version.version
        if any(model.in_stage(v, b) or model.ever_assigned(v, b) for b in before):
            return
        first = before[0]
        raise CheckFailed(
            f"{model.name} {v} cannot go to {stage!r} before "
            + " or ".join(repr(b) for b in before)
            + ": the policy requires stages in order",
            location=self.where,
            hint=f"assign it to {first!r} first: mlgate registry assign {model.name} {v} {first}",
        )

    def before(self, stage: str) -> tuple[str, ...]:
        """The stages a version must have been in to enter ``stage`` (none: an entry stage)."""
        if self.follows is not None:
            return tuple(s for s, nexts in self.follows.items() if stage in nexts)
        if not self.stages or stage not in self.stages:
            return ()
        index = self.stages.index(stage)
        return (self.stages[index - 1],) if index else ()

    def check_passing(self, model: ModelState, version: VersionState) -> None:
        """CheckFailed (exit 1) when ``require_passing`` and the payload lacks passing verdicts."""
        self.check_passing_version(model.name, version)

    def check_passing_version(self, name: str, version: VersionState) -> None:
        """``check_passing`` for a version of model ``name`` (possibly not registered yet)."""
        if not self.require_passing:
            return
        reg = version.registration
        where = f"{name} {version.version}"
        if reg is not None and reg.payload_error:
            raise CheckFailed(
                f"{where}: its registration tag {reg.tag} has a corrupted payload, so its "
                f"verdicts cannot be read: {reg.payload_error}",
                location=self.where,
            )
        verdicts = (version.payload or {}).get("verdicts") or {}
        if not verdicts:
            raise CheckFailed(
                f"{where} records no verdicts, and the policy requires passing ones",
                location=self.where,
                hint="register versions with their verdicts (register --verdict FILE)",
            )
        failed = sorted(kind for kind, v in verdicts.items() if not v.get("ok"))
        if failed:
            raise CheckFailed(
                f"{where} has failing verdicts ({', '.join(failed)}); the policy requires "
                "passing ones",
                location=self.where,
            )


def policy_for(config: Config | None, name: str) -> RegistryPolicy:
    """The policy of model ``name`` (``dir:name`` or ``dir=name``); permissive when unlisted."""
    model = find_model(config, name)
    if config is None or model is None:
        return RegistryPolicy()
    return RegistryPolicy.of(model.registry)


def find_model(config: Config | None, name: str) -> ModelConfig | None:
    if config is None:
        return None
    for model in config.models:
        if name in (model.name, model.tag_name):
            return model
    return None

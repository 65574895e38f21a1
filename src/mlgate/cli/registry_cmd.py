"""``mlgate registry ...``: the model registry in annotated git tags (thin layer over core)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlgate.cli._common import F, config_option, echo, emit_json, json_option

if TYPE_CHECKING:
    from mlgate.config.model import Config


def _config(config_path: str | None) -> Config | None:
    """mlgate.yaml when there is one (its policies apply); the registry works without it."""
    from mlgate.config.loader import find_config, load_config
    from mlgate.errors import ConfigError

    if config_path is None and not os.environ.get("MLGATE_CONFIG"):
        try:
            find_config()
        except ConfigError:
            return None
    return load_config(config_path)


def _emit(result: Any, as_json: bool, text: Callable[[Any], str], problems: Any = ()) -> int:
    from mlgate.registry import render

    if as_json:
        emit_json(result.to_dict())
    else:
        echo(text(result))
        for line in render.problems(list(problems)):
            echo(line, err=True)
    return 0


def remote_option(func: F) -> F:
    return click.option(
        "--remote",
        metavar="NAME",
        default=None,
        help="Read the registry on this git remote (ls-remote + fetch) instead of local tags.",
    )(func)


def repo_option(func: F) -> F:
    return click.option(
        "-r",
        "--repo",
        "repo_url",
        metavar="URL|PATH",
        default=None,
        help="Local repository, or a remote URL to write to (or read) directly, as GTO's -r.",
    )(func)


def _repository(where: str | None) -> tuple[Path, str | None]:
    """The repository to work in and, for a URL, the URL (a temporary clone, removed when the
    command ends)."""
    if where is None:
        return Path.cwd(), None
    from mlgate.registry.workspace import clone_of, is_local_repository

    if is_local_repository(where):
        return Path(where), None
    context = click.get_current_context()
    return context.with_resource(clone_of(where)), where


def write_options(func: F) -> F:
    options = [
        repo_option,
        click.option(
            "--push", is_flag=True, help="Push the tag (race-safe: retries on a lost race)."
        ),
        click.option(
            "--remote",
            metavar="NAME",
            default=None,
            help="Remote to push to (default: registry.remote, else origin).",
        ),
        click.option(
            "--deadline",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            default=None,
            help="Keep retrying lost races this long (default: registry.deadline, else 300).",
        ),
        click.option(
            "-m", "--message", default=None, help="First line of the tag message (and a note)."
        ),
        click.option(
            "--sign/--no-sign",
            default=None,
            help="Sign the tag (git tag -s); default: registry.sign in mlgate.yaml.",
        ),
        config_option,
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _common(kwargs: dict[str, Any]) -> dict[str, Any]:
    from mlgate.github.actions import RunContext

    repo, url = _repository(kwargs.pop("repo_url"))
    remote = kwargs.pop("remote")
    config_path = kwargs.pop("config_path")
    return {
        "repo": repo,
        "config": None if url else _config(config_path),
        "push": kwargs.pop("push") or url is not None,  # a URL is written to directly
        "remote": url or remote,
        "message": kwargs.pop("message"),
        "sign": kwargs.pop("sign"),
        "deadline": kwargs.pop("deadline"),
        "run": RunContext.from_env(),
    }


@click.group()
def registry() -> None:
    """Model registry in annotated git tags (GTO-compatible).

    Tags: NAME@vX.Y.Z (register), NAME@vX.Y.Z! (deregister), NAME#STAGE#N (assign),
    NAME#STAGE!#N (unassign), NAME@deprecated. State is read from local tags, or from a
    remote with --remote.
    """


@registry.command()
@click.argument("name")
@click.option("--version", "version", metavar="vX.Y.Z", default=None, help="Explicit version.")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default=None,
    help="Bump the highest version so far (default patch; the first is v0.0.1).",
)
@click.option("--ref", default="HEAD", show_default=True, help="Commit that produced the model.")
@click.option(
    "--payload",
    "payload_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON file with more payload fields (see 'mlgate schema payload').",
)
@click.option(
    "--verdict",
    "verdicts",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verdict file whose digest and outcome to record (repeatable).",
)
@click.option("--release", is_flag=True, help="Also create the GitHub Release (needs --push).")
@click.option(
    "--force",
    is_flag=True,
    help="Register again the version REF already carries (also a deregistered one).",
)
@write_options
def register(as_json: bool, payload_file: Path | None, **kwargs: Any) -> int:
    """Register a version of model NAME at a commit."""
    from mlgate.registry import render, versions
    from mlgate.registry.evidence import read_payload_file

    payload = read_payload_file(payload_file) if payload_file else None
    github = None
    if kwargs["release"]:
        from mlgate.github.client import GitHubClient

        github = GitHubClient.from_env()
    request = versions.RegisterRequest(
        **_common(kwargs),
        payload=payload,
        verdicts=tuple(kwargs.pop("verdicts")),
        github=github,
        **kwargs,
    )
    return _emit(versions.register(request), as_json, render.write)


@registry.command()
@click.argument("name")
@click.argument("target", metavar="[VERSION|REF]", required=False)
@click.argument("stage_arg", metavar="[STAGE]", required=False)
@click.option("--stage", default=None, help="Stage to assign (GTO's form; or the third argument).")
@click.option(
    "--version",
    "new_version",
    metavar="vX.Y.Z",
    default=None,
    help="With a REF: the version to register there; alone: the registered version to assign.",
)
@click.option(
    "--sr",
    "--skip-registration",
    "skip_registration",
    is_flag=True,
    help="With a REF that has no version: assign the commit itself, unregistered (as GTO).",
)
@click.option("--simple", is_flag=True, help="GTO's simple tag NAME#STAGE (no counter).")
@click.option("--force", is_flag=True, help="Write a new tag even if VERSION already holds STAGE.")
@write_options
def assign(
    as_json: bool,
    target: str | None,
    stage_arg: str | None,
    stage: str | None,
    new_version: str | None,
    **kwargs: Any,
) -> int:
    """Assign VERSION (or the version at REF) of NAME to STAGE.

    Forms: assign NAME VERSION STAGE; assign NAME REF --stage STAGE (registers a version at REF
    when it has none, unless --skip-registration); assign NAME --version V --stage STAGE.
    Policy applies: allowed stages, order, passing verdicts.
    """
    from mlgate.errors import UsageError
    from mlgate.registry import render, stages
    from mlgate.registry.grammar import SemVer

    if stage_arg is not None and stage is not None and stage_arg != stage:
        raise UsageError("the stage is given twice, differently (argument and --stage)")
    chosen = stage_arg or stage
    if chosen is None:
        raise UsageError("which stage? pass STAGE as the third argument or --stage STAGE")
    version = ref = None
    if target is None:
        version, new_version = new_version, None
        if version is None:
            raise UsageError("name a VERSION or a REF to assign (or --version vX.Y.Z)")
    elif SemVer.is_valid(target):
        version = target
    else:
        ref = target
    request = stages.AssignRequest(
        **_common(kwargs),
        stage=chosen,
        version=version,
        ref=ref,
        new_version=new_version,
        **kwargs,
    )
    return _emit(stages.assign(request), as_json, render.write)


def delete_option(func: F) -> F:
    return click.option(
        "-d",
        "--delete",
        is_flag=True,
        help="Delete the tags instead of writing a new one (as GTO; --push deletes them there).",
    )(func)


@registry.command()
@click.argument("name")
@click.argument("stage")
@click.option("--version", default=None, help="Version to take out (default: the holder).")
@click.option("--all", "all_", is_flag=True, help="Take every version in STAGE out of it.")
@click.option("--simple", is_flag=True, help="GTO's simple tag NAME#STAGE! (no counter).")
@delete_option
@write_options
def unassign(as_json: bool, all_: bool, **kwargs: Any) -> int:
    """Take the version holding STAGE (or --version, or --all) out of it."""
    from mlgate.registry import render, stages

    request = stages.UnassignRequest(**_common(kwargs), all=all_, **kwargs)
    return _emit(stages.unassign(request), as_json, render.write)


@registry.command()
@click.argument("name")
@click.argument("version")
@delete_option
@write_options
def deregister(as_json: bool, **kwargs: Any) -> int:
    """Withdraw VERSION of NAME (it loses its stages; versions are never reused)."""
    from mlgate.registry import render, versions

    return _emit(
        versions.deregister(versions.DeregisterRequest(**_common(kwargs), **kwargs)),
        as_json,
        render.write,
    )


@registry.command()
@click.argument("name")
@delete_option
@write_options
def deprecate(as_json: bool, **kwargs: Any) -> int:
    """Deprecate model NAME (a later registration makes it active again)."""
    from mlgate.registry import render, versions

    return _emit(
        versions.deprecate(versions.DeprecateRequest(**_common(kwargs), **kwargs)),
        as_json,
        render.write,
    )


@registry.command()
@click.argument("name")
@click.argument("stage")
@write_options
def rollback(as_json: bool, **kwargs: Any) -> int:
    """Give STAGE back to the version that held it before the current one."""
    from mlgate.registry import render, stages

    return _emit(
        stages.rollback(stages.RollbackRequest(**_common(kwargs), **kwargs)), as_json, render.write
    )


@registry.command()
@click.argument("name", required=False)
@click.option("-d", "--deprecated", is_flag=True, help="List deprecated models too (as GTO).")
@click.option(
    "--ro",
    "--registered-only",
    "registered_only",
    is_flag=True,
    help="Stages held by registered versions only (not by commits nobody registered).",
)
@click.option(
    "--sort",
    type=click.Choice(["timestamp", "semver"]),
    default="timestamp",
    show_default=True,
    help="Who holds a stage: the latest assignment, or the highest version in it.",
)
@click.option(
    "--vs",
    "--versions-per-stage",
    "versions_per_stage",
    type=int,
    default=1,
    help="List N versions per stage, holder first (-1: all; --all-versions).",
)
@click.option(
    "--av",
    "--assignments-per-version",
    "assignments_per_version",
    type=int,
    default=-1,
    help="With NAME: list N stages per version (-1: all, the default).",
)
@click.option(
    "--all-versions", "all_versions", is_flag=True, help="Every version in each stage (--vs -1)."
)
@repo_option
@remote_option
@config_option
@json_option
def show(
    name: str | None,
    remote: str | None,
    config_path: str | None,
    as_json: bool,
    all_versions: bool,
    **filters: Any,
) -> int:
    """Latest version and stage holders of every model (or the versions of NAME)."""
    from mlgate.registry import queries, render

    if all_versions:
        filters["versions_per_stage"] = -1
    repo, url = _repository(filters.pop("repo_url"))
    request = queries.ShowRequest(
        repo=repo,
        config=None if url else _config(config_path),
        remote=url or remote,
        name=name,
        **filters,
    )
    result = queries.show(request)
    return _emit(result, as_json, render.show, result.state.problems_for(result.name))


@registry.command()
@click.argument("name", required=False)
@click.option(
    "--asc/--desc",
    "--ascending/--descending",
    "ascending",
    default=True,
    help="Oldest first (default: the replay order) or newest first (GTO's default).",
)
@remote_option
@config_option
@json_option
def history(
    name: str | None, ascending: bool, remote: str | None, config_path: str | None, as_json: bool
) -> int:
    """Every registry event of NAME (or all models), in replay order."""
    from mlgate.registry import queries, render

    request = queries.HistoryRequest(
        repo=Path.cwd(),
        config=_config(config_path),
        remote=remote,
        name=name,
        ascending=ascending,
    )
    result = queries.history(request)
    return _emit(result, as_json, render.history, result.problems)


@registry.command()
@click.argument("ref", metavar="NAME#STAGE|NAME@latest|NAME@vX.Y.Z")
@click.option("--no-model-file", is_flag=True, help="Do not extract the model file at the commit.")
@remote_option
@config_option
@json_option
def resolve(
    ref: str, no_model_file: bool, remote: str | None, config_path: str | None, as_json: bool
) -> int:
    """Version, commit, payload and model file a reference points at."""
    from mlgate.github.client import GitHubClient
    from mlgate.registry import queries, render

    request = queries.ResolveRequest(
        repo=Path.cwd(),
        config=_config(config_path),
        remote=remote,
        ref=ref,
        model_file=not no_model_file,
        github=GitHubClient.from_env,  # called only for a model file kept as a release asset
    )
    try:
        result = queries.resolve(request)
    except queries.Unresolved as exc:
        if as_json:  # the answer is "nothing": null fields, and still exit code 1
            emit_json(exc.empty.to_dict())
        raise
    return _emit(result, as_json, render.resolution)


@registry.command("check-ref")
@click.argument("ref", metavar="[REF]", required=False)
@config_option
@json_option
def check_ref(ref: str | None, config_path: str | None, as_json: bool) -> int:
    """What the tag REF records (default: $GITHUB_REF, else the newest registry tag on HEAD);
    sets step outputs on GitHub Actions."""
    from mlgate.github.actions import RunContext, set_output
    from mlgate.registry import queries, render

    ref = ref or RunContext.from_env().ref
    result = queries.check_ref(
        queries.CheckRefRequest(repo=Path.cwd(), config=_config(config_path), ref=ref)
    )
    for key in ("event", "name", "version", "stage", "commit", "tag"):
        set_output(key, str(getattr(result, key) or ""))
    return _emit(result, as_json, render.ref_info)


@registry.command()
@remote_option
@config_option
@json_option
def doctor(remote: str | None, config_path: str | None, as_json: bool) -> int:
    """Check the registry's tags for problems (exit 1 when there are any), as GTO's doctor."""
    from mlgate import __version__
    from mlgate.registry import queries, render

    request = queries.DoctorRequest(repo=Path.cwd(), config=_config(config_path), remote=remote)
    result = queries.doctor(request)
    if as_json:
        emit_json({"mlgate": __version__, **result.to_dict()})
    else:
        echo(f"mlgate {__version__}")
        echo(render.doctor(result))
    return 0 if result.ok else 1


@registry.command()
@click.argument("name", required=False)
@remote_option
@config_option
@json_option
def stages(name: str | None, remote: str | None, config_path: str | None, as_json: bool) -> int:
    """Allowed stages (policy) and stages in use, per model."""
    from mlgate.registry import queries, render

    request = queries.StagesRequest(
        repo=Path.cwd(), config=_config(config_path), remote=remote, name=name
    )
    return _emit(queries.stages(request), as_json, render.stages)


@registry.command()
@click.argument("name")
@click.argument("version")
@click.option(
    "--verdict",
    "verdicts",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verdict file to attach (repeatable).",
)
@remote_option
@config_option
@json_option
def release(
    name: str,
    version: str,
    verdicts: tuple[Path, ...],
    remote: str | None,
    config_path: str | None,
    as_json: bool,
) -> int:
    """Create or update the GitHub Release of a registered VERSION (idempotent)."""
    from mlgate.github.client import GitHubClient
    from mlgate.registry import github_release, render

    request = github_release.ReleaseVersionRequest(
        name=name,
        version=version,
        repo=Path.cwd(),
        config=_config(config_path),
        remote=remote,
        verdicts=verdicts,
        github=GitHubClient.from_env(),
    )
    return _emit(github_release.release_version(request), as_json, render.write)


@registry.command("next-version")
@click.argument("name")
@click.option("--bump", type=click.Choice(["major", "minor", "patch"]), default=None,
              help="Which part of the version to increase (default: patch).")  # fmt: skip
@remote_option
@json_option
def next_version_cmd(name: str, bump: str | None, remote: str | None, as_json: bool) -> int:
    """The version 'register NAME' would create now."""
    from mlgate.registry import versions

    version = versions.next_version(
        versions.NextVersionRequest(name=name, bump=bump, repo=Path.cwd(), remote=remote)
    )
    if as_json:
        emit_json({"name": name, "version": version})
    else:
        echo(version)
    return 0

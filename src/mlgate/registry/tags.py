"""The tags registry state is built from: one ``git for-each-ref`` (local) or one
``git ls-remote`` plus one fetch of what is missing (remote), parsed in a single pass; and
their signatures, verified. All git goes via gitio.

Reading a remote never writes ``refs/tags``: the tags missing locally are fetched into a
namespace of this read's own (``refs/mlgate/read/<id>/``), read from there and deleted, so only
their objects stay behind (as after any fetch). GTO and ``git tag`` see the repository unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mlgate import gitio, paths
from mlgate.errors import CheckFailed, UsageError
from mlgate.registry.grammar import parse_tag, to_tag_name
from mlgate.registry.payload import PayloadChecker
from mlgate.registry.state import Problem, RawTag, RegistryState, build_state, decode

# The fields every registry read lists with ``git for-each-ref``.
FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objecttype)",
    "%(*objectname)",
    "%(taggername)",
    "%(taggeremail)",
    "%(taggerdate:unix)",
    "%(taggerdate:iso-strict)",
    "%(contents:subject)",
    "%(contents:body)",
    "%(contents:signature)",
)
# Every field ends in NUL (git messages cannot hold one); for-each-ref ends records with "\n".
FORMAT = "".join(f"{field}%00" for field in FIELDS)
TAGS = "refs/tags/"
READS = "refs/mlgate/read/"  # one namespace per remote read, removed when the read ends
_WILDCARD_ABOVE = 200  # fetch with one wildcard refspec when this many tags are missing


def parse_refs(output: str, prefix: str = TAGS) -> list[RawTag]:
    """The tags in ``git for-each-ref --format=FORMAT`` output (pure, one pass); ``prefix`` is
    the namespace the refs were listed under (stripped from their names)."""
    parts = output.split("\0")
    width = len(FIELDS)
    tags = []
    for start in range(0, len(parts) - width + 1, width):
        (ref, otype, oid, ttype, target, tname, temail, unix, iso, subject, body, sig) = parts[
            start : start + width
        ]
        ref = ref.lstrip("\n")
        if not ref.startswith(prefix):
            continue
        annotated = otype == "tag"
        tags.append(  # positional: thousands per read, and keywords cost twice as much
            RawTag(
                ref[len(prefix) :],
                otype,
                oid,
                ttype if annotated else otype,
                target if annotated else oid,
                tname,
                temail,
                int(unix) if unix.isdigit() else 0,
                iso,
                subject,
                body,
                bool(sig.strip()),
            )
        )
    return tags


def model_patterns(name: str | None) -> list[str]:
    """Ref patterns for one model's tags (``*`` stops at '/', stage names may hold one)."""
    if name is None:
        return ["refs/tags"]
    base = TAGS + to_tag_name(name)
    return [f"{base}@*", f"{base}#*", f"{base}#*/**"]


def read_local_tags(root: Path, name: str | None = None) -> list[RawTag]:
    return parse_refs(gitio.for_each_ref(root, FORMAT, model_patterns(name)))


@dataclass(frozen=True)
class TagsRead:
    """Tags the state is built from, plus every tag name a new tag must not collide with."""

    tags: list[RawTag]
    occupied: frozenset[str]
    problems: list[Problem]
    source: str


def read_tags(
    root: Path,
    remote: str | None = None,
    name: str | None = None,
    *,
    writing: bool = False,
) -> TagsRead:
    """Local tags, or the remote's: ``ls-remote``, then one fetch of the tags missing here
    (into a temporary namespace, never ``refs/tags``).

    With ``name``, only that model's tags (a model's state depends on its own events only).
    ``writing``: a local tag that differs from the remote's under the same name is an error (a
    new tag could never be pushed beside it); a read takes the remote's and reports it.
    """
    local = read_local_tags(root, name)
    if remote is None:
        return TagsRead(local, frozenset(t.name for t in local), [], "local")
    patterns = model_patterns(name) if name is not None else []
    listing = gitio.ls_remote_tags(root, remote, patterns)
    by_name = {t.name: t for t in local}
    diverged = [n for n, oid in listing.items() if n in by_name and by_name[n].object_id != oid]
    if diverged and writing:
        first = diverged[0]
        raise UsageError(
            f"local tag {first!r} differs from the one on {remote!r}"
            + (f" (and {len(diverged) - 1} more)" if len(diverged) > 1 else ""),
            hint=f"a local event was never pushed and {remote} has another under the same name; "
            f"inspect both, then take the remote's with: git fetch --force {remote} "
            f"'refs/tags/{first}:refs/tags/{first}'",
            details=diverged[1:20],
        )
    found = {
        n: by_name[n] for n, oid in listing.items() if n in by_name and by_name[n].object_id == oid
    }
    missing = [n for n in listing if n not in found]
    if missing:
        found.update((t.name, t) for t in fetch_tags(root, remote, missing))
    tags = [found[n] for n in listing if n in found]
    problems = [
        Problem(
            n,
            "diverged",
            f"differs from the local tag of the same name; {remote}'s is read",
            f"take the remote's with: git fetch --force {remote} 'refs/tags/{n}:refs/tags/{n}'",
            _model_of(n),
        )
        for n in diverged
    ]
    problems.extend(
        Problem(n, "missing", f"is on {remote} but could not be fetched", name=_model_of(n))
        for n in listing
        if n not in found
    )
    return TagsRead(tags, frozenset(listing) | frozenset(by_name), problems, f"remote {remote}")


def _model_of(tag: str) -> str | None:
    parsed = parse_tag(tag)
    return parsed.name if parsed else None


def fetch_tags(root: Path, remote: str, names: Sequence[str]) -> list[RawTag]:
    """``names`` (tags on ``remote``) as they are there, read through a namespace of this
    call's own that is deleted before returning: ``refs/tags`` is never written."""
    space = f"{READS}{os.getpid()}-{os.urandom(4).hex()}/"
    refspecs = (
        [f"+{TAGS}*:{space}*"]
        if len(names) > _WILDCARD_ABOVE
        else [f"+{TAGS}{n}:{space}{n}" for n in names]
    )
    try:
        gitio.fetch_refspecs(root, remote, refspecs)
        wanted = set(names)
        return [
            t
            for t in parse_refs(gitio.for_each_ref(root, FORMAT, [space]), space)
            if t.name in wanted
        ]
    finally:
        listed = gitio.for_each_ref(root, "%(refname) %(objectname)", [space]).split()
        gitio.delete_refs(root, dict(zip(listed[::2], listed[1::2], strict=True)))


def load_state(
    root: Path,
    remote: str | None = None,
    name: str | None = None,
    *,
    writing: bool = False,
) -> RegistryState:
    """The registry state of the repository at ``root`` (or of its ``remote``); with ``name``,
    only that model's tags are read. ``writing``: see ``read_tags``."""
    read = read_tags(root, remote, name, writing=writing)
    checker = PayloadChecker(payload_cache(root))
    decoded = decode(read.tags, checker)
    if checker.added:
        # A full read knows every live tag, so it also drops ids of deleted ones.
        checker.save(keep=(t.object_id for t in read.tags) if name is None else None)
    state = build_state(
        decoded.events,
        [*read.problems, *decoded.problems],
        read.occupied,
        read.source,
        decoded.parsed,
    )
    if name is None:
        return state
    return replace(state, all_models=lambda: model_names(root))


def payload_cache(root: Path) -> Path | None:
    """Where checked payloads are remembered: inside the git directory, which no commit can
    reach (a cache in the work tree could be committed by a pull request to skip the checks)."""
    common = gitio.common_dir(root)
    return common / "mlgate" / "registry" if common else None


def model_names(root: Path) -> list[str]:
    """Every model name among local registry tags (names only: a cheap listing)."""
    listing = gitio.for_each_ref(root, "%(refname:strip=2)", ["refs/tags"]).split()
    return sorted({p.name for p in map(parse_tag, listing) if p is not None})


def ignore_cache(root: Path) -> None:
    """Make git ignore ``.mlgate/cache`` wherever it is created (as pytest does for its cache),
    so reading a registry never leaves untracked files in a user's work tree."""
    marker = paths.cache_dir(root) / ".gitignore"
    if marker.exists():
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("# created by mlgate: caches are local, never committed\n*\n")
    except OSError:
        return  # read-only checkout: the cache is optional


def verify_tags(root: Path, tags: Sequence[str], objects: Mapping[str, str] | None = None) -> None:
    """Check the signatures of ``tags`` (in parallel); CheckFailed (exit 1) names every failure.

    ``objects`` (tag name -> tag object id) verifies by object, for tags read from a remote,
    which are not under ``refs/tags`` here.
    """
    unique = list(dict.fromkeys(tags))
    if not unique:
        return
    from concurrent.futures import ThreadPoolExecutor

    where = objects or {}
    with ThreadPoolExecutor(max_workers=min(4, len(unique))) as pool:
        results = list(pool.map(lambda t: (t, gitio.verify_tag(root, where.get(t, t))), unique))
    failed = [(t, r) for t, r in results if not r.ok]
    if not failed:
        return
    details = []
    for tag, result in failed:
        reason = (result.stderr.strip().splitlines() or ["no signature"])[-1]
        details.append(f"{tag}: {reason}")
    raise CheckFailed(
        f"signature verification failed for {len(failed)} registry tag(s), and the policy "
        "requires verified tags",
        details=details,
        hint="sign registry tags (registry.sign: true, git config user.signingKey, gpg.format) "
        "and make the signers trusted here (gpg keyring, or gpg.ssh.allowedSignersFile)",
    )

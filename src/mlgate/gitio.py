"""The one module that runs git: plain subprocess calls through mlgate.proc, never a shell."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlgate import proc
from mlgate.errors import ExternalError, UsageError

# Variables a calling git (hooks, worktrees) leaks into child processes; they would redirect our
# git calls to another repository.
_LEAKY = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git: leaked repository variables removed, prompts disabled."""
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("LC_ALL", "C")
    if extra:
        env.update(extra)
    return env


def git(
    args: Sequence[str],
    cwd: Path,
    *,
    check: bool = True,
    input_text: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float | None = 300,
) -> proc.Completed:
    """Run ``git ARGS`` in ``cwd``; failures raise ExternalError (exit 3) with git's output."""
    return proc.run(
        ["git", *args],
        cwd=cwd,
        env=git_env(extra_env),
        input_text=input_text,
        check=check,
        timeout=timeout,
        what=f"git {args[0]}" if args else "git",
    )


def out(args: Sequence[str], cwd: Path) -> str:
    """stdout of ``git ARGS`` without the trailing newline."""
    return git(args, cwd).stdout.rstrip("\n")


def repo_root(path: Path) -> Path:
    """The top folder of the git work tree containing ``path``; UsageError when there is none."""
    result = git(
        ["rev-parse", "--show-toplevel"], path if path.is_dir() else path.parent, check=False
    )
    if not result.ok:
        raise UsageError(
            f"{path} is not inside a git repository",
            hint="run 'git init' and commit the project first",
        )
    return Path(result.stdout.strip())


def head_commit(cwd: Path) -> str | None:
    """The full sha of HEAD, or None in a repository without commits."""
    result = git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd, check=False)
    return result.stdout.strip() or None if result.ok else None


def current_branch(cwd: Path) -> str | None:
    """The checked-out branch, or None when HEAD is detached."""
    result = git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd, check=False)
    return result.stdout.strip() if result.ok else None


def is_dirty(cwd: Path, paths: Sequence[str] = ()) -> bool:
    """Whether tracked files (below ``paths``) have uncommitted changes."""
    result = git(["status", "--porcelain", "--untracked-files=no", "--", *paths], cwd)
    return bool(result.stdout.strip())


def tracked_files(cwd: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """Tracked files (repository-relative, POSIX) matching ``pathspecs``, sorted."""
    result = git(["ls-files", "-z", "--full-name", "--", *pathspecs], cwd)
    return sorted(p for p in result.stdout.split("\0") if p)


def tracked_relative(cwd: Path, *, whole_repo: bool = False) -> list[str] | None:
    """Tracked files below ``cwd`` (or in the whole repository, then with ``../`` prefixes),
    relative to ``cwd``; None when ``cwd`` is not inside a git repository. One git process."""
    result = git(["ls-files", "-z", "--", ":/" if whole_repo else "."], cwd, check=False)
    if not result.ok:
        if "not a git repository" in result.stderr:
            return None
        raise proc.process_error(result, "git ls-files")
    return sorted(p for p in result.stdout.split("\0") if p)


def show_file(cwd: Path, rev: str, path: str) -> bytes:
    """The content of ``path`` at ``rev`` without a checkout (``git cat-file``)."""
    return proc.run_binary(
        ["git", "cat-file", "blob", f"{rev}:{path}"], cwd=cwd, env=git_env(), what="git cat-file"
    )


def author_of(cwd: Path, rev: str = "HEAD") -> dict[str, str]:
    """Author name, email and date (ISO 8601) of ``rev``."""
    fields = out(["log", "-1", "--format=%an%x00%ae%x00%aI", rev], cwd).split("\0")
    return dict(zip(("name", "email", "date"), fields, strict=False))


# --- refs, tags and remotes (the registry's git calls) ---


def for_each_ref(cwd: Path, fmt: str, patterns: Sequence[str]) -> str:
    """Raw output of ``git for-each-ref --format=FMT PATTERNS`` (one process for all refs)."""
    return git(["for-each-ref", f"--format={fmt}", *patterns], cwd).stdout


def for_each_ref_raw(cwd: Path, fmt: str, patterns: Sequence[str]) -> bytes:
    """``for_each_ref`` as bytes (to hash the listing without decoding it first)."""
    args = ["git", "for-each-ref", f"--format={fmt}", *patterns]
    return proc.run_binary(args, cwd=cwd, env=git_env(), what="git for-each-ref")


def resolve_commit(cwd: Path, rev: str) -> str | None:
    """The full sha of the commit ``rev`` names, or None when it names none."""
    result = git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        cwd,
        check=False,
    )
    return result.stdout.strip() or None if result.ok else None


def ls_remote_tags(cwd: Path, remote: str, patterns: Sequence[str] = ()) -> dict[str, str]:
    """Tag name -> object id on ``remote`` (``git ls-remote --tags``; peeled lines skipped)."""
    args = ["ls-remote", "--tags", "--", remote, *patterns]
    result = git(args, cwd, check=False, timeout=120)
    if not result.ok:
        raise ExternalError(
            f"cannot list the tags of remote {remote!r}",
            hint="check the remote's name and URL ('git remote -v') and your access to it",
            details=proc.process_error(result, "git ls-remote").details,
        )
    tags: dict[str, str] = {}
    for line in result.stdout.splitlines():
        oid, _, ref = line.partition("\t")
        if ref.startswith("refs/tags/") and not ref.endswith("^{}"):
            tags[ref[len("refs/tags/") :]] = oid
    return tags


def fetch_refspecs(cwd: Path, remote: str, refspecs: Sequence[str]) -> None:
    """Fetch exactly ``refspecs`` from ``remote`` (no other tags, FETCH_HEAD untouched, no
    automatic gc repacking the refs meanwhile)."""
    git(
        [
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-gc",
            "--",
            remote,
            *refspecs,
        ],
        cwd,
        timeout=600,
    )


def create_tag(
    cwd: Path,
    name: str,
    target: str,
    message: str,
    *,
    sign: bool = False,
    date: str | None = None,
) -> proc.Completed:
    """``git tag -a|-s NAME TARGET`` with the message on stdin; refuses an existing name.

    Returns the completed process (not raised) so the caller can tell "already exists" apart.
    """
    extra = {"GIT_COMMITTER_DATE": date} if date else None
    args = ["tag", "-s" if sign else "-a", "--cleanup=verbatim", "-F", "-", "--", name, target]
    return git(args, cwd, check=False, input_text=message, extra_env=extra)


def delete_refs(cwd: Path, refs: Mapping[str, str]) -> None:
    """Delete ``refs`` (full name -> expected object id) in one transaction."""
    if refs:
        lines = "".join(f"delete {ref} {oid}\n" for ref, oid in refs.items())
        git(["update-ref", "--stdin"], cwd, input_text=lines)


def ref_ids(cwd: Path, refs: Sequence[str]) -> list[str]:
    """Object ids of ``refs`` (not peeled), in order."""
    return out(["rev-parse", "--verify", "--end-of-options", *refs], cwd).split()


def push_refspecs(
    cwd: Path,
    remote: str,
    refspecs: Sequence[str],
    *,
    atomic: bool = False,
    leases: Sequence[str] = (),
) -> proc.Completed:
    """``git push --porcelain`` without force; the caller reads the per-ref status lines.
    ``leases`` are ``--force-with-lease=REF:`` options (create REF only if it is absent)."""
    args = ["push", "--porcelain", *leases]
    if atomic:
        args.append("--atomic")
    return git([*args, "--", remote, *refspecs], cwd, check=False, timeout=600)


def verify_tag(cwd: Path, name: str) -> proc.Completed:
    """``git verify-tag NAME`` (GPG, SSH or X.509 as git is configured); not raised."""
    return git(["verify-tag", "--", name], cwd, check=False)


def committer_ident(cwd: Path) -> str:
    """``Name <email>`` git would record as committer/tagger here ('' when unset)."""
    result = git(["var", "GIT_COMMITTER_IDENT"], cwd, check=False)
    ident = result.stdout.strip()
    return ident.rsplit(">", 1)[0] + ">" if ">" in ident else ""


def tree_files(cwd: Path, rev: str, path: str) -> list[str] | None:
    """Files under ``path`` in commit ``rev`` when it is a folder there (paths relative to it);
    None when it is a file or absent."""
    kind = git(["cat-file", "-t", f"{rev}:{path}"], cwd, check=False)
    if not kind.ok or kind.stdout.strip() != "tree":
        return None
    listed = out(["ls-tree", "-r", "--name-only", "-z", f"{rev}:{path}"], cwd)
    return [name for name in listed.split("\0") if name]


def has_path(cwd: Path, rev: str, path: str) -> bool:
    """Whether ``path`` exists in commit ``rev`` (``git cat-file -e``)."""
    return git(["cat-file", "-e", f"{rev}:{path}"], cwd, check=False).ok


def common_dir(root: Path) -> Path | None:
    """The repository's git directory shared by all its worktrees, found without running git
    (``.git`` folder, or the ``gitdir:`` file of a worktree or submodule); None if unknown."""
    dotgit = root / ".git"
    if dotgit.is_dir():
        return dotgit
    try:
        text = dotgit.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text[len("gitdir:") :].strip())
    gitdir = gitdir if gitdir.is_absolute() else (root / gitdir).resolve()
    try:
        common = (gitdir / "commondir").read_text("utf-8").strip()
    except OSError:
        return gitdir
    return (gitdir / common).resolve()


def changed_files(cwd: Path, base: str, head: str | None = None) -> list[str]:
    """Files changed since the merge base of ``base`` (one ``git diff --name-only`` call).

    Against ``head`` when given, else against the working tree (so uncommitted edits of tracked
    files count locally). Renames list both the old and the new path.
    """
    args = ["diff", "--name-only", "-z", "--no-renames", "--merge-base", base]
    if head is not None:
        args.append(head)
    result = git([*args, "--"], cwd)
    return sorted(p for p in result.stdout.split("\0") if p)


def merge_base(cwd: Path, a: str, b: str = "HEAD") -> str | None:
    """The best common ancestor of two commits, or None when they share none (shallow clone)."""
    result = git(["merge-base", a, b], cwd, check=False)
    return result.stdout.strip() or None if result.ok else None


def remote_url(cwd: Path, remote: str = "origin") -> str | None:
    """The fetch URL of ``remote`` with any credentials removed, or None when there is none."""
    result = git(["remote", "get-url", remote], cwd, check=False)
    if not result.ok:
        return None
    url = result.stdout.strip()
    if url.startswith("git@") and ":" in url:  # git@host:org/repo.git -> https://host/org/repo
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{rest.split('@', 1)[1]}"
    return url.removesuffix(".git")

"""The one module that runs git: plain subprocess calls through mlgate.proc, never a shell."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlgate import proc
from mlgate.errors import UsageError

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

"""Running workflows under nektos/act (the offline kit ``act-offline``) and reading what they did.

act runs in host mode with ``--json`` logs; ``ActRun`` turns the log into each job's result,
the outputs each step set, the job summaries, the annotations (``::error``/``::warning``/
``::notice`` with their file and line) and the artifacts act's artifact server stored.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import proc

ENV_KIT = "MLGATE_ACT_OFFLINE"


def find_kit(repo_root: Path) -> Path:
    """``$MLGATE_ACT_OFFLINE``, ``act-offline`` on PATH, or ``shared/act/act-offline`` beside
    the checkout or one of its parent folders; a clear error when none exists (the session
    never skips silently)."""
    candidates = [os.environ.get(ENV_KIT), shutil.which("act-offline")]
    candidates += [str(up / "shared" / "act" / "act-offline") for up in repo_root.resolve().parents]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise RuntimeError(
        "act-offline (the offline nektos/act kit) was not found: set MLGATE_ACT_OFFLINE to "
        "its path, or put it on PATH"
    )


@dataclass(frozen=True)
class Annotation:
    level: str  # error, warning, notice
    message: str
    properties: Mapping[str, str]
    job: str


@dataclass
class ActRun:
    """What one ``act`` invocation did, from its JSON log."""

    exit_code: int
    seconds: float
    entries: list[dict[str, Any]]
    artifacts: Path | None
    stderr: str
    jobs: dict[str, str] = field(default_factory=dict)  # job name -> success / failure
    summaries: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # job -> name -> last value
    set_outputs: list[tuple[str, str, str, str]] = field(default_factory=list)  # job, step, ...
    annotations: list[Annotation] = field(default_factory=list)

    @classmethod
    def parse(cls, code: int, seconds: float, stdout: str, stderr: str) -> ActRun:
        entries = []
        for line in stdout.splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue
        found = re.search(r"act-offline: artifacts in (\S+)", stderr)
        run = cls(code, seconds, entries, Path(found.group(1)) if found else None, stderr)
        for entry in entries:
            job = str(entry.get("job", ""))
            if "jobResult" in entry:
                run.jobs[job] = str(entry["jobResult"])
            command = entry.get("command")
            if command == "summary":
                run.summaries[job] = run.summaries.get(job, "") + str(entry.get("content", ""))
            elif command == "set-output":
                name, value = str(entry.get("name")), str(entry.get("arg"))
                run.outputs.setdefault(job, {})[name] = value
                run.set_outputs.append((job, str(entry.get("step", "")), name, value))
            elif command in {"error", "warning", "notice"}:
                run.annotations.append(
                    Annotation(
                        str(command),
                        str(entry.get("arg", "")),
                        dict(entry.get("kvPairs") or {}),
                        job,
                    )
                )
        return run

    def job(self, fragment: str) -> str:
        """The one job whose name contains ``fragment``."""
        names = [n for n in self.jobs if fragment in n]
        if len(names) != 1:
            raise AssertionError(f"jobs matching {fragment!r}: {names} (all: {self.jobs})")
        return names[0]

    def log(self, job: str | None = None) -> str:
        """The text of every log line (of one job)."""
        return "\n".join(
            str(e.get("msg", "")) for e in self.entries if job is None or e.get("job") == job
        )

    def output_values(self, job: str, name: str) -> list[str]:
        """Every value steps of ``job`` set for output ``name``, in order."""
        return [v for j, _, n, v in self.set_outputs if j == job and n == name]

    def failed_steps(self) -> list[str]:
        return [
            f"{e.get('job')}: {e.get('step')}"
            for e in self.entries
            if e.get("stepResult") == "failure"
        ]

    def describe(self) -> str:
        """Jobs, failed steps, errors and the log's tail, for assertion messages."""
        errors = [f"{a.job}: {a.message}" for a in self.annotations if a.level == "error"]
        tail = self.log().splitlines()[-60:]
        stopped = " (stopped: its time was up)" if self.exit_code == 124 else ""
        return (
            f"exit {self.exit_code}{stopped}; jobs {self.jobs}; "
            f"failed steps {self.failed_steps()}; errors {errors}\n--- log tail ---\n"
            + "\n".join(tail)
            + "\n"
            + self.stderr[-2000:]
        )

    def artifact_files(self) -> dict[str, Path]:
        """Artifact files act's server stored, by path relative to this run's artifact folder."""
        if self.artifacts is None or not self.artifacts.is_dir():
            return {}
        return {
            p.relative_to(self.artifacts).as_posix(): p
            for p in sorted(self.artifacts.rglob("*"))
            if p.is_file()
        }


@dataclass
class Act:
    """One act home for the session and the kit's script; ``run`` runs one workflow."""

    kit: Path
    home: Path
    mlgate: Path  # the mlgate checkout the workflows' `mlgate-dev/mlgate/...@REF` resolve to
    env: dict[str, str] = field(default_factory=dict)  # --env for every step
    remote_name: str = "origin"  # the git remote act reads the repository's name from
    runs: list[tuple[str, ActRun]] = field(default_factory=list)
    # Every run of the session ends by this time.monotonic() value (a hang cannot eat CI's budget)
    deadline: float = float("inf")

    def run(
        self,
        repo: Path,
        event_name: str,
        event: Mapping[str, Any],
        workflow: str,
        *,
        label: str,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        extra: Sequence[str] = (),
        timeout: float = 900,
    ) -> ActRun:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the act session's time budget is spent; {label} did not run")
        timeout = min(timeout, left)
        event_path = self.home / f"event-{len(self.runs)}.json"
        event_path.write_text(json.dumps(event))
        # coreutils' timeout stops act with SIGTERM first, so act ends its steps' processes
        # itself (exit 124, the log so far is kept); proc.run's own timeout is the backstop.
        args = ["timeout", "--kill-after=30", f"{max(1, int(timeout))}",
                str(self.kit), "--mlgate", str(self.mlgate), "--home", str(self.home),
                event_name, "-e", str(event_path), "-W", workflow, "--json",
                "--concurrent-jobs", "1"]  # fmt: skip
        for key, value in {**self.env, **(env or {})}.items():
            args += ["--env", f"{key}={value}"]
        for key, value in (secrets or {}).items():
            args += ["-s", f"{key}={value}"]
        args += ["--remote-name", self.remote_name, *extra]
        process_env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        started = time.monotonic()
        result = proc.run(args, cwd=repo, env=process_env, check=False, timeout=timeout + 60)
        run = ActRun.parse(result.returncode, time.monotonic() - started, result.stdout,
                           result.stderr)  # fmt: skip
        self.runs.append((label, run))
        (
            self.home / f"log-{len(self.runs):02d}-{re.sub(r'[^a-z0-9]+', '-', label)}.jsonl"
        ).write_text(result.stdout)
        return run

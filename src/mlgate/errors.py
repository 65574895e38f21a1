"""The error hierarchy; each class carries its exit code.

0 success; 1 a gate or check failed; 2 usage or configuration; 3 an external system failed.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_EXTERNAL = 3


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: 1-based line and column, and the key path inside it."""

    file: str
    line: int | None = None
    column: int | None = None
    key_path: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.key_path:
            where += f" ({self.key_path})"
        return where


class MlgateError(Exception):
    """Base class: a message that says what happened, and an optional hint on what to do next."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        location: Location | None = None,
        details: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        self.details = details or []

    def render(self) -> str:
        """The full human-readable text: location and message, hint, then details."""
        head = f"{self.location}: {self.message}" if self.location else self.message
        lines = [head]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        lines.extend(f"  {d}" for d in self.details)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "error": type(self).__name__,
            "message": self.message,
            "exit_code": self.exit_code,
        }
        if self.location:
            out["location"] = {
                "file": self.location.file,
                "line": self.location.line,
                "column": self.location.column,
                "key_path": self.location.key_path,
            }
        if self.details:
            out["details"] = self.details
        if self.hint:
            out["hint"] = self.hint
        return out


class UsageError(MlgateError):
    """The command line asked for something that cannot be done as asked."""

    exit_code = EXIT_USAGE


class ConfigError(MlgateError):
    """A configuration file, lock file or other input of the user's is invalid."""

    exit_code = EXIT_USAGE


class CheckFailed(MlgateError):
    """A gate or check failed: a verdict, not a crash."""

    exit_code = EXIT_CHECK_FAILED


class ExternalError(MlgateError):
    """An external system (git, docker, network, GitHub, the filesystem) failed."""

    exit_code = EXIT_EXTERNAL

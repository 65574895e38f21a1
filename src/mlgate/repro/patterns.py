"""Globs over POSIX relative paths: ``*`` and ``?`` stay in one folder, ``**`` crosses folders."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache


@cache
def compile_glob(pattern: str) -> re.Pattern[str]:
    """``**/*.py`` -> a regex matching ``a.py`` and ``x/y/a.py``; ``*.py`` matches ``a.py`` only."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out += re.escape("[")
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out += f"[{body}]"
                i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def strip_dot(pattern: str) -> str:
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern


def matches(path: str, patterns: Sequence[str]) -> bool:
    return any(compile_glob(strip_dot(p)).match(path) for p in patterns)


def select(paths: Iterable[str], include: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """The paths matching any ``include`` pattern and no ``exclude`` pattern, sorted."""
    return sorted(p for p in paths if matches(p, include) and not matches(p, exclude))


def reaches_outside(patterns: Sequence[str]) -> bool:
    """Whether a pattern names files above the folder it is relative to (``../``)."""
    return any(strip_dot(p).startswith("../") for p in patterns)

"""Globs over POSIX relative paths: ``*`` and ``?`` stay in one folder, ``**`` crosses folders.

Most globs have at most two wildcards and are matched by a regular expression (fast, and its
backtracking is at most quadratic in the path length). A glob with more would backtrack
polynomially (``*a*a*a*a*b`` took seconds per path), so it is matched by stepping through the
path once while tracking every position the pattern could be at (a Thompson simulation): time
proportional to pattern length times path length, and each step is remembered per glob (a
lazily built automaton), so matching many paths costs a few microseconds each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache

# Pattern elements: one path character unless marked as repeating.
_LITERAL, _ONE, _SET = "literal", "one", "set"  # ``a``, ``?``, ``[a-c]``: one character
_STAR, _ANY, _DIRS = "star", "any", "dirs"  # ``*`` within a folder, ``**``, ``**/``
_REPEATING = frozenset({_STAR, _ANY, _DIRS})


@dataclass(frozen=True)
class Glob:
    """A compiled glob; ``match`` is a full match of a repository-relative POSIX path."""

    pattern: str
    elements: tuple[tuple[str, str | re.Pattern[str] | None], ...]
    regex: re.Pattern[str] | None  # when backtracking is bounded (at most two wildcards)
    folder_regex: re.Pattern[str] | None
    # The automaton, built lazily: the states after reading a character in given states.
    _steps: dict[tuple[frozenset[int], str], frozenset[int]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def match(self, path: str, *, folder: bool = False) -> bool:
        """Whether ``path`` matches; with ``folder``, a pattern naming a folder also matches
        everything inside it (``src`` matches ``src/a.py``)."""
        regex = self.folder_regex if folder else self.regex
        if regex is not None:
            return regex.fullmatch(path) is not None
        end, steps = len(self.elements), self._steps
        states = self._start
        for char in path:
            if folder and char == "/" and end in states:
                return True
            following = steps.get((states, char))
            if following is None:
                if len(steps) >= _MAX_STEPS:  # a bound for adversarial patterns and paths
                    steps.clear()
                following = steps[states, char] = _advance(self.elements, states, char)
            if not following:
                return False
            states = following
        return end in states

    @cached_property
    def _start(self) -> frozenset[int]:
        return _closure(self.elements, frozenset({0}))


_MAX_STEPS = 1 << 16


def _advance(
    elements: tuple[tuple[str, object], ...], states: frozenset[int], char: str
) -> frozenset[int]:
    following: set[int] = set()
    for i in states:
        if i < len(elements):
            following.update(_step(elements, i, char))
    return _closure(elements, frozenset(following)) if following else frozenset()


def _step(elements: tuple[tuple[str, object], ...], i: int, char: str) -> tuple[int, ...]:
    if i < 0:  # inside ``**/`` at element -i - 1: any character, and a ``/`` may end it
        return (i, -i) if char == "/" else (i,)
    kind, arg = elements[i]
    if kind == _LITERAL:
        return (i + 1,) if char == arg else ()
    if kind == _ANY:
        return (i,)
    if kind == _DIRS:  # ``**/`` ends at a ``/``: state -(i + 1) is "inside it"
        return (-(i + 1), i + 1) if char == "/" else (-(i + 1),)
    if char == "/":
        return ()
    if kind == _STAR:
        return (i,)
    if kind == _ONE:
        return (i + 1,)
    assert isinstance(arg, re.Pattern)  # _SET holds its class
    return (i + 1,) if arg.fullmatch(char) else ()


@lru_cache(maxsize=1 << 16)
def _closure(elements: tuple[tuple[str, object], ...], states: frozenset[int]) -> frozenset[int]:
    """The states plus those reached without reading a character (a repeating element may
    match nothing). States are element indexes; ``-(i + 1)`` is inside the ``**/`` at i."""
    out = set(states)
    for i in states:
        j = i
        while 0 <= j < len(elements) and elements[j][0] in _REPEATING:
            j += 1
            out.add(j)
    return frozenset(out)


@cache
def compile_glob(pattern: str) -> Glob:
    """``**/*.py`` matches ``a.py`` and ``x/y/a.py``; ``*.py`` matches ``a.py`` only; a ``[``
    that does not open a class Python can read is a literal character."""
    elements: list[tuple[str, str | re.Pattern[str] | None]] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            elements.append((_DIRS, None))
            i += 3
        elif pattern.startswith("**", i):
            elements.append((_ANY, None))
            i += 2
        elif pattern[i] == "*":
            elements.append((_STAR, None))
            i += 1
        elif pattern[i] == "?":
            elements.append((_ONE, None))
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            regex = char_class("^" + body[1:] if body.startswith("!") else body)
            if regex is None:
                elements.extend((_LITERAL, c) for c in pattern[i : end + 1])
            else:
                elements.append((_SET, re.compile(regex)))
            i = end + 1
        else:
            elements.append((_LITERAL, pattern[i]))
            i += 1
    # Consecutive ``*`` match what one ``*`` matches.
    merged: list[tuple[str, str | re.Pattern[str] | None]] = []
    for element in elements:
        if merged and element[0] == _STAR and merged[-1][0] == _STAR:
            continue
        merged.append(element)
    if sum(kind in _REPEATING for kind, _ in merged) > 2:
        return Glob(pattern, tuple(merged), None, None)
    regex = "".join(_REGEX[kind] if arg is None else _regex(arg) for kind, arg in merged)
    return Glob(pattern, tuple(merged), re.compile(regex), re.compile(regex + "(?:/.*)?"))


_REGEX = {_ONE: "[^/]", _STAR: "[^/]*", _ANY: ".*", _DIRS: "(?:.*/)?"}


def _regex(arg: str | re.Pattern[str]) -> str:
    return re.escape(arg) if isinstance(arg, str) else f"(?!/){arg.pattern}"


def char_class(body: str) -> str | None:
    """``[body]`` as a regex class, or None when it is not one Python reads as a plain class
    (``[z-a]``, a trailing backslash, ``[[]``): such a glob is then matched literally."""
    import warnings

    if "[" in body or "\\" in body:
        return None  # nested sets and escapes mean something else to Python than to a glob
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(f"[{body}]")
    except (re.error, FutureWarning):
        return None
    return f"[{body}]"


def strip_dot(pattern: str) -> str:
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern


def matches(path: str, patterns: Sequence[str], *, folder: bool = False) -> bool:
    return any(compile_glob(strip_dot(p)).match(path, folder=folder) for p in patterns)


def select(paths: Iterable[str], include: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """The paths matching any ``include`` pattern and no ``exclude`` pattern, sorted."""
    return sorted(p for p in paths if matches(p, include) and not matches(p, exclude))


def reaches_outside(patterns: Sequence[str]) -> bool:
    """Whether a pattern names files above the folder it is relative to (``../``)."""
    return any(strip_dot(p).startswith("../") for p in patterns)

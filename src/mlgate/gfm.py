"""GitHub-flavoured Markdown: the one escaper, and the pieces every Markdown writer builds with.

Everything mlgate writes as Markdown (the pull-request comment, report.md, the check's and the
plan's job summaries, release notes, card exports) goes through here, because text from a pull
request (card fields, column, metric and branch names, titles) must stay inert: no link, image,
mention, autolink, HTML or table break of its own, and no formatting it did not ask for.

- ``text(value)`` escapes every ASCII punctuation character Markdown gives a meaning to, folds
  line breaks, and breaks what GitHub links after rendering (``@user``, ``@org/team``,
  ``owner/repo#1``, bare URLs) with a zero-width space, which readers do not see.
- ``code(value)`` is a code span that no backtick in ``value`` can close.
- ``html_text(value)`` is the same for text inside HTML (``<summary>``), where backslash escapes
  do not apply.
- ``Md`` marks a string that already is Markdown (built from the functions above); ``table``
  and ``details`` escape every other cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape as _html_escape

# The one icon per check status (pass, fail, warn, skip, info) every Markdown writer shows.
STATUS_ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skip": "⏭️", "info": "ℹ️"}  # noqa: RUF001

ZWSP = "\u200b"  # zero-width space: breaks GitHub's mention, reference and URL detection

# The characters that open Markdown of any kind inside a line: code, emphasis, strikethrough,
# links and images (the brackets), HTML and autolinks, entities, table cells, math; a backslash
# makes each one a literal character (CommonMark lets any ASCII punctuation be escaped).
_PUNCT = re.compile(r"([\\`*~\[\]<>&|!$#])")
# An underscore between two letters or digits never emphasises (``roc_auc`` stays as written).
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# What opens a block at the start of a line: a list item, a heading underline, an ordered item.
_LEADING = re.compile(r"^(?:([-+=])|(\d+)\.)(?=\s|$)")
_SPACE = re.compile(r"\s+")
# What GitHub turns into links after Markdown is rendered: mentions, issue references, URLs.
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_REFERENCE = re.compile(r"#(?=\d)")
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)")
_WWW = re.compile(r"(?i)\b(www)\.")


class Md(str):
    """A string that already is Markdown: ``table`` and ``details`` keep it as it is."""

    __slots__ = ()


def _defuse(text: str) -> str:
    """Break mentions, references and autolinks with a zero-width space."""
    text = _MENTION.sub("@" + ZWSP, text)
    text = _REFERENCE.sub("#" + ZWSP, text)
    text = _SCHEME.sub(lambda m: m.group(1) + ":" + ZWSP, text)
    return _WWW.sub(lambda m: m.group(1) + ZWSP + ".", text)


def one_line(value: object) -> str:
    return _SPACE.sub(" ", str(value)).strip()


def text(value: object) -> Md:
    """``value`` as inert inline Markdown on one line (safe in a table cell)."""
    escaped = _UNDERSCORE.sub(r"\\_", _PUNCT.sub(r"\\\1", _defuse(one_line(value))))
    return Md(_LEADING.sub(_lead, escaped))


def _lead(match: re.Match[str]) -> str:
    return "\\" + match.group(1) if match.group(1) else match.group(2) + "\\."


def code(value: object) -> Md:
    """``value`` as a code span: a fence longer than any run of backticks inside it."""
    body = one_line(value)
    if not body:
        return Md("")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or longest else ""
    return Md(f"{fence}{pad}{body}{pad}{fence}")


def html_text(value: object) -> str:
    """``value`` as text inside an HTML element of a Markdown document (``<summary>``)."""
    return _html_escape(_defuse(one_line(value)), quote=True)


def cell(value: object) -> Md:
    """A table cell: Markdown kept (its pipes escaped), anything else escaped as text."""
    if isinstance(value, Md):
        return Md(re.sub(r"(?<!\\)\|", r"\\|", one_line(value)))
    return text(value)


def table(
    headers: Sequence[object], rows: Iterable[Sequence[object]], *, align: str = ""
) -> list[str]:
    """A GFM table; ``align`` has one letter a column (``l``, ``r``, ``c``), left by default."""
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    rule = [marks.get(a, "---") for a in align.ljust(len(headers), "l")]
    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join(rule) + "|"]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def details(summary: object, body: Sequence[str], *, open_: bool = False) -> list[str]:
    """A collapsible section; ``summary`` is text, ``body`` Markdown lines."""
    head = "<details open>" if open_ else "<details>"
    return ["", f"{head}<summary>{html_text(summary)}</summary>", "", *body, "", "</details>"]


def link(label: object, url: str) -> Md:
    """A link to a URL mlgate made (a workflow run, an artifact); only http(s) is linked."""
    if not re.match(r"(?i)^https?://[^\s()<>]+$", url):
        return Md(f"{text(label)} ({code(url)})")
    return Md(f"[{text(label)}]({url})")


def fence(body: str, info: str = "") -> list[str]:
    """A fenced code block no line of ``body`` can close."""
    longest = max((len(run) for run in re.findall(r"^\s*(`{3,}|~{3,})", body, re.M)), default=0)
    marker = "`" * max(3, longest + 1)
    return [marker + info, body.rstrip("\n"), marker]

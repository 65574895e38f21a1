"""Change mlgate's version everywhere it is written, from its one source of truth.

    python tools/bump_version.py 0.2.0     # rewrite every reference to the new version
    python tools/bump_version.py --check   # exit 1 listing references that differ

The source of truth is ``__version__`` in ``src/mlgate/__init__.py``. The references are the
``uses: mlgate-dev/mlgate/...@vX.Y.Z`` lines of the workflows, actions, templates and docs, and
``mlgate==X.Y.Z`` / ``mlgate @ git+...@vX.Y.Z`` requirement strings. Model versions in tests and
examples (``churn@v0.1.0``) are not mlgate's version and are never touched.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "mlgate" / "__init__.py"
VERSION_LINE = re.compile(r'^__version__ = "(?P<v>[^"]+)"$', re.MULTILINE)
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
# Each pattern's group "v" is the version it carries.
REFERENCES = (
    re.compile(r"mlgate-dev/mlgate/[\w./-]*@v(?P<v>\d+\.\d+\.\d+)"),
    re.compile(r"mlgate-dev/mlgate@v(?P<v>\d+\.\d+\.\d+)"),
    re.compile(r"\bmlgate==(?P<v>\d+\.\d+\.\d+)"),
    re.compile(r"^\s*rev: v(?P<v>\d+\.\d+\.\d+)$", re.MULTILINE),  # pre-commit: mlgate's repo
)
SCANNED = (
    "README.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "docs/**/*.md",
    ".github/workflows/*.yml",
    "actions/**/*.yml",
    "src/mlgate/starter/**/*",
    "src/mlgate/**/*.py",
)


def current_version() -> str:
    match = VERSION_LINE.search(SOURCE.read_text(encoding="utf-8"))
    if match is None:
        raise SystemExit(f"{SOURCE}: no __version__ line")
    return match["v"]


def scanned_files() -> Iterator[Path]:
    seen: set[Path] = set()
    for pattern in SCANNED:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file() and path not in seen:
                seen.add(path)
                yield path


def references(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, version) of every reference in text."""
    for pattern in REFERENCES:
        for match in pattern.finditer(text):
            yield match.start("v"), match.end("v"), match["v"]


def mismatches(version: str) -> list[str]:
    found = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for start, _end, seen in references(text):
            if seen != version:
                line = text.count("\n", 0, start) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {seen} (expected {version})")
    return found


def rewrite(new: str) -> int:
    changed = 0
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        spans = sorted({(start, end) for start, end, _ in references(text)}, reverse=True)
        updated = text
        for start, end in spans:
            updated = updated[:start] + new + updated[end:]
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed += 1
    source = SOURCE.read_text(encoding="utf-8")
    SOURCE.write_text(VERSION_LINE.sub(f'__version__ = "{new}"', source), encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        problems = mismatches(current_version())
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    if len(argv) != 1 or not SEMVER.match(argv[0]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    changed = rewrite(argv[0])
    print(f"mlgate {argv[0]}: {changed} files updated besides {SOURCE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

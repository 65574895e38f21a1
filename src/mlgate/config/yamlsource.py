"""YAML loading that remembers where every key and value came from (line and column)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlgate.errors import ConfigError, Location

KeyPath = tuple[str | int, ...]
_STR_TAG = "tag:yaml.org,2002:str"
# Limits that keep a hostile document from hanging or crashing the parser: nodes visited with
# aliases expanded (a "billion laughs" document expands exponentially) and nesting depth (the
# YAML composer and everything after it recurse once per level).
MAX_NODES = 200_000
MAX_DEPTH = 100


def format_key_path(path: Iterable[str | int]) -> str:
    """``("models", 0, "gates")`` -> ``models[0].gates``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass
class SourceMap:
    """Positions of the keys and values of one YAML document, by key path."""

    file: str
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: KeyPath) -> tuple[int, int] | None:
        """1-based (line, column) of the key at ``path``, else of its value, else of a parent."""
        probe = tuple(path)
        while True:
            if probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def locate(self, path: KeyPath) -> Location:
        pos = self.position(path)
        line, col = pos if pos else (None, None)
        return Location(self.file, line, col, format_key_path(path) if path else None)


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; duplicate keys and syntax errors raise ConfigError with position."""
    source = SourceMap(file)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, file) from None
        except yaml.reader.ReaderError as exc:
            raise _reader_error(exc, text, file) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}", location=Location(file)) from None
        except RecursionError:
            raise _too_deep(file, None) from None
        if node is None:
            return None, source
        _record(node, (), source, [MAX_NODES])
        try:
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, file) from None
    finally:
        loader.dispose()
    return data, source


def load_yaml_file(path: Path) -> tuple[Any, SourceMap]:
    return load_yaml_bytes(read_file(path), path)


def read_file(path: Path) -> bytes:
    """The bytes of a YAML file; a missing or unreadable one is a ConfigError."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"file not found: {path}", location=Location(str(path))) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror or exc}", location=Location(str(path))
        ) from None


def load_yaml_bytes(raw: bytes, path: Path) -> tuple[Any, SourceMap]:
    """Parse the bytes of the YAML file at ``path`` (UTF-8 text, one document)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start})", location=Location(str(path))
        ) from None
    return load_yaml(text, str(path))


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    problem = exc.problem or "syntax error"
    context = f" {exc.context}" if exc.context else ""
    return ConfigError(
        f"invalid YAML: {problem}{context}",
        location=Location(file, line, col),
        hint="check indentation and quoting around this position",
    )


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str) -> ConfigError:
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    return ConfigError(
        f"invalid YAML: character {exc.character!r} is not allowed in YAML text",
        location=Location(file, line, column),
        hint="remove control characters; the file must be plain UTF-8 text",
    )


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _too_deep(file: str, node: yaml.Node | None) -> ConfigError:
    line, col = _pos(node) if node is not None else (None, None)
    return ConfigError(
        f"invalid YAML: nested more than {MAX_DEPTH} levels deep",
        location=Location(file, line, col),
        hint="the files mlgate reads are a few levels deep; is this the right file?",
    )


def _record(node: yaml.Node, path: KeyPath, source: SourceMap, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        line, col = _pos(node)
        raise ConfigError(
            f"invalid YAML: more than {MAX_NODES:,} values once aliases are expanded",
            location=Location(source.file, line, col, format_key_path(path)),
            hint="aliases (*name) that repeat other aliases grow exponentially; write the "
            "values out or use fewer levels of aliases",
        )
    if len(path) > MAX_DEPTH:
        raise _too_deep(source.file, node)
    source.values[path] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                line, col = _pos(key_node)
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                kind = key_node.tag.rsplit(":", 1)[-1]
                raise ConfigError(
                    f"key {shown!r} is not text (YAML reads it as {kind})",
                    location=Location(source.file, line, col, format_key_path(path)),
                    hint=f'quote the key: "{shown}":',
                )
            key = key_node.value
            if key in seen:
                line, col = _pos(key_node)
                raise ConfigError(
                    f"duplicate key {key!r} (first defined on line {seen[key]})",
                    location=Location(source.file, line, col, format_key_path((*path, key))),
                )
            seen[key] = _pos(key_node)[0]
            child = (*path, key)
            source.keys[child] = _pos(key_node)
            _record(value_node, child, source, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, (*path, index), source, budget)

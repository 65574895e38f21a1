"""Tag grammar (GTO-compatible), names, versions and references."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import UsageError
from mlgate.registry.grammar import (
    FIRST_VERSION,
    Kind,
    SemVer,
    check_name,
    format_tag,
    looks_like_registry_tag,
    parse_ref,
    parse_tag,
)


@pytest.mark.parametrize(
    ("tag", "kind", "name", "version", "stage", "counter"),
    [
        ("churn@v1.2.3", Kind.REGISTER, "churn", "v1.2.3", None, None),
        ("churn@v1.2.3!", Kind.DEREGISTER, "churn", "v1.2.3", None, None),
        ("churn#prod#4", Kind.ASSIGN, "churn", None, "prod", 4),
        ("churn#prod!#5", Kind.UNASSIGN, "churn", None, "prod", 5),
        ("churn#prod", Kind.ASSIGN, "churn", None, "prod", None),  # GTO --simple
        ("churn@deprecated", Kind.DEPRECATE, "churn", None, None, None),
        ("churn@deprecated#9", Kind.DEPRECATE, "churn", None, None, 9),
        ("churn@created", Kind.CREATE, "churn", None, None, None),
        ("models/a=churn@v0.0.1", Kind.REGISTER, "models/a:churn", "v0.0.1", None, None),
        (
            "a/b_c-d@v1.0.0-rc.1+build.5",
            Kind.REGISTER,
            "a/b_c-d",
            "v1.0.0-rc.1+build.5",
            None,
            None,
        ),
        ("refs/tags/churn#staging#1", Kind.ASSIGN, "churn", None, "staging", 1),
        ("churn@v1.0.0#3", Kind.REGISTER, "churn", "v1.0.0", None, 3),
    ],
)
def test_parse_tag(
    tag: str, kind: Kind, name: str, version: str | None, stage: str | None, counter: int | None
) -> None:
    parsed = parse_tag(tag)
    assert parsed is not None
    assert (parsed.kind, parsed.name, parsed.version, parsed.stage, parsed.counter) == (
        kind,
        name,
        version,
        stage,
        counter,
    )


@pytest.mark.parametrize(
    "tag",
    ["v1.0.0", "churn@1.0.0", "churn@v1.0", "churn#", "-churn@v1.0.0", "churn@v01.0.0", "x#y#z"],
)
def test_not_registry_tags(tag: str) -> None:
    assert parse_tag(tag) is None


def test_almost_registry_tags_are_flagged() -> None:
    assert looks_like_registry_tag("churn@1.0.0")
    assert not looks_like_registry_tag("release-1.0")
    assert not looks_like_registry_tag("churn@v1.0.0")


def test_format_tag() -> None:
    assert format_tag(Kind.REGISTER, "churn", version="v1.0.0") == "churn@v1.0.0"
    assert format_tag(Kind.DEREGISTER, "churn", version="v1.0.0") == "churn@v1.0.0!"
    assert format_tag(Kind.ASSIGN, "dir:churn", stage="prod", counter=3) == "dir=churn#prod#3"
    assert format_tag(Kind.UNASSIGN, "churn", stage="prod", counter=4) == "churn#prod!#4"
    assert format_tag(Kind.DEPRECATE, "churn") == "churn@deprecated"


@pytest.mark.parametrize("name", ["", "-x", "x-", "a b", "a@b", "a#b", "a:b:c", "ä"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(UsageError, match="invalid model name"):
        check_name(name)


def test_refname_rules_beyond_the_grammar() -> None:
    with pytest.raises(UsageError, match="not a valid git tag name"):
        format_tag(Kind.REGISTER, "a..b:churn", version="v1.0.0")
    with pytest.raises(UsageError, match="not a valid git tag name"):
        format_tag(Kind.REGISTER, "x/.hidden:churn", version="v1.0.0")


def test_invalid_version_suggests_the_v() -> None:
    with pytest.raises(UsageError) as info:
        format_tag(Kind.REGISTER, "churn", version="1.2.0")
    assert info.value.hint is not None
    assert "v1.2.0" in info.value.hint


def test_invalid_stage() -> None:
    with pytest.raises(UsageError, match="invalid stage"):
        format_tag(Kind.ASSIGN, "churn", stage="pr od", counter=1)


names = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9_-]{0,10}[a-zA-Z0-9])?\Z")
versions = st.builds(
    lambda a, b, c: f"v{a}.{b}.{c}",
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 30),
)


@given(names, versions, names, st.integers(1, 10**6))
def test_format_parse_round_trip(name: str, version: str, stage: str, counter: int) -> None:
    for kind in (Kind.REGISTER, Kind.DEREGISTER):
        parsed = parse_tag(format_tag(kind, name, version=version))
        assert parsed is not None
        assert (parsed.kind, parsed.name, parsed.version) == (kind, name, version)
    for kind in (Kind.ASSIGN, Kind.UNASSIGN):
        parsed = parse_tag(format_tag(kind, name, stage=stage, counter=counter))
        assert parsed is not None
        assert (parsed.kind, parsed.stage, parsed.counter) == (kind, stage, counter)


def test_semver_order() -> None:
    ordered = [
        "v0.0.1",
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-alpha.beta",
        "v1.0.0-beta",
        "v1.0.0-beta.2",
        "v1.0.0-beta.11",
        "v1.0.0-rc.1",
        "v1.0.0",
        "v1.0.1",
        "v1.10.0",
        "v2.0.0",
    ]
    parsed = [SemVer.parse(v) for v in ordered]
    assert all(a < b for a, b in itertools.pairwise(parsed))
    assert sorted(random.Random(7).sample(parsed, len(parsed))) == parsed
    assert SemVer.parse("v1.0.0+build.1") == SemVer.parse("v1.0.0")


def test_bump() -> None:
    v = SemVer.parse("v1.2.3-rc.1")
    assert str(v.bump("major")) == "v2.0.0"
    assert str(v.bump("minor")) == "v1.3.0"
    assert str(v.bump("patch")) == "v1.2.4"
    assert str(FIRST_VERSION) == "v0.0.1"
    with pytest.raises(UsageError):
        v.bump("huge")


def test_parse_ref() -> None:
    assert parse_ref("churn#prod").stage == "prod"
    assert parse_ref("churn@latest").latest
    assert parse_ref("churn@greatest").latest
    assert parse_ref("churn@v1.2.0").version == "v1.2.0"
    assert parse_ref("dir:churn#prod").name == "dir:churn"
    assert parse_ref("dir=churn#prod").name == "dir:churn"
    assert str(parse_ref("dir:churn@v1.0.0")) == "dir=churn@v1.0.0"
    with pytest.raises(UsageError, match="cannot resolve"):
        parse_ref("churn")
    with pytest.raises(UsageError, match="cannot resolve"):
        parse_ref("churn@1.0")


@given(names, versions, names, st.integers(1, 10**6), st.sampled_from(["", "models", "a/b"]))
def test_new_tag_kinds_round_trip(
    name: str, version: str, stage: str, counter: int, folder: str
) -> None:
    """The kinds added for GTO parity: simple stage tags (no counter), a counted
    re-registration (register --force) and a counted deprecation, in monorepo names too."""
    full = f"{folder}:{name}" if folder else name
    cases: list[tuple[Kind, dict[str, Any]]] = [
        (Kind.ASSIGN, {"stage": stage}),
        (Kind.UNASSIGN, {"stage": stage}),
        (Kind.REGISTER, {"version": version, "counter": counter}),
        (Kind.DEREGISTER, {"version": version, "counter": counter}),
        (Kind.DEPRECATE, {"counter": counter}),
    ]
    for kind, parts in cases:
        tag = format_tag(kind, full, **parts)
        parsed = parse_tag(tag)
        assert parsed is not None, tag
        assert (parsed.kind, parsed.name) == (kind, full)
        assert parsed.stage == parts.get("stage")
        assert parsed.version == parts.get("version")
        assert parsed.counter == parts.get("counter")
        assert tag.startswith(f"{folder}={name}" if folder else name)

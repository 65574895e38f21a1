"""Fuzzing the registry's readers of outside input: tag names, references typed by users, tag
message payloads and whole tag listings (anyone with push access, or a pull request's fork,
can create tags). Tags and payloads that do not parse become reported problems, never a crash;
references and names given on the command line are UsageErrors (exit 2)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import UsageError
from mlgate.registry.grammar import (
    Kind,
    SemVer,
    check_name,
    format_tag,
    parse_ref,
    parse_tag,
)
from mlgate.registry.payload import PayloadChecker, parse_payload
from mlgate.registry.queries import ShowResult
from mlgate.registry.state import RawTag, build_state, decode
from mlgate.registry.tags import FORMAT, parse_refs
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import hostile_fragments, json_values

names = st.from_regex(r"\A[a-z0-9](?:[a-z0-9_/-]{0,8}[a-z0-9])?\Z").filter(
    lambda n: "//" not in n and not n.endswith(".lock")
)
full_names = st.one_of(names, st.tuples(st.from_regex(r"\A[a-z0-9_]{1,6}\Z"), names).map(":".join))
stages = st.sampled_from(["staging", "prod", "dev", "canary"])
semvers = st.builds(
    lambda a, b, c, pre: f"v{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
    st.none() | st.sampled_from(["rc.1", "alpha", "0", "beta.2"]),
)
SOUP = "@#!=:/.-_vV0123456789abcdefz \t~^[]{}"
tag_soup = st.text(alphabet=SOUP, max_size=40)


@st.composite
def grammar_tags(draw: st.DrawFn) -> str:
    """A tag following the grammar, occasionally damaged."""
    name = draw(full_names)
    kind = draw(st.sampled_from([k for k in Kind if k is not Kind.CREATE]))
    counter = draw(st.none() | st.integers(1, 50))
    if kind in (Kind.ASSIGN, Kind.UNASSIGN):
        counter = counter or 1
    tag = format_tag(
        kind,
        name,
        version=draw(semvers) if kind in (Kind.REGISTER, Kind.DEREGISTER) else None,
        stage=draw(stages) if kind in (Kind.ASSIGN, Kind.UNASSIGN) else None,
        counter=counter,
    )
    if draw(st.booleans()):
        at = draw(st.integers(0, len(tag)))
        tag = tag[:at] + draw(st.text(alphabet=SOUP, max_size=3)) + tag[at:]
    return tag


any_tag = grammar_tags() | tag_soup | st.text(max_size=30)


@given(any_tag)
def test_tag_names_parse_or_are_not_registry_tags(tag: str) -> None:
    tried("tag name")
    parsed = parse_tag(tag)
    if parsed is not None:
        assert parsed.tag == tag.removeprefix("refs/tags/")
        assert check_name(parsed.name) == parsed.name
        if parsed.version:
            assert SemVer.is_valid(parsed.version)


@given(full_names, st.sampled_from([k for k in Kind if k is not Kind.CREATE]), semvers, stages)
def test_formatted_tags_parse_back(name: str, kind: Kind, version: str, stage: str) -> None:
    tried("tag name")
    counter = 3 if kind in (Kind.ASSIGN, Kind.UNASSIGN) else None
    tag = format_tag(kind, name, version=version, stage=stage, counter=counter)
    parsed = parse_tag(tag)
    assert parsed is not None
    assert (parsed.kind, parsed.name, parsed.counter) == (kind, name, counter)
    if kind in (Kind.REGISTER, Kind.DEREGISTER):
        assert parsed.version == version
    if kind in (Kind.ASSIGN, Kind.UNASSIGN):
        assert parsed.stage == stage


@given(any_tag)
def test_references_resolve_or_are_usage_errors(text: str) -> None:
    tried("registry ref")
    try:
        ref = parse_ref(text)
    except UsageError as err:
        assert err.exit_code == 2
        assert err.hint
        return
    assert check_name(ref.name) == ref.name


@given(st.text(max_size=30) | tag_soup)
def test_model_names_are_checked(name: str) -> None:
    tried("registry ref")
    try:
        checked = check_name(name)
    except UsageError as err:
        assert err.exit_code == 2
        return
    parse_ref(f"{checked}@latest")


@st.composite
def payload_bodies(draw: st.DrawFn, tag: str) -> str:
    parsed = parse_tag(tag)
    choice = draw(st.integers(0, 4))
    if choice == 0 and parsed is not None:  # a valid payload that agrees with the tag
        payload: dict[str, Any] = {"format": 1, "model": parsed.name, "version": parsed.version}
        if parsed.stage:
            payload["stage"] = parsed.stage
        payload["event"] = parsed.kind.value
        return json.dumps(payload, indent=2)
    if choice == 1:
        return json.dumps(draw(json_values))
    if choice == 2:
        return '{"model": ' + "".join(draw(st.lists(hostile_fragments, max_size=3)))
    if choice == 3 and parsed is not None:  # a payload contradicting the tag
        return json.dumps({"model": parsed.name + "x", "version": "v9.9.9", "event": "assign"})
    return draw(st.text(max_size=50))


@st.composite
def raw_tags(draw: st.DrawFn) -> RawTag:
    tag = draw(any_tag)
    object_type = draw(st.sampled_from(["tag", "tag", "tag", "commit", "blob"]))
    body = draw(payload_bodies(tag))
    return RawTag(
        name=tag,
        object_type=object_type,
        # A tag object's id is the hash of its content (name and message included).
        object_id=hashlib.sha1(f"{tag}\0{body}".encode(), usedforsecurity=False).hexdigest(),
        target_type=draw(st.sampled_from(["commit", "commit", "tree", ""])),
        target=draw(st.sampled_from(["a" * 40, "b" * 40, "c" * 40])),
        tagger_name=draw(st.text(max_size=10)),
        timestamp=draw(st.integers(0, 2**40)),
        subject=draw(st.text(max_size=20)),
        body=body,
        signed=draw(st.booleans()),
    )


@given(st.lists(raw_tags(), max_size=25))
def test_any_tag_listing_replays_into_a_state(tags: list[RawTag]) -> None:
    tried("tag listing")
    decoded = decode(tags, PayloadChecker())
    state = build_state(decoded.events, decoded.problems, [t.name for t in tags], "local")
    shown = json.dumps(ShowResult(state, None, {}).to_dict())
    assert json.loads(shown)["source"] == "local"
    for model in state.models.values():
        json.dumps(ShowResult(state, model.name, {}).to_dict())
        for version in model.versions.values():
            assert SemVer.is_valid(version.version) or not version.registered
        for stage, holder in model.holders.items():
            assert holder.version in model.versions, (stage, holder)
        model.next_version()
    for tag in tags:
        registry = parse_tag(tag.name) is not None
        accounted = any(e.tag == tag.name for e in decoded.events) or any(
            p.tag == tag.name for p in decoded.problems
        )
        assert accounted or not registry, f"{tag.name!r} silently dropped"


@given(
    st.text(max_size=200)
    | json_values.map(json.dumps)
    | st.lists(hostile_fragments, max_size=3).map(lambda f: '{"extra": ' + "".join(f))
)
def test_payloads_parse_or_say_why(body: str) -> None:
    tried("tag payload")
    payload, error = parse_payload(body)
    assert (payload is None) != (error is None)


@given(st.lists(st.text(alphabet="refs/tags/m@v1.0\0\n abc", max_size=60), max_size=20))
def test_for_each_ref_output_of_any_shape(chunks: list[str]) -> None:
    tried("tag listing")
    assert FORMAT.count("%00") >= 12
    for tag in parse_refs("\0".join(chunks)):
        assert isinstance(tag.name, str)
        assert isinstance(tag.timestamp, int)

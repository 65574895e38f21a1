"""Replaying events into state: GTO semantics, counter order, problems never dropped."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import UsageError
from mlgate.registry.grammar import parse_tag
from mlgate.registry.state import Event, RawTag, build_state, decode, order_events

C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40


def ev(tag: str, commit: str, ts: int, payload: dict[str, object] | None = None) -> Event:
    parsed = parse_tag(tag)
    assert parsed is not None
    return Event(
        kind=parsed.kind,
        name=parsed.name,
        tag=tag,
        commit=commit,
        version=parsed.version,
        stage=parsed.stage,
        counter=parsed.counter,
        timestamp=ts,
        payload_text=json.dumps(payload) if payload is not None else "",
    )


def story() -> list[Event]:
    return [
        ev("churn@v0.0.1", C1, 1),
        ev("churn#staging#1", C1, 2),
        ev("churn#prod#2", C1, 3),
        ev("churn@v0.1.0", C2, 4),
        ev("churn#staging#3", C2, 5),
        ev("churn#prod#4", C2, 6),
    ]


def test_holders_latest_and_history() -> None:
    model = build_state(story()).model("churn")
    assert model.latest is not None
    assert model.latest.version == "v0.1.0"
    assert {s: h.version for s, h in model.holders.items()} == {
        "prod": "v0.1.0",
        "staging": "v0.1.0",
    }
    assert model.versions["v0.1.0"].stages == ("prod", "staging")
    assert model.previous_holder("prod") is not None
    assert model.previous_holder("prod").version == "v0.0.1"  # type: ignore[union-attr]
    assert [e.version for e in model.events] == ["v0.0.1"] * 3 + ["v0.1.0"] * 3
    assert model.last_counter == 4


def test_counter_beats_wall_clock() -> None:
    # The tag for #5 carries an earlier time (a skewed clock) but still comes after #4.
    events = [*story(), ev("churn#prod#5", C1, 0)]
    model = build_state(events).model("churn")
    assert model.holders["prod"].version == "v0.0.1"


def test_unassign_falls_back_to_an_earlier_holder_as_gto_does() -> None:
    events = [*story(), ev("churn#prod!#5", C2, 7)]
    model = build_state(events).model("churn")
    assert model.holders["prod"].version == "v0.0.1"
    assert not model.in_stage("v0.1.0", "prod")
    assert model.in_stage("v0.0.1", "prod")


def test_unassign_all_empties_the_stage() -> None:
    events = [*story(), ev("churn#prod!#5", C2, 7), ev("churn#prod!#6", C1, 8)]
    model = build_state(events).model("churn")
    assert "prod" not in model.holders


def test_deregistered_version_loses_its_stages() -> None:
    events = [*story(), ev("churn@v0.1.0!", C2, 7)]
    model = build_state(events).model("churn")
    assert model.holders["prod"].version == "v0.0.1"
    assert model.latest is not None
    assert model.latest.version == "v0.0.1"
    assert not model.versions["v0.1.0"].active
    assert model.next_version() == "v0.1.1"  # deregistered versions are never reused


def test_deprecation_and_revival() -> None:
    deprecated = build_state([*story(), ev("churn@deprecated", C2, 7)]).model("churn")
    assert deprecated.deprecated
    revived = build_state(
        [*story(), ev("churn@deprecated", C2, 7), ev("churn@v0.2.0", C3, 8)]
    ).model("churn")
    assert not revived.deprecated


def test_assignment_to_an_unregistered_commit_is_a_discovered_version() -> None:
    model = build_state([ev("churn#dev#1", C3, 1)]).model("churn")
    assert model.holders["dev"].version == C3
    assert not model.versions[C3].registered
    assert model.latest is None


def test_two_versions_on_one_commit_use_the_payload_version() -> None:
    events = [
        ev("churn@v1.0.0", C1, 1),
        ev("churn@v1.0.1", C1, 2),
        ev("churn#prod#1", C1, 3, {"model": "churn", "version": "v1.0.0"}),
    ]
    state = build_state(events)
    assert state.model("churn").holders["prod"].version == "v1.0.0"
    ambiguous = build_state([*events[:2], ev("churn#prod#1", C1, 3)])
    assert ambiguous.model("churn").holders["prod"].version == "v1.0.1"
    assert any(p.kind == "conflict" for p in ambiguous.problems)


def test_uncounted_events_merge_by_time() -> None:
    events = [ev("churn#prod#1", C1, 10), ev("churn@v1.0.0", C1, 5), ev("churn#prod#2", C1, 20)]
    ordered = [e.tag for e in order_events(events)]
    assert ordered == ["churn@v1.0.0", "churn#prod#1", "churn#prod#2"]


@given(st.permutations(story()))
def test_order_does_not_depend_on_input_order(events: list[Event]) -> None:
    assert [e.tag for e in order_events(events)] == [e.tag for e in order_events(story())]


def test_next_version_and_counter() -> None:
    state = build_state(story(), tag_names=["churn@v0.3.0", "churn#prod#9", "other@v2.0.0"])
    assert state.next_version("churn") == "v0.3.1"
    assert state.next_version("churn", "major") == "v1.0.0"
    assert state.next_counter("churn") == 10
    assert state.next_version("new") == "v0.0.1"
    assert state.next_version("new", "minor") == "v0.1.0"
    assert state.next_version("other") == "v2.0.1"
    assert state.version_taken("other", "v2.0.0")


def test_unknown_model_suggests() -> None:
    state = build_state(story())
    with pytest.raises(UsageError) as info:
        state.model("churm")
    assert "churn" in (info.value.hint or "")


def raw(name: str, **kw: object) -> RawTag:
    fields: dict[str, object] = {
        "object_type": "tag",
        "object_id": "a" * 40,
        "target_type": "commit",
        "target": C1,
        "timestamp": 1,
        "subject": "x",
        "body": "",
    }
    fields.update(kw)
    return RawTag(name=name, **fields)  # type: ignore[arg-type]


def test_decode_reports_lightweight_and_malformed_tags() -> None:
    decoded = decode(
        [
            raw("churn@v1.0.0", object_type="commit"),
            raw("churn@1.0"),
            raw("release-7"),
            raw("churn#prod#1", target_type="tree"),
            raw("churn@v1.0.1"),
        ]
    )
    kinds = {p.tag: p.kind for p in decoded.problems}
    assert kinds == {
        "churn@v1.0.0": "lightweight",
        "churn@1.0": "unrecognised",
        "churn#prod#1": "target",
    }
    assert [e.tag for e in decoded.events] == ["churn@v1.0.1"]
    assert "git fetch --tags --force" in (decoded.problems[0].hint or "")
    assert decoded.names == set(kinds) | {"release-7", "churn@v1.0.1"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{not json", "not valid JSON"),
        ('{"model": "churn"}', "'version' is a required property"),
        ('{"model": "other", "version": "v1.0.0"}', "does not match the tag"),
        ('{"model": "churn", "version": "v1.0.0", "surprise": 1}', "Additional properties"),
        ('{"model": "churn", "version": "v9.9.9"}', "payload version"),
    ],
)
def test_decode_flags_corrupted_payloads(body: str, error: str) -> None:
    decoded = decode([raw("churn@v1.0.0", body=body)])
    assert len(decoded.events) == 1  # the event still counts (GTO reads it too)
    assert decoded.events[0].payload is None
    assert error in (decoded.events[0].payload_error or "")
    assert decoded.problems[0].kind == "payload"


def test_decode_keeps_valid_payloads_and_plain_messages() -> None:
    good = '{"model": "churn", "version": "v1.0.0", "metrics": {"auc": 0.9}}'
    decoded = decode([raw("churn@v1.0.0", body=good), raw("churn@v1.0.1", body="plain words")])
    assert decoded.events[0].payload == {
        "model": "churn",
        "version": "v1.0.0",
        "metrics": {"auc": 0.9},
    }
    assert decoded.events[1].payload is None
    assert decoded.events[1].payload_error is None
    assert not decoded.problems


def test_large_state_replays_every_event() -> None:
    events = []
    counter = itertools.count(1)
    for m in range(5):
        for v in range(20):
            commit = f"{m:02d}{v:038d}"
            events.append(ev(f"m{m}@v1.0.{v}", commit, v * 10))
            events.append(ev(f"m{m}#prod#{next(counter)}", commit, v * 10 + 1))
    state = build_state(events)
    assert len(state.models) == 5
    for model in state.models.values():
        assert model.holders["prod"].version == "v1.0.19"
        assert len(model.events) == 40


@given(st.permutations(range(4)), st.integers(0, 3))
def test_simple_and_forced_tags_replay_the_same_in_any_listing_order(
    order: list[int], same_second: int
) -> None:
    """Simple stage tags (no counter) and a counted re-registration merge into the counted
    events by time, then GTO's priority, whatever order git lists them in."""
    events = [
        ev("churn@v0.0.1", C1, 10),
        ev("churn#prod", C1, 10 + same_second),  # GTO's simple assignment
        ev("churn@v0.0.1!", C1, 20),
        ev("churn@v0.0.1#1", C1, 30),  # register --force: active again
    ]
    model = build_state([events[i] for i in order]).model("churn")
    assert [e.tag for e in model.events] == [e.tag for e in events]
    assert model.versions["v0.0.1"].active
    assert model.latest is not None
    assert model.latest.version == "v0.0.1"
    assert model.last_counter == 1

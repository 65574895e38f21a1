"""Fuzzing the GitHub event payload reader: any payload gives an Event whose fields have the
documented types, or a clean ConfigError (exit 2) naming the payload file."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import ConfigError
from mlgate.github.event import Event, load_event
from tests.actions_harness import pull_request_event
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import hostile_fragments, json_values, key_paths, mutate

PAYLOAD = pull_request_event(head_sha="a" * 40, base_sha="b" * 40)
PATHS = key_paths(PAYLOAD)
PUSH = {"ref": "refs/heads/main", "before": "c" * 40, "after": "d" * 40}

_DIR = Path(tempfile.mkdtemp(prefix="mlgate-fuzz-event-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
EVENT = _DIR / "event.json"


def check(data: str | bytes, name: str = "pull_request") -> Event | None:
    tried("event")
    EVENT.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    try:
        event = load_event({"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(EVENT)})
    except ConfigError as err:
        assert err.exit_code == 2
        assert err.location is not None
        assert err.location.file == str(EVENT)
        err.render()
        return None
    pr = event.pull_request
    if pr is not None:
        assert isinstance(pr.number, int)
        for text in (pr.title, pr.head_ref, pr.head_sha, pr.base_ref, pr.base_sha):
            assert isinstance(text, str)
        for optional in (pr.head_repo, pr.base_repo, pr.html_url):
            assert optional is None or isinstance(optional, str)
        assert isinstance(pr.is_fork, bool)
    assert event.before is None or isinstance(event.before, str)
    return event


def test_a_real_payload_reads() -> None:
    event = check(json.dumps(PAYLOAD))
    assert event is not None
    assert event.pull_request is not None
    assert event.pull_request.head_sha == "a" * 40
    assert not event.pull_request.is_fork


@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check(text)


@given(st.binary(max_size=100))
def test_any_bytes(data: bytes) -> None:
    check(data)


@given(json_values, st.sampled_from(["pull_request", "push", "workflow_dispatch"]))
def test_any_json_document(value: Any, name: str) -> None:
    check(json.dumps(value), name)


@given(st.sampled_from(PATHS), json_values, st.booleans())
def test_mutated_pull_request(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    check(json.dumps(mutate(PAYLOAD, path, value, delete=delete)))


@given(json_values)
def test_mutated_push(before: Any) -> None:
    event = check(json.dumps({**PUSH, "before": before}), "push")
    if event is not None and before:
        assert event.before == before


@given(st.lists(hostile_fragments, min_size=1, max_size=3))
def test_hostile_fragments(fragments: list[str]) -> None:
    check('{"pull_request": ' + "".join(fragments) + "}")


@given(st.text(min_size=1, max_size=80))
def test_titles_and_branch_names_are_kept_verbatim(text: str) -> None:
    payload = pull_request_event(title=text, head_ref=text)
    event = check(json.dumps(payload))
    assert event is not None
    assert event.pull_request is not None
    assert event.pull_request.title == text
    assert event.pull_request.head_ref == text

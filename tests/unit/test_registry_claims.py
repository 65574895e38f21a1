"""Counter claims: which refs a push claims, and which refusals are lost races."""

from __future__ import annotations

import random

import pytest

from mlgate import gitio, proc
from mlgate.registry import transaction
from mlgate.registry.state import RegistryState


def test_counted_tags_claim_their_counter() -> None:
    claims = transaction._claims(
        {"refs/tags/churn#prod#3": "x", "refs/tags/churn@v1.0.0": "y", "refs/tags/a=b#s!#7": "z"}
    )
    assert claims == {
        "refs/tags/churn#prod#3": "refs/mlgate/claims/churn/3",
        "refs/tags/a=b#s!#7": "refs/mlgate/claims/a=b/7",
    }


def test_the_claim_is_pushed_atomically_and_only_if_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def push(cwd: object, remote: str, refspecs: list[str], **kwargs: object) -> proc.Completed:
        seen.update(refspecs=refspecs, **kwargs)
        out = "".join(f"*\t{r}\t[new]\n" for r in refspecs)
        return proc.Completed(("git", "push"), 0, f"To r\n{out}Done\n", "")

    monkeypatch.setattr(gitio, "push_refspecs", push)
    tag = "refs/tags/churn#prod#3"
    transaction._push(None, "origin", [tag], {tag: "refs/mlgate/claims/churn/3"})  # type: ignore[arg-type]
    assert seen["refspecs"] == [f"{tag}:{tag}", f"{tag}:refs/mlgate/claims/churn/3"]
    assert seen["atomic"] is True
    assert seen["leases"] == ["--force-with-lease=refs/mlgate/claims/churn/3:"]


LOCKED = "cannot lock ref 'x': reference already exists"


@pytest.mark.parametrize(
    ("summary", "stderr", "lost"),
    [
        ("[rejected] (stale info)", "", True),  # the claim exists (client-side lease check)
        ("[remote rejected] (atomic transaction failed)", LOCKED, True),
        ("[remote rejected] (atomic transaction failed)", "hook declined", False),
        ("[remote rejected] (pre-receive hook declined)", "", False),
    ],
)
def test_which_refusals_are_lost_races(summary: str, stderr: str, lost: bool) -> None:
    assert transaction._lost_race(summary, stderr) is lost


def test_a_stale_claim_raises_the_next_counter() -> None:
    state = RegistryState({})
    assert state.next_counter("churn") == 1
    assert transaction._counter_at_least(state, "churn", 5).next_counter("churn") == 6


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds + 0.5  # each attempt itself takes half a second


def _always_lost(monkeypatch: pytest.MonkeyPatch, wins_at: int | None = None) -> list[str]:
    """A writer whose pushes lose every race (or until attempt ``wins_at``)."""
    versions: list[str] = []

    def load(*args: object, **kwargs: object) -> RegistryState:
        return RegistryState({}, tag_names=frozenset(f"churn@{v}" for v in versions))

    def create(root: object, plan: transaction.Plan, *args: object) -> None:
        versions.append(plan.tags[0].name.split("@")[1])
        if wins_at is None or len(versions) < wins_at:
            raise transaction._Lost

    monkeypatch.setattr(transaction, "load_state", load)
    monkeypatch.setattr(transaction, "_create_and_push", create)
    monkeypatch.setattr(transaction, "_highest_claim", lambda *_: 0)
    return versions


def _bump_planner(state: RegistryState) -> transaction.Plan:
    version = state.next_version("churn", "patch")
    return transaction.Plan("churn", (transaction.TagSpec(f"churn@{version}", "c0ffee", "m"),))


def test_retries_continue_until_the_deadline_then_give_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgate.errors import ExternalError

    _always_lost(monkeypatch)
    clock = _Clock()
    options = transaction.WriteOptions(push=True, deadline=30.0, model="churn")
    with pytest.raises(ExternalError, match=r"after \d+ attempts in \d+ s") as caught:
        transaction.write(
            None,  # type: ignore[arg-type]
            _bump_planner,
            options,
            rng=random.Random(3),
            clock=clock,
            sleep=clock.sleep,
        )
    assert clock.now <= 30.0 + 0.5  # no wait ends past the deadline (plus the last attempt)
    assert len(clock.waits) > 10  # far more than the old fixed 10 attempts fit in 30 s
    assert "registry.deadline" in (caught.value.hint or "")


def test_each_attempt_recomputes_the_bumped_version(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = _always_lost(monkeypatch, wins_at=4)
    clock = _Clock()
    options = transaction.WriteOptions(push=True, model="churn")
    written = transaction.write(None, _bump_planner, options, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert written.attempts == 4
    assert versions == ["v0.0.1", "v0.0.2", "v0.0.3", "v0.0.4"]
    assert written.seconds == clock.now


def test_backoff_is_jittered_exponential_and_capped() -> None:
    chance = random.Random(7)
    for attempt in range(1, 30):
        bound = min(transaction.BACKOFF_CAP, transaction.BACKOFF_BASE * 2**attempt)
        waits = [transaction.backoff(attempt, chance) for _ in range(50)]
        assert all(0 <= w <= bound for w in waits)
        assert len(set(waits)) > 40  # jittered: writers that lost together spread out
    assert transaction.backoff(30, chance) <= transaction.BACKOFF_CAP


def test_an_attempt_bound_still_applies_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgate.errors import ExternalError

    versions = _always_lost(monkeypatch)
    clock = _Clock()
    options = transaction.WriteOptions(push=True, model="churn", attempts=3)
    with pytest.raises(ExternalError, match="after 3 attempts"):
        transaction.write(None, _bump_planner, options, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert len(versions) == 3

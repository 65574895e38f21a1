"""Counter claims: which refs a push claims, and which refusals are lost races."""

from __future__ import annotations

import pytest

from mlgate import gitio, proc
from mlgate.registry import writer
from mlgate.registry.state import RegistryState


def test_counted_tags_claim_their_counter() -> None:
    claims = writer._claims(
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
    writer._push(None, "origin", [tag], {tag: "refs/mlgate/claims/churn/3"})  # type: ignore[arg-type]
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
    assert writer._lost_race(summary, stderr) is lost


def test_a_stale_claim_raises_the_next_counter() -> None:
    state = RegistryState({})
    assert state.next_counter("churn") == 1
    assert writer._counter_at_least(state, "churn", 5).next_counter("churn") == 6

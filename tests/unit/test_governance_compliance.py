"""The compliance checklist: present, partial, missing, outside, each with its reason."""

from __future__ import annotations

import pytest

from mlgate.governance.compliance import FACTS, FRAMEWORKS, Framework, Item, assess


def test_every_fact_is_used_and_every_item_names_known_facts() -> None:
    used = {f for fw in FRAMEWORKS.values() for i in fw.items for f in i.facts}
    # Safe model loading is shown as a fact, but documents no item on its own (cybersecurity
    # is more than that, so mlgate does not claim it).
    assert used == set(FACTS) - {"model.safe_format"}


def test_all_facts_cover_everything_but_the_items_outside_mlgate() -> None:
    results = assess(dict.fromkeys(FACTS, True))
    for result in results:
        statuses = {i.status for i in result.items}
        assert statuses <= {"present", "outside"}
        outside = [i.item.id for i in result.items if i.status == "outside"]
        assert all(not i.item.facts for i in result.items if i.item.id in outside)
    eu = results[0]
    assert eu.framework.key == "eu-ai-act-annex-iv"
    assert {i.item.id for i in eu.items if i.status == "outside"} == {"2(f)", "2(h)", "7", "8"}


def test_no_facts_leave_everything_missing() -> None:
    for result in assess({}):
        assert {i.status for i in result.items} <= {"missing", "outside"}
        assert result.count("present") == 0


def test_partial_names_what_is_missing() -> None:
    facts = {"card.risk": True}
    eu = assess(facts)[0]
    item = next(i for i in eu.items if i.item.id == "5")
    assert item.status == "partial"
    assert item.present == ("card.risk",)
    assert item.absent == ("card.ethical_considerations",)
    assert item.to_dict()["missing"] == ["card.ethical_considerations"]


def test_a_framework_naming_an_unknown_fact_is_a_bug() -> None:
    bad = Framework("x", "X", "ref", (Item("1", "thing", ("card.nonsense",)),))
    with pytest.raises(ValueError, match=r"card\.nonsense"):
        assess({}, {"x": bad})


def test_partial_and_missing_say_why() -> None:
    eu = assess({"card.risk": True})[0]
    item = next(i for i in eu.items if i.item.id == "5")
    assert item.reason == (
        "has: the card states a risk level; "
        "missing: the card lists risks to people and their mitigations"
    )
    gone = next(i for i in eu.items if i.item.id == "2(e)")
    assert gone.reason == "missing: the card describes human oversight"


def test_monitoring_in_production_needs_a_monitor_verdict() -> None:
    """A drift check of evaluation against training data is not production monitoring."""
    facts = dict.fromkeys(FACTS, True)
    facts["verdict.monitor"] = False
    nist = assess(facts)[1]
    measure = {i.item.id: i for i in nist.items}
    assert measure["MEASURE 2.4"].status == "partial"
    assert "production data was checked for drift" in measure["MEASURE 2.4"].reason
    assert measure["MEASURE 3.1"].status == "missing"
    facts["verdict.monitor"] = True
    assert {i.item.id: i.status for i in assess(facts)[1].items}["MEASURE 2.4"] == "present"


def test_cybersecurity_is_not_claimed() -> None:
    everything = dict.fromkeys(FACTS, True)
    for result in assess(everything):
        for i in result.items:
            if "ecurity" in i.item.title:
                assert i.status == "outside", i.item.id
                assert "not assessed by mlgate" in i.reason

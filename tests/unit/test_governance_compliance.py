"""The compliance checklist: covered, partial, missing, outside."""

from __future__ import annotations

import pytest

from mlgate.governance.compliance import FACTS, FRAMEWORKS, Framework, Item, assess


def test_every_fact_is_used_and_every_item_names_known_facts() -> None:
    used = {f for fw in FRAMEWORKS.values() for i in fw.items for f in i.facts}
    assert used == set(FACTS)


def test_all_facts_cover_everything_but_the_items_outside_mlgate() -> None:
    results = assess(dict.fromkeys(FACTS, True))
    for result in results:
        statuses = {i.status for i in result.items}
        assert statuses <= {"covered", "outside"}
        outside = [i.item.id for i in result.items if i.status == "outside"]
        assert all(not i.item.facts for i in result.items if i.item.id in outside)
    eu = results[0]
    assert eu.framework.key == "eu-ai-act-annex-iv"
    assert {i.item.id for i in eu.items if i.status == "outside"} == {"2(f)", "7", "8"}


def test_no_facts_leave_everything_missing() -> None:
    for result in assess({}):
        assert {i.status for i in result.items} <= {"missing", "outside"}
        assert result.count("covered") == 0


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

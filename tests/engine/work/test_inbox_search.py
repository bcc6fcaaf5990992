"""The inbox's search, sortable columns and tab counts (engine.work.pages.inbox_page)."""

from __future__ import annotations

from engine.work import pages, tasks
from tests.engine.work.test_case_list import start
from tests.engine.work.test_instances import DRAFT, EFP, PD_HTI, only_task

PD_PAN = "project-developer@pan.demo"


def inbox(world, who=PD_HTI, **options) -> pages.InboxPage:
    return pages.inbox_page(world.uow(), world.user(who), **options)


def test_the_search_narrows_every_tab_and_its_count(world, funding_review):
    marisol = start(world, "Hurricane Marisol shelter")
    start(world, "Cholera response Artibonite")
    found = inbox(world, q="marisol")
    assert [t.instance_id for t in found.rows] == [marisol.id]
    assert found.counts == {"all": 1, "mine": 0, "claimable": 1, "started": 1}
    assert inbox(world, tab="started", q="cholera").started[0].title == "Cholera response Artibonite"
    assert inbox(world, q=marisol.reference).counts["all"] == 1
    assert inbox(world, q="nothing like it").rows == []


def test_the_counts_follow_the_tabs_and_filters(world, funding_review):
    first = start(world, "Hurricane Marisol shelter")
    start(world, "Cholera response Artibonite")
    start(world, "Darien migrant reception", who=PD_PAN, office="PAN")
    tasks.claim_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, first.id).id)
    assert inbox(world).counts == {"all": 2, "mine": 1, "claimable": 1, "started": 2}
    assert inbox(world, office="PAN").counts["all"] == 0  # a Haiti drafter: none of Panama's
    assert inbox(world, PD_PAN).counts == {"all": 1, "mine": 0, "claimable": 1, "started": 1}


def test_the_columns_sort_the_rows(world, funding_review):
    start(world, "Bravo case")
    world.clock.advance(hours=1)
    start(world, "Alpha case")
    assert [t.instance_title for t in inbox(world, sort="case").rows] == ["Alpha case", "Bravo case"]
    assert [t.instance_title for t in inbox(world, sort="waiting").rows] == ["Bravo case", "Alpha case"]


def test_the_office_column_sorts_a_regional_inbox(world, funding_review):
    for title, who, office in (("Panama first started", PD_PAN, "PAN"), ("Haiti second", PD_HTI, "HTI")):
        case = start(world, title, who=who, office=office)
        tasks.complete_task(world.uow(), world.user(who), only_task(world, who, case.id).id, DRAFT)
        world.clock.advance(hours=1)
    assert [t.office for t in inbox(world, EFP, sort="office").rows] == ["HTI", "PAN"]
    assert [t.office for t in inbox(world, EFP, sort="waiting").rows] == ["PAN", "HTI"]

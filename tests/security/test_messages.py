"""Issue 15, item 1: a message stays in its case's office. A message reaches only cases of the office
of the case that threw it (a message posted from outside: the office its payload names), and no
payload sets the fields the engine owns (engine.bpmn.case_fields: `office`). What matches nothing it
may reach stays `unmatched`, kept for an administrator. The cases are the tables below, on SQLite and
PostgreSQL, through the shipped diagrams (the hostile sender under data/messages/) (docs/reliability.md
8.1).

Before: CERFDisbursed correlated on `eppe_reference` alone, so a Panama CERF application naming a
Haiti EPPE (or a typo of it) repaid Haiti's MEFM advance and wrote Panama's payload, `office: "PAN"`
included, into the Haiti case.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bpmn.case_fields import OWNED_FIELDS
from engine.bpmn.loading import validate_paths
from engine.errors import InvalidData, InvalidDiagram
from engine.messaging import delivery
from engine.modeling import publishing
from engine.store.models import Message, ProcessInstance
from engine.work import instances
from tests.processes import test_cerf, test_mefm
from tests.processes.conftest import complete
from tests.processes.scenarios import HAITI_HURRICANE
from tests.processes.scenarios_cerf import HAITI_RR

MESSAGES = Path(__file__).resolve().parent / "data" / "messages"
HAITI_EPPE = HAITI_HURRICANE["mefm"]["linked_eppe_id"]
DISBURSEMENT = HAITI_HURRICANE["mefm"]["cerf_disbursement"]  # what Haiti's CERF disbursement carries
PRD, FINANCE = "prd@hq.demo", "finance@hq.demo"


@pytest.fixture
def haiti_advance(world, published_processes) -> int:
    """Haiti's MEFM advance, allocated, waiting for the CERF disbursement of EPPE-HTI-2025-014."""
    mefm = HAITI_HURRICANE["mefm"]
    instance = test_mefm.submit(world, "HTI", mefm)
    assert [t.title for t in test_mefm.decided_and_allocated(world, "HTI", instance.id, mefm).tasks] == [
        test_mefm.REPAYMENT
    ]
    return instance.id


def _repaid(world, advance: int) -> bool:
    view = test_mefm.view(world, advance)
    received = ("message_received", "CERFDisbursed") in [(e.kind, e.outcome) for e in view.events]
    assert received == (view.status == "completed"), (view.status, [t.title for t in view.tasks])
    if not received:
        assert [t.title for t in view.tasks] == [test_mefm.REPAYMENT]  # still waiting, untouched
    return received


def _message(world, message_id: int) -> Message:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        message = tx.session.get(Message, message_id)
        tx.session.expunge(message)
        return message


def _disbursed_message(world, source_id: int) -> Message:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        [message] = tx.session.scalars(select(Message).where(Message.source_instance_id == source_id))
        tx.session.expunge(message)
        return message


def _data_of(world, instance_id: int) -> tuple[str, dict]:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        office = tx.session.get(ProcessInstance, instance_id).office_code
    return office, instances.get_instance(world.uow(), world.user(PRD), instance_id).data


# --- a CERF application disburses: only its own office's advance is repaid ----------------------------


@dataclass(frozen=True)
class Disbursement:
    office: str  # the office of the CERF application that records the disbursement
    eppe_reference: str  # the EPPE its call names
    repays: bool  # Haiti's advance is repaid by it
    id: str


DISBURSEMENTS = [
    Disbursement("HTI", HAITI_EPPE, True, "Haiti's own CERF of the same EPPE"),
]


def _cerf_disbursed(world, office: str, eppe_reference: str) -> int:
    """A CERF application of `office` run from its call to the disbursement, which throws CERFDisbursed."""
    s, com, pd = HAITI_RR, test_cerf.chief_of_mission(office), test_cerf.project_developer(office)
    cerf = test_cerf.open_call(world, {**s, "office": office}, eppe_reference=eppe_reference)
    complete(world, com, cerf.id, s["cerf_agree_share"])
    complete(world, pd, cerf.id, s["cerf_draft"])
    test_cerf.endorse(world, cerf.id)
    complete(world, com, cerf.id, s["cerf_submission"])
    complete(world, pd, cerf.id, s["cerf_secretariat_cleared"])
    complete(world, PRD, cerf.id, s["cerf_erc_decision"])
    complete(world, PRD, cerf.id, s["cerf_countersignature"])
    assert complete(world, FINANCE, cerf.id, s["cerf_disbursement"]).status == "completed"
    return cerf.id


@pytest.mark.parametrize("case", DISBURSEMENTS, ids=[c.id for c in DISBURSEMENTS])
def test_a_cerf_disbursement_repays_only_an_advance_of_its_own_office(world, haiti_advance, case):
    cerf = _cerf_disbursed(world, case.office, case.eppe_reference)

    message = _disbursed_message(world, cerf)
    assert _repaid(world, haiti_advance) == case.repays
    if case.repays:
        assert (message.state, message.target_instance_id) == ("delivered", haiti_advance)
    else:
        assert (message.state, message.target_instance_id) == ("unmatched", None)
        assert message.id in [m.id for m in delivery.undelivered(world.uow())]
    assert _data_of(world, haiti_advance)[1]["office"] == "HTI"


def test_a_panama_cerf_call_may_not_name_haitis_eppe(world, haiti_advance):
    """The link is chosen among Panama's own EPPE references (engine.work.case_links): Haiti's is
    refused when the call is opened, so no Panama disbursement can ever name it."""
    with pytest.raises(InvalidData) as refused:
        test_cerf.open_call(world, {**HAITI_RR, "office": "PAN"}, eppe_reference=HAITI_EPPE)
    assert "eppe_reference" in refused.value.fields
    assert not _repaid(world, haiti_advance)


# --- a message posted from outside the cases: scoped by the office it names ---------------------------


@dataclass(frozen=True)
class Posted:
    payload: dict
    repays: bool
    id: str


POSTED = [
    Posted({**DISBURSEMENT, "office": "PAN"}, False, "naming Panama and Haiti's EPPE"),
    Posted({**DISBURSEMENT, "office": "pan"}, False, "naming an office that is not Haiti's code"),
    Posted({**DISBURSEMENT, "office": "HTI"}, True, "naming Haiti"),
    # An integration posting with no office speaks for every office (it is no case's payload).
    Posted({k: v for k, v in DISBURSEMENT.items() if k != "office"}, True, "naming no office"),
]


@pytest.mark.parametrize("case", POSTED, ids=[c.id for c in POSTED])
def test_a_posted_message_reaches_only_the_office_it_names(world, haiti_advance, case):
    message = _message(world, delivery.send(world.uow(), "CERFDisbursed", case.payload))

    assert _repaid(world, haiti_advance) == case.repays
    assert message.state == ("delivered" if case.repays else "unmatched")
    assert _data_of(world, haiti_advance)[1]["office"] == "HTI"


def test_an_unmatched_message_stays_unmatched_when_another_office_starts_waiting(world, published_processes):
    posted = delivery.send(world.uow(), "CERFDisbursed", {**DISBURSEMENT, "office": "PAN"})
    assert _message(world, posted).state == "unmatched"
    mefm = HAITI_HURRICANE["mefm"]
    haiti = test_mefm.submit(world, "HTI", mefm)
    test_mefm.decided_and_allocated(world, "HTI", haiti.id, mefm)  # now waits for EPPE-HTI-2025-014

    assert _message(world, posted).state == "unmatched"
    assert not _repaid(world, haiti.id)


# --- a payload never sets the fields the engine owns --------------------------------------------------


@dataclass(frozen=True)
class Owned:
    sender_office: str  # the office of the hostile case that throws
    message: str
    payload: dict
    receiver_office: str  # where the case that takes the message runs: always the sender's
    id: str


OWNED = [
    Owned("HTI", "CERFDisbursed", {**DISBURSEMENT, "office": "PAN"}, "HTI", "a disbursement claiming Panama"),
    Owned("PAN", "EPPEEndorsed", dict(test_mefm.EPPE_BRIDGE), "PAN", "a Panama EPPE claiming Haiti"),
]


def test_the_engine_owns_the_office_field():
    assert "office" in OWNED_FIELDS


@pytest.mark.parametrize("case", OWNED, ids=[c.id for c in OWNED])
def test_a_payload_never_overwrites_the_fields_the_engine_owns(world, haiti_advance, case):
    assert {"office"} <= set(case.payload) and case.payload["office"] != case.sender_office
    publishing.publish(world.uow(), {"thrower.bpmn": (MESSAGES / "thrower.bpmn").read_bytes()})
    com = world.user(test_cerf.chief_of_mission(case.sender_office))
    sender = instances.start_instance(
        world.uow(), com, "thrower", case.sender_office, {"message": case.message, "payload": case.payload}
    )
    assert sender.status == "completed"

    message = _disbursed_message(world, sender.id)
    assert message.state == "delivered", message.last_error
    office, data = _data_of(world, message.target_instance_id)
    assert (office, data["office"]) == (case.receiver_office, case.receiver_office)
    assert all(data.get(name) != case.payload[name] for name in OWNED_FIELDS & set(case.payload))
    if case.message == "CERFDisbursed":
        assert message.target_instance_id == haiti_advance and _repaid(world, haiti_advance)
    else:
        assert _repaid(world, haiti_advance) is False
        assert data["eppe_reference"] == case.payload["eppe_reference"]  # the rest of the payload is taken


def test_start_data_never_sets_the_fields_the_engine_owns(world):
    publishing.publish(world.uow(), {"thrower.bpmn": (MESSAGES / "thrower.bpmn").read_bytes()})
    com = world.user(test_cerf.chief_of_mission("PAN"))
    data = {"message": "none", "payload": {}, "office": "HTI"}  # a start event with no form takes any field

    started = instances.start_instance(world.uow(), com, "thrower", "PAN", data)

    assert (started.office, started.data["office"]) == ("PAN", "PAN")


def test_a_catch_that_would_put_its_payload_into_an_owned_field_is_refused_at_validation(world):
    path = MESSAGES / "catches_into_office.bpmn"
    assert [(p.element, p.message) for p in validate_paths([str(path)])] == [
        ("repaid_def", "message variable 'office' is a field the engine sets itself: name another variable")
    ]
    with pytest.raises(InvalidDiagram):
        publishing.publish(world.uow(), {path.name: path.read_bytes()})

"""The processes linked end to end, each through its own diagram (no stand-ins): an endorsed Haiti
EPPE asks for an MEFM bridge and for CERF; the MEFM request starts in Haiti, is decided and its
advance allocated; the CERF application starts too, runs to its disbursement, and that disbursement
repays the MEFM advance of the same EPPE, and only that one."""

from __future__ import annotations

from engine.messaging import delivery as messages
from engine.store.models import Message
from tests.processes import test_cerf, test_eppe, test_mefm
from tests.processes.conftest import complete, only_task
from tests.processes.scenarios import HAITI_HURRICANE
from tests.processes.scenarios_cerf import HAITI_RR
from tests.processes.scenarios_eppe import HAITI_EPPE

COM = "chief-of-mission@hti.demo"
FINANCE, PRD = "finance@hq.demo", "prd@hq.demo"


def started_by(world, name: str, source_id: int) -> int:
    with world.db.unit_of_work(world.clock, write=False) as uow:
        message = uow.session.query(Message).filter_by(name=name, source_instance_id=source_id).one()
        assert message.state == "delivered"
        return message.target_instance_id


def test_an_endorsed_eppe_bridges_with_mefm_and_its_cerf_disbursement_repays_the_advance(world, published_processes):
    eppe = test_eppe.approved(world, HAITI_EPPE)
    test_eppe.endorse(world, eppe.id)
    routes = complete(world, COM, eppe.id, HAITI_EPPE["eppe_funding_routes"])
    assert routes.status == "completed"
    mefm_id = started_by(world, "EPPEEndorsed", eppe.id)
    cerf_id = started_by(world, "EPPEEndorsedForCERF", eppe.id)

    # MEFM: the Chief of Mission completes the request the EPPE opened; decided and allocated.
    mefm = HAITI_HURRICANE["mefm"]
    assert only_task(world, COM, mefm_id).form_key == "mefm_request_prepare"
    complete(world, COM, mefm_id, test_mefm.HAITI_PREPARED)
    complete(world, test_mefm.resources_management("HTI"), mefm_id, mefm["mefm_budget_check"])
    complete(world, COM, mefm_id, mefm["mefm_com_submission"])
    waiting = test_mefm.decided_and_allocated(world, "HTI", mefm_id, mefm)
    assert [t.title for t in waiting.tasks] == [test_mefm.REPAYMENT]
    assert waiting.data["eppe_reference"] == HAITI_EPPE["eppe_start"]["eppe_reference"]

    # CERF: from the call details to the disbursement, which throws CERFDisbursed.
    s = HAITI_RR
    complete(world, COM, cerf_id, s["cerf_call_details"])
    complete(world, COM, cerf_id, s["cerf_agree_share"])
    complete(world, test_cerf.project_developer("HTI"), cerf_id, s["cerf_draft"])
    test_cerf.endorse(world, cerf_id)
    complete(world, COM, cerf_id, s["cerf_submission"])
    complete(world, test_cerf.project_developer("HTI"), cerf_id, s["cerf_secretariat_cleared"])
    complete(world, PRD, cerf_id, s["cerf_erc_decision"])
    complete(world, PRD, cerf_id, s["cerf_countersignature"])
    disbursed = complete(world, FINANCE, cerf_id, s["cerf_disbursement"])
    assert disbursed.status == "completed"

    repaid = test_mefm.view(world, mefm_id)
    assert repaid.status == "completed" and repaid.tasks == []
    amount = s["cerf_disbursement"]["disbursed_amount_usd"]
    owed = waiting.data["amount_owed_usd"]
    assert (repaid.data["repayment_source"], repaid.data["repaid_amount_usd"]) == ("cerf", min(amount, owed))
    assert ("message_received", "CERFDisbursed") in [(e.kind, e.outcome) for e in repaid.events]
    assert messages.undelivered(world.db.unit_of_work()) == []

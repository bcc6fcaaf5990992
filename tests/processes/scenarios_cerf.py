"""CERF data of the sample scenarios (domain.md, section 8), as the CERF application's forms take it.

Every scenario, figure, code, reference and name here is INVENTED (calibrated on real LAC events and on
the public CERF templates, but none is real). One dict per scenario, holding the data of each form by
form key, the EPPEEndorsedForCERF message where the application comes from an endorsed EPPE, and the
figures the process must work out from them.
"""

from __future__ import annotations

from tests.processes.scenarios import HAITI_HURRICANE

# --- Scenario A: "Hurricane Marisol", Haiti: CERF Rapid Response, bridged by an MEFM advance ---------

HAITI_RR = {
    "scenario": "A",
    "name": "Hurricane Marisol (fictional), Haiti: CERF Rapid Response",
    "office": "HTI",
    # What the eppe process throws once EPPE-HTI-2025-014 is endorsed with CERF as a funding route; the
    # MEFM advance MEFM-HTI-2025-003 (scenarios.HAITI_HURRICANE) is to be repaid from the grant.
    "eppe_message": {
        "eppe_reference": HAITI_HURRICANE["mefm"]["linked_eppe_id"],
        "office": "HTI",
        "title": "Emergency Shelter, NFI and CCCM support to hurricane-affected populations in Sud and Grand'Anse",
        "crisis_type": HAITI_HURRICANE["crisis"]["crisis_type"],
        "emergency_level": HAITI_HURRICANE["crisis"]["emergency_level"],
        "sectors": ["shelter_nfi", "cccm", "protection"],
        "budget_usd": 3_424_000,
        "people_targeted": 46_000,
        "bridge_requested": True,
    },
    # The same call, when the Chief of Mission opens the application by hand.
    "cerf_call": {
        "title": "CERF Rapid Response – Hurricane Marisol, Haiti",
        "cerf_window": "rr",
        "crisis_type": "hurricane_tropical_storm",
        "emergency_level": "L2",
        "envelope_usd": 6_000_000,
        "deadline_date": "2025-09-20",
        "indicative_share_usd": 1_200_000,
        "bridge_requested": True,
        "eppe_reference": "EPPE-HTI-2025-014",
    },
    "cerf_call_details": {
        "cerf_window": "rr",
        "envelope_usd": 6_000_000,
        "deadline_date": "2025-09-20",
        "indicative_share_usd": 1_200_000,
    },
    "cerf_agree_share": {
        "share_decision": "agreed",
        "agreed_share_usd": 1_200_000,
        "sectors": ["shelter_nfi"],
        "agreement_date": "2025-09-16",
        "share_comments": "Shelter/NFI cluster: IOM runs the NFI pipeline for Sud and Grand'Anse.",
    },
    "cerf_draft": {
        "project_title": "CERF Rapid Response: shelter and NFI for hurricane-displaced families in Sud and Grand'Anse",
        "summary": (
            "Hurricane Marisol displaced 68,500 people; 31,200 live in 212 collective centres. 5,000 NFI kits "
            "and shelter repair kits for 25,000 people in Sud and Grand'Anse, delivered within six months."
        ),
        "geographic_areas": "Sud (Les Cayes, Torbeck, Port-Salut); Grand'Anse (Jérémie, Roseaux)",
        "duration_months": 6,
        # Early start on landfall, 15 days before the expected disbursement (at most 42 allowed).
        "project_start_date": "2025-09-14",
        "disbursement_expected_date": "2025-09-29",
        "budget_lines": [
            {"category": "staff", "description": "Shelter/NFI team of 12 for six months", "amount_usd": 150_000},
            {"category": "supplies", "description": "5,000 NFI and shelter repair kits", "amount_usd": 700_000},
            {"category": "equipment", "description": "Two warehouses' racking and generators", "amount_usd": 40_000},
            {
                "category": "contractual_services",
                "description": "Transport from the Panama hub to Les Cayes and last-mile distribution",
                "amount_usd": 120_000,
            },
            {"category": "travel", "description": "Field monitoring in Sud and Grand'Anse", "amount_usd": 30_000},
            {
                "category": "general_operating",
                "description": "Warehouse rent, fuel and communications",
                "amount_usd": 81_000,
            },
        ],
        "psc_rate_percent": 7,
        "beneficiaries": [
            {"sex": "female", "age_group": "under_18", "people": 5_400},
            {"sex": "male", "age_group": "under_18", "people": 5_100},
            {"sex": "female", "age_group": "adults_18_59", "people": 6_600},
            {"sex": "male", "age_group": "adults_18_59", "people": 5_800},
            {"sex": "female", "age_group": "older_60_plus", "people": 1_200},
            {"sex": "male", "age_group": "older_60_plus", "people": 900},
        ],
    },
    # What the process works out from the draft: 1,121,000 direct + 7 % PSC.
    "figures": {
        "direct_costs_usd": 1_121_000,
        "psc_usd": 78_470,
        "budget_usd": 1_199_470,
        "people_targeted": 25_000,
        "early_start_days": 15,
    },
    "cerf_submission": {
        "submission_date": "2025-09-19",
        "rc_hc_reference": "RCO-HTI-CERF-RR-2025-02",
    },
    "cerf_secretariat_comments": {
        "secretariat_decision": "comments_received",
        "secretariat_review_date": "2025-09-22",
        "secretariat_comments": "Justify the unit cost of the NFI kits; the warehouse racking is not life-saving.",
    },
    "cerf_resubmission": {
        "revision_summary": "Unit cost justified with the Panama hub price list; racking moved to another grant.",
        "resubmission_date": "2025-09-23",
    },
    "cerf_secretariat_cleared": {"secretariat_decision": "cleared", "secretariat_review_date": "2025-09-24"},
    "cerf_erc_decision": {
        "erc_decision": "approved",
        "erc_decision_date": "2025-09-25",
        "approved_amount_usd": 1_199_470,
    },
    "cerf_countersignature": {
        "countersignature_date": "2025-09-26",
        "approval_letter_reference": "CERF/RR/HTI/2025/031",
    },
    "cerf_disbursement": {
        "disbursed_amount_usd": 1_199_470,
        "disbursement_date": "2025-09-29",
        "cerf_project_code": "25-RR-IOM-031",
    },
}

# --- Scenario D: regional UFE round, Honduras --------------------------------------------------------

HONDURAS_UFE = {
    "scenario": "D",
    "name": "Regional UFE round, Honduras",
    "office": "HND",
    # An EPPE of the office that chose CERF, with no MEFM advance to repay (the message the eppe process throws).
    "eppe_message": {
        "eppe_reference": "EPPE-HND-2025-002",
        "office": "HND",
        "title": "Protection of returnees and internally displaced people in San Pedro Sula and Tegucigalpa",
        "crisis_type": "conflict_violence",
        "emergency_level": "L1",
        "sectors": ["protection", "mhpss"],
        "budget_usd": 1_450_000,
        "people_targeted": 30_000,
        "bridge_requested": False,
    },
    # The call opened on 2025-02-03; the deadline is 14 days later.
    "cerf_call": {
        "title": "CERF UFE 2025 round 1 – protection of returnees and displaced people, Honduras",
        "cerf_window": "ufe",
        "crisis_type": "conflict_violence",
        "emergency_level": "L1",
        "envelope_usd": 5_000_000,
        "deadline_date": "2025-02-17",
        "bridge_requested": False,
    },
    "cerf_agree_share": {
        "share_decision": "agreed",
        "agreed_share_usd": 600_000,
        "sectors": ["protection"],
        "agreement_date": "2025-02-06",
    },
    "cerf_draft": {
        "project_title": "Protection of returnees and internally displaced people in San Pedro Sula and Tegucigalpa",
        "summary": (
            "Reception, protection case management and referral for 12,000 returnees and people displaced by "
            "violence, with the Return Migrant Attention Centres and two partner NGOs, for nine months."
        ),
        "geographic_areas": "Cortés (San Pedro Sula); Francisco Morazán (Tegucigalpa)",
        "duration_months": 9,
        "project_start_date": "2025-04-01",
        "disbursement_expected_date": "2025-04-10",
        "budget_lines": [
            {"category": "staff", "description": "Protection officers and case workers", "amount_usd": 210_000},
            {"category": "supplies", "description": "Dignity kits and reception supplies", "amount_usd": 90_000},
            {
                "category": "contractual_services",
                "description": "Safe shelter places and transport to referral services",
                "amount_usd": 60_000,
            },
            {"category": "travel", "description": "Monitoring visits to the two cities", "amount_usd": 25_000},
            {
                "category": "transfers_grants",
                "description": "Two partner NGOs for legal and psychosocial support",
                "amount_usd": 150_000,
            },
            {"category": "general_operating", "description": "Office running costs", "amount_usd": 25_000},
        ],
        "psc_rate_percent": 7,
        "beneficiaries": [
            {"sex": "female", "age_group": "under_18", "people": 2_100},
            {"sex": "male", "age_group": "under_18", "people": 2_300},
            {"sex": "female", "age_group": "adults_18_59", "people": 3_400},
            {"sex": "male", "age_group": "adults_18_59", "people": 3_600},
            {"sex": "female", "age_group": "older_60_plus", "people": 300},
            {"sex": "male", "age_group": "older_60_plus", "people": 300},
        ],
    },
    "figures": {
        "direct_costs_usd": 560_000,
        "psc_usd": 39_200,
        "budget_usd": 599_200,
        "people_targeted": 12_000,
        "early_start_days": 9,
    },
    "cerf_submission": {"submission_date": "2025-02-14"},
    "cerf_secretariat_cleared": {"secretariat_decision": "cleared", "secretariat_review_date": "2025-03-03"},
    "cerf_erc_decision": {
        "erc_decision": "approved",
        "erc_decision_date": "2025-03-12",
        "approved_amount_usd": 599_200,
    },
    "cerf_countersignature": {
        "countersignature_date": "2025-03-13",
        "approval_letter_reference": "CERF/UFE/HND/2025/007",
        "countersignature_comments": "Returned to the CERF secretariat the same day.",
    },
    "cerf_disbursement": {
        "disbursed_amount_usd": 599_200,
        "disbursement_date": "2025-04-10",
        "cerf_project_code": "25-UF-IOM-007",
    },
}

# --- Scenario E: validation failures ---------------------------------------------------------------

CERF_FAILURES = {
    "scenario": "E",
    # An RR project of 8 months: the pre-check refuses it (RR at most 6 months).
    "rr_eight_months": {**HAITI_RR["cerf_draft"], "duration_months": 8},
    # An RR early start 50 days before the expected disbursement: refused (at most 42 days).
    "rr_early_start_50_days": {**HAITI_RR["cerf_draft"], "project_start_date": "2025-08-10"},
    # Outcomes the other branches need.
    "no_share": {
        "share_decision": "no_share",
        "share_comments": "The HCT gave the protection envelope to UNHCR and UNICEF this round.",
    },
    "not_endorsed_return": {
        "not_endorsed_decision": "return",
        "not_endorsed_comments": "Cut the warehouse equipment and explain the kit distribution plan.",
    },
    "not_endorsed_withdraw": {
        "not_endorsed_decision": "withdraw",
        "not_endorsed_comments": "ECHO now covers the NFI pipeline; withdraw from this allocation.",
    },
    "erc_not_approved": {
        "erc_decision": "not_approved",
        "erc_decision_date": "2025-03-12",
        "erc_comments": "Activities already covered by the Humanitarian Response Plan's pooled fund allocation.",
    },
}

CERF_SCENARIOS = {"A": HAITI_RR, "D": HONDURAS_UFE}

"""Emergency project proposals (EPPE) of the sample scenarios (domain.md, section 8), as data the tests
of workflows/bpmn/eppe.bpmn submit, by form key.

Every scenario, reference, figure and name here is INVENTED (calibrated on real LAC events, but none
is real). The crises come from tests/processes/scenarios.py; this file adds the EPPE of each.
"""

from __future__ import annotations

from tests.processes.scenarios import GUATEMALA_FLOODS, HAITI_HURRICANE, PANAMA_DARIEN


def beneficiaries(female: tuple[int, int, int, int], male: tuple[int, int, int, int]) -> list[dict]:
    """Groups by sex and age (0-4, 5-17, 18-59, 60 and over)."""
    ages = ("0_4", "5_17", "18_59", "60_plus")
    return [
        {"sex": sex, "age_group": age, "individuals": count}
        for sex, counts in (("female", female), ("male", male))
        for age, count in zip(ages, counts, strict=True)
    ]


def line(category: str, description: str, amount_usd: float) -> dict:
    return {"category": category, "description": description, "amount_usd": amount_usd}


# --- Scenario A: "Hurricane Marisol", Haiti (L2; an MEFM bridge and a CERF application) -------------

HAITI_EPPE = {
    "scenario": "A",
    "office": "HTI",
    "eppe_start": {
        "eppe_reference": "EPPE-HTI-2026-0001",  # what the engine gives the first Haiti EPPE of 2026
        "title": "Emergency Shelter, NFI and CCCM support to hurricane-affected populations in Sud and Grand'Anse",
        "crisis_type": HAITI_HURRICANE["crisis"]["crisis_type"],
        "emergency_level": HAITI_HURRICANE["crisis"]["emergency_level"],
        "onset_date": HAITI_HURRICANE["crisis"]["landfall"],
    },
    "eppe_draft": {
        "locations": [
            {"country": "HTI", "admin1": "Sud", "admin2": "Les Cayes"},
            {"country": "HTI", "admin1": "Sud", "admin2": "Port-Salut"},
            {"country": "HTI", "admin1": "Grand'Anse", "admin2": "Jérémie"},
        ],
        "sectors": ["shelter_nfi", "cccm", "dtm"],
        "people_affected": HAITI_HURRICANE["crisis"]["people_affected"],
        "people_targeted": 46_000,
        "households": 9_800,
        # 23,700 women and girls, 22,300 men and boys (the split by age is INVENTED too).
        "beneficiaries": beneficiaries((2_800, 7_300, 11_900, 1_700), (2_900, 7_500, 10_500, 1_400)),
        "duration_months": 6,
        "budget_lines": [
            line("A", "CCCM, shelter and DTM staff in Les Cayes and Jérémie", 620_000),
            line("B", "5,000 NFI kits and 3,000 shelter repair kits", 1_980_000),
            line("C", "Two trucks and warehouse racking", 95_000),
            line("D", "Debris removal and site works by local contractors", 180_000),
            line("E", "Field travel to the collective centres", 60_000),
            line("F", "Grants to two national NGOs running 40 collective centres", 240_000),
            line("G", "Office running costs and communications", 25_000),
            line("psc", "Programme support costs (7 %, an invented rate)", 224_000),
        ],
        "donor": "echo",
        "summary": (
            "Hurricane Marisol (fictional) displaced 68,500 people; 31,200 live in 212 collective centres. Shelter "
            "repair kits, NFI and site management for 46,000 people in Sud and Grand'Anse for six months."
        ),
    },
    # Computed by the process from the lines: direct 3,200,000 + PSC 224,000.
    "totals": {
        "direct_costs_usd": 3_200_000,
        "psc_usd": 224_000,
        "budget_usd": 3_424_000,
        "beneficiaries_total": 46_000,
    },
    "eppe_budget_check": {
        "budget_check_result": "cleared_with_remarks",
        "budget_remarks": "Unit cost of the shelter repair kits is above the 2024 average; confirm the quotation.",
    },
    "eppe_com_approval_return": {
        "com_decision": "return",
        "com_comments": "Add Nippes: 12,000 people in the collective centres of Miragoâne have no support.",
    },
    "eppe_revise": {
        "revision_notes": "Nippes added (Miragoâne): its centres share the NFI kits, within the same budget.",
        "locations": [
            {"country": "HTI", "admin1": "Sud", "admin2": "Les Cayes"},
            {"country": "HTI", "admin1": "Sud", "admin2": "Port-Salut"},
            {"country": "HTI", "admin1": "Grand'Anse", "admin2": "Jérémie"},
            {"country": "HTI", "admin1": "Nippes", "admin2": "Miragoâne"},
        ],
    },
    "eppe_com_approval": {"com_decision": "approve", "com_comments": "Approved; the quotation is confirmed."},
    "eppe_funding_routes": {
        "funding_routes": ["mefm_bridge", "cerf"],
        "bridge_amount_usd": HAITI_HURRICANE["mefm"]["mefm_request_start"]["requested_amount_usd"],
        "funding_comments": "CERF RR (IOM share USD 1,200,000) and ECHO repay the bridge.",
    },
    "eppe_donor_submission": {
        "submitted_to": "echo",
        "submission_date": "2025-09-22",
        "amount_requested_from_donor_usd": 2_224_000,
        "donor_reference": "ECHO/HTI/BUD/2025/91014",
    },
}

# --- Scenario B: Darién mixed-migration surge, Panama (L2, several countries; a bilateral donor) -----

PANAMA_EPPE = {
    "scenario": "B",
    "office": "PAN",
    "eppe_start": {
        "eppe_reference": "EPPE-PAN-2026-0001",
        "title": (
            "Life-saving assistance and protection for migrants in transit at Migrant Reception Stations in Darién"
        ),
        "crisis_type": PANAMA_DARIEN["crisis"]["crisis_type"],
        "emergency_level": PANAMA_DARIEN["crisis"]["emergency_level"],
        "onset_date": "2025-08-01",
    },
    "eppe_draft": {
        "locations": [
            {"country": "PAN", "admin1": "Darién", "admin2": "Pinogana"},
            {"country": "PAN", "admin1": "Chiriquí"},
            {"country": "CRI", "admin1": "Puntarenas"},
        ],
        "sectors": ["wash", "health", "protection", "cccm", "dtm"],
        "people_affected": PANAMA_DARIEN["crisis"]["people_affected"],
        "people_targeted": 35_000,
        "beneficiaries": beneficiaries((1_700, 2_900, 8_100, 300), (1_800, 3_400, 16_500, 300)),
        "duration_months": 6,
        "budget_lines": [
            line("A", "Health, protection and site staff at both stations", 560_000),
            line("B", "Water, hygiene and medical supplies", 610_000),
            line("D", "Latrines, showers and water points", 420_000),
            line("E", "Travel between Darién, Chiriquí and Puntarenas", 45_000),
            line("F", "Grants to two partners running the protection desks", 300_000),
            line("G", "Office and connectivity at the stations", 74_860),
            line("psc", "Programme support costs (about 7 %, an invented rate)", 140_140),
        ],
        "donor": "usaid_bha",
        "summary": (
            "3,100 arrivals a day (fictional); both stations at nearly twice their capacity. WASH, health care "
            "and protection desks for the people in transit through Panama and Costa Rica."
        ),
    },
    "totals": {
        "direct_costs_usd": 2_009_860,
        "psc_usd": 140_140,
        "budget_usd": 2_150_000,
        "beneficiaries_total": 35_000,
    },
    "eppe_budget_check": {"budget_check_result": "cleared"},
    "eppe_com_approval": {"com_decision": "approve"},
    "eppe_funding_routes": {"funding_routes": ["bilateral_donor"]},
    "eppe_donor_submission": {
        "submitted_to": "usaid_bha",
        "submission_date": "2025-08-12",
        "amount_requested_from_donor_usd": 2_150_000,
        "submission_notes": "Submitted through the BHA regional office in San José.",
    },
}

# --- Scenario C: floods in Alta Verapaz and Izabal, Guatemala (L1; an MEFM bridge only) --------------

GUATEMALA_EPPE = {
    "scenario": "C",
    "office": "GTM",
    "eppe_start": {
        "eppe_reference": "EPPE-GTM-2026-0001",
        "title": "Shelter management, NFI and psychosocial support after the floods in Alta Verapaz and Izabal",
        "crisis_type": GUATEMALA_FLOODS["crisis"]["crisis_type"],
        "emergency_level": GUATEMALA_FLOODS["crisis"]["emergency_level"],
        "onset_date": GUATEMALA_FLOODS["crisis"]["onset"],
    },
    "eppe_draft": {
        "locations": [
            {"country": "GTM", "admin1": "Alta Verapaz", "admin2": "Cobán"},
            {"country": "GTM", "admin1": "Alta Verapaz", "admin2": "Panzós"},
            {"country": "GTM", "admin1": "Izabal", "admin2": "Morales"},
        ],
        "sectors": ["cccm", "shelter_nfi", "mhpss"],
        "people_affected": GUATEMALA_FLOODS["crisis"]["people_affected"],
        "people_targeted": GUATEMALA_FLOODS["crisis"]["sheltered"],
        "households": 3_400,
        "beneficiaries": beneficiaries((1_100, 2_300, 3_600, 500), (1_150, 2_350, 3_200, 400)),
        "duration_months": 4,
        "budget_lines": [
            line("A", "Shelter management teams in 96 shelters", 210_000),
            line("B", "Mattresses, blankets and kitchen sets", 330_000),
            line("D", "Psychosocial first aid by a national partner", 120_000),
            line("E", "Travel to the shelters", 28_972),
            line("G", "Field office in Cobán", 40_000),
            line("psc", "Programme support costs (about 7 %, an invented rate)", 51_028),
        ],
        "donor": "none",
        "summary": (
            "14,600 people in 96 shelters after the tropical storm (fictional): site management, NFI and "
            "psychosocial first aid in Alta Verapaz and Izabal for four months."
        ),
    },
    "totals": {"direct_costs_usd": 728_972, "psc_usd": 51_028, "budget_usd": 780_000, "beneficiaries_total": 14_600},
    "eppe_budget_check": {"budget_check_result": "cleared"},
    "eppe_com_approval": {"com_decision": "approve"},
    "eppe_funding_routes": {
        "funding_routes": ["mefm_bridge"],
        "bridge_amount_usd": GUATEMALA_FLOODS["mefm"]["mefm_request_start"]["requested_amount_usd"],
    },
}

# --- Scenario D: regional UFE round, Honduras (L2; a CERF application only) --------------------------

HONDURAS_EPPE = {
    "scenario": "D",
    "office": "HND",
    "eppe_start": {
        "eppe_reference": "EPPE-HND-2026-0001",
        "title": "Protection and reintegration assistance for returnees and displaced people in San Pedro Sula",
        "crisis_type": "conflict_violence",
        "emergency_level": "L2",
        "onset_date": "2025-06-01",
    },
    "eppe_draft": {
        "locations": [
            {"country": "HND", "admin1": "Cortés", "admin2": "San Pedro Sula"},
            {"country": "HND", "admin1": "Francisco Morazán", "admin2": "Tegucigalpa"},
        ],
        "sectors": ["protection", "cash"],
        "people_affected": 58_000,
        "people_targeted": 9_500,
        "beneficiaries": beneficiaries((600, 1_400, 2_300, 200), (650, 1_450, 2_700, 200)),
        "duration_months": 9,
        "budget_lines": [
            line("A", "Protection officers and case workers", 180_000),
            line("F", "Cash for protection through a national partner", 300_000),
            line("B", "Dignity kits for returnees at the reception centre", 80_748),
            line("psc", "Programme support costs (7 %, an invented rate)", 39_252),
        ],
        "donor": "cerf",
        "summary": (
            "IOM's share (USD 600,000, fictional) of the CERF Underfunded Emergencies round for Honduras: protection "
            "case management and cash for 9,500 returnees and displaced people."
        ),
    },
    "totals": {"direct_costs_usd": 560_748, "psc_usd": 39_252, "budget_usd": 600_000, "beneficiaries_total": 9_500},
    "eppe_budget_check": {"budget_check_result": "cleared"},
    "eppe_com_approval": {"com_decision": "approve"},
    "eppe_funding_routes": {"funding_routes": ["cerf"]},
}

EPPE_SCENARIOS = {"A": HAITI_EPPE, "B": PANAMA_EPPE, "C": GUATEMALA_EPPE, "D": HONDURAS_EPPE}

# --- Scenario E: data each form must refuse, field by field: (form key, changes, per-field messages) -

REFUSED = [
    ("eppe_start", {"emergency_level": "L4"}, {"emergency_level": "Choose one of: L1, L2, L3."}),
    ("eppe_start", {"onset_date": "14/09/2025"}, {"onset_date": "Must be a valid date."}),
    ("eppe_start", {"onset_date": 20250914}, {"onset_date": "Must be text."}),
    ("eppe_start", {"title": "Aid"}, {"title": "Must be at least 5 characters."}),
    (
        "eppe_start",
        {"crisis_type": "tsunami"},
        {
            "crisis_type": "Choose one of: hurricane_tropical_storm, flood, earthquake, volcanic, drought, "
            "mixed_migration_flow, conflict_violence, epidemic, other."
        },
    ),
    ("eppe_draft", {"people_affected": -1}, {"people_affected": "Must be at least 0."}),
    ("eppe_draft", {"people_targeted": 10_000_001}, {"people_targeted": "Must be at most 10000000."}),
    ("eppe_draft", {"people_targeted": "46,000"}, {"people_targeted": "Must be a whole number."}),
    ("eppe_draft", {"duration_months": 0}, {"duration_months": "Must be at least 1."}),
    ("eppe_draft", {"duration_months": 25}, {"duration_months": "Must be at most 24."}),
    ("eppe_draft", {"duration_months": 6.5}, {"duration_months": "Must be a whole number."}),
    ("eppe_draft", {"budget_lines": []}, {"budget_lines": "Give at least 1."}),
    (
        "eppe_draft",
        {"budget_lines": [line("H", "Vehicles", 10_000)]},
        {"budget_lines.0.category": "Choose one of: A, B, C, D, E, F, G, psc."},
    ),
    ("eppe_draft", {"budget_lines": [line("B", "NFI kits", 0)]}, {"budget_lines.0.amount_usd": "Must be at least 1."}),
    (
        "eppe_draft",
        {"budget_lines": [line("B", "NFI kits", 100_000_001)]},
        {"budget_lines.0.amount_usd": "Must be at most 100000000."},
    ),
    (
        "eppe_draft",
        {"budget_lines": [line("B", "NFI kits", "1.98 million")]},
        {"budget_lines.0.amount_usd": "Must be a number."},
    ),
    ("eppe_draft", {"budget_lines": "3,424,000"}, {"budget_lines": "Must be a list."}),
    (
        "eppe_draft",
        {"beneficiaries": [{"sex": "female", "age_group": "0_4", "individuals": -5}]},
        {"beneficiaries.0.individuals": "Must be at least 0."},
    ),
    (
        "eppe_draft",
        {"beneficiaries": [{"sex": "other", "age_group": "adult", "individuals": 5}]},
        {
            "beneficiaries.0.sex": "Choose one of: female, male.",
            "beneficiaries.0.age_group": "Choose one of: 0_4, 5_17, 18_59, 60_plus.",
        },
    ),
    (
        "eppe_draft",
        {"locations": [{"country": "Haiti", "admin1": "Sud"}]},
        {"locations.0.country": "'Haiti' does not match '^[A-Z]{3}$'"},
    ),
    ("eppe_draft", {"locations": [{"country": "HTI"}]}, {"locations.0.admin1": "This field is required."}),
    ("eppe_draft", {"sectors": []}, {"sectors": "Give at least 1."}),
    (
        "eppe_draft",
        {"sectors": ["roads"]},
        {
            "sectors.0": "Choose one of: cccm, shelter_nfi, wash, health, mhpss, protection, dtm, cash, logistics, "
            "climate_environment, border_management, other."
        },
    ),
    ("eppe_draft", {"donor": "ECHO"}, {"donor": "Choose one of: none, cerf, echo, usaid_bha, japan, other."}),
    ("eppe_draft", {"summary": "Shelter."}, {"summary": "Must be at least 20 characters."}),
    ("eppe_draft", {"budget_usd": 1}, {"": "Unexpected field: 'budget_usd'"}),
    (
        "eppe_budget_check",
        {"budget_check_result": "rejected"},
        {"budget_check_result": "Choose one of: cleared, cleared_with_remarks."},
    ),
    ("eppe_budget_check", {"budget_remarks": 42}, {"budget_remarks": "Must be text."}),
    ("eppe_com_approval", {"com_decision": "reject"}, {"com_decision": "Choose one of: approve, return."}),
    ("eppe_com_approval", {"com_decision": True}, {"com_decision": "Must be text."}),
    ("eppe_revise", {"revision_notes": "Done."}, {"revision_notes": "Must be at least 10 characters."}),
    ("eppe_revise", {"duration_months": 30}, {"duration_months": "Must be at most 24."}),
    ("eppe_funding_routes", {"funding_routes": []}, {"funding_routes": "Give at least 1."}),
    (
        "eppe_funding_routes",
        {"funding_routes": ["appeal"]},
        {"funding_routes.0": "Choose one of: mefm_bridge, cerf, bilateral_donor."},
    ),
    ("eppe_funding_routes", {"bridge_amount_usd": 999}, {"bridge_amount_usd": "Must be at least 1000."}),
    ("eppe_funding_routes", {"bridge_amount_usd": 5_000_001}, {"bridge_amount_usd": "Must be at most 5000000."}),
    ("eppe_funding_routes", {"bridge_amount_usd": "half a million"}, {"bridge_amount_usd": "Must be a number."}),
    ("eppe_funding_routes", {"funding_routes": "cerf"}, {"funding_routes": "Must be a list."}),
    (
        "eppe_donor_submission",
        {"submitted_to": "cerf"},
        {"submitted_to": "Choose one of: echo, usaid_bha, japan, other."},
    ),
    ("eppe_donor_submission", {"submission_date": "2025-02-30"}, {"submission_date": "Must be a valid date."}),
    (
        "eppe_donor_submission",
        {"amount_requested_from_donor_usd": 500},
        {"amount_requested_from_donor_usd": "Must be at least 1000."},
    ),
]
# A decision that sends the work back, or a choice that needs a figure, needs the field named.
CONDITIONALLY_REQUIRED = [
    ("eppe_budget_check", {"budget_check_result": "cleared_with_remarks"}, "budget_remarks"),
    ("eppe_com_approval", {"com_decision": "return"}, "com_comments"),
    ("eppe_funding_routes", {"funding_routes": ["cerf", "mefm_bridge"]}, "bridge_amount_usd"),
    (
        "eppe_donor_submission",
        {"submitted_to": "other", "submission_date": "2025-09-22", "amount_requested_from_donor_usd": 80_000},
        "donor_name",
    ),
]

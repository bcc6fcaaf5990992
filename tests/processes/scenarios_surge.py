"""Surge deployments of the sample scenarios (domain.md, section 8), as data the surge process tests submit.

Every scenario, person, figure, code and name here is INVENTED (calibrated on real LAC events, but none is
real). One dict per surge request, holding the data of its forms by form key, the source the decision
table surge_source is expected to choose, and the office of the request.
"""

from __future__ import annotations

from tests.processes.scenarios import HAITI_HURRICANE, PANAMA_DARIEN

# --- Scenario B: Darién mixed-migration surge, Panama (L2) ----------------------------------------

DARIEN_PROTECTION_OFFICER = {  # 10 weeks, Spanish, on the regional roster: a temporary duty from Costa Rica
    "scenario": "B",
    "office": PANAMA_DARIEN["office"],
    "source": "regional_roster",
    "surge_request_start": {
        "title": "Protection Officer for the Darién Migrant Reception Stations",
        "functional_area": "protection",
        "position_title": "Protection Officer",
        "grade": "P3",
        "duration_unit": "days",
        "duration_value": 70,
        "required_languages": ["es"],
        "start_date": "2025-08-18",
        "duty_station": "Lajas Blancas and San Vicente Migrant Reception Stations, Darién, Panama",
        "emergency_level": PANAMA_DARIEN["crisis"]["emergency_level"],
        "justification": (
            "3,100 arrivals a day for four weeks, 28 % of them children; both stations are at nearly twice their "
            "capacity and the office has one protection officer for both."
        ),
        "plan_after_deployment": "A national protection officer is being recruited under EPPE-PAN-2025-006.",
        "funding_source": "project_code",
        "funding_reference": "PX.PAN.0112",
    },
    "surge_screening": {"screening_decision": "accept", "regional_roster_available": True},
    "surge_identify_regional": {
        "candidate_name": "Mariela Solís Araya",
        "sending_office": "IOM Costa Rica (San José)",
        "candidate_languages": ["es", "en"],
        "available_from": "2025-08-15",
    },
    "surge_release_regional": {"release_decision": "released", "release_date": "2025-08-15"},
    "surge_approval": {"approval_decision": "approve", "approval_comments": "Charged to PX.PAN.0112."},
    "surge_security_clearance": {
        "security_clearance_reference": "SC-PAN-2025-0412",
        "security_clearance_granted_on": "2025-08-13",
        "security_briefing_arranged": True,
    },
    "surge_visa": {"visa_required": False},
    "surge_travel": {
        "travel_date": "2025-08-17",
        "itinerary": "SJO – PTY – Metetí by road",
        "ticket_reference": "TR-2025-08812",
    },
    "surge_contract": {
        "contract_type": "tdy_authorisation",
        "contract_reference": "TDY-CRI-2025-031",
        "contract_start": "2025-08-17",
        "contract_end": "2025-10-26",
    },
    "surge_arrival": {"arrival_date": "2025-08-18", "check_in_completed": True, "security_briefing_completed": True},
    "surge_end_of_assignment_extend": {
        "end_decision": "extend",
        "extension_days": 21,
        "extension_justification": "Arrivals are still above 3,000 a day; the national officer starts in November.",
    },
    "surge_extension_approval": {"extension_decision": "approve"},
    "surge_end_of_assignment": {"end_decision": "hand_over"},
    "surge_handover": {
        "handover_date": "2025-11-16",
        "handover_notes": "Protection desks and referral pathways handed over to the national protection officer.",
        "debrief_completed": True,
        "performance_evaluation_completed": True,
    },
}

DARIEN_IM_OFFICER = {  # 12 weeks, Spanish and English, not on the regional roster: the global roster
    "scenario": "B",
    "office": PANAMA_DARIEN["office"],
    "source": "global_roster",
    "surge_request_start": {
        "title": "IM/DTM Officer for flow monitoring in Darién",
        "functional_area": "dtm_im",
        "position_title": "Information Management and DTM Officer",
        "grade": "P3",
        "duration_unit": "days",
        "duration_value": 84,
        "required_languages": ["es", "en"],
        "start_date": "2025-08-25",
        "duty_station": "Metetí, Darién, Panama",
        "emergency_level": PANAMA_DARIEN["crisis"]["emergency_level"],
        "justification": (
            "Flow monitoring surveys must double to follow 3,100 arrivals a day; the office has no information "
            "management officer."
        ),
        "plan_after_deployment": "The DTM assistant is trained during the deployment and takes over the surveys.",
        "funding_source": "mefm",
        "funding_reference": "MEFM-PAN-2025-002",
    },
    "surge_screening": {
        "screening_decision": "accept",
        "regional_roster_available": False,
        "screening_comments": "No IM officer of the region speaks both languages and is free.",
    },
    "surge_identify_global": {
        "candidate_name": "Tomás Kariuki",
        "sending_office": "IOM Kenya (Nairobi)",
        "candidate_languages": ["en", "es"],
        "available_from": "2025-08-22",
    },
    "surge_release_hq": {"release_decision": "released", "release_date": "2025-08-22"},
    "surge_approval": {"approval_decision": "approve"},
}

# --- Scenario A: "Hurricane Marisol", Haiti (L2) -------------------------------------------------

_HAITI = {
    "duty_station": "Les Cayes, Sud, Haiti",
    "emergency_level": HAITI_HURRICANE["crisis"]["emergency_level"],
    "start_date": "2025-09-22",
}

HAITI_CCCM_COORDINATOR = {  # 12 weeks, French and Haitian Creole, on the regional roster: at the 84-day limit
    "scenario": "A",
    "office": HAITI_HURRICANE["office"],
    "source": "regional_roster",
    "surge_request_start": {
        **_HAITI,
        "title": "CCCM Coordinator for the collective centres of Sud and Grand'Anse",
        "functional_area": "cccm",
        "position_title": "CCCM Coordinator",
        "grade": "P4",
        "duration_unit": "days",
        "duration_value": 84,
        "required_languages": ["fr", "ht"],
        "justification": "31,200 people in 212 collective centres; the office's CCCM team has two site managers.",
        "plan_after_deployment": "The CCCM cluster hands the coordination to the national civil protection.",
        "funding_source": "project_code",
        "funding_reference": "PX.HTI.0245",
    },
    "surge_screening": {"screening_decision": "accept", "regional_roster_available": True},
    "surge_identify_regional": {
        "candidate_name": "Jean-Robert Pierre-Louis",
        "sending_office": "Regional Office for the Americas (Panama)",
        "candidate_languages": ["fr", "ht", "es"],
        "available_from": "2025-09-20",
    },
    "surge_release_regional": {"release_decision": "released", "release_date": "2025-09-20"},
    "surge_approval": {"approval_decision": "approve"},
}

HAITI_DTM_OFFICER = {  # 8 weeks, French, on the regional roster; the first office asked refuses the release
    "scenario": "A",
    "office": HAITI_HURRICANE["office"],
    "source": "regional_roster",
    "surge_request_start": {
        **_HAITI,
        "title": "DTM Officer for the rapid assessment in Sud, Grand'Anse and Nippes",
        "functional_area": "dtm_im",
        "position_title": "DTM Officer",
        "grade": "P3",
        "duration_unit": "days",
        "duration_value": 56,
        "required_languages": ["fr"],
        "justification": "68,500 people newly displaced across three departments; DTM has one enumerator team.",
        "plan_after_deployment": "Two national DTM assistants take over the monitoring rounds.",
        "funding_source": "project_code",
        "funding_reference": "PX.HTI.0245",
    },
    "surge_screening": {"screening_decision": "accept", "regional_roster_available": True},
    "surge_identify_regional": {
        "candidate_name": "Claudette Augustin",
        "sending_office": "IOM Colombia (Bogotá)",
        "candidate_languages": ["fr", "es"],
        "available_from": "2025-09-19",
    },
    "surge_identify_regional_again": {
        "candidate_name": "Marc-Henri Delva",
        "sending_office": "IOM Ecuador (Quito)",
        "candidate_languages": ["fr", "ht", "es"],
        "available_from": "2025-09-21",
    },
    "surge_release_refused": {
        "release_decision": "refused",
        "release_comments": "IOM Colombia needs her for the Catatumbo displacement response.",
    },
    "surge_release_regional": {"release_decision": "released", "release_date": "2025-09-21"},
    "surge_approval": {"approval_decision": "approve"},
}

HAITI_SHELTER_ENGINEER = {  # 20 weeks: a standby partner (RedR Australia)
    "scenario": "A",
    "office": HAITI_HURRICANE["office"],
    "source": "standby_partner",
    "surge_request_start": {
        **_HAITI,
        "title": "Shelter Engineer for the repair of hurricane-damaged homes",
        "functional_area": "shelter_nfi",
        "position_title": "Shelter Engineer",
        "grade": "P3",
        "duration_unit": "days",
        "duration_value": 140,
        "required_languages": ["fr", "en"],
        "justification": "9,800 households need shelter repair kits and technical supervision for six months.",
        "plan_after_deployment": "A national engineer is recruited under the ECHO grant before the deployment ends.",
        "funding_source": "sbp_in_kind",
    },
    "surge_screening": {"screening_decision": "accept", "regional_roster_available": False},
    "surge_identify_partner": {
        "standby_partner": "redr_australia",
        "partner_request_date": "2025-09-16",
        "candidate_name": "Olivia Tran",
        "candidate_languages": ["en", "fr"],
        "available_from": "2025-10-01",
    },
    "surge_release_hq": {
        "release_decision": "released",
        "release_date": "2025-10-01",
        "release_comments": "RedR Australia confirms the secondment for 20 weeks.",
    },
    "surge_approval": {"approval_decision": "approve"},
    "surge_contract": {
        "contract_type": "sbp_agreement",
        "contract_reference": "SBP-REDR-2025-07",
        "contract_start": "2025-10-01",
        "contract_end": "2026-02-17",
    },
    "surge_visa": {"visa_required": True, "visa_reference": "HT-V-2025-118834", "visa_issued_on": "2025-09-26"},
}

# --- Scenario E: validation-failure fixtures -----------------------------------------------------

LONG_PARTNER_REQUEST = {  # a standby partner asked for 30 weeks: longer than a partner assignment (26 weeks)
    "scenario": "E",
    "office": HAITI_HURRICANE["office"],
    "source": "global_roster",
    "surge_request_start": {
        **HAITI_SHELTER_ENGINEER["surge_request_start"],
        "title": "Shelter Engineer for the reconstruction phase (30 weeks)",
        "duration_value": 210,
    },
    "surge_screening": {"screening_decision": "accept", "regional_roster_available": False},
}

# Start-form data each refused for one field: (field, value, message).
REFUSED_START_FIELDS = [
    ("duration_value", 6, "Must be at least 7."),  # in days
    ("duration_value", 366, "Must be at most 365."),
    ("duration_value", 10.5, "Must be a whole number."),
    ("duration_value", "ten weeks", "Must be a whole number."),
    ("duration_unit", "weeks", "Choose one of: days, months."),
    ("required_languages", [], "Give at least 1."),
    ("required_languages", "es", "Must be a list."),
    ("required_languages", ["es", "es"], "['es', 'es'] has non-unique elements"),
    ("grade", "P6", "Choose one of: P2, P3, P4, P5, NO-A, NO-B, NO-C, NO-D."),
    ("emergency_level", "L4", "Choose one of: L1, L2, L3."),
    ("start_date", "18/08/2025", "Must be a valid date."),
    ("start_date", "2025-02-30", "Must be a valid date."),
    ("justification", "Urgent.", "Must be at least 20 characters."),
    ("title", "PO", "Must be at least 5 characters."),
    ("funding_source", "cerf", "Choose one of: project_code, mefm, sbp_in_kind, other."),
]

SURGE_REQUESTS = {
    "darien_protection_officer": DARIEN_PROTECTION_OFFICER,
    "darien_im_officer": DARIEN_IM_OFFICER,
    "haiti_cccm_coordinator": HAITI_CCCM_COORDINATOR,
    "haiti_dtm_officer": HAITI_DTM_OFFICER,
    "haiti_shelter_engineer": HAITI_SHELTER_ENGINEER,
    "long_partner_request": LONG_PARTNER_REQUEST,
}

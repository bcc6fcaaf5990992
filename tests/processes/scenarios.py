"""The sample scenarios of the domain research (domain.md, section 8), as data the process tests submit.

Every scenario, figure, code and name here is INVENTED (calibrated on real LAC events, but none is
real). One dict per scenario, with one entry per process (`"mefm"` now; EPPE, CERF and surge data
go beside it under their own keys), each holding the data of its forms by form key.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# --- Scenario A: "Hurricane Marisol", Haiti -----------------------------------------------------

HAITI_HURRICANE = {
    "scenario": "A",
    "name": "Hurricane Marisol (fictional), Haiti",
    "office": "HTI",
    "crisis": {
        "crisis_type": "hurricane_tropical_storm",
        "category": 4,
        "landfall": "2025-09-14",
        "departments": ["Sud", "Grand'Anse", "Nippes"],
        "people_affected": 420_000,
        "new_displaced": 68_500,
        "sheltered": 31_200,
        "collective_centres": 212,
        "emergency_level": "L2",
    },
    "mefm": {
        "request_id": "MEFM-HTI-2025-003",
        # Submitted 2025-09-15 10:00 in Haiti (UTC-4): the decision is due 2025-09-17 10:00 there.
        "submitted_at": datetime(2025, 9, 15, 14, 0, tzinfo=timezone.utc),
        "decision_due_at": datetime(2025, 9, 17, 14, 0, tzinfo=timezone.utc),
        "mefm_request_start": {
            "title": "Hurricane Marisol – bridge funding for shelter, NFI and CCCM in Sud and Grand'Anse",
            "crisis_type": "hurricane_tropical_storm",
            "onset_date": "2025-09-14",
            "emergency_level": "L2",
            "people_affected": 420_000,
            "people_targeted": 46_000,
            "requested_amount_usd": 500_000,
            "bridge_duration_days": 60,
            "activities": [
                {
                    "sector": "shelter_nfi",
                    "activity": "5,000 NFI kits (hygiene, kitchen, shelter repair) from the Panama hub to Les Cayes",
                    "cost_usd": 260_000,
                },
                {"sector": "cccm", "activity": "Site management in 212 collective centres", "cost_usd": 140_000},
                {"sector": "dtm", "activity": "DTM rapid assessment in Sud, Grand'Anse and Nippes", "cost_usd": 60_000},
                {
                    "sector": "wash",
                    "activity": "Water and hygiene in the largest collective centres",
                    "cost_usd": 40_000,
                },
            ],
            "repayment_source": "cerf",
            "repayment_source_name": "CERF RR + ECHO",
            "expected_repayment_date": "2025-11-30",
            "justification": (
                "68,500 people newly displaced, 31,200 in 212 collective centres; the CERF RR and ECHO funds "
                "will not arrive before the end of September."
            ),
        },
        "mefm_budget_check": {
            "activities_total_usd": 500_000,
            "budget_check_result": "cleared",
        },
        "mefm_com_submission": {"com_confirmation": True},
        "mefm_regional_review": {
            "regional_recommendation": "recommend",
            "regional_comments": "Linked to EPPE-HTI-2025-014; the office has the staff to spend it in 60 days.",
        },
        "mefm_prd_review": {
            "outstanding_balance_usd": 0,
            "fund_available_usd": 4_200_000,
            "prd_recommendation": "recommend_approval",
        },
        "mefm_decision": {"decision": "approve", "comments": "Approved in full."},
        "mefm_finance_allocation": {
            "project_code": "PX.HTI.0245",
            "allocated_amount_usd": 500_000,
            "allocation_date": "2025-09-17",
        },
        "approval": {"approval_level": "director_doe_ddg", "approver_title": "Director DOE + DDG Operations"},
        # The CERF RR grant of the same EPPE (cerf_application throws it when Finance records it).
        "cerf_disbursement": {
            "eppe_reference": "EPPE-HTI-2025-014",
            "office": "HTI",
            "disbursed_amount_usd": 1_200_000,
            "cerf_project_code": "25-RR-IOM-031",
            "disbursement_date": "2025-10-08",
        },
    },
}

# --- Scenario B: Darién mixed-migration surge, Panama -------------------------------------------

PANAMA_DARIEN = {
    "scenario": "B",
    "name": "Darién mixed-migration surge, Panama",
    "office": "PAN",
    "crisis": {
        "crisis_type": "mixed_migration_flow",
        "average_daily_arrivals": 3_100,
        "children_share": 0.28,
        "station_occupancy": {"Lajas Blancas": (2_900, 1_500), "San Vicente": (1_750, 1_000)},
        "people_affected": 93_000,
        "countries_affected": ["PAN", "CRI", "COL"],
        "emergency_level": "L2",
    },
    "mefm": {
        "mefm_request_start": {
            "title": "Darién mixed-migration surge – bridge funding for the Migrant Reception Stations",
            "crisis_type": "mixed_migration_flow",
            "onset_date": "2025-08-01",
            "emergency_level": "L2",
            "people_affected": 93_000,
            "people_targeted": 35_000,
            "requested_amount_usd": 300_000,
            "bridge_duration_days": 45,
            "activities": [
                {
                    "sector": "wash",
                    "activity": "Water and sanitation at Lajas Blancas and San Vicente",
                    "cost_usd": 90_000,
                },
                {"sector": "health", "activity": "Primary health care at both stations", "cost_usd": 70_000},
                {"sector": "protection", "activity": "Protection desks and referral of children", "cost_usd": 80_000},
                {"sector": "cccm", "activity": "Station management over capacity", "cost_usd": 40_000},
                {"sector": "dtm", "activity": "Flow monitoring surveys", "cost_usd": 20_000},
            ],
            "repayment_source": "donor",
            "repayment_source_name": "USAID/BHA (pending)",
            "expected_repayment_date": "2025-10-31",
            "justification": (
                "3,100 arrivals a day for four weeks; both stations are at nearly twice their capacity "
                "and the donor grant is still pending."
            ),
        },
        "mefm_budget_check": {
            "activities_total_usd": 300_000,
            "budget_check_result": "cleared_with_remarks",
            "budget_remarks": "Health costs assume the ministry keeps its two doctors at San Vicente.",
        },
        "mefm_com_submission": {"com_confirmation": True, "com_comments": "Doctors confirmed by the ministry."},
        "mefm_regional_review": {"regional_recommendation": "recommend"},
        "mefm_prd_review": {
            "outstanding_balance_usd": 120_000,
            "fund_available_usd": 3_900_000,
            "prd_recommendation": "recommend_reduced_amount",
            "prd_recommended_amount_usd": 240_000,
            "prd_comments": "USAID/BHA pending: keep the loan within what the first tranche repays.",
        },
        "mefm_decision": {
            "decision": "approve_reduced",
            "approved_amount_usd": 240_000,
            "comments": "Reduced as PRD recommends.",
        },
        "mefm_finance_allocation": {
            "project_code": "PX.PAN.0112",
            "allocated_amount_usd": 240_000,
            "allocation_date": "2025-08-08",
        },
        "approval": {"approval_level": "director_doe_ddg", "approver_title": "Director DOE + DDG Operations"},
    },
}

# --- Scenario C: floods in Alta Verapaz and Izabal, Guatemala ------------------------------------

GUATEMALA_FLOODS = {
    "scenario": "C",
    "name": "Floods in Alta Verapaz and Izabal, Guatemala",
    "office": "GTM",
    "crisis": {
        "crisis_type": "flood",
        "onset": "2025-10-03",
        "people_affected": 185_000,
        "sheltered": 14_600,
        "shelters": 96,
        "new_displaced": 22_400,
        "emergency_level": "L1",
    },
    "mefm": {
        "mefm_request_start": {
            "title": "Floods in Alta Verapaz and Izabal – bridge funding for shelters",
            "crisis_type": "flood",
            "onset_date": "2025-10-03",
            "emergency_level": "L1",
            "people_affected": 185_000,
            "people_targeted": 14_600,
            "requested_amount_usd": 150_000,
            "bridge_duration_days": 30,
            "activities": [
                {"sector": "cccm", "activity": "Management support in 96 shelters", "cost_usd": 60_000},
                {"sector": "shelter_nfi", "activity": "Mattresses, blankets and kitchen sets", "cost_usd": 55_000},
                {"sector": "mhpss", "activity": "Psychosocial first aid in the shelters", "cost_usd": 35_000},
            ],
            "repayment_source": "appeal",
            "expected_repayment_date": "2025-12-15",
            "justification": (
                "14,600 people in 96 shelters after the tropical storm; the national appeal is launched "
                "but its first contributions are weeks away."
            ),
        },
        "mefm_budget_check": {
            "activities_total_usd": 150_000,
            "budget_check_result": "cleared",
        },
        "mefm_com_submission": {"com_confirmation": True},
        "mefm_regional_review": {"regional_recommendation": "recommend"},
        "mefm_prd_review": {
            "outstanding_balance_usd": 0,
            "fund_available_usd": 4_050_000,
            "prd_recommendation": "recommend_approval",
        },
        # Returned for information 30 h after the submission, resubmitted at 36 h, decided at 47 h.
        "return_after": timedelta(hours=30),
        "resubmit_after": timedelta(hours=36),
        "decide_after": timedelta(hours=47),
        "mefm_decision_return": {
            "decision": "return",
            "comments": "Say which shelters the psychosocial first aid covers.",
        },
        "revise_changes": {
            "activities": [
                {"sector": "cccm", "activity": "Management support in 96 shelters", "cost_usd": 60_000},
                {"sector": "shelter_nfi", "activity": "Mattresses, blankets and kitchen sets", "cost_usd": 55_000},
                {
                    "sector": "mhpss",
                    "activity": "Psychosocial first aid in the 40 largest shelters of Alta Verapaz",
                    "cost_usd": 35_000,
                },
            ],
        },
        "mefm_decision": {"decision": "approve"},
        "mefm_finance_allocation": {
            "project_code": "PX.GTM.0078",
            "allocated_amount_usd": 150_000,
            "allocation_date": "2025-10-06",
        },
        "approval": {"approval_level": "director_doe", "approver_title": "Director DOE (on PRD recommendation)"},
        "mefm_repayment": {
            "repaid_amount_usd": 150_000,
            "repayment_date": "2025-12-12",
            "repayment_source": "appeal",
            "repayment_reference": "GTM Flash Appeal 2025, pledge 07",
        },
    },
}

# --- Scenario E: validation-failure fixtures -----------------------------------------------------

VALIDATION_FAILURES = {
    "scenario": "E",
    "name": "Validation-failure fixtures",
    "mefm": {
        # A country office that already owes MEFM USD 650,000: only the Director General may approve.
        "high_balance": {
            "office": "HND",
            "mefm_request_start": {
                "title": "Landslides in Choluteca – bridge funding for temporary shelter",
                "crisis_type": "other",
                "onset_date": "2025-10-20",
                "emergency_level": "L1",
                "people_affected": 12_000,
                "people_targeted": 4_500,
                "requested_amount_usd": 100_000,
                "bridge_duration_days": 30,
                "activities": [
                    {
                        "sector": "shelter_nfi",
                        "activity": "Temporary shelter kits for 900 families",
                        "cost_usd": 100_000,
                    },
                ],
                "repayment_source": "other",
                "repayment_source_name": "Municipal emergency fund of Choluteca",
                "expected_repayment_date": "2026-01-31",
                "justification": "900 families lost their homes; the municipal fund pays back in January.",
            },
            "mefm_budget_check": {
                "activities_total_usd": 100_000,
                "budget_check_result": "cleared",
            },
            "mefm_com_submission": {"com_confirmation": True},
            "mefm_regional_review": {
                "regional_recommendation": "recommend_rejection",
                "regional_comments": "Earlier loans of the office are still unpaid.",
            },
            "mefm_prd_review": {
                "outstanding_balance_usd": 650_000,
                "fund_available_usd": 3_000_000,
                "prd_recommendation": "recommend_rejection",
                "prd_comments": "The office has not repaid its 2024 loans.",
            },
            "mefm_decision": {"decision": "reject", "comments": "Repay the outstanding loans first."},
            "approval": {
                "approval_level": "director_general_exception",
                "approver_title": "Director General (exception)",
            },
        },
        # Start-form data each refused for one field: (field, value, message).
        "refused_start_fields": [
            ("requested_amount_usd", 999, "Must be at least 1000."),
            ("requested_amount_usd", 5_000_001, "Must be at most 5000000."),
            ("requested_amount_usd", "half a million", "Must be a number."),
            ("bridge_duration_days", 6, "Must be at least 7."),
            ("bridge_duration_days", 181, "Must be at most 180."),
            ("bridge_duration_days", 30.5, "Must be a whole number."),
            ("people_affected", -1, "Must be at least 0."),
            ("emergency_level", "L4", "Choose one of: L1, L2, L3."),
            ("onset_date", "14/09/2025", "Must be a valid date."),
            ("expected_repayment_date", "2025-02-30", "Must be a valid date."),
            ("activities", [], "Give at least 1."),
            ("activities", "shelter", "Must be a list."),
        ],
    },
}

SCENARIOS = {"A": HAITI_HURRICANE, "B": PANAMA_DARIEN, "C": GUATEMALA_FLOODS}


# The EPPE each scenario's MEFM request links to when a test links it (linked_eppe_id): a link names
# one of the office's EPPE cases (engine.work.case_links), so a test that links puts it on record
# first (tests.processes.conftest.proposal_on_record).
LINKED_EPPE = {"HTI": "EPPE-HTI-2025-014", "PAN": "EPPE-PAN-2025-006"}
HAITI_HURRICANE["mefm"]["linked_eppe_id"] = LINKED_EPPE["HTI"]
PANAMA_DARIEN["mefm"]["linked_eppe_id"] = LINKED_EPPE["PAN"]

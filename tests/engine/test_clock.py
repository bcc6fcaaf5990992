"""The one way a day or an instant is written for a person: one date format per language, the
reader's wall clock, the zone beside it; and the real instant under a clock that travels in time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from engine.clock import FixedClock, TravelledClock, real_now, written_date, written_time

AT = datetime(2026, 12, 3, 19, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(("language", "expected"), [("en", "3 Dec 2026"), ("es", "3 dic 2026"), ("fr", "3 Dec 2026")])
def test_a_day_is_written_the_one_way_of_its_language(language, expected):
    assert written_date(date(2026, 12, 3), language) == expected


def test_spanish_months_are_lower_case_short_names():
    assert [written_date(date(2026, m, 1), "es").split()[1] for m in (1, 5, 9, 12)] == ["ene", "may", "sept", "dic"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "3 Dec 2026, 14:05 (UTC\u221205:00 America/Port-au-Prince)"),
        ("es", "3 dic 2026, 14:05 (UTC\u221205:00 America/Port-au-Prince)"),
    ],
)
def test_an_instant_is_on_the_readers_wall_clock_with_the_zone_beside_it(language, expected):
    assert written_time(AT, language, "America/Port-au-Prince") == expected


def test_the_short_form_names_the_offset_only_and_crosses_midnight_into_the_next_day():
    assert written_time(AT, "en", "Asia/Kolkata", named=False) == "4 Dec 2026, 00:35 (UTC+05:30)"


def test_summer_time_shows_in_the_offset():
    july = datetime(2026, 7, 3, 19, 5, tzinfo=timezone.utc)
    assert written_time(july, "en", "America/New_York") == "3 Jul 2026, 15:05 (UTC\u221204:00 America/New_York)"


@pytest.mark.parametrize("zone", [None, "", "UTC", "Nowhere/Atlantis"])
def test_utc_and_an_unknown_zone_are_written_as_utc(zone):
    assert written_time(AT, "es", zone) == "3 dic 2026, 19:05 (UTC)"


def test_a_travelled_clock_runs_the_cases_at_its_instant_and_the_world_at_the_real_one():
    real = FixedClock(AT)
    travelled = TravelledClock(AT + timedelta(hours=48), real)
    assert (travelled.now(), real_now(travelled)) == (AT + timedelta(hours=48), AT)
    assert real_now(real) == AT  # a clock that does not travel is the real one (the tests' clock)

"""Who a specialty serves (issue 10 part 4: a paediatrician sees children under 18, a therapist
adults, every other specialty everyone), names per language, and a clinic's calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.domain.calendar import HolidayCalendar, WeeklySchedule
from backend.domain.model import (
    ADULT_AGE,
    Audience,
    Clinic,
    Specialty,
    audiences_for,
    default_audience,
)


def test_adults_are_18_and_over() -> None:
    assert ADULT_AGE == 18


@pytest.mark.parametrize(
    ("age", "audiences"),
    [
        (0, {"all", "children"}),
        (17, {"all", "children"}),
        (18, {"all", "adults"}),
        (90, {"all", "adults"}),
    ],
)
def test_the_audiences_for_an_age(age: int, audiences: set[str]) -> None:
    assert {a.value for a in audiences_for(age)} == audiences


@pytest.mark.parametrize(
    ("code", "audience"),
    [
        ("pediatrician", "children"),
        ("Paediatrician", "children"),
        ("THERAPIST", "adults"),
        ("gp", "all"),
        ("cardiologist", "all"),
        ("surgeon", "all"),
        ("child_psychiatrist", "all"),  # only the three codes above have a default
        ("", "all"),
    ],
)
def test_default_audiences_by_specialty_code(code: str, audience: str) -> None:
    assert default_audience(code).value == audience


def _specialty(audience: Audience) -> Specialty:
    return Specialty(code="x", name_kk="kk", name_ru="ru", name_en="en", audience=audience)


@pytest.mark.parametrize(
    ("audience", "child", "adult"),
    [(Audience.CHILDREN, True, False), (Audience.ADULTS, False, True), (Audience.ALL, True, True)],
)
def test_a_specialty_serves_its_audience(audience: Audience, child: bool, adult: bool) -> None:
    specialty = _specialty(audience)
    assert specialty.serves(17) is child
    assert specialty.serves(18) is adult


@pytest.mark.parametrize(
    ("language", "name"), [("kk", "kk"), ("ru", "ru"), ("en", "en"), ("de", "kk")]
)
def test_names_per_language_kazakh_by_default(language: str, name: str) -> None:
    assert _specialty(Audience.ALL).name(language) == name


def test_a_clinic_calendar_uses_its_schedule_zone_and_holidays() -> None:
    clinic = Clinic(
        code="c", name_kk="k", name_ru="r", name_en="e", address="a", tz_name="Asia/Oral"
    )
    holidays = HolidayCalendar(extra_days_off=frozenset({dt.date(2026, 11, 24)}))

    calendar = clinic.calendar(holidays)

    assert calendar.tz == ZoneInfo("Asia/Oral")
    assert calendar.holidays is holidays
    assert calendar.schedule == WeeklySchedule.standard()
    assert calendar.hours(dt.date(2026, 11, 24)) is None

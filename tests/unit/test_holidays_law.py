"""Public holidays come from the maintained `holidays` package (issue 10 part 6).

The project's days off must be the library's KZ holidays (with their carry-overs) for the current
and the next year, so that a change of the law shows up here as a failing test rather than as a
patient sent to a closed clinic. What the library cannot know (the government's transfers, the
register's calendar days, a confirmed Құрбан айт) is kept on top and tested separately.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest

from backend.domain.calendar import (
    KURBAN_AIT,
    ClinicCalendar,
    HolidayCalendar,
    WeeklySchedule,
    is_kurban_ait_note,
)

D = dt.date
TODAY = dt.datetime.now(ZoneInfo("Asia/Almaty")).date()


def _days_of(year: int) -> list[dt.date]:
    first = D(year, 1, 1)
    return [first + dt.timedelta(days=n) for n in range((D(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [TODAY.year, TODAY.year + 1])
def test_days_off_are_exactly_the_librarys_kz_holidays_this_year_and_next(year: int) -> None:
    law = holidays.country_holidays("KZ", years=year, language="en_US")

    ours = HolidayCalendar().holidays_in(year)

    assert ours == set(law), (
        f"{year}: only ours {sorted(ours - set(law))}, only the law's {sorted(set(law) - ours)}"
        " (a missing Құрбан айт: add it as a calendar day, docs/import.md)"
    )


@pytest.mark.parametrize("year", [TODAY.year, TODAY.year + 1])
def test_working_days_are_the_days_that_are_neither_sunday_nor_a_kz_holiday(year: int) -> None:
    law = holidays.country_holidays("KZ", years=year, language="en_US")
    cal = ClinicCalendar(schedule=WeeklySchedule.standard(), tz=ZoneInfo("Asia/Almaty"))

    differ = [
        day
        for day in _days_of(year)
        if cal.is_working_day(day) != (day.weekday() != 6 and day not in law)
    ]

    assert differ == []


def test_the_library_has_no_30_august_2026_and_has_15_march_from_2027() -> None:
    # The facts the hand-written list had wrong (2026 constitution).
    assert D(2026, 8, 30) not in HolidayCalendar().holidays_in(2026)
    assert D(2026, 8, 31) not in HolidayCalendar().holidays_in(2026)
    assert D(2027, 3, 15) in HolidayCalendar().holidays_in(2027)
    assert D(2026, 3, 15) not in HolidayCalendar().holidays_in(2026)


def test_an_estimated_kurban_ait_of_the_library_does_not_close_the_clinic() -> None:
    # 2028: the library only estimates Eid al-Adha (5 May); it is no day off until it is set.
    law = holidays.country_holidays("KZ", years=2028, language="en_US")
    estimated = [day for day, name in law.items() if "Eid al-Adha (estimated)" in name]

    assert estimated == [D(2028, 5, 5)]
    assert D(2028, 5, 5) not in HolidayCalendar().holidays_in(2028)
    assert HolidayCalendar().kurban_ait_in(2028) == frozenset()


def test_kurban_ait_is_known_for_the_built_in_and_the_librarys_confirmed_years() -> None:
    calendar = HolidayCalendar()

    assert calendar.kurban_ait_in(2026) == {D(2026, 5, 27)}
    assert calendar.kurban_ait_in(2027) == {D(2027, 5, 16)}
    assert calendar.kurban_ait_in(2023) == {D(2023, 6, 28)}  # confirmed in the library
    assert calendar.years_without_kurban_ait([2026, 2027, 2028, 2029]) == [2028, 2029]
    assert max(KURBAN_AIT).year == 2027


def test_the_built_in_kurban_ait_dates() -> None:
    # The first day of Құрбан айт as the government's calendar set it (ҚМДБ's date): 2024 and
    # 2025 are also confirmed in the library; 2026 and 2027 the library only estimates.
    assert (D(2024, 6, 16), D(2025, 6, 6), D(2026, 5, 27), D(2027, 5, 16)) == KURBAN_AIT
    calendar = HolidayCalendar()
    assert calendar.kurban_ait_in(2024) == {D(2024, 6, 16)}
    assert calendar.kurban_ait_in(2025) == {D(2025, 6, 6)}
    assert calendar.is_holiday(D(2026, 5, 27))
    assert calendar.is_holiday(D(2027, 5, 16))
    # One day, not carried (a religious holiday): the days around it are ordinary.
    assert not calendar.is_holiday(D(2026, 5, 26))
    assert not calendar.is_holiday(D(2026, 5, 28))


def test_a_stored_kurban_ait_closes_the_clinic_and_makes_the_year_known() -> None:
    calendar = HolidayCalendar().with_days(movable=[D(2028, 5, 4)])

    assert calendar.is_holiday(D(2028, 5, 4))
    assert calendar.kurban_ait_in(2028) == {D(2028, 5, 4)}
    assert calendar.years_without_kurban_ait([2027, 2028, 2029]) == [2029]


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("Құрбан айт", True),
        ("Құрбан айт 2028, ҚМДБ", True),
        ("Курбан айт", True),
        ("KURBAN AIT", True),
        ("Eid al-Adha", True),
        ("transferred day off", False),
        ("Ораза айт", False),  # Eid al-Fitr: another айт, no day off
        ("Oraza ait", False),
        ("", False),
        (None, False),
    ],
)
def test_a_calendar_note_names_kurban_ait(note: str | None, expected: bool) -> None:
    assert is_kurban_ait_note(note) is expected


def test_government_transfers_stay_on_top_of_the_library() -> None:
    # A day off moved by a resolution and the weekend day worked instead.
    calendar = HolidayCalendar().with_days(days_off=[D(2027, 1, 8)], working_days=[D(2027, 1, 9)])

    assert calendar.is_holiday(D(2027, 1, 8))
    assert D(2027, 1, 9) in calendar.extra_working_days
    assert not HolidayCalendar().is_holiday(D(2027, 1, 8))

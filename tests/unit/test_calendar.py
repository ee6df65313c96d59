"""Clinic calendar: hours, holidays, cut-offs (seed-003 §2.3, §5.3 R-12 to R-14)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from backend.domain.calendar import (
    ClinicCalendar,
    HolidayCalendar,
    Intake,
    IntakeDay,
    OpeningHours,
    WeeklySchedule,
)

ALMATY = ZoneInfo("Asia/Almaty")
UTC = dt.UTC
D = dt.date

# A plain week without holidays: Mon 16 - Sun 22 November 2026.
MON = D(2026, 11, 16)
TUE = D(2026, 11, 17)
FRI = D(2026, 11, 20)
SAT = D(2026, 11, 21)
SUN = D(2026, 11, 22)
NEXT_MON = D(2026, 11, 23)


def _calendar(holidays: HolidayCalendar | None = None, tz: ZoneInfo = ALMATY) -> ClinicCalendar:
    return ClinicCalendar(
        schedule=WeeklySchedule.standard(), tz=tz, holidays=holidays or HolidayCalendar()
    )


def _at(day: dt.date, hour: int, minute: int = 0, tz: dt.tzinfo = ALMATY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def test_the_week_used_below_is_monday_to_sunday() -> None:
    assert [d.weekday() for d in (MON, TUE, FRI, SAT, SUN, NEXT_MON)] == [0, 1, 4, 5, 6, 0]


def test_almaty_is_utc_plus_five_since_march_2024() -> None:
    assert _at(MON, 12).utcoffset() == dt.timedelta(hours=5)


# --- weekly schedule (R-12) -------------------------------------------------------------------


def test_standard_schedule_is_weekdays_8_to_20_saturday_9_to_14_sunday_closed() -> None:
    schedule = WeeklySchedule.standard()

    for weekday in range(5):
        assert schedule.hours_on(weekday) == OpeningHours(dt.time(8), dt.time(20))
    assert schedule.hours_on(5) == OpeningHours(dt.time(9), dt.time(14))
    assert schedule.hours_on(6) is None


def test_clinic_hours_follow_the_schedule_on_ordinary_days() -> None:
    cal = _calendar()

    assert cal.hours(MON) == OpeningHours(dt.time(8), dt.time(20))
    assert cal.hours(SAT) == OpeningHours(dt.time(9), dt.time(14))
    assert cal.hours(SUN) is None
    assert cal.is_working_day(SAT)
    assert not cal.is_working_day(SUN)


def test_opening_closing_and_cutoff_are_aware_datetimes_in_the_clinic_zone() -> None:
    cal = _calendar()

    assert cal.opening(MON) == _at(MON, 8)
    assert cal.closing(MON) == _at(MON, 20)
    assert cal.intake_cutoff(MON) == _at(MON, 18)
    assert cal.opening(SAT) == _at(SAT, 9)
    assert cal.closing(SAT) == _at(SAT, 14)
    assert cal.intake_cutoff(SAT) == _at(SAT, 12)
    closing = cal.closing(MON)
    assert closing is not None
    assert closing.tzinfo is ALMATY


def test_closed_day_has_no_opening_closing_or_cutoff() -> None:
    cal = _calendar()

    assert cal.opening(SUN) is None
    assert cal.closing(SUN) is None
    assert cal.intake_cutoff(SUN) is None


def test_opening_hours_must_open_before_closing() -> None:
    message = r"^a clinic must open before it closes$"
    with pytest.raises(ValueError, match=message):
        OpeningHours(dt.time(20), dt.time(8))
    with pytest.raises(ValueError, match=message):
        OpeningHours(dt.time(9), dt.time(9))


def test_weekly_schedule_survives_a_json_round_trip() -> None:
    standard = WeeklySchedule.standard()
    custom = WeeklySchedule(
        {
            1: OpeningHours(dt.time(7, 30), dt.time(19, 45)),
            3: OpeningHours(dt.time(9), dt.time(13)),
        }
    )

    assert WeeklySchedule.from_json(standard.to_json()) == standard
    assert WeeklySchedule.from_json(custom.to_json()) == custom
    assert WeeklySchedule.from_json(custom.to_json()).hours_on(0) is None


def test_weekly_schedule_json_is_weekday_to_opening_and_closing_times() -> None:
    assert json.loads(WeeklySchedule.standard().to_json()) == {
        "0": ["08:00", "20:00"],
        "1": ["08:00", "20:00"],
        "2": ["08:00", "20:00"],
        "3": ["08:00", "20:00"],
        "4": ["08:00", "20:00"],
        "5": ["09:00", "14:00"],
    }


# --- holidays ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 1, 1),
        D(2026, 1, 2),
        D(2026, 3, 8),
        D(2026, 3, 21),
        D(2026, 3, 22),
        D(2026, 3, 23),
        D(2026, 5, 1),
        D(2026, 5, 7),
        D(2026, 5, 9),
        D(2026, 7, 6),
        # No 30 August from 2026: the 2026 constitution moved Constitution Day to 15 March
        # from 2027 (Law "On holidays" as amended; python-holidays KZ).
        D(2027, 3, 15),  # Constitution Day
        D(2026, 10, 25),
        D(2026, 12, 16),  # Independence Day
        D(2027, 12, 16),
        D(2027, 1, 7),  # Orthodox Christmas
        D(2026, 1, 7),
        D(2026, 5, 27),  # Құрбан айт 2026, from the movable list
        D(2027, 5, 16),  # Құрбан айт 2027
    ],
)
def test_public_holidays_are_days_off(day: dt.date) -> None:
    cal = _calendar()

    assert cal.holidays.is_holiday(day)
    assert cal.hours(day) is None
    assert not cal.is_working_day(day)


def test_2026_days_off_are_the_holidays_plus_the_transferred_weekend_holidays() -> None:
    assert HolidayCalendar().holidays_in(2026) == {
        D(2026, 1, 1),
        D(2026, 1, 2),
        D(2026, 1, 7),
        D(2026, 3, 8),  # Sunday ...
        D(2026, 3, 9),  # ... carried to Monday
        D(2026, 3, 21),  # Saturday ...
        D(2026, 3, 22),  # Sunday ...
        D(2026, 3, 23),
        D(2026, 3, 24),  # ... 21 and 22 carried past Monday 23 (itself Nauryz)
        D(2026, 3, 25),
        D(2026, 5, 1),
        D(2026, 5, 7),
        D(2026, 5, 9),  # Saturday ...
        D(2026, 5, 11),  # ... carried to Monday
        D(2026, 5, 27),
        D(2026, 7, 6),
        # No Constitution Day on Sunday 30 August (and no carried Monday 31) from 2026: the
        # 2026 constitution moved it to 15 March, from 2027 (Law "On holidays" as amended).
        D(2026, 10, 25),  # Sunday ...
        D(2026, 10, 26),  # ... carried to Monday
        D(2026, 12, 16),
    }


def test_30_and_31_august_2026_are_working_days_after_the_2026_constitution() -> None:
    cal = _calendar()

    assert D(2026, 8, 30).weekday() == 6  # a Sunday: closed as any Sunday, nothing carried
    assert cal.is_working_day(D(2026, 8, 31))
    assert cal.hours(D(2026, 8, 31)) == OpeningHours(dt.time(8), dt.time(20))
    assert cal.is_working_day(D(2027, 8, 30))  # a Monday, no longer a holiday


def test_2027_days_off_have_constitution_day_on_15_march() -> None:
    assert HolidayCalendar().holidays_in(2027) == {
        D(2027, 1, 1),
        D(2027, 1, 2),  # Saturday ...
        D(2027, 1, 4),  # ... carried to Monday
        D(2027, 1, 7),
        D(2027, 3, 8),
        D(2027, 3, 15),  # Constitution Day (from 2027)
        D(2027, 3, 21),  # Sunday ...
        D(2027, 3, 22),
        D(2027, 3, 23),
        D(2027, 3, 24),  # ... carried past Nauryz to Wednesday
        D(2027, 5, 1),  # Saturday ...
        D(2027, 5, 3),  # ... carried to Monday
        D(2027, 5, 7),
        D(2027, 5, 9),  # Sunday ...
        D(2027, 5, 10),  # ... carried to Monday
        D(2027, 5, 16),  # Құрбан айт (Sunday, religious: not carried)
        D(2027, 7, 6),
        D(2027, 10, 25),
        D(2027, 12, 16),
    }


def test_nauryz_2028_on_weekdays_closes_tuesday_to_thursday_and_carries_nothing() -> None:
    # 21 (Tue), 22 (Wed), 23 (Thu) March 2028: no weekend day, so no carried day off.
    cal = _calendar()

    assert [cal.is_working_day(D(2028, 3, d)) for d in range(20, 28)] == [
        True,  # Mon 20
        False,  # Tue 21 Nauryz
        False,  # Wed 22 Nauryz
        False,  # Thu 23 Nauryz
        True,  # Fri 24
        True,  # Sat 25
        False,  # Sun 26
        True,  # Mon 27
    ]
    assert cal.next_working_day(D(2028, 3, 20)) == D(2028, 3, 24)
    assert cal.hours(D(2028, 3, 24)) == OpeningHours(dt.time(8), dt.time(20))


def test_nauryz_2026_on_saturday_to_monday_closes_the_clinic_until_wednesday() -> None:
    # 21 (Sat), 22 (Sun), 23 (Mon) March 2026: the two weekend days off move to 24 and 25.
    cal = _calendar()

    assert [cal.is_working_day(D(2026, 3, d)) for d in range(20, 27)] == [
        True,  # Fri 20
        False,  # Sat 21 Nauryz
        False,  # Sun 22 Nauryz
        False,  # Mon 23 Nauryz
        False,  # Tue 24 carried
        False,  # Wed 25 carried
        True,  # Thu 26
    ]
    assert cal.next_working_day(D(2026, 3, 20)) == D(2026, 3, 26)


def test_nauryz_2027_starting_on_sunday_carries_one_day_past_the_holidays() -> None:
    # 21 (Sun), 22 (Mon), 23 (Tue) March 2027: the Sunday moves to Wednesday 24.
    holidays = HolidayCalendar()

    assert holidays.is_holiday(D(2027, 3, 24))
    assert not holidays.is_holiday(D(2027, 3, 25))


def test_victory_day_2027_on_sunday_makes_monday_a_day_off() -> None:
    cal = _calendar()

    assert D(2027, 5, 9).weekday() == 6
    assert not cal.is_working_day(D(2027, 5, 10))
    assert cal.is_working_day(D(2027, 5, 11))


def test_holiday_on_saturday_closes_that_saturday_and_the_following_monday() -> None:
    cal = _calendar()
    victory_day = D(2026, 5, 9)

    assert victory_day.weekday() == 5
    assert cal.hours(victory_day) is None
    assert not cal.is_working_day(D(2026, 5, 11))
    assert cal.is_working_day(D(2026, 5, 12))


def test_new_year_2027_on_friday_and_saturday_carries_the_saturday_to_monday() -> None:
    holidays = HolidayCalendar()

    assert holidays.is_holiday(D(2027, 1, 4))
    assert not holidays.is_holiday(D(2027, 1, 5))


@pytest.mark.parametrize(
    ("religious_holiday", "next_day"),
    [
        (D(2027, 5, 16), D(2027, 5, 17)),  # Құрбан айт 2027 on a Sunday
        (D(2029, 1, 7), D(2029, 1, 8)),  # Orthodox Christmas 2029 on a Sunday
        (D(2028, 1, 7), D(2028, 1, 10)),  # Friday: control case, no weekend involved
    ],
)
def test_religious_holidays_on_a_weekend_are_not_carried(
    religious_holiday: dt.date, next_day: dt.date
) -> None:
    cal = _calendar()

    assert cal.holidays.is_holiday(religious_holiday)
    assert not cal.holidays.is_holiday(next_day)
    assert cal.is_working_day(next_day)


def test_an_ordinary_weekday_is_not_a_holiday() -> None:
    holidays = HolidayCalendar()

    assert not holidays.is_holiday(MON)
    assert not holidays.is_holiday(D(2026, 12, 17))
    assert not holidays.is_holiday(D(2026, 5, 28))  # the day after Құрбан айт


def test_movable_holidays_can_be_added_for_later_years() -> None:
    day = D(2028, 5, 4)
    holidays = HolidayCalendar().with_days(movable=[day])

    assert holidays.is_holiday(day)
    assert not HolidayCalendar().is_holiday(day)


def test_extra_day_off_closes_the_clinic_and_extra_working_saturday_runs_monday_hours() -> None:
    # A government transfer: Monday 23 November off, worked on Saturday 28 November instead.
    worked_saturday = D(2026, 11, 28)
    cal = _calendar(
        HolidayCalendar().with_days(days_off=[NEXT_MON], working_days=[worked_saturday])
    )

    assert cal.hours(NEXT_MON) is None
    assert cal.hours(worked_saturday) == OpeningHours(dt.time(8), dt.time(20))
    assert cal.intake_cutoff(worked_saturday) == _at(worked_saturday, 18)
    assert cal.hours(D(2026, 12, 5)) == OpeningHours(dt.time(9), dt.time(14))  # a usual Saturday


def test_worked_weekend_day_runs_mondays_hours_not_another_weekdays() -> None:
    # A clinic whose Monday (07:00-19:00) differs from every other weekday (08:00-20:00).
    monday = OpeningHours(dt.time(7), dt.time(19))
    other = OpeningHours(dt.time(8), dt.time(20))
    schedule = WeeklySchedule(
        {0: monday, 1: other, 2: other, 3: other, 4: other,
         5: OpeningHours(dt.time(9), dt.time(14))}
    )  # fmt: skip
    worked_saturday, worked_sunday = D(2026, 11, 28), D(2026, 11, 29)
    cal = ClinicCalendar(
        schedule=schedule,
        tz=ALMATY,
        holidays=HolidayCalendar().with_days(working_days=[worked_saturday, worked_sunday]),
    )

    assert cal.hours(worked_saturday) == monday
    assert cal.hours(worked_sunday) == monday
    assert cal.intake_cutoff(worked_sunday) == _at(worked_sunday, 17)
    assert cal.hours(D(2026, 12, 5)) == OpeningHours(dt.time(9), dt.time(14))  # a usual Saturday


def test_extra_working_sunday_runs_monday_hours() -> None:
    worked_sunday = D(2026, 11, 29)
    cal = _calendar(HolidayCalendar().with_days(working_days=[worked_sunday]))

    assert cal.hours(worked_sunday) == OpeningHours(dt.time(8), dt.time(20))
    assert cal.next_working_day(D(2026, 11, 28)) == worked_sunday


def test_extra_working_day_overrides_a_holiday() -> None:
    day = D(2026, 3, 25)
    holidays = HolidayCalendar().with_days(working_days=[day])

    assert not holidays.is_holiday(day)
    assert _calendar(holidays).hours(day) == OpeningHours(dt.time(8), dt.time(20))


def test_with_days_returns_a_new_calendar_and_keeps_the_original() -> None:
    original = HolidayCalendar()
    original.holidays_in(2026)  # fill the cache first
    changed = original.with_days(days_off=[MON])

    assert changed.is_holiday(MON)
    assert not original.is_holiday(MON)
    assert changed.movable == original.movable


def test_holidays_in_only_returns_days_of_that_year() -> None:
    for year in (2025, 2026, 2027):
        assert {d.year for d in HolidayCalendar().holidays_in(year)} == {year}


# --- next working day -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (MON, TUE),
        (FRI, SAT),  # Saturday is a working day
        (SAT, NEXT_MON),  # Sunday closed
        (SUN, NEXT_MON),
        (D(2026, 12, 15), D(2026, 12, 17)),  # skips Independence Day
        (D(2026, 5, 26), D(2026, 5, 28)),  # skips Құрбан айт
        (D(2027, 1, 6), D(2027, 1, 8)),  # skips Orthodox Christmas
        (D(2026, 12, 31), D(2027, 1, 5)),  # New Year 1-2, Sunday 3, carried Monday 4
    ],
)
def test_next_working_day_is_strictly_after_and_skips_closed_days(
    day: dt.date, expected: dt.date
) -> None:
    assert _calendar().next_working_day(day) == expected


def test_next_working_day_fails_for_a_clinic_that_never_opens() -> None:
    cal = ClinicCalendar(schedule=WeeklySchedule({}), tz=ALMATY)

    with pytest.raises(ValueError, match=r"^the clinic has no working day within a year$"):
        cal.next_working_day(MON)


def _open_every_day(days_off: frozenset[dt.date] = frozenset()) -> ClinicCalendar:
    """08:00-09:00 every day of the week, no public holidays at all (each one worked)."""
    hour = OpeningHours(dt.time(8), dt.time(9))
    every_day = frozenset(MON + dt.timedelta(days=n) for n in range(-10, 800))
    holidays = HolidayCalendar(
        movable=frozenset(), extra_days_off=days_off, extra_working_days=every_day - days_off
    )
    return ClinicCalendar(schedule=WeeklySchedule(dict.fromkeys(range(7), hour)), tz=ALMATY,
                          holidays=holidays)  # fmt: skip


def test_next_working_day_looks_one_year_ahead_and_no_further() -> None:
    # The search stops after 366 days: a clinic closed a whole (leap) year is a data error.
    closed_365 = frozenset(MON + dt.timedelta(days=n) for n in range(1, 366))
    closed_366 = closed_365 | {MON + dt.timedelta(days=366)}

    assert _open_every_day(closed_365).next_working_day(MON) == MON + dt.timedelta(days=366)
    with pytest.raises(ValueError, match=r"^the clinic has no working day within a year$"):
        _open_every_day(closed_366).next_working_day(MON)


def test_working_time_is_added_over_at_most_a_year_of_working_days() -> None:
    cal = _open_every_day()  # one working hour a day

    assert cal.add_working_time(_at(MON, 8), dt.timedelta(hours=366)) == _at(
        MON + dt.timedelta(days=365), 9
    )
    with pytest.raises(ValueError, match=r"^the clinic has no working time within a year$"):
        cal.add_working_time(_at(MON, 8), dt.timedelta(hours=367))


def test_working_time_from_before_opening_counts_from_the_opening() -> None:
    assert _calendar().add_working_time(_at(MON, 7), dt.timedelta(minutes=30)) == _at(MON, 8, 30)


def test_working_time_from_after_closing_counts_from_the_next_opening() -> None:
    cal = _calendar()

    assert cal.add_working_time(_at(MON, 21), dt.timedelta(minutes=30)) == _at(TUE, 8, 30)
    assert cal.add_working_time(_at(SAT, 15), dt.timedelta(minutes=30)) == _at(NEXT_MON, 8, 30)


def test_working_time_from_a_closed_day_counts_from_the_next_opening() -> None:
    assert _calendar().add_working_time(_at(SUN, 10), dt.timedelta(minutes=30)) == _at(
        NEXT_MON, 8, 30
    )


# --- home-visit intake and cut-off (R-14) -----------------------------------------------------


def test_home_visit_request_at_1759_on_weekday_is_taken_in_the_same_day() -> None:
    intake = _calendar().intake(_at(MON, 17, 59))

    assert intake == Intake(MON, IntakeDay.SAME_DAY)
    assert not intake.carried_over


def test_home_visit_request_at_1800_on_weekday_goes_to_next_working_day() -> None:
    intake = _calendar().intake(_at(MON, 18, 0))

    assert intake == Intake(TUE, IntakeDay.AFTER_CUTOFF)
    assert intake.carried_over


def test_home_visit_request_one_second_before_cutoff_is_same_day() -> None:
    moment = dt.datetime(2026, 11, 16, 17, 59, 59, 999999, tzinfo=ALMATY)

    assert _calendar().intake(moment).kind is IntakeDay.SAME_DAY


def test_home_visit_request_late_at_night_goes_to_next_working_day() -> None:
    assert _calendar().intake(_at(MON, 23, 59)) == Intake(TUE, IntakeDay.AFTER_CUTOFF)


def test_home_visit_request_before_opening_is_taken_in_that_day() -> None:
    assert _calendar().intake(_at(TUE, 0, 0)) == Intake(TUE, IntakeDay.SAME_DAY)
    assert _calendar().intake(_at(TUE, 6, 30)) == Intake(TUE, IntakeDay.SAME_DAY)


def test_home_visit_request_on_saturday_before_noon_is_same_day() -> None:
    assert _calendar().intake(_at(SAT, 11, 59)) == Intake(SAT, IntakeDay.SAME_DAY)


def test_home_visit_request_on_saturday_at_noon_goes_to_monday() -> None:
    assert _calendar().intake(_at(SAT, 12, 0)) == Intake(NEXT_MON, IntakeDay.AFTER_CUTOFF)


def test_home_visit_request_on_sunday_is_a_day_off_taken_in_on_monday() -> None:
    intake = _calendar().intake(_at(SUN, 10, 0))

    assert intake == Intake(NEXT_MON, IntakeDay.DAY_OFF)
    assert intake.carried_over


def test_home_visit_request_on_friday_after_cutoff_goes_to_saturday() -> None:
    assert _calendar().intake(_at(FRI, 18, 30)) == Intake(SAT, IntakeDay.AFTER_CUTOFF)


def test_home_visit_request_the_evening_before_a_holiday_skips_the_holiday() -> None:
    # Tuesday 15 December 2026, 19:00; Wednesday 16 is Independence Day.
    assert _calendar().intake(_at(D(2026, 12, 15), 19, 0)) == Intake(
        D(2026, 12, 17), IntakeDay.AFTER_CUTOFF
    )


def test_home_visit_request_on_a_holiday_is_a_day_off() -> None:
    assert _calendar().intake(_at(D(2026, 12, 16), 10, 0)) == Intake(
        D(2026, 12, 17), IntakeDay.DAY_OFF
    )


def test_saturday_afternoon_request_before_victory_day_2027_waits_until_tuesday() -> None:
    # Sat 8 May 2027 after noon; Sun 9 Victory Day; Mon 10 carried day off.
    assert _calendar().intake(_at(D(2027, 5, 8), 12, 30)) == Intake(
        D(2027, 5, 11), IntakeDay.AFTER_CUTOFF
    )


def test_home_visit_request_on_a_worked_saturday_uses_the_weekday_cutoff() -> None:
    worked_saturday = D(2026, 11, 28)
    cal = _calendar(HolidayCalendar().with_days(working_days=[worked_saturday]))

    assert cal.intake(_at(worked_saturday, 13, 0)).kind is IntakeDay.SAME_DAY
    assert cal.intake(_at(worked_saturday, 18, 0)).kind is IntakeDay.AFTER_CUTOFF


def test_moment_in_utc_is_converted_to_the_clinic_zone() -> None:
    cal = _calendar()

    # 12:59 UTC = 17:59 in Almaty: before the cut-off.
    assert cal.intake(_at(MON, 12, 59, tz=UTC)) == Intake(MON, IntakeDay.SAME_DAY)
    # 13:00 UTC = 18:00 in Almaty: after it.
    assert cal.intake(_at(MON, 13, 0, tz=UTC)) == Intake(TUE, IntakeDay.AFTER_CUTOFF)


def test_utc_evening_on_sunday_is_already_monday_morning_in_almaty() -> None:
    # Sunday 20:00 UTC = Monday 01:00 in Almaty: Monday is a working day.
    assert _calendar().intake(_at(SUN, 20, 0, tz=UTC)) == Intake(NEXT_MON, IntakeDay.SAME_DAY)


def test_the_time_zone_is_an_attribute_of_the_clinic() -> None:
    # 13:30 UTC is 18:30 in Almaty (after the cut-off) but 16:30 in Moscow (before it).
    moment = _at(MON, 13, 30, tz=UTC)

    assert _calendar().intake(moment) == Intake(TUE, IntakeDay.AFTER_CUTOFF)
    assert _calendar(tz=ZoneInfo("Europe/Moscow")).intake(moment) == Intake(
        MON, IntakeDay.SAME_DAY
    )
    assert _calendar(tz=ZoneInfo("Europe/Moscow")).intake_cutoff(MON) == _at(
        MON, 18, tz=ZoneInfo("Europe/Moscow")
    )


def test_naive_datetime_is_refused() -> None:
    cal = _calendar()
    naive = dt.datetime(2026, 11, 16, 12, 0)  # noqa: DTZ001 - the point of the test

    with pytest.raises(ValueError, match="naive"):
        cal.intake(naive)
    with pytest.raises(ValueError, match="naive"):
        cal.processing_day(naive)
    with pytest.raises(ValueError, match="naive"):
        cal.is_open(naive)
    with pytest.raises(ValueError, match=r"^naive datetime: pass an aware one$"):
        cal.local(naive)


# --- e-channel processing day (R-13) ----------------------------------------------------------


def test_e_channel_request_during_opening_hours_is_processed_the_same_day() -> None:
    cal = _calendar()

    # 18:30 is after the home-visit cut-off but the clinic is still open.
    assert cal.processing_day(_at(MON, 18, 30)) == Intake(MON, IntakeDay.SAME_DAY)
    assert cal.processing_day(_at(MON, 19, 59)) == Intake(MON, IntakeDay.SAME_DAY)
    assert cal.processing_day(_at(MON, 5, 0)) == Intake(MON, IntakeDay.SAME_DAY)


def test_e_channel_request_after_closing_is_processed_the_next_working_day() -> None:
    cal = _calendar()

    assert cal.processing_day(_at(MON, 20, 0)) == Intake(TUE, IntakeDay.AFTER_CUTOFF)
    assert cal.processing_day(_at(SAT, 14, 0)) == Intake(NEXT_MON, IntakeDay.AFTER_CUTOFF)
    assert cal.processing_day(_at(SAT, 13, 59)) == Intake(SAT, IntakeDay.SAME_DAY)


def test_e_channel_request_on_a_day_off_is_processed_the_next_working_day() -> None:
    cal = _calendar()

    assert cal.processing_day(_at(SUN, 11, 0)) == Intake(NEXT_MON, IntakeDay.DAY_OFF)
    assert cal.processing_day(_at(D(2026, 3, 22), 11, 0)) == Intake(
        D(2026, 3, 26), IntakeDay.DAY_OFF
    )


def test_is_open_only_between_opening_and_closing_on_working_days() -> None:
    cal = _calendar()

    assert not cal.is_open(_at(MON, 7, 59))
    assert cal.is_open(_at(MON, 8, 0))
    assert cal.is_open(_at(MON, 19, 59))
    assert not cal.is_open(_at(MON, 20, 0))
    assert cal.is_open(_at(SAT, 9, 0))
    assert not cal.is_open(_at(SAT, 14, 0))
    assert not cal.is_open(_at(SUN, 12, 0))
    assert not cal.is_open(_at(D(2026, 12, 16), 12, 0))
    assert cal.is_open(_at(MON, 3, 0, tz=UTC))  # 08:00 in Almaty

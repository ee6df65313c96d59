"""Processing start and deadline of a request (issue 10 part 3; S3-S5 row 3 and row 7, R-13/R-14).

Requests are taken 24/7 but dealt with in the clinic's hours: before opening they count from the
opening, within hours from the moment, after the close (or the home-visit cut-off), on Sundays
and holidays from the next working day's opening; the 30 minutes of row 3 run only while the
clinic is open, what is left at the close carries into the next working day's opening.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.domain.calendar import (
    ClinicCalendar,
    HolidayCalendar,
    Intake,
    IntakeDay,
    RequestTerms,
    WeeklySchedule,
)

ALMATY = ZoneInfo("Asia/Almaty")
D = dt.date
MON, TUE = D(2026, 11, 23), D(2026, 11, 24)
SAT, SUN, NEXT_MON = D(2026, 11, 28), D(2026, 11, 29), D(2026, 11, 30)
BEFORE_HOLIDAY, HOLIDAY, AFTER_HOLIDAY = D(2026, 12, 15), D(2026, 12, 16), D(2026, 12, 17)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ALMATY)


def _terms(
    moment: dt.datetime, *, cutoff: bool = False, holidays: HolidayCalendar | None = None
) -> RequestTerms:
    cal = ClinicCalendar(
        schedule=WeeklySchedule.standard(), tz=ALMATY, holidays=holidays or HolidayCalendar()
    )
    return cal.request_terms(moment, cutoff=cutoff)


def _expect(day: dt.date, kind: IntakeDay, starts: dt.datetime, deadline: dt.datetime) -> object:
    return RequestTerms(intake=Intake(day, kind), starts=starts, deadline=deadline)


SAME, AFTER, OFF = IntakeDay.SAME_DAY, IntakeDay.AFTER_CUTOFF, IntakeDay.DAY_OFF

# (made at, e-channel terms (027/е, booking), home-visit terms (cut-off 2 h before closing))
CASES = [
    # 06:00 on a weekday: nothing happens before the 08:00 opening.
    (_at(MON, 6), _expect(MON, SAME, _at(MON, 8), _at(MON, 8, 30)),
     _expect(MON, SAME, _at(MON, 8), _at(MON, 8, 30))),
    (_at(MON, 7, 59), _expect(MON, SAME, _at(MON, 8), _at(MON, 8, 30)),
     _expect(MON, SAME, _at(MON, 8), _at(MON, 8, 30))),
    (_at(MON, 8), _expect(MON, SAME, _at(MON, 8), _at(MON, 8, 30)),
     _expect(MON, SAME, _at(MON, 8), _at(MON, 8, 30))),
    (_at(MON, 10), _expect(MON, SAME, _at(MON, 10), _at(MON, 10, 30)),
     _expect(MON, SAME, _at(MON, 10), _at(MON, 10, 30))),
    # 17:59: home visit still the same day (cut-off 18:00).
    (_at(MON, 17, 59), _expect(MON, SAME, _at(MON, 17, 59), _at(MON, 18, 29)),
     _expect(MON, SAME, _at(MON, 17, 59), _at(MON, 18, 29))),
    # 19:45: the e-channel request has 15 min today and 15 min from Tuesday's opening.
    (_at(MON, 19, 45), _expect(MON, SAME, _at(MON, 19, 45), _at(TUE, 8, 15)),
     _expect(TUE, AFTER, _at(TUE, 8), _at(TUE, 8, 30))),
    (_at(MON, 20), _expect(TUE, AFTER, _at(TUE, 8), _at(TUE, 8, 30)),
     _expect(TUE, AFTER, _at(TUE, 8), _at(TUE, 8, 30))),
    (_at(MON, 23, 59), _expect(TUE, AFTER, _at(TUE, 8), _at(TUE, 8, 30)),
     _expect(TUE, AFTER, _at(TUE, 8), _at(TUE, 8, 30))),
    # Saturday 09:00-14:00, cut-off 12:00; 13:50 is 10 min before the close.
    (_at(SAT, 8), _expect(SAT, SAME, _at(SAT, 9), _at(SAT, 9, 30)),
     _expect(SAT, SAME, _at(SAT, 9), _at(SAT, 9, 30))),
    (_at(SAT, 13, 50), _expect(SAT, SAME, _at(SAT, 13, 50), _at(NEXT_MON, 8, 20)),
     _expect(NEXT_MON, AFTER, _at(NEXT_MON, 8), _at(NEXT_MON, 8, 30))),
    (_at(SAT, 14), _expect(NEXT_MON, AFTER, _at(NEXT_MON, 8), _at(NEXT_MON, 8, 30)),
     _expect(NEXT_MON, AFTER, _at(NEXT_MON, 8), _at(NEXT_MON, 8, 30))),
    (_at(SUN, 10), _expect(NEXT_MON, OFF, _at(NEXT_MON, 8), _at(NEXT_MON, 8, 30)),
     _expect(NEXT_MON, OFF, _at(NEXT_MON, 8), _at(NEXT_MON, 8, 30))),
    # The day before Independence Day (16 December): the rest skips the holiday.
    (_at(BEFORE_HOLIDAY, 19, 50),
     _expect(BEFORE_HOLIDAY, SAME, _at(BEFORE_HOLIDAY, 19, 50), _at(AFTER_HOLIDAY, 8, 20)),
     _expect(AFTER_HOLIDAY, AFTER, _at(AFTER_HOLIDAY, 8), _at(AFTER_HOLIDAY, 8, 30))),
    (_at(HOLIDAY, 6),
     _expect(AFTER_HOLIDAY, OFF, _at(AFTER_HOLIDAY, 8), _at(AFTER_HOLIDAY, 8, 30)),
     _expect(AFTER_HOLIDAY, OFF, _at(AFTER_HOLIDAY, 8), _at(AFTER_HOLIDAY, 8, 30))),
]  # fmt: skip


@pytest.mark.parametrize(("moment", "e_channel", "home_visit"), CASES)
def test_processing_starts_at_opening_and_the_deadline_falls_in_working_time(
    moment: dt.datetime, e_channel: RequestTerms, home_visit: RequestTerms
) -> None:
    assert _terms(moment) == e_channel
    assert _terms(moment, cutoff=True) == home_visit


def test_the_rest_of_the_deadline_skips_nauryz_2026_and_its_carried_days() -> None:
    # Friday 20 March 2026, 19:40: closed 21-25 March (Nauryz and two carried days off).
    terms = _terms(_at(D(2026, 3, 20), 19, 40))

    assert terms.deadline == _at(D(2026, 3, 26), 8, 10)


def test_the_rest_of_the_deadline_goes_to_a_worked_sunday_with_mondays_hours() -> None:
    worked_sunday = D(2026, 11, 29)
    holidays = HolidayCalendar().with_days(working_days=[worked_sunday])

    assert _terms(_at(SAT, 13, 50), holidays=holidays).deadline == _at(worked_sunday, 8, 20)
    assert _terms(_at(SAT, 13, 0), cutoff=True, holidays=holidays) == _expect(
        worked_sunday, AFTER, _at(worked_sunday, 8), _at(worked_sunday, 8, 30)
    )


def test_no_deadline_falls_while_the_clinic_is_closed() -> None:
    cal = ClinicCalendar(schedule=WeeklySchedule.standard(), tz=ALMATY)
    start = _at(D(2026, 12, 12), 0)  # a Saturday before Independence Day week

    for step in range(0, 7 * 24 * 60, 10):
        moment = start + dt.timedelta(minutes=step)
        for cutoff in (False, True):
            terms = cal.request_terms(moment, cutoff=cutoff)
            assert cal.is_open(terms.starts)
            assert cal.is_open(terms.deadline - dt.timedelta(seconds=1))
            assert terms.deadline - max(terms.starts, moment) <= dt.timedelta(days=3)

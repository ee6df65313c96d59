"""Clinic working calendar: hours, holidays of Kazakhstan, intake cut-offs, next working day.

Pure rules, no I/O. Every datetime that enters is timezone-aware; the clinic's zone is an
attribute of the clinic (Kazakhstan is one zone, UTC+5, since 2024-03-01).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

# S2/S3/S4 row 7: PHC hours Mon-Fri 08:00-20:00 without a break, Sat 09:00-14:00, Sunday and
# public holidays closed (seed-003 §2.3, R-12).
# S4 row 7: home-visit requests until 2 hours before closing (weekdays 18:00, Sat 12:00).
INTAKE_CUTOFF_BEFORE_CLOSING = dt.timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    opens: dt.time
    closes: dt.time

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("a clinic must open before it closes")


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Opening hours per weekday (0 = Monday); a missing weekday is closed."""

    days: Mapping[int, OpeningHours]

    @classmethod
    def standard(cls) -> WeeklySchedule:
        weekday = OpeningHours(dt.time(8), dt.time(20))
        return cls({0: weekday, 1: weekday, 2: weekday, 3: weekday, 4: weekday,
                    5: OpeningHours(dt.time(9), dt.time(14))})  # fmt: skip

    def hours_on(self, weekday: int) -> OpeningHours | None:
        return self.days.get(weekday)

    def to_json(self) -> str:
        return json.dumps(
            {
                str(d): [h.opens.strftime("%H:%M"), h.closes.strftime("%H:%M")]
                for d, h in sorted(self.days.items())
            }
        )

    @classmethod
    def from_json(cls, text: str) -> WeeklySchedule:
        raw = json.loads(text)
        return cls(
            {
                int(d): OpeningHours(dt.time.fromisoformat(o), dt.time.fromisoformat(c))
                for d, (o, c) in raw.items()
            }
        )


# Public holidays of Kazakhstan (Law "On holidays", Labour Code art. 84-85), fixed dates.
FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = (
    (1, 1), (1, 2),            # New Year
    (3, 8),                    # International Women's Day
    (3, 21), (3, 22), (3, 23), # Nauryz meyrami
    (5, 1),                    # Unity Day of the people of Kazakhstan
    (5, 7),                    # Defender of the Fatherland Day
    (5, 9),                    # Victory Day
    (7, 6),                    # Capital Day
    (8, 30),                   # Constitution Day
    (10, 25),                  # Republic Day
    (12, 16),                  # Independence Day
)  # fmt: skip
# Religious holidays are days off but are never moved when they fall on a weekend.
RELIGIOUS_FIXED: tuple[tuple[int, int], ...] = ((1, 7),)  # Orthodox Christmas
# Movable religious holiday: the first day of Құрбан айт, set each year by the government.
KURBAN_AIT: tuple[dt.date, ...] = (
    dt.date(2024, 6, 16),
    dt.date(2025, 6, 6),
    dt.date(2026, 5, 27),
    dt.date(2027, 5, 16),
)


@dataclass(frozen=True)
class HolidayCalendar:
    """Days off of Kazakhstan beyond the weekly schedule.

    Labour Code art. 85: when a (non-religious) holiday falls on a weekend, the next working day
    is a day off. The government also moves days off by resolution: `extra_days_off` and
    `extra_working_days` hold those transfers; `movable` the dates of Құрбан айт and the like.
    """

    movable: frozenset[dt.date] = frozenset(KURBAN_AIT)
    extra_days_off: frozenset[dt.date] = frozenset()
    extra_working_days: frozenset[dt.date] = frozenset()
    _cache: dict[int, frozenset[dt.date]] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    def with_days(
        self,
        movable: Iterable[dt.date] = (),
        days_off: Iterable[dt.date] = (),
        working_days: Iterable[dt.date] = (),
    ) -> HolidayCalendar:
        return HolidayCalendar(
            movable=self.movable | frozenset(movable),
            extra_days_off=self.extra_days_off | frozenset(days_off),
            extra_working_days=self.extra_working_days | frozenset(working_days),
        )

    def holidays_in(self, year: int) -> frozenset[dt.date]:
        cached = self._cache.get(year)
        if cached is not None:
            return cached
        fixed = sorted(dt.date(year, month, day) for month, day in FIXED_HOLIDAYS)
        days: set[dt.date] = set(fixed)
        days.update(dt.date(year, m, d) for m, d in RELIGIOUS_FIXED)
        days.update(d for d in self.movable if d.year == year)
        # Art. 85: a (non-religious) holiday on a weekend carries its day off to the next working
        # day, i.e. the next weekday that is not itself a holiday or an already carried day
        # (Nauryz 2026: Sat 21, Sun 22, Mon 23 March -> days off also Tue 24 and Wed 25).
        # All holidays are collected first, so a carried day never lands on a later holiday.
        for holiday in fixed:
            if holiday.weekday() >= 5:
                carried = holiday + dt.timedelta(days=1)
                while carried.weekday() >= 5 or carried in days:
                    carried += dt.timedelta(days=1)
                days.add(carried)
        days.update(d for d in self.extra_days_off if d.year == year)
        result = frozenset(days - self.extra_working_days)
        self._cache[year] = result
        return result

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays_in(day.year)


class IntakeDay(StrEnum):
    """How a request made at some moment is taken in (seed-003 R-13, R-14)."""

    SAME_DAY = "same_day"
    AFTER_CUTOFF = "after_cutoff"  # too late today: next working day
    DAY_OFF = "day_off"  # Sunday, holiday or another closed day: next working day


@dataclass(frozen=True, slots=True)
class Intake:
    day: dt.date
    kind: IntakeDay

    @property
    def carried_over(self) -> bool:
        return self.kind is not IntakeDay.SAME_DAY


@dataclass(frozen=True)
class ClinicCalendar:
    schedule: WeeklySchedule
    tz: ZoneInfo
    holidays: HolidayCalendar = field(default_factory=HolidayCalendar)

    def hours(self, day: dt.date) -> OpeningHours | None:
        """The clinic's hours on this day, or None when it is closed."""
        if self.holidays.is_holiday(day):
            return None
        hours = self.schedule.hours_on(day.weekday())
        if day.weekday() >= 5 and day in self.holidays.extra_working_days:
            # A Saturday or Sunday made a working day by a transfer is a full working day: it
            # runs Monday's hours (not the short Saturday ones).
            return self.schedule.hours_on(0) or hours
        return hours

    def is_working_day(self, day: dt.date) -> bool:
        return self.hours(day) is not None

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        candidate = day + dt.timedelta(days=1)
        for _ in range(366):
            if self.is_working_day(candidate):
                return candidate
            candidate += dt.timedelta(days=1)
        raise ValueError("the clinic has no working day within a year")

    def local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one")
        return moment.astimezone(self.tz)

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def opening(self, day: dt.date) -> dt.datetime | None:
        hours = self.hours(day)
        return None if hours is None else self.at(day, hours.opens)

    def closing(self, day: dt.date) -> dt.datetime | None:
        hours = self.hours(day)
        return None if hours is None else self.at(day, hours.closes)

    def intake_cutoff(self, day: dt.date) -> dt.datetime | None:
        """S4 row 7 (R-14): requests accepted until 2 h before closing; None on a closed day."""
        closing = self.closing(day)
        return None if closing is None else closing - INTAKE_CUTOFF_BEFORE_CLOSING

    def intake(self, moment: dt.datetime) -> Intake:
        """The day a cut-off-bound request (home visit S4, 027/е in person) is taken in.

        Before the cut-off on a working day: the same day. After it, on Sundays and holidays:
        the next working day, and the patient must be told so (R-13, R-14).
        """
        now = self.local(moment)
        today = now.date()
        cutoff = self.intake_cutoff(today)
        if cutoff is None:
            return Intake(self.next_working_day(today), IntakeDay.DAY_OFF)
        if now >= cutoff:
            return Intake(self.next_working_day(today), IntakeDay.AFTER_CUTOFF)
        return Intake(today, IntakeDay.SAME_DAY)

    def is_open(self, moment: dt.datetime) -> bool:
        now = self.local(moment)
        hours = self.hours(now.date())
        return hours is not None and hours.opens <= now.time() < hours.closes

    def processing_day(self, moment: dt.datetime) -> Intake:
        """E-channel requests are taken 24/7; those made after hours, on days off or holidays
        are processed on the next working day (S2-S5 row 7, R-13)."""
        now = self.local(moment)
        today = now.date()
        closing = self.closing(today)
        if closing is None:
            return Intake(self.next_working_day(today), IntakeDay.DAY_OFF)
        if now >= closing:
            return Intake(self.next_working_day(today), IntakeDay.AFTER_CUTOFF)
        return Intake(today, IntakeDay.SAME_DAY)

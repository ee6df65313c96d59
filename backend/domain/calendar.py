"""Clinic working calendar: hours, holidays of Kazakhstan, intake cut-offs, next working day.

Pure rules, no I/O. Every datetime that enters is timezone-aware; the clinic's zone is an
attribute of the clinic (Kazakhstan is one zone, UTC+5, since 2024-03-01). Public holidays come
from the `holidays` package (a pure library: data in code, no I/O); `ClinicCalendar.request_terms`
is the one rule for when a request is dealt with and by when.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from backend.domain.statuses import E_CHANNEL_DEADLINE

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


# Public holidays of Kazakhstan and their carry-overs come from the maintained `holidays` package
# (python-holidays, country KZ: Law "On holidays" with its history, Labour Code art. 85). Since
# the 2026 constitution it has no 30 August holiday from 2026 and Constitution Day on 15 March
# from 2027. What a library cannot know stays on top: the government's yearly transfers of days
# off and working days and the register's `calendar_days` (HolidayCalendar below).
KZ_HOLIDAYS_LANGUAGE = "en_US"  # only to tell an estimated Құрбан айт by its label
_ESTIMATED = "(estimated)"
_KURBAN_AIT_NAME = "Eid al-Adha"

# Movable religious holiday: the first day of Құрбан айт, set each year (Spiritual Administration
# of Muslims of Kazakhstan, then the government's calendar). The library only estimates it from
# 2026 on; an estimate never closes a clinic: these known dates, the library's confirmed ones and
# the register's calendar days do (`dariger serve` warns when one is missing, docs/import.md).
KURBAN_AIT: tuple[dt.date, ...] = (
    dt.date(2024, 6, 16),
    dt.date(2025, 6, 6),
    dt.date(2026, 5, 27),
    dt.date(2027, 5, 16),
)
# A register calendar row (kind day_off) whose note names Құрбан айт counts as its date.
KURBAN_AIT_NOTES: tuple[str, ...] = ("құрбан айт", "курбан айт", "kurban ait", "eid al-adha")


def is_kurban_ait_note(note: str | None) -> bool:
    text = " ".join((note or "").casefold().split())
    return any(name in text for name in KURBAN_AIT_NOTES)


@dataclass(frozen=True, slots=True)
class LawHolidays:
    """One year of the `holidays` package for KZ: public holidays with their carried days off,
    and the dates of Құрбан айт the library knows for sure (not its estimates)."""

    days_off: frozenset[dt.date]
    kurban_ait: frozenset[dt.date]


@lru_cache(maxsize=64)
def law_holidays(year: int) -> LawHolidays:
    # observed=True: art. 85, a holiday on a Saturday or Sunday carries its day off to the next
    # working day (Nauryz 2026: Sat 21, Sun 22, Mon 23 March -> also Tue 24 and Wed 25).
    # Religious holidays (Orthodox Christmas, Құрбан айт) are never carried, in the library too.
    calendar = holidays.country_holidays(
        "KZ", years=year, observed=True, language=KZ_HOLIDAYS_LANGUAGE
    )
    days_off: set[dt.date] = set()
    kurban_ait: set[dt.date] = set()
    for day, names in calendar.items():
        kept = [n for n in names.split("; ") if _ESTIMATED not in n]
        if kept:
            days_off.add(day)
        if any(n.startswith(_KURBAN_AIT_NAME) for n in kept):
            kurban_ait.add(day)
    return LawHolidays(frozenset(days_off), frozenset(kurban_ait))


@dataclass(frozen=True)
class HolidayCalendar:
    """Days off of Kazakhstan beyond the weekly schedule.

    The law's public holidays and their carry-overs (Labour Code art. 85) come from `holidays`
    (law_holidays). The government also moves days off by resolution: `extra_days_off` and
    `extra_working_days` hold those transfers (the register's `calendar_days`); `movable` the
    dates of Құрбан айт known to the project or stored in the register.
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
        days: set[dt.date] = set(law_holidays(year).days_off)
        days.update(d for d in self.movable if d.year == year)
        days.update(d for d in self.extra_days_off if d.year == year)
        result = frozenset(days - self.extra_working_days)
        self._cache[year] = result
        return result

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays_in(day.year)

    def kurban_ait_in(self, year: int) -> frozenset[dt.date]:
        """The known first day of Құрбан айт in `year` (empty when nobody has set it yet)."""
        known = {d for d in self.movable if d.year == year}
        return frozenset(known | law_holidays(year).kurban_ait)

    def years_without_kurban_ait(self, years: Iterable[int]) -> list[int]:
        return [year for year in years if not self.kurban_ait_in(year)]


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


@dataclass(frozen=True, slots=True)
class RequestTerms:
    """How a request made at some moment is dealt with: the day it is taken in, when the clinic
    starts on it and by when it must answer (ClinicCalendar.request_terms)."""

    intake: Intake
    starts: dt.datetime
    deadline: dt.datetime

    @property
    def carried_over(self) -> bool:
        return self.intake.carried_over


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
        return self.request_terms(moment, cutoff=True).intake

    def is_open(self, moment: dt.datetime) -> bool:
        now = self.local(moment)
        hours = self.hours(now.date())
        return hours is not None and hours.opens <= now.time() < hours.closes

    def processing_day(self, moment: dt.datetime) -> Intake:
        """E-channel requests are taken 24/7; those made after hours, on days off or holidays
        are processed on the next working day (S2-S5 row 7, R-13)."""
        return self.request_terms(moment).intake

    def request_terms(
        self,
        moment: dt.datetime,
        *,
        cutoff: bool = False,
        within: dt.timedelta = E_CHANNEL_DEADLINE,
    ) -> RequestTerms:
        """When the clinic starts on a request made at `moment`, and its deadline.

        S3-S5 row 7, R-13/R-14: requests are taken 24/7 but dealt with in the clinic's hours.
        - Before opening on a working day: from today's opening (06:00 -> 08:00, deadline 08:30).
        - Within hours (before the cut-off, for cut-off-bound requests `cutoff=True`: S4 home
          visit, 2 h before closing): from now.
        - After the close (or the cut-off), on a Sunday, a holiday or another closed day: from the
          next working day's opening.
        `within` (S3/S4/S5 row 3: ≤ 30 min) runs only while the clinic is open: what is left of
        it at today's close carries into the next working day's opening (Saturday 13:50 with a
        14:00 close -> Monday 08:20), so no deadline ever falls while the clinic is closed.
        """
        now = self.local(moment)
        today = now.date()
        opening, closing = self.opening(today), self.closing(today)
        last = self.intake_cutoff(today) if cutoff else closing
        if opening is None or closing is None or last is None:
            day, kind = self.next_working_day(today), IntakeDay.DAY_OFF
        elif now >= last:
            day, kind = self.next_working_day(today), IntakeDay.AFTER_CUTOFF
        else:
            day, kind = today, IntakeDay.SAME_DAY
        starts = now if day == today and opening is not None and now >= opening else None
        if starts is None:
            starts = self.opening(day)
            if starts is None:  # pragma: no cover - next_working_day only returns open days
                raise ValueError("the clinic is closed on its intake day")
        return RequestTerms(
            intake=Intake(day, kind), starts=starts, deadline=self.add_working_time(starts, within)
        )

    def add_working_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """`start` (a moment within the clinic's hours) plus `duration` of its open time: the part
        past a day's close continues at the next working day's opening (S3-S5 row 7)."""
        moment, left = self.local(start), duration
        for _ in range(366):
            opening, closing = self.opening(moment.date()), self.closing(moment.date())
            if opening is not None and moment < opening:
                moment = opening
            if closing is not None and moment + left <= closing:
                return moment + left
            if closing is not None and moment < closing:
                left -= closing - moment
            day = self.next_working_day(moment.date())
            moment = self.opening(day) or moment
        raise ValueError("the clinic has no working time within a year")  # pragma: no cover

"""Texts and helpers every journey shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from backend.domain.calendar import INTAKE_CUTOFF_BEFORE_CLOSING, WeeklySchedule
from backend.domain.latin import to_latin
from backend.domain.model import Clinic, Doctor, Named
from backend.domain.refusals import (
    ATTACHED_NOWHERE,
    NOT_ATTACHED_ANYWHERE_TEXT,
    REFUSAL_TEXTS,
    Refusal,
    RefusalCode,
)
from backend.domain.statuses import SERVICE_LABELS, STATUS_LABELS, ApplicationStatus, ServiceType
from dialogs.engine.text import Localized, T, Text

# seed-003 R-36: the unified contact centre, shown in help and on every refusal or delay.
CALL_CENTRE = T("Contact centre: 1414, 8-800-080-7777 (free).")
# S12 / R-38: emergencies are never handled by the bot.
EMERGENCY = T("In an emergency call 103 at once.")
# S2/S3/S4 row 7: PHC hours Mon–Fri 08:00–20:00 without a break, Sat 09:00–14:00.
CLINIC_HOURS = T(
    "Clinics work Mon–Fri 08:00–20:00, Sat 09:00–14:00; closed on Sundays and holidays."
)
V = TypeVar("V", bound=Hashable)


# Issue 15: names a patient can read. English screens show doctors' names and clinics'
# addresses in Latin letters (stored once, backend/domain/latin.py: the table of Kazakhstan's
# passports, ICAO Doc 9303); Kazakh and Russian ones as the register writes them.
def doctor_name(doctor: Doctor) -> Localized:
    return Localized(doctor.short_name, doctor.short_name, doctor.short_name_latin)


def clinic_address(clinic: Clinic) -> Localized:
    return Localized(clinic.address, clinic.address, clinic.latin_address)


def person_name(short_name: str) -> Localized:
    """A patient's (a child's) short name, in Latin on English screens (computed when shown:
    the patient register holds no Latin form)."""
    return Localized(short_name, short_name, to_latin(short_name))


def name_label(name: Localized) -> Text:
    """A name as a button label."""
    return T("{name}", name=name)


WEEKDAYS = (T("Mon"), T("Tue"), T("Wed"), T("Thu"), T("Fri"), T("Sat"), T("Sun"))


def _runs(by_day: Mapping[int, V]) -> list[tuple[int, int, V]]:
    """Consecutive weekdays with the same value: (first, last, value), Monday first."""
    runs: list[tuple[int, int, V]] = []
    for day in sorted(by_day):
        value = by_day[day]
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], day, value)
        else:
            runs.append((day, day, value))
    return runs


def _days(first: int, last: int) -> Text:
    if first == last:
        return WEEKDAYS[first]
    return T("{first}–{last}", first=WEEKDAYS[first], last=WEEKDAYS[last])


def _joined(parts: Sequence[Text]) -> Text:
    """`a, b, c` out of translated parts (the list separator is a message too)."""
    if not parts:
        return T("—")
    head = parts[0]
    for part in parts[1:]:
        head = T("{head}, {tail}", head=head, tail=part)
    return head


def _per_day(by_day: Mapping[int, V], line: Callable[[Text, V], Text]) -> Text:
    return _joined([line(_days(first, last), value) for first, last, value in _runs(by_day)])


def opening_hours(schedule: WeeklySchedule) -> Text:
    """A clinic's weekly hours, grouped: «Mon–Fri 08:00–20:00, Sat 09:00–14:00»."""
    return _per_day(
        {day: (h.opens, h.closes) for day, h in schedule.days.items()},
        lambda days, hours: T(
            "{days} {opens}–{closes}", days=days, opens=hours[0], closes=hours[1]
        ),
    )


def intake_cutoffs(schedule: WeeklySchedule) -> Text:
    """S4 row 7 (R-14): requests until 2 h before closing, per weekday of this clinic's own
    schedule, grouped: «Mon–Fri until 18:00, Sat until 12:00» for the standard hours."""
    day = dt.date(2000, 1, 1)  # any date: only the time of day is wanted
    cutoffs = {
        weekday: (dt.datetime.combine(day, h.closes) - INTAKE_CUTOFF_BEFORE_CLOSING).time()
        for weekday, h in schedule.days.items()
    }
    return _per_day(cutoffs, lambda days, time: T("{days} until {time}", days=days, time=time))


# S2/S3/S4 row 7: the standard PHC hours, said as such where no clinic is known.
STANDARD_HOURS = WeeklySchedule.standard()


def clinic_hours(schedule: WeeklySchedule | None) -> Text:
    """The patient's own clinic's hours; without one, the standard hours labelled as such."""
    if schedule is None:
        return CLINIC_HOURS
    return T(
        "Your clinic works {hours}; closed on other days and on public holidays.",
        hours=opening_hours(schedule),
    )


def home_visit_cutoff(schedule: WeeklySchedule | None) -> Text:
    """S4 row 7 (R-14): the cut-off of the patient's own clinic, computed from its schedule;
    without a clinic (signed out, not attached), the standard one labelled as such."""
    if schedule is None:
        return T(
            "Home visits are accepted until 2 hours before the clinic closes; with the "
            "standard hours: {cutoffs}. Later requests go to the next working day.",
            cutoffs=intake_cutoffs(STANDARD_HOURS),
        )
    return T(
        "Your clinic accepts home visits until 2 hours before it closes: {cutoffs}. Later "
        "requests go to the next working day.",
        cutoffs=intake_cutoffs(schedule),
    )


def attached_nowhere(refusal: Refusal) -> bool:
    """NOT_ATTACHED_HERE for a patient attached to no clinic (its text says how to attach)."""
    return (
        refusal.code is RefusalCode.NOT_ATTACHED_HERE
        and refusal.params.get("attached") == ATTACHED_NOWHERE
    )


def refusal_notice(refusal: Refusal) -> Text:
    """A typed refusal as the patient reads it; legal grounds are a reasoned refusal (R-35)."""
    text = REFUSAL_TEXTS[refusal.code]
    if attached_nowhere(refusal):
        text = NOT_ATTACHED_ANYWHERE_TEXT  # attached to no clinic at all: and how to attach
    params = {k: v for k, v in refusal.params.items() if k != "attached"}
    reason = Text(text, params)
    if refusal.is_legal_ground:
        return T(
            "Reasoned refusal: {reason} Information: 1414, 8-800-080-7777 (free).",
            reason=reason,
        )
    return reason


def status_label(status: ApplicationStatus) -> Text:
    return Text(STATUS_LABELS[status])


def service_label(service: ServiceType) -> Text:
    return Text(SERVICE_LABELS[service])


def localized(named: Named) -> Localized:
    # Issue 15: a register without an English name gives the Russian one (docs/import.md);
    # an English screen shows it in Latin letters (backend/domain/latin.py).
    english = named.name_en
    if any("\u0400" <= ch <= "\u04ff" for ch in english):
        english = to_latin(english)
    return Localized(kk=named.name_kk, ru=named.name_ru, en=english)

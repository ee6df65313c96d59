"""Doctors' weekly schedule templates and their materialisation into bookable slots.

A template says "doctor D works on weekday W from 08:00 to 14:00 in room 101, 20-minute
appointments". `materialise_slots` turns templates into `Slot` rows for a range of days, and
only where the doctor's clinic is open (S3 row 5: the date and time come from the doctor's
schedule; S2-S4 row 7, R-12: the clinic works Mon-Fri 08:00-20:00, Sat 09:00-14:00, and is
closed on Sundays and public holidays).

Templates are stored (`save_templates`, table `schedule_templates`) by `dariger import` and the
demo loader, and `top_up_slots` materialises them every day (the running service, and
`dariger top-up-slots`), so that bookable slots never run out after the import's horizon.

A template is either reception hours (bookable slots) or home-visit hours (issue 10: S4 home
visits are planned in the doctor's own home-visit windows, with a capacity each, and never at
a time the doctor receives patients at the clinic).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from backend.adapters import orm
from backend.domain.calendar import ClinicCalendar
from backend.domain.model import Clinic, Doctor
from backend.services.unit_of_work import UnitOfWork

MAX_SLOT_MINUTES = 240
MAX_CAPACITY = 100
HOME_VISIT_WINDOW_MINUTES = 120  # S4: the patient is told a 2-hour arrival window
HOME_VISITS_PER_WINDOW = 4  # the default capacity of a home-visit window


class TemplateKind(StrEnum):
    RECEPTION = "reception"  # bookable slots at the clinic (S3)
    HOME_VISITS = "home_visits"  # home-visit windows (S4)


@dataclass(frozen=True, slots=True)
class ScheduleTemplate:
    """One weekly working period of a doctor (weekday 0 = Monday), in the clinic's local time.

    Reception hours are cut into bookable slots of `slot_minutes`; home-visit hours into
    arrival windows of `slot_minutes`, each taking at most `capacity` visits.
    """

    doctor_code: str
    weekday: int
    start: dt.time
    end: dt.time
    slot_minutes: int = 20
    room: str = ""
    kind: TemplateKind = TemplateKind.RECEPTION
    capacity: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) .. 6 (Sunday)")
        if self.start >= self.end:
            raise ValueError("a working period must start before it ends")
        if not 1 <= self.slot_minutes <= MAX_SLOT_MINUTES:
            raise ValueError(f"slot minutes must be 1..{MAX_SLOT_MINUTES}")
        if not 1 <= self.capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be 1..{MAX_CAPACITY}")

    @classmethod
    def home_visits(
        cls,
        doctor_code: str,
        weekday: int,
        start: dt.time,
        end: dt.time,
        *,
        window_minutes: int = HOME_VISIT_WINDOW_MINUTES,
        capacity: int = HOME_VISITS_PER_WINDOW,
    ) -> ScheduleTemplate:
        return cls(
            doctor_code, weekday, start, end, window_minutes, "", TemplateKind.HOME_VISITS,
            capacity,
        )  # fmt: skip

    @property
    def is_reception(self) -> bool:
        return self.kind is TemplateKind.RECEPTION

    def periods_on(self, day: dt.date, calendar: ClinicCalendar) -> list[tuple[dt.time, dt.time]]:
        """The (start, end) local times of this template's slots on `day`, cut to the clinic's
        opening hours that day; empty when the clinic is closed."""
        hours = calendar.hours(day)
        if hours is None:
            return []
        step = dt.timedelta(minutes=self.slot_minutes)
        cursor = dt.datetime.combine(day, self.start)
        last = dt.datetime.combine(day, self.end)
        opens = dt.datetime.combine(day, hours.opens)
        closes = dt.datetime.combine(day, hours.closes)
        periods: list[tuple[dt.time, dt.time]] = []
        while cursor + step <= last:
            if cursor >= opens and cursor + step <= closes:
                periods.append((cursor.time(), (cursor + step).time()))
            cursor += step
        return periods


def templates_for(
    day: dt.date, calendar: ClinicCalendar, by_weekday: dict[int, list[ScheduleTemplate]]
) -> list[ScheduleTemplate]:
    weekday = day.weekday()
    if weekday >= 5 and day in calendar.holidays.extra_working_days:
        # A Saturday or Sunday made a working day by a transfer runs Monday's hours
        # (ClinicCalendar.hours); the doctors work their Monday schedule then.
        return by_weekday.get(0, [])
    return by_weekday.get(weekday, [])


async def materialise_slots(
    uow: UnitOfWork, templates: Iterable[ScheduleTemplate], start: dt.date, days: int
) -> int:
    """Create the slots of `templates` for each day in [start, start + days).

    Slots fall inside both the template's hours and the clinic's opening hours of the day, in
    the clinic's time zone; days when the clinic is closed (Sundays, public holidays including
    the movable and transferred days of `calendar_days`) get none. Slots that already exist
    for the same (doctor, start) are skipped, so running it again tops up without duplicates.
    Works inside the caller's unit of work and does not commit. Returns the number created.
    Raises LookupError for an unknown doctor code. Home-visit hours make no slots.
    """
    templates = [t for t in templates if t.is_reception]
    if days <= 0 or not templates:
        return 0
    await uow.session.flush()
    codes = sorted({t.doctor_code for t in templates})
    doctors = {
        d.code: d
        for d in (
            await uow.session.execute(select(Doctor).where(orm.doctors.c.code.in_(codes)))
        ).scalars()
    }
    missing = [c for c in codes if c not in doctors]
    if missing:
        raise LookupError(f"unknown doctor codes: {', '.join(missing)}")
    clinic_ids = sorted({d.clinic_id for d in doctors.values()})
    clinics = {
        c.id: c
        for c in (
            await uow.session.execute(select(Clinic).where(orm.clinics.c.id.in_(clinic_ids)))
        ).scalars()
    }
    holidays = await uow.register.holiday_calendar()
    calendars = {cid: clinic.calendar(holidays) for cid, clinic in clinics.items()}

    by_doctor: dict[str, dict[int, list[ScheduleTemplate]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for template in templates:
        by_doctor[template.doctor_code][template.weekday].append(template)

    doctor_ids = sorted(d.id for d in doctors.values() if d.id is not None)
    # Bounds wide enough for any zone: existing slots are compared as instants.
    lower = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    upper = dt.datetime.combine(start + dt.timedelta(days=days + 1), dt.time(), tzinfo=dt.UTC)
    existing_rows = await uow.session.execute(
        select(orm.slots.c.doctor_id, orm.slots.c.starts_at).where(
            orm.slots.c.doctor_id.in_(doctor_ids),
            orm.slots.c.starts_at >= lower,
            orm.slots.c.starts_at < upper,
        )
    )
    existing: set[tuple[int, dt.datetime]] = {(r[0], r[1]) for r in existing_rows}

    rows: list[dict[str, object]] = []
    for code, by_weekday in sorted(by_doctor.items()):
        doctor = doctors[code]
        if doctor.id is None:  # pragma: no cover - flushed above
            raise LookupError(code)
        calendar = calendars[doctor.clinic_id]
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            for template in templates_for(day, calendar, by_weekday):
                room = template.room or doctor.room
                for begins, ends in template.periods_on(day, calendar):
                    starts_at = calendar.at(day, begins)
                    key = (doctor.id, starts_at.astimezone(dt.UTC))
                    if key in existing:
                        continue
                    existing.add(key)
                    rows.append(
                        {
                            "doctor_id": doctor.id,
                            "starts_at": starts_at,
                            "ends_at": calendar.at(day, ends),
                            "room": room,
                        }
                    )
    if not rows:
        return 0
    # Core executemany: thousands of slots in one round trip, not one ORM object each. A slot
    # another process created meanwhile (two servers topping up at once) is skipped, not an
    # error: uq_slots_doctor_start decides, and only the rows inserted here are counted.
    statement = _insert_or_skip(uow).returning(orm.slots.c.id)
    created = await uow.session.execute(statement, rows)
    return len(created.all())


def _insert_or_skip(uow: UnitOfWork) -> Any:
    if uow.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(orm.slots).on_conflict_do_nothing(
            constraint="uq_slots_doctor_start"
        )
    return sqlite.insert(orm.slots).on_conflict_do_nothing(
        index_elements=["doctor_id", "starts_at"]
    )


# --- stored templates, and the daily top-up --------------------------------------------------


_Key = tuple[int, dt.time, dt.time, int, str, str, int]


def _template_key(t: ScheduleTemplate) -> _Key:
    return (t.weekday, t.start, t.end, t.slot_minutes, t.room, t.kind.value, t.capacity)


def overlapping(templates: Iterable[ScheduleTemplate]) -> list[tuple[ScheduleTemplate, ...]]:
    """Pairs (reception, home visits) of one doctor that overlap on a weekday: home visits are
    never planned while the doctor receives patients at the clinic (issue 10)."""
    by_day: dict[tuple[str, int], list[ScheduleTemplate]] = defaultdict(list)
    for t in templates:
        by_day[t.doctor_code, t.weekday].append(t)
    clashes: list[tuple[ScheduleTemplate, ...]] = []
    for group in by_day.values():
        clinic = [t for t in group if t.is_reception]
        home = [t for t in group if not t.is_reception]
        clashes.extend((r, h) for r in clinic for h in home if r.start < h.end and h.start < r.end)
    return clashes


async def _doctor_ids(uow: UnitOfWork, codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(codes))
    rows = await uow.session.execute(
        select(orm.doctors.c.code, orm.doctors.c.id).where(orm.doctors.c.code.in_(wanted))
    )
    ids = {row.code: row.id for row in rows}
    missing = [c for c in wanted if c not in ids]
    if missing:
        raise LookupError(f"unknown doctor codes: {', '.join(missing)}")
    return ids


async def save_templates(uow: UnitOfWork, templates: Iterable[ScheduleTemplate]) -> int:
    """Store `templates` as the whole weekly schedule of each doctor they name.

    A doctor's stored schedule is replaced by its templates here (the rows of the latest
    import); doctors not named keep theirs. A doctor whose schedule is unchanged is left as it
    is, so saving the same templates again writes nothing. Works inside the caller's unit of
    work and does not commit. Returns the number of doctors whose schedule changed. Raises
    LookupError for an unknown doctor code and ValueError when two different templates of a
    doctor start on the same weekday at the same time, or home-visit hours overlap reception.
    """
    templates = list(templates)
    for reception, home in overlapping(templates):
        raise ValueError(
            f"doctor {home.doctor_code}: home visits {home.start:%H:%M}-{home.end:%H:%M} "
            f"overlap reception {reception.start:%H:%M}-{reception.end:%H:%M} on weekday "
            f"{home.weekday}"
        )
    wanted: dict[str, dict[tuple[int, dt.time], ScheduleTemplate]] = defaultdict(dict)
    for t in templates:
        same = wanted[t.doctor_code].setdefault((t.weekday, t.start), t)
        if same != t:
            raise ValueError(
                f"doctor {t.doctor_code}: two periods start on weekday {t.weekday} at "
                f"{t.start:%H:%M}"
            )
    if not wanted:
        return 0
    await uow.session.flush()
    ids = await _doctor_ids(uow, wanted)
    table = orm.schedule_templates
    stored: dict[int, set[_Key]] = defaultdict(set)
    rows = await uow.session.execute(
        select(
            table.c.doctor_id, table.c.weekday, table.c.start_time, table.c.end_time,
            table.c.slot_minutes, table.c.room, table.c.kind, table.c.capacity,
        ).where(table.c.doctor_id.in_(sorted(ids.values())))
    )  # fmt: skip
    for doctor_id, *key in rows:
        stored[doctor_id].add((key[0], key[1], key[2], key[3], key[4], key[5], key[6]))

    changed = [code for code, by_start in sorted(wanted.items())
               if {_template_key(t) for t in by_start.values()} != stored[ids[code]]]  # fmt: skip
    if not changed:
        return 0
    await uow.session.execute(
        delete(table).where(table.c.doctor_id.in_([ids[code] for code in changed]))
    )
    await uow.session.execute(
        insert(table),
        [
            {
                "doctor_id": ids[code],
                "weekday": t.weekday,
                "start_time": t.start,
                "end_time": t.end,
                "slot_minutes": t.slot_minutes,
                "room": t.room,
                "kind": t.kind.value,
                "capacity": t.capacity,
            }
            for code in changed
            for _, t in sorted(wanted[code].items())
        ],
    )
    return len(changed)


async def stored_templates(
    uow: UnitOfWork, *, doctor_id: int | None = None, kind: TemplateKind | None = None
) -> list[ScheduleTemplate]:
    """Every stored template (of one doctor, of one kind), by doctor code, weekday, start."""
    table = orm.schedule_templates
    stmt = (
        select(
            orm.doctors.c.code, table.c.weekday, table.c.start_time, table.c.end_time,
            table.c.slot_minutes, table.c.room, table.c.kind, table.c.capacity,
        )
        .join(orm.doctors, orm.doctors.c.id == table.c.doctor_id)
        .order_by(orm.doctors.c.code, table.c.weekday, table.c.start_time)
    )  # fmt: skip
    if doctor_id is not None:
        stmt = stmt.where(table.c.doctor_id == doctor_id)
    if kind is not None:
        stmt = stmt.where(table.c.kind == kind.value)
    rows = await uow.session.execute(stmt)
    return [ScheduleTemplate(code, weekday, start, end, minutes, room, TemplateKind(k), cap)
            for code, weekday, start, end, minutes, room, k, cap in rows]  # fmt: skip


@dataclass(frozen=True, slots=True)
class VisitWindow:
    start: dt.datetime
    end: dt.datetime
    capacity: int


async def home_visit_windows(
    uow: UnitOfWork, doctor_id: int, day: dt.date, calendar: ClinicCalendar
) -> list[VisitWindow]:
    """The doctor's home-visit windows on `day` (from the stored home-visit hours, inside the
    clinic's opening hours), earliest first; none on a closed day or without such hours."""
    by_weekday: dict[int, list[ScheduleTemplate]] = defaultdict(list)
    for t in await stored_templates(uow, doctor_id=doctor_id, kind=TemplateKind.HOME_VISITS):
        by_weekday[t.weekday].append(t)
    windows = [
        VisitWindow(calendar.at(day, begins), calendar.at(day, ends), template.capacity)
        for template in templates_for(day, calendar, by_weekday)
        for begins, ends in template.periods_on(day, calendar)
    ]
    return sorted(windows, key=lambda w: w.start)


async def materialise_from_today(
    uow: UnitOfWork,
    templates: Iterable[ScheduleTemplate],
    *,
    now: dt.datetime,
    days: int,
    today: dt.date | None = None,
) -> int:
    """`materialise_slots` for `days` days from each doctor's clinic's local date at `now`
    (or from `today` for every clinic, when given). Does not commit; returns the number
    created. Raises LookupError for an unknown doctor code."""
    templates = list(templates)
    if days <= 0 or not templates:
        return 0
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    await uow.session.flush()
    codes = sorted({t.doctor_code for t in templates})
    rows = await uow.session.execute(
        select(orm.doctors.c.code, orm.clinics.c.tz_name)
        .join(orm.clinics, orm.clinics.c.id == orm.doctors.c.clinic_id)
        .where(orm.doctors.c.code.in_(codes))
    )
    zone_of = {row.code: row.tz_name for row in rows}
    missing = [c for c in codes if c not in zone_of]
    if missing:
        raise LookupError(f"unknown doctor codes: {', '.join(missing)}")
    by_start: dict[dt.date, list[ScheduleTemplate]] = defaultdict(list)
    for t in templates:
        local = today or now.astimezone(ZoneInfo(zone_of[t.doctor_code])).date()
        by_start[local].append(t)
    created = 0
    for start_day, group in sorted(by_start.items()):
        created += await materialise_slots(uow, group, start_day, days)
    return created


async def top_up_slots(uow: UnitOfWork, *, now: dt.datetime, days: int) -> int:
    """Materialise the stored templates for `days` days from each clinic's local today, and
    commit. Existing slots (booked or free) are left as they are, so a second run creates
    nothing; run daily, it keeps `days` days of bookable slots ahead. Returns the number
    created."""
    created = await materialise_from_today(uow, await stored_templates(uow), now=now, days=days)
    await uow.commit()
    return created

"""`dariger import`: load a pilot's register data from one JSON file or a folder of CSV files.

Clinics, specialties, doctors, districts (учаске), doctors' weekly schedules (stored, and
materialised into slots for the next N days; `schedules.top_up_slots` keeps them coming),
patients with their attachments, calendar days (movable holidays, transferred days off and
working days), and the dispensary registers behind the S17-S19 statements (issue 13). The format
is documented in docs/import.md.

Rows are matched on natural keys (specialty code, clinic code, doctor code, clinic code +
district number, ИИН, ИИН + register) and upserted: a re-import updates names, phones and
attachments and never deletes anything (but a register row with `status` `off` takes the person
off that register). Every row is validated before anything is written; on any problem nothing
is written and `ImportFileError` lists each problem as (file, row, field, problem).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, insert, select, update

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.calendar import OpeningHours, WeeklySchedule
from backend.domain.documents import Register
from backend.domain.iin import InvalidIin, parse_iin
from backend.domain.latin import to_latin
from backend.domain.model import (
    Attachment,
    Audience,
    Clinic,
    District,
    Doctor,
    Language,
    Patient,
    Specialty,
    default_audience,
    latin_name,
)
from backend.domain.phone import InvalidPhone, normalize_kz_mobile
from backend.services.patients import announce as announce_patient_changes
from backend.services.schedules import (
    HOME_VISIT_WINDOW_MINUTES,
    HOME_VISITS_PER_WINDOW,
    MAX_CAPACITY,
    MAX_SLOT_MINUTES,
    ScheduleTemplate,
    TemplateKind,
    materialise_from_today,
    overlapping,
    save_templates,
)
from backend.services.unit_of_work import UnitOfWork

DEFAULT_DAYS_AHEAD = 14
MAX_DAYS_AHEAD = 366
DEFAULT_TZ = "Asia/Almaty"
DEFAULT_SLOT_MINUTES = 20

SECTIONS = (
    "specialties", "clinics", "doctors", "districts", "schedules", "patients", "calendar",
    "registers",
)  # fmt: skip
SETTINGS_FILE = "settings.csv"  # optional in a CSV folder: `key,value` rows (days_ahead)


class ImportProblem(NamedTuple):
    """One problem found in the input. `row` is the line number in a CSV file (the header is
    line 1) or the 1-based position in a JSON list; 0 when the problem is about the file."""

    file: str
    row: int
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row else self.file
        return (
            f"{where}, {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"
        )


class ImportFileError(Exception):
    """The input has problems; nothing was written."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s), nothing imported:\n{lines}")


@dataclass
class ImportSummary:
    source: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)  # register rows with status off
    slots_created: int = 0
    days_ahead: int = DEFAULT_DAYS_AHEAD
    import_id: int | None = None

    def count(self, kind: str, how: str) -> None:
        bucket = getattr(self, how)
        bucket[kind] = bucket.get(kind, 0) + 1

    def as_json(self) -> dict[str, Any]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "unchanged": dict(self.unchanged),
            "removed": dict(self.removed),
            "slots_created": self.slots_created,
            "days_ahead": self.days_ahead,
        }

    def __str__(self) -> str:
        kinds = [k for k in (*SECTIONS, "attachments") if k != "schedules"]
        lines = [f"Imported {self.source}"]
        for kind in kinds:
            c, u, n = (self.created.get(kind, 0), self.updated.get(kind, 0),
                       self.unchanged.get(kind, 0))  # fmt: skip
            r = self.removed.get(kind, 0)
            if c or u or n or r:
                off = f", {r} taken off" if r else ""
                lines.append(f"  {kind:<12} {c} new, {u} updated, {n} unchanged{off}")
        lines.append(f"  slots        {self.slots_created} new (next {self.days_ahead} days)")
        return "\n".join(lines)


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    file: str
    row: int
    values: dict[str, str]  # only the fields present in the input; "" for an empty cell


@dataclass
class _Input:
    sections: dict[str, list[_Row]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    days_ahead: int | None = None
    problems: list[ImportProblem] = field(default_factory=list)


def _scalar(value: object) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _days_ahead(text: str) -> int | None:
    try:
        days = int(text)
    except ValueError:
        return None
    return days if 1 <= days <= MAX_DAYS_AHEAD else None


def _read_json(path: Path) -> _Input:
    data = _Input()
    name = path.name
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        data.problems.append(ImportProblem(name, 0, "", f"not valid UTF-8 JSON: {exc}"))
        return data
    if not isinstance(raw, dict):
        data.problems.append(ImportProblem(name, 0, "", "the top level must be an object"))
        return data
    for key, value in raw.items():
        if key == "days_ahead":
            valid = isinstance(value, int) and not isinstance(value, bool)
            days = _days_ahead(str(value)) if valid else None
            if days is None:
                data.problems.append(
                    ImportProblem(name, 0, key, f"must be a whole number 1..{MAX_DAYS_AHEAD}")
                )
            data.days_ahead = days
            continue
        if key not in SECTIONS:
            data.problems.append(ImportProblem(name, 0, key, _unknown(key, SECTIONS)))
            continue
        where = f"{name}:{key}"
        if not isinstance(value, list):
            data.problems.append(ImportProblem(where, 0, "", "must be a list of objects"))
            continue
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict):
                data.problems.append(ImportProblem(where, index, "", "must be an object"))
                continue
            values: dict[str, str] = {}
            for fname, fvalue in item.items():
                text = _scalar(fvalue)
                if text is None:
                    data.problems.append(
                        ImportProblem(where, index, str(fname), "must be text or a number")
                    )
                else:
                    values[str(fname).strip().lower()] = text
            data.sections[key].append(_Row(where, index, values))
    return data


def _read_csv_dir(folder: Path) -> _Input:
    data = _Input()
    files = {p.name: p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".csv"}
    known = {f"{s}.csv" for s in SECTIONS} | {SETTINGS_FILE}
    for name in files:
        if name not in known:
            data.problems.append(ImportProblem(name, 0, "", _unknown(name, sorted(known))))
    if not known & files.keys():
        data.problems.append(
            ImportProblem(folder.name, 0, "", "no import files (specialties.csv, clinics.csv, …)")
        )
    for section in SECTIONS:
        path = files.get(f"{section}.csv")
        if path is not None:
            data.sections[section] = _read_csv(path, data.problems)
    settings = files.get(SETTINGS_FILE)
    if settings is not None:
        for row in _read_csv(settings, data.problems):
            key, value = row.values.get("key", ""), row.values.get("value", "")
            if key == "days_ahead" and (days := _days_ahead(value)) is not None:
                data.days_ahead = days
            elif key == "days_ahead":
                data.problems.append(
                    ImportProblem(row.file, row.row, "value", f"must be 1..{MAX_DAYS_AHEAD}")
                )
            else:
                data.problems.append(
                    ImportProblem(row.file, row.row, "key", "expected days_ahead")
                )
    return data


def _read_csv(path: Path, problems: list[ImportProblem]) -> list[_Row]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        problems.append(ImportProblem(name, 0, "", "not UTF-8 text (save it as CSV UTF-8)"))
        return []
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[_Row] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            duplicates = sorted({h for h in header if header.count(h) > 1})
            if duplicates:
                problems.append(ImportProblem(name, 1, ", ".join(duplicates), "repeated column"))
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            problems.append(ImportProblem(name, reader.line_num, "", "more cells than columns"))
        # A short row leaves its last fields out: as if those columns were absent.
        values = {h: c for h, c in zip(header, cells, strict=False) if h}
        rows.append(_Row(name, reader.line_num, values))
    if header is None:
        problems.append(ImportProblem(name, 0, "", "empty file (a header row is required)"))
    return rows


def _unknown(name: str, expected: Iterable[str]) -> str:
    return f"unknown {name!r} (expected one of: {', '.join(expected)})"


# --- fields ----------------------------------------------------------------------------------


class _Bad(ValueError):
    pass


def _text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise _Bad(f"longer than {limit} characters")
        return value

    return parse


def _code(value: str) -> str:
    if len(value) > 32 or any(ch.isspace() for ch in value):
        raise _Bad("expected a code: at most 32 characters, no spaces")
    return value


def _iin(value: str) -> str:
    try:
        return parse_iin(value).value
    except InvalidIin as exc:
        raise _Bad(f"invalid ИИН ({exc.reason.value})") from None


def _phone(value: str) -> str:
    try:
        return normalize_kz_mobile(value)
    except InvalidPhone as exc:
        raise _Bad(
            f"not a Kazakhstan mobile number +7 7xx xxx xx xx ({exc.reason.value})"
        ) from None


def _landline(value: str) -> str:
    if len(value) > 32 or not re.fullmatch(r"[0-9+()\- ]+", value):
        raise _Bad("expected a phone number: digits, spaces, + ( ) -")
    return value


def _language(value: str) -> Language:
    try:
        return Language(value.lower())
    except ValueError:
        raise _Bad("expected kk, ru or en") from None


def _tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Bad("unknown time zone (expected e.g. Asia/Almaty)") from None
    return value


_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def _time(value: str) -> dt.time:
    match = _TIME.fullmatch(value)
    if match is None:
        raise _Bad("expected a time HH:MM (00:00-23:59)")
    return dt.time(int(match[1]), int(match[2]))


WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "пн", "дс"),
        ("tue", "tuesday", "вт", "сс"),
        ("wed", "wednesday", "ср"),
        ("thu", "thursday", "чт", "бс"),
        ("fri", "friday", "пт", "жм"),
        ("sat", "saturday", "сб", "сн"),
        ("sun", "sunday", "вс", "жс"),
    )
):
    WEEKDAYS.update(dict.fromkeys((*_names, str(_i)), _i))


def _weekday(value: str) -> int:
    day = WEEKDAYS.get(value.lower())
    if day is None:
        raise _Bad("expected a weekday: 0-6 (0 = Monday) or mon..sun")
    return day


def _minutes(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_SLOT_MINUTES:
        raise _Bad(f"expected whole minutes 1..{MAX_SLOT_MINUTES}")
    return int(value)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _Bad("expected a date YYYY-MM-DD") from None


_AUDIENCES = {
    "children": Audience.CHILDREN, "child": Audience.CHILDREN, "дети": Audience.CHILDREN,
    "балалар": Audience.CHILDREN,
    "adults": Audience.ADULTS, "adult": Audience.ADULTS, "взрослые": Audience.ADULTS,
    "ересектер": Audience.ADULTS,
    "all": Audience.ALL, "everyone": Audience.ALL, "все": Audience.ALL, "барлығы": Audience.ALL,
}  # fmt: skip


def _audience(value: str) -> Audience:
    audience = _AUDIENCES.get(value.lower())
    if audience is None:
        raise _Bad("expected children (under 18), adults (18 and over) or all")
    return audience


_SCHEDULE_KINDS = {
    "reception": TemplateKind.RECEPTION, "clinic": TemplateKind.RECEPTION,
    "home_visits": TemplateKind.HOME_VISITS, "home": TemplateKind.HOME_VISITS,
}  # fmt: skip


def _schedule_kind(value: str) -> TemplateKind:
    kind = _SCHEDULE_KINDS.get(value.lower())
    if kind is None:
        raise _Bad("expected reception (clinic) or home_visits (home)")
    return kind


def _capacity(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_CAPACITY:
        raise _Bad(f"expected a whole number 1..{MAX_CAPACITY}")
    return int(value)


_KINDS = {"day_off": "day_off", "holiday": "day_off", "working": "working", "workday": "working"}


def _kind(value: str) -> str:
    kind = _KINDS.get(value.lower())
    if kind is None:
        raise _Bad("expected day_off (or holiday) or working")
    return kind


# The S17-S19 registers (TB, psychiatric, narcological dispensary registers), by the names a
# register export may use in English, Russian or Kazakh.
_REGISTERS = {
    "tb": Register.TB, "tuberculosis": Register.TB, "туберкулез": Register.TB,
    "туберкулёз": Register.TB, "противотуберкулезный": Register.TB,
    "psychiatry": Register.PSYCHIATRY, "psychiatric": Register.PSYCHIATRY,
    "психиатрия": Register.PSYCHIATRY, "психиатриялық": Register.PSYCHIATRY,
    "narcology": Register.NARCOLOGY, "narcological": Register.NARCOLOGY,
    "наркология": Register.NARCOLOGY, "наркологиялық": Register.NARCOLOGY,
}  # fmt: skip


def _register(value: str) -> Register:
    register = _REGISTERS.get(value.lower())
    if register is None:
        raise _Bad("expected tb, psychiatry or narcology")
    return register


_STATUSES = {"on": True, "off": False, "yes": True, "no": False, "1": True, "0": False}


def _status(value: str) -> bool:
    status = _STATUSES.get(value.lower())
    if status is None:
        raise _Bad("expected on (on the register) or off (taken off it)")
    return status


_HOURS_PART = re.compile(
    r"(?P<days>\S+)\s+(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})"
)


def _hours(value: str) -> str:
    """`mon-fri 08:00-20:00; sat 09:00-14:00` → the clinic's schedule (JSON); days not named
    are closed."""
    days: dict[int, OpeningHours] = {}
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        match = _HOURS_PART.fullmatch(part)
        if match is None:
            raise _Bad("expected e.g. 'mon-fri 08:00-20:00; sat 09:00-14:00'")
        opens, closes = _time(match["opens"]), _time(match["closes"])
        if opens >= closes:
            raise _Bad(f"{part!r}: opens after it closes")
        for item in match["days"].split(","):
            first, _, last = item.partition("-")
            lo, hi = _weekday(first), _weekday(last or first)
            if lo > hi:
                raise _Bad(f"{item!r}: days run Monday to Sunday")
            for day in range(lo, hi + 1):
                days[day] = OpeningHours(opens, closes)
    if not days:
        raise _Bad("no opening hours")
    return WeeklySchedule(days).to_json()


@dataclass(frozen=True)
class _Field:
    name: str
    parse: Callable[[str], Any]
    required: bool = False
    empty: Any = None  # the value of an empty cell


_NAME = _text(200)
FIELDS: dict[str, tuple[_Field, ...]] = {
    "specialties": (
        _Field("code", _code, required=True),
        _Field("name_kk", _NAME, required=True),
        _Field("name_ru", _NAME, required=True),
        _Field("name_en", _NAME),
        _Field("audience", _audience),  # empty or absent for a new one: by the code
    ),
    "clinics": (
        _Field("code", _code, required=True),
        _Field("name_kk", _text(300), required=True),
        _Field("name_ru", _text(300), required=True),
        _Field("name_en", _text(300)),
        _Field("address", _text(500), required=True),
        _Field("address_latin", _text(500)),  # issue 15: the official Latin form, if any
        _Field("tz", _tz, empty=DEFAULT_TZ),
        _Field("hours", _hours, empty=WeeklySchedule.standard().to_json()),
        _Field("phone", _landline),
    ),
    "doctors": (
        _Field("code", _code, required=True),
        _Field("clinic", _code, required=True),
        _Field("specialty", _code, required=True),
        _Field("surname", _text(100), required=True),
        _Field("given_name", _text(100), required=True),
        _Field("patronymic", _text(100)),
        _Field("room", _text(32), empty=""),
        _Field("name_latin", _text(300)),  # issue 15: the official Latin form, if any
    ),
    "districts": (
        _Field("clinic", _code, required=True),
        _Field("number", _text(16), required=True),
        _Field("doctor", _code),
    ),
    "schedules": (
        _Field("doctor", _code, required=True),
        _Field("weekday", _weekday, required=True),
        _Field("start", _time, required=True),
        _Field("end", _time, required=True),
        _Field("slot_minutes", _minutes),  # the default depends on the kind
        _Field("room", _text(32), empty=""),
        _Field("kind", _schedule_kind, empty=TemplateKind.RECEPTION),
        _Field("capacity", _capacity),
    ),
    "patients": (
        _Field("iin", _iin, required=True),
        _Field("surname", _text(100), required=True),
        _Field("given_name", _text(100), required=True),
        _Field("patronymic", _text(100)),
        _Field("phone", _phone),
        _Field("language", _language),
        _Field("address", _text(500)),
        _Field("representative_iin", _iin),
        _Field("clinic", _code),
        _Field("district", _text(16)),
        _Field("attached_since", _date),
    ),
    "calendar": (
        _Field("date", _date, required=True),
        _Field("kind", _kind, required=True),
        _Field("note", _text(200)),
    ),
    "registers": (
        _Field("iin", _iin, required=True),
        _Field("register", _register, required=True),
        _Field("since", _date),
        _Field("status", _status, empty=True),
    ),
}


@dataclass(frozen=True)
class _Record:
    file: str
    row: int
    values: dict[str, Any]  # parsed; a field absent from the input (or invalid) is absent here

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def problem(self, name: str, text: str) -> ImportProblem:
        return ImportProblem(self.file, self.row, name, text)


def _parse(data: _Input) -> dict[str, list[_Record]]:
    records: dict[str, list[_Record]] = {s: [] for s in SECTIONS}
    for section, rows in data.sections.items():
        fields = {f.name: f for f in FIELDS[section]}
        for row in rows:
            values: dict[str, Any] = {}
            for name in row.values:
                if name not in fields:
                    data.problems.append(
                        ImportProblem(row.file, row.row, name, _unknown(name, fields))
                    )
            for f in fields.values():
                text = row.values.get(f.name, "").strip()
                if f.required and not text:
                    problem = "empty" if f.name in row.values else "missing"
                    data.problems.append(ImportProblem(row.file, row.row, f.name, problem))
                elif f.name not in row.values:
                    continue  # absent: an existing row keeps its value
                elif not text:
                    values[f.name] = f.empty
                else:
                    try:
                        values[f.name] = f.parse(text)
                    except _Bad as exc:
                        data.problems.append(ImportProblem(row.file, row.row, f.name, str(exc)))
            # Rows with problems are kept for the cross-row checks (their keys still count as
            # defined, so one bad cell is not reported again as an unknown reference).
            records[section].append(_Record(row.file, row.row, values))
    return records


# --- checking against the file and the database ----------------------------------------------


@dataclass
class _Known:
    """What the database holds (objects by natural key), loaded once for checks and writes."""

    specialties: dict[str, Specialty]
    clinics: dict[str, Clinic]
    doctors: dict[str, Doctor]
    districts: dict[tuple[str, str], District]
    patients: dict[str, Patient]
    doctor_clinic: dict[str, str]  # doctor code → clinic code


async def _load_known(uow: UnitOfWork, records: dict[str, list[_Record]]) -> _Known:
    session = uow.session
    specialties = {s.code: s for s in (await session.execute(select(Specialty))).scalars()}
    clinics = {c.code: c for c in (await session.execute(select(Clinic))).scalars()}
    code_of = {c.id: code for code, c in clinics.items()}
    doctors = {d.code: d for d in (await session.execute(select(Doctor))).scalars()}
    districts = {
        (code_of[d.clinic_id], d.number): d
        for d in (await session.execute(select(District))).scalars()
    }
    patient_rows = records["patients"]
    iins = {r.values["iin"] for r in patient_rows if "iin" in r.values}
    iins |= {r.values["representative_iin"] for r in patient_rows if r.get("representative_iin")}
    patients: dict[str, Patient] = {}
    wanted = sorted(iins)
    for start in range(0, len(wanted), 1000):
        stmt = select(Patient).where(orm.patients.c.iin.in_(wanted[start : start + 1000]))
        patients.update((p.iin, p) for p in (await session.execute(stmt)).scalars())
    doctor_clinic = {code: code_of[d.clinic_id] for code, d in doctors.items()}
    return _Known(specialties, clinics, doctors, districts, patients, doctor_clinic)


class _Checker:
    """Cross-row checks: unique natural keys in the file, references to the file or the DB."""

    def __init__(self, records: dict[str, list[_Record]], known: _Known, today: dt.date) -> None:
        self.records = records
        self.today = today
        self.problems: list[ImportProblem] = []
        code = "code"
        self.specialties = self._unique("specialties", (code,)) | set(known.specialties)
        self.clinics = self._unique("clinics", (code,)) | set(known.clinics)
        self._unique("doctors", (code,))
        self.doctor_clinic = dict(known.doctor_clinic)
        self.doctor_clinic.update(
            (r.values[code], r.values["clinic"])
            for r in records["doctors"]
            if code in r.values and "clinic" in r.values
        )
        self.districts = self._unique("districts", ("clinic", "number")) | set(known.districts)
        self.patients = self._unique("patients", ("iin",)) | set(known.patients)
        self._unique("calendar", ("date",))
        self._unique("registers", ("iin", "register"))

    def _unique(self, section: str, key: tuple[str, ...]) -> set[Any]:
        seen: dict[Any, int] = {}
        for r in self.records[section]:
            if any(f not in r.values for f in key):
                continue
            k = tuple(r.values[f] for f in key)
            k = k[0] if len(k) == 1 else k
            if k in seen:
                shown = " + ".join(str(v) for v in k) if isinstance(k, tuple) else repr(k)
                self.problems.append(r.problem(key[-1], f"{shown} repeats row {seen[k]}"))
            else:
                seen[k] = r.row
        return set(seen)

    def run(self) -> list[ImportProblem]:
        for r in self.records["doctors"]:
            self._doctor(r)
        for r in self.records["districts"]:
            self._district(r)
        # A doctor's weekly schedule is stored by (doctor, weekday, start): one period each.
        periods: dict[tuple[str, int, dt.time], int] = {}
        for r in self.records["schedules"]:
            doctor, start, end = r.get("doctor"), r.get("start"), r.get("end")
            weekday = r.get("weekday")
            key = (doctor, weekday, start)
            if (
                doctor
                and start
                and weekday is not None
                and periods.setdefault(key, r.row) != r.row
            ):
                other = periods[key]
                message = f"{doctor!r} has another period from {start:%H:%M} (row {other})"
                self.problems.append(r.problem("start", message))
            if doctor and doctor not in self.doctor_clinic:
                self.problems.append(r.problem("doctor", f"unknown doctor {doctor!r}"))
            if start and end and start >= end:
                self.problems.append(r.problem("end", "must be after start"))
        self._overlaps()
        for r in self.records["patients"]:
            self._patient(r)
        for r in self.records["registers"]:
            self._registration(r)
        return self.problems

    def _overlaps(self) -> None:
        """Home-visit hours never overlap the same doctor's reception (issue 10)."""
        rows: dict[int, _Record] = {}
        templates: list[ScheduleTemplate] = []
        for r in self.records["schedules"]:
            template = _template(r)
            if template is not None:
                rows[id(template)] = r
                templates.append(template)
        for reception, home in overlapping(templates):
            self.problems.append(
                rows[id(home)].problem(
                    "start",
                    f"home visits {home.start:%H:%M}-{home.end:%H:%M} overlap the reception "
                    f"{reception.start:%H:%M}-{reception.end:%H:%M} of {home.doctor_code!r}",
                )
            )

    def _doctor(self, r: _Record) -> None:
        clinic, specialty = r.get("clinic"), r.get("specialty")
        if clinic and clinic not in self.clinics:
            self.problems.append(r.problem("clinic", f"unknown clinic {clinic!r}"))
        if specialty and specialty not in self.specialties:
            self.problems.append(r.problem("specialty", f"unknown specialty {specialty!r}"))

    def _district(self, r: _Record) -> None:
        clinic, doctor = r.get("clinic"), r.get("doctor")
        if clinic and clinic not in self.clinics:
            self.problems.append(r.problem("clinic", f"unknown clinic {clinic!r}"))
        if not doctor or not clinic:
            return
        works_at = self.doctor_clinic.get(doctor)
        if works_at is None:
            self.problems.append(r.problem("doctor", f"unknown doctor {doctor!r}"))
        elif works_at != clinic:
            self.problems.append(r.problem("doctor", f"{doctor!r} works at {works_at!r}"))

    def _patient(self, r: _Record) -> None:
        clinic, district = r.get("clinic"), r.get("district")
        if clinic and clinic not in self.clinics:
            self.problems.append(r.problem("clinic", f"unknown clinic {clinic!r}"))
        elif district and not clinic:
            self.problems.append(r.problem("district", "a district needs its clinic"))
        elif district and (clinic, district) not in self.districts:
            self.problems.append(r.problem("district", f"no district {district!r} at {clinic!r}"))
        if r.get("attached_since") and not clinic:
            self.problems.append(r.problem("attached_since", "an attachment needs its clinic"))
        representative = r.get("representative_iin")
        if representative and representative == r.get("iin"):
            self.problems.append(r.problem("representative_iin", "cannot represent oneself"))
        elif representative and representative not in self.patients:
            self.problems.append(
                r.problem("representative_iin", "no such patient in the file or the register")
            )

    def _registration(self, r: _Record) -> None:
        iin, since = r.get("iin"), r.get("since")
        if since is None:
            return
        if since > self.today:
            self.problems.append(r.problem("since", "in the future"))
        elif iin and since < parse_iin(iin).birth_date:
            self.problems.append(r.problem("since", "before the person's birth date (ИИН)"))


# --- writing ---------------------------------------------------------------------------------


def _apply(obj: object, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when something changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _present(record: _Record, mapping: dict[str, str]) -> dict[str, Any]:
    """The record's present fields, renamed to the model's attributes."""
    return {attr: record.values[src] for src, attr in mapping.items() if src in record.values}


def _named(record: _Record, mapping: dict[str, str]) -> dict[str, Any]:
    values = _present(record, mapping)
    if values.get("name_en", "") is None:  # an empty English name falls back to the Russian
        values["name_en"] = values["name_ru"]
    return values


def _id(value: int | None) -> int:
    if value is None:  # pragma: no cover - always flushed first
        raise RuntimeError("object not flushed")
    return value


_NAMES = {"code": "code", "name_kk": "name_kk", "name_ru": "name_ru", "name_en": "name_en"}
_CLINIC = {**_NAMES, "address": "address", "tz": "tz_name", "hours": "schedule_json",
           "phone": "phone", "address_latin": "address_latin"}  # fmt: skip
_DOCTOR = {"code": "code", "surname": "surname", "given_name": "given_name",
           "patronymic": "patronymic", "room": "room", "name_latin": "name_latin"}  # fmt: skip


def _latin_forms(values: dict[str, Any], current: Clinic | Doctor | None) -> None:
    """Issue 15: the Latin address or name, computed once (backend/domain/latin.py) unless the
    file gives the official form; recomputed when the Cyrillic one changes without it."""
    if isinstance(current, Doctor) or "surname" in values:
        if values.get("name_latin"):
            return
        parts = {k: values.get(k, getattr(current, k, None)) for k in _NAME_PARTS}
        if current is None or any(getattr(current, k) != v for k, v in parts.items()):
            values["name_latin"] = latin_name(
                parts["surname"] or "", parts["given_name"] or "", parts["patronymic"]
            )
        else:
            values.pop("name_latin", None)
        return
    if values.get("address_latin"):
        return
    address = values.get("address", getattr(current, "address", ""))
    if current is None or current.address != address or not current.address_latin:
        values["address_latin"] = to_latin(address or "")
    else:
        values.pop("address_latin", None)


_NAME_PARTS = ("surname", "given_name", "patronymic")
_PATIENT = {"surname": "surname", "given_name": "given_name", "patronymic": "patronymic",
            "phone": "phone", "language": "language", "address": "address"}  # fmt: skip


@dataclass
class _Writer:
    uow: UnitOfWork
    known: _Known
    summary: ImportSummary
    today: dt.date | None
    now: dt.datetime

    def local_today(self, clinic: Clinic) -> dt.date:
        return self.today if self.today is not None else self.now.astimezone(clinic.tz).date()

    def _count(self, kind: str, created: bool, changed: bool) -> None:
        self.summary.count(kind, "created" if created else "updated" if changed else "unchanged")

    async def write(self, records: dict[str, list[_Record]]) -> None:
        session = self.uow.session
        for r in records["specialties"]:
            self._specialty(r)
        for r in records["clinics"]:
            self._clinic(r)
        await session.flush()
        for r in records["doctors"]:
            self._doctor(r)
        await session.flush()
        for r in records["districts"]:
            self._district(r)
        await session.flush()
        await self._calendar(records["calendar"])
        await self._patients(records["patients"])
        await session.flush()
        await self._registers(records["registers"])

    def _specialty(self, r: _Record) -> None:
        values = _named(r, _NAMES)
        existing = self.known.specialties.get(r.values["code"])
        audience = r.values.get("audience")
        if audience is not None:
            values["audience"] = audience
        elif existing is None or "audience" in r.values:  # new, or an empty cell: the default
            values["audience"] = default_audience(r.values["code"])
        if existing is None:
            values.setdefault("name_en", values["name_ru"])
            self.known.specialties[r.values["code"]] = specialty = Specialty(**values)
            self.uow.session.add(specialty)
        self._count(
            "specialties", existing is None, existing is not None and _apply(existing, values)
        )

    def _clinic(self, r: _Record) -> None:
        values = _named(r, _CLINIC)
        existing = self.known.clinics.get(r.values["code"])
        _latin_forms(values, existing)
        if existing is None:
            values.setdefault("name_en", values["name_ru"])
            self.known.clinics[r.values["code"]] = clinic = Clinic(**values)
            self.uow.session.add(clinic)
        self._count("clinics", existing is None, existing is not None and _apply(existing, values))

    def _doctor(self, r: _Record) -> None:
        values = _present(r, _DOCTOR)
        values["clinic_id"] = _id(self.known.clinics[r.values["clinic"]].id)
        values["specialty_id"] = _id(self.known.specialties[r.values["specialty"]].id)
        existing = self.known.doctors.get(r.values["code"])
        _latin_forms(values, existing)
        if existing is None:
            self.known.doctors[r.values["code"]] = doctor = Doctor(**values)
            self.uow.session.add(doctor)
        self._count("doctors", existing is None, existing is not None and _apply(existing, values))

    def _district(self, r: _Record) -> None:
        key = (r.values["clinic"], r.values["number"])
        values: dict[str, Any] = {}
        if "doctor" in r.values:
            code = r.values["doctor"]
            values["doctor_id"] = _id(self.known.doctors[code].id) if code else None
        existing = self.known.districts.get(key)
        if existing is None:
            clinic_id = _id(self.known.clinics[key[0]].id)
            district = District(clinic_id=clinic_id, number=key[1], **values)
            self.known.districts[key] = district
            self.uow.session.add(district)
        self._count(
            "districts", existing is None, existing is not None and _apply(existing, values)
        )

    async def _calendar(self, rows: list[_Record]) -> None:
        if not rows:
            return
        table = orm.calendar_days
        stmt = select(table).where(table.c.day.in_([r.values["date"] for r in rows]))
        existing = {row.day: row for row in (await self.uow.session.execute(stmt)).all()}
        for r in rows:
            day, kind, note = r.values["date"], r.values["kind"], r.get("note")
            old = existing.get(day)
            if old is None:
                await self.uow.session.execute(insert(table).values(day=day, kind=kind, note=note))
            elif (old.kind, old.note) != (kind, note):
                await self.uow.session.execute(
                    update(table).where(table.c.day == day).values(kind=kind, note=note)
                )
            self._count(
                "calendar", old is None, old is not None and (old.kind, old.note) != (kind, note)
            )

    async def _patients(self, rows: list[_Record]) -> None:
        outcome: dict[str, tuple[bool, bool]] = {}  # ИИН → (created, changed)
        for r in rows:
            iin = r.values["iin"]
            values = _present(r, _PATIENT)
            existing = self.known.patients.get(iin)
            if existing is None:
                patient = Patient.register(iin=iin, **values)
                self.known.patients[iin] = patient
                self.uow.session.add(patient)
                outcome[iin] = (True, False)
            else:
                outcome[iin] = (False, _apply(existing, values))
        await self.uow.session.flush()
        attachments = await self._attachments(
            [_id(self.known.patients[r.values["iin"]].id) for r in rows if r.get("clinic")]
        )
        # Second pass: a representative may be a new patient of this same file.
        for r in rows:
            iin = r.values["iin"]
            patient = self.known.patients[iin]
            if "representative_iin" in r.values:
                rep = r.values["representative_iin"]
                rep_id = _id(self.known.patients[rep].id) if rep else None
                if patient.representative_id != rep_id:
                    patient.representative_id = rep_id
                    outcome[iin] = (outcome[iin][0], True)
            self._count("patients", *outcome[iin])
            if r.get("clinic"):
                self._attach(r, patient, attachments.get(_id(patient.id)))

    async def _registers(self, rows: list[_Record]) -> None:
        """The S17-S19 dispensary registers, by ИИН + register: on (added, or `since` updated)
        or off (the registration deleted: the statement then says "not on the register")."""
        if not rows:
            return
        table = orm.dispensary_registrations
        stmt = select(table).where(table.c.iin.in_(sorted({r.values["iin"] for r in rows})))
        existing = {
            (row.iin, row.register): row for row in (await self.uow.session.execute(stmt)).all()
        }
        for r in rows:
            iin, register = r.values["iin"], r.values["register"].value
            on, since = r.get("status", True), r.get("since")
            old = existing.get((iin, register))
            key = (table.c.iin == iin) & (table.c.register == register)
            if not on:
                if old is not None:
                    await self.uow.session.execute(delete(table).where(key))
                self.summary.count("registers", "removed" if old is not None else "unchanged")
            elif old is None:
                await self.uow.session.execute(
                    insert(table).values(iin=iin, register=register, since=since)
                )
                self._count("registers", created=True, changed=False)
            else:
                changed = "since" in r.values and old.since != since
                if changed:
                    await self.uow.session.execute(update(table).where(key).values(since=since))
                self._count("registers", created=False, changed=changed)

    async def _attachments(self, patient_ids: list[int]) -> dict[int, Attachment]:
        found: dict[int, Attachment] = {}
        for start in range(0, len(patient_ids), 1000):
            chunk = patient_ids[start : start + 1000]
            stmt = select(Attachment).where(orm.attachments.c.patient_id.in_(chunk))
            found.update(
                (a.patient_id, a) for a in (await self.uow.session.execute(stmt)).scalars()
            )
        return found

    def _attach(self, r: _Record, patient: Patient, attachment: Attachment | None) -> None:
        """Attach, or move the attachment; a row without a clinic leaves it as it is."""
        clinic = self.known.clinics[r.values["clinic"]]
        number = r.get("district")
        district = self.known.districts[clinic.code, number] if number else None
        since = r.get("attached_since")
        if attachment is None:
            self.uow.session.add(
                Attachment(
                    patient_id=_id(patient.id),
                    clinic_id=_id(clinic.id),
                    district_id=district.id if district else None,
                    since=since or self.local_today(clinic),
                )
            )
            self._count("attachments", created=True, changed=False)
            return
        moved = attachment.clinic_id != clinic.id
        values: dict[str, Any] = {"clinic_id": clinic.id}
        if "district" in r.values or moved:
            values["district_id"] = district.id if district else None
        if since or moved:
            values["since"] = since or self.local_today(clinic)
        self._count("attachments", created=False, changed=_apply(attachment, values))

    async def schedules(self, records: list[_Record], days: int) -> int:
        """Store the schedule rows as the doctors' weekly schedules (each doctor named here gets
        exactly its rows of this import) and make their slots from each clinic's local today."""
        templates = [t for t in map(_template, records) if t is not None]
        await save_templates(self.uow, templates)
        return await materialise_from_today(
            self.uow, templates, now=self.now, days=days, today=self.today
        )


def _template(r: _Record) -> ScheduleTemplate | None:
    """The schedule row as a template (None when a cell is missing or invalid). Home-visit
    rows are cut into 2-hour windows of 4 visits unless `slot_minutes` / `capacity` say."""
    kind = r.values.get("kind", TemplateKind.RECEPTION)
    home = kind is TemplateKind.HOME_VISITS
    minutes = r.values.get("slot_minutes")
    if minutes is None:
        minutes = HOME_VISIT_WINDOW_MINUTES if home else DEFAULT_SLOT_MINUTES
    capacity = r.values.get("capacity")
    if capacity is None:
        capacity = HOME_VISITS_PER_WINDOW if home else 1
    try:
        return ScheduleTemplate(
            doctor_code=r.values["doctor"],
            weekday=r.values["weekday"],
            start=r.values["start"],
            end=r.values["end"],
            slot_minutes=minutes,
            room=r.values.get("room", "") if not home else "",
            kind=kind,
            capacity=capacity,
        )
    except (KeyError, ValueError):
        return None


# --- the entry point -------------------------------------------------------------------------


def _read_input(path: Path) -> _Input:
    if path.is_dir():
        return _read_csv_dir(path)
    if path.is_file():
        return _read_json(path)
    data = _Input()
    data.problems.append(ImportProblem(str(path), 0, "", "no such file or folder"))
    return data


def _problem_order(p: ImportProblem) -> tuple[int, str, int]:
    section = p.file.rsplit(":", 1)[-1].removesuffix(".csv")
    rank = SECTIONS.index(section) if section in SECTIONS else -1
    return (rank, p.file, p.row)


async def import_path(
    backend: Backend,
    path: Path,
    *,
    days_ahead: int | None = None,
    today: dt.date | None = None,
) -> ImportSummary:
    """Validate and import `path` (a JSON file or a folder of CSV files) in one transaction.

    The schedule rows replace the stored weekly schedules of the doctors they name; slots are
    materialised from them for `days_ahead` days (the argument, else the file's `days_ahead`,
    else 14) from `today` (default: each clinic's local date now), and a row is added to the
    `imports` table. Raises ImportFileError, having written nothing, when any row has a problem.
    """
    data = _read_input(path)
    records = _parse(data)
    days = days_ahead or data.days_ahead or DEFAULT_DAYS_AHEAD
    summary = ImportSummary(source=str(path)[-300:], days_ahead=days)
    now = backend.clock.now()
    async with backend.uow() as uow:
        known = await _load_known(uow, records)
        local_today = today or now.astimezone(ZoneInfo(DEFAULT_TZ)).date()
        problems = data.problems + _Checker(records, known, local_today).run()
        if problems:
            raise ImportFileError(sorted(problems, key=_problem_order))
        writer = _Writer(uow, known, summary, today, now)
        await writer.write(records)
        summary.slots_created = await writer.schedules(records["schedules"], days)
        result = await uow.session.execute(
            insert(orm.imports)
            .values(at=now, source=summary.source, summary=summary.as_json())
            .returning(orm.imports.c.id)
        )
        summary.import_id = int(result.scalar_one())
        await uow.commit()
    await announce_patient_changes(uow)  # new phones end sessions, new languages show (issue 16)
    return summary

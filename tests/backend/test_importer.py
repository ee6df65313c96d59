"""`dariger import`: JSON and CSV give one register; re-imports upsert; bad rows write nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.calendar import WeeklySchedule
from backend.domain.model import Audience
from backend.ports import FixedClock
from backend.services.importer import ImportFileError, ImportProblem, import_path
from backend.services.schedules import ScheduleTemplate, TemplateKind, stored_templates
from tests.backend import _db

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
PILOT_JSON = FIXTURES / "pilot.json"
PILOT_CSV = FIXTURES / "csv"
TODAY = dt.date(2026, 12, 14)  # Monday; 16 Dec Independence Day; 19 Dec (Sat) made working
ALMATY = ZoneInfo("Asia/Almaty")
MOTHER, CHILD, UNATTACHED = "820412420011", "200617620040", "990808320061"


async def snapshot(backend: Backend) -> dict[str, Any]:
    """The register by natural keys, comparable across databases."""
    async with backend.uow() as uow:

        async def rows(table: Any) -> list[Any]:
            return list((await uow.session.execute(select(table))).all())

        specialty = {r.id: r.code for r in await rows(orm.specialties)}
        clinic = {r.id: r.code for r in await rows(orm.clinics)}
        doctor = {r.id: r.code for r in await rows(orm.doctors)}
        district = {r.id: r.number for r in await rows(orm.districts)}
        patient = {r.id: r.iin for r in await rows(orm.patients)}
        return {
            "specialties": sorted((r.code, r.name_kk, r.name_ru, r.name_en)
                                  for r in await rows(orm.specialties)),
            "clinics": sorted((r.code, r.name_kk, r.name_ru, r.name_en, r.address, r.tz_name,
                               r.schedule_json, r.phone) for r in await rows(orm.clinics)),
            "doctors": sorted((r.code, clinic[r.clinic_id], specialty[r.specialty_id], r.surname,
                               r.given_name, r.patronymic, r.room)
                              for r in await rows(orm.doctors)),
            "districts": sorted((clinic[r.clinic_id], r.number, doctor.get(r.doctor_id))
                                for r in await rows(orm.districts)),
            "patients": sorted((r.iin, r.surname, r.given_name, r.patronymic, r.birth_date,
                                r.sex, r.phone, r.language, r.address,
                                patient.get(r.representative_id))
                               for r in await rows(orm.patients)),
            "attachments": sorted((patient[r.patient_id], clinic[r.clinic_id],
                                   district.get(r.district_id), r.since)
                                  for r in await rows(orm.attachments)),
            "calendar": sorted((r.day, r.kind, r.note) for r in await rows(orm.calendar_days)),
            "slots": sorted((doctor[r.doctor_id], r.starts_at, r.ends_at, r.room)
                            for r in await rows(orm.slots)),
        }  # fmt: skip


async def count(backend: Backend, table: Any) -> int:
    async with backend.uow() as uow:
        stmt = select(func.count()).select_from(table)
        return int((await uow.session.execute(stmt)).scalar_one())


def copy_csv(tmp_path: Path) -> Path:
    folder = tmp_path / "csv"
    shutil.copytree(PILOT_CSV, folder)
    return folder


def edit_csv(path: Path, edit: Any) -> None:
    """Rewrite a CSV file: `edit(rows)` changes the list of dicts in place."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    edit(rows)
    fields += [name for row in rows for name in row if name not in fields]  # new columns
    fields = list(dict.fromkeys(fields))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def by(rows: list[dict[str, str]], **match: str) -> dict[str, str]:
    return next(r for r in rows if all(r[k] == v for k, v in match.items()))


async def test_json_import_fills_the_register(backend: Backend) -> None:
    summary = await import_path(backend, PILOT_JSON, today=TODAY)
    assert summary.created == {"specialties": 4, "clinics": 1, "doctors": 4, "districts": 3,
                               "patients": 6, "calendar": 2, "attachments": 5}  # fmt: skip
    assert summary.days_ahead == 21
    assert summary.slots_created > 0
    snap = await snapshot(backend)
    clinic = snap["clinics"][0]
    assert clinic[0] == "KOSSHY-CP"
    assert clinic[5] == "Asia/Almaty"
    assert WeeklySchedule.from_json(clinic[6]) == WeeklySchedule.standard()
    assert ("KOSSHY-CP", "3", "KOS-P1") in snap["districts"]
    patients = {p[0]: p for p in snap["patients"]}
    assert patients["751003320029"][6] == "+77775552002"  # normalised to E.164
    assert patients[CHILD][9] == MOTHER
    assert patients["581201320059"][6] is None
    assert patients[MOTHER][7] == "kk"
    attached = {a[0]: a for a in snap["attachments"]}
    assert UNATTACHED not in attached
    assert attached[CHILD] == (CHILD, "KOSSHY-CP", "3", dt.date(2020, 6, 30))
    assert snap["calendar"] == [
        (dt.date(2026, 12, 19), "working", "example: a Saturday made a working day"),
        (dt.date(2026, 12, 31), "day_off", "example: a transferred day off"),
    ]
    async with backend.uow() as uow:
        imports = (await uow.session.execute(select(orm.imports))).all()
    assert len(imports) == 1
    assert imports[0].id == summary.import_id
    assert imports[0].summary["created"]["patients"] == 6
    assert imports[0].summary["slots_created"] == summary.slots_created
    assert "patients" in str(summary)


async def test_calendar_days_shape_the_slots(backend: Backend) -> None:
    await import_path(backend, PILOT_JSON, today=TODAY)
    snap = await snapshot(backend)
    by_day: dict[dt.date, list[tuple[str, dt.time]]] = {}
    for code, starts, ends, _room in snap["slots"]:
        local = starts.astimezone(ALMATY)
        by_day.setdefault(local.date(), []).append((code, local.time()))
        working_saturday = local.date() == dt.date(2026, 12, 19)
        hours = WeeklySchedule.standard().hours_on(0 if working_saturday else local.weekday())
        assert hours is not None
        assert hours.opens <= local.time() and ends.astimezone(ALMATY).time() <= hours.closes
    window = {TODAY + dt.timedelta(days=i) for i in range(21)}
    assert set(by_day) <= window
    assert dt.date(2026, 12, 31) not in by_day  # calendar.csv/json: a transferred day off
    assert dt.date(2026, 12, 16) not in by_day  # Independence Day
    assert dt.date(2027, 1, 1) not in by_day and dt.date(2027, 1, 2) not in by_day
    assert all(d.weekday() != 6 for d in by_day)
    # Saturday 19 December is a working day: Monday's hours and Monday's schedules
    assert ("KOS-G1", dt.time(19, 40)) in by_day[dt.date(2026, 12, 19)]
    assert ("KOS-T1", dt.time(8)) in by_day[dt.date(2026, 12, 19)]
    # an ordinary Saturday runs the Saturday template, inside 09:00-14:00
    saturday = sorted(by_day[dt.date(2026, 12, 26)])
    assert saturday[0] == ("KOS-T1", dt.time(9)) and saturday[-1] == ("KOS-T1", dt.time(12, 40))
    neuro = [s for s in snap["slots"] if s[0] == "KOS-N1"]
    assert neuro and all(s[3] == "31" for s in neuro)
    assert all(s[3] == "12" for s in snap["slots"] if s[0] == "KOS-T1")


async def test_csv_and_json_give_the_same_register(backend: Backend, tmp_path: Path) -> None:
    await import_path(backend, PILOT_CSV, today=TODAY)
    other = await _db.fresh_sqlite(tmp_path / "json.db")
    try:
        await import_path(other, PILOT_JSON, today=TODAY)
        assert await snapshot(backend) == await snapshot(other)
    finally:
        await other.close()
    again = await import_path(backend, PILOT_JSON, today=TODAY)
    assert again.created == {}
    assert again.updated == {}
    assert again.slots_created == 0
    assert await count(backend, orm.imports) == 2


async def test_reimport_updates_and_never_deletes(backend: Backend, tmp_path: Path) -> None:
    await import_path(backend, PILOT_CSV, today=TODAY)
    before = await snapshot(backend)
    folder = copy_csv(tmp_path)

    def patients(rows: list[dict[str, str]]) -> None:
        mother = by(rows, iin=MOTHER)
        mother["phone"] = "+7 778 000 11 22"
        mother["surname"] = "Мұхаметжан"
        mother["district"] = "2"
        by(rows, iin="581201320059")["phone"] = "87011234567"
        rows.remove(by(rows, iin=UNATTACHED))  # absent from the file: kept in the register
        rows.append({**by(rows, iin="751003320029"), "iin": "830101330013", "phone": "",
                     "given_name": "Жаңа"})  # fmt: skip

    edit_csv(folder / "patients.csv", patients)
    edit_csv(folder / "doctors.csv", lambda rows: by(rows, code="KOS-G1").update(room="15"))
    edit_csv(folder / "districts.csv", lambda rows: by(rows, number="2").update(doctor=""))
    summary = await import_path(backend, folder, today=TODAY)
    assert summary.created == {"patients": 1, "attachments": 1}
    assert summary.updated == {"patients": 2, "doctors": 1, "districts": 1, "attachments": 1}
    after = await snapshot(backend)
    people = {p[0]: p for p in after["patients"]}
    assert people[MOTHER][1] == "Мұхаметжан"
    assert people[MOTHER][6] == "+77780001122"
    assert people["581201320059"][6] == "+77011234567"
    assert UNATTACHED in people
    assert people["830101330013"][6] is None
    attached = {a[0]: a for a in after["attachments"]}
    assert attached[MOTHER][2] == "2"
    assert attached[MOTHER][3] == dt.date(2023, 2, 1)
    assert ("KOSSHY-CP", "2", None) in after["districts"]
    assert len(after["patients"]) == len(before["patients"]) + 1
    assert len(after["doctors"]) == len(before["doctors"])
    assert after["slots"] == before["slots"]


async def templates(backend: Backend) -> list[ScheduleTemplate]:
    async with backend.uow() as uow:
        return await stored_templates(uow)


def csv_templates(folder: Path) -> set[ScheduleTemplate]:
    """The schedule rows of a CSV folder as templates (as the importer reads them)."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def weekday(text: str) -> int:
        return int(text) if text.isdigit() else days.index(text)

    with (folder / "schedules.csv").open(encoding="utf-8", newline="") as f:
        return {
            ScheduleTemplate(r["doctor"], weekday(r["weekday"]),
                             dt.time.fromisoformat(r["start"]), dt.time.fromisoformat(r["end"]),
                             int(r["slot_minutes"] or 20), r["room"])
            for r in csv.DictReader(f)
        }  # fmt: skip


async def test_import_keeps_the_schedules(backend: Backend) -> None:
    await import_path(backend, PILOT_CSV, today=TODAY)
    stored = await templates(backend)
    assert len(stored) == 18
    assert set(stored) == csv_templates(PILOT_CSV)
    assert ScheduleTemplate("KOS-N1", 1, dt.time(9), dt.time(13), 30, "31") in stored


async def test_reimport_replaces_the_schedules_of_the_doctors_it_names(
    backend: Backend, tmp_path: Path
) -> None:
    await import_path(backend, PILOT_CSV, today=TODAY)
    before = await templates(backend)
    folder = copy_csv(tmp_path)

    def schedules(rows: list[dict[str, str]]) -> None:
        # KOS-T1 now works Monday afternoons only; the other doctors are not in the file.
        rows[:] = [{"doctor": "KOS-T1", "weekday": "mon", "start": "14:00", "end": "18:00",
                    "slot_minutes": "30", "room": "5"}]  # fmt: skip

    edit_csv(folder / "schedules.csv", schedules)
    summary = await import_path(backend, folder, today=TODAY)

    after = await templates(backend)
    new_t1 = ScheduleTemplate("KOS-T1", 0, dt.time(14), dt.time(18), 30, "5")
    assert [t for t in after if t.doctor_code == "KOS-T1"] == [new_t1]
    others = [t for t in before if t.doctor_code != "KOS-T1"]
    assert [t for t in after if t.doctor_code != "KOS-T1"] == others
    assert len(others) == 12
    assert summary.slots_created > 0  # Monday 14:00-18:00 in 30-minute slots were new


async def test_a_period_given_twice_is_a_problem(backend: Backend, tmp_path: Path) -> None:
    folder = copy_csv(tmp_path)
    edit_csv(
        folder / "schedules.csv",
        lambda rows: rows.append({**rows[0], "end": "12:00"}),  # KOS-T1, Monday from 08:00
    )
    with pytest.raises(ImportFileError) as caught:
        await import_path(backend, folder, today=TODAY)
    assert [(p.file, p.row, p.field) for p in caught.value.problems] == [
        ("schedules.csv", 20, "start")
    ]
    assert "row 2" in caught.value.problems[0].problem
    await assert_nothing_written(backend)


async def test_absent_column_keeps_empty_cell_clears(backend: Backend, tmp_path: Path) -> None:
    await import_path(backend, PILOT_JSON, today=TODAY)
    only_names = tmp_path / "names"
    only_names.mkdir()
    (only_names / "patients.csv").write_text(
        f"iin;surname;given_name\n{MOTHER};Мұхаметжанова;Гүлмира\n", encoding="utf-8"
    )  # semicolons, as Excel writes in a Russian locale
    summary = await import_path(backend, only_names, today=TODAY)
    assert summary.unchanged == {"patients": 1}
    people = {p[0]: p for p in (await snapshot(backend))["patients"]}
    assert people[MOTHER][6] == "+77015552001"
    assert people[MOTHER][3] == "Серікқызы"

    (only_names / "patients.csv").write_text(
        f"iin,surname,given_name,phone,representative_iin\n{CHILD},Мұхаметжанова,Айша,,\n",
        encoding="utf-8",
    )
    await import_path(backend, only_names, today=TODAY)
    people = {p[0]: p for p in (await snapshot(backend))["patients"]}
    assert people[CHILD][9] is None


async def test_moving_clinic_resets_district(
    backend: Backend, clock: FixedClock, tmp_path: Path
) -> None:
    clock.current = dt.datetime(2026, 12, 14, 20, 0, tzinfo=dt.UTC)  # the 15th in Almaty
    await import_path(backend, PILOT_JSON, today=TODAY)
    data = json.loads(PILOT_JSON.read_text(encoding="utf-8"))
    second = {"code": "KOSSHY-2", "name_kk": "Екінші емхана", "name_ru": "Вторая поликлиника",
              "name_en": "", "address": "Қосшы, 1"}  # fmt: skip
    move = {"iin": "751003320029", "surname": "Петренко", "given_name": "Андрей",
            "clinic": "KOSSHY-2"}  # fmt: skip
    path = tmp_path / "move.json"
    path.write_text(json.dumps({"clinics": [second], "patients": [move]}), encoding="utf-8")
    summary = await import_path(backend, path)
    assert summary.updated == {"attachments": 1}
    snap = await snapshot(backend)
    attached = {a[0]: a for a in snap["attachments"]}
    assert attached["751003320029"] == ("751003320029", "KOSSHY-2", None, dt.date(2026, 12, 15))
    clinic = next(c for c in snap["clinics"] if c[0] == "KOSSHY-2")
    assert clinic[3] == "Вторая поликлиника"  # an empty English name falls back to Russian
    assert WeeklySchedule.from_json(clinic[6]) == WeeklySchedule.standard()
    assert data["days_ahead"] == 21


async def assert_nothing_written(backend: Backend) -> None:
    for table in (orm.specialties, orm.clinics, orm.doctors, orm.districts, orm.patients,
                  orm.attachments, orm.slots, orm.calendar_days, orm.imports,
                  orm.schedule_templates):  # fmt: skip
        assert await count(backend, table) == 0, table.name


async def test_bad_csv_rows_are_listed_and_nothing_is_written(
    backend: Backend, tmp_path: Path
) -> None:
    folder = copy_csv(tmp_path)

    def patients(rows: list[dict[str, str]]) -> None:
        by(rows, iin="751003320029")["iin"] = "751003320028"  # wrong check digit
        by(rows, iin="010228620035")["phone"] = "+7 495 123 45 67"  # a Moscow landline
        by(rows, iin="581201320059")["clinic"] = "NO-SUCH"

    edit_csv(folder / "patients.csv", patients)
    edit_csv(folder / "schedules.csv", lambda rows: rows[0].update(start="8h", weekday="funday"))
    with pytest.raises(ImportFileError) as caught:
        await import_path(backend, folder, today=TODAY)
    problems = caught.value.problems
    assert {(p.file, p.row, p.field) for p in problems} == {
        ("patients.csv", 3, "iin"),
        ("patients.csv", 4, "phone"),
        ("patients.csv", 6, "clinic"),
        ("schedules.csv", 2, "start"),
        ("schedules.csv", 2, "weekday"),
    }
    iin_problem = next(p for p in problems if p.field == "iin")
    assert "bad_checksum" in iin_problem.problem
    assert "patients.csv, row 3, iin" in str(caught.value)
    await assert_nothing_written(backend)


async def test_bad_json_rows_are_listed_and_nothing_is_written(
    backend: Backend, tmp_path: Path
) -> None:
    data = json.loads(PILOT_JSON.read_text(encoding="utf-8"))
    data["doctors"][1]["clinic"] = "ELSEWHERE"
    data["patients"][0]["phone"] = "12345"
    data["patients"][3]["representative_iin"] = "900101300000"
    data["districts"][2]["doctor"] = "KOS-N2"
    data["calendar"].append({"date": "2026-12-31", "kind": "holiday"})
    data["extra"] = []
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        await import_path(backend, path, today=TODAY)
    assert set(caught.value.problems) >= {
        ImportProblem("bad.json", 0, "extra", "unknown 'extra' (expected one of: specialties, "
                      "clinics, doctors, districts, schedules, patients, calendar, registers)"),
    }  # fmt: skip
    assert {(p.file, p.row, p.field) for p in caught.value.problems} == {
        ("bad.json", 0, "extra"),
        ("bad.json:doctors", 2, "clinic"),
        ("bad.json:districts", 2, "doctor"),  # KOS-G1 now said to work elsewhere
        ("bad.json:districts", 3, "doctor"),
        ("bad.json:patients", 1, "phone"),
        ("bad.json:patients", 4, "representative_iin"),
        ("bad.json:calendar", 3, "date"),
    }
    await assert_nothing_written(backend)


async def test_references_may_point_into_the_register(backend: Backend, tmp_path: Path) -> None:
    await import_path(backend, PILOT_JSON, today=TODAY)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "doctors.csv").write_text(
        "code,clinic,specialty,surname,given_name\nKOS-T2,KOSSHY-CP,therapist,Оспанов,Ерлан\n",
        encoding="utf-8",
    )
    (folder / "districts.csv").write_text("clinic,number,doctor\nKOSSHY-CP,4,KOS-T2\n")
    (folder / "patients.csv").write_text(
        "iin,surname,given_name,representative_iin,clinic,district\n"
        f"230505630023,Тоқтарова,Мая,{UNATTACHED},KOSSHY-CP,4\n",
        encoding="utf-8",
    )
    summary = await import_path(backend, folder, today=TODAY)
    assert summary.created == {"doctors": 1, "districts": 1, "patients": 1, "attachments": 1}
    people = {p[0]: p for p in (await snapshot(backend))["patients"]}
    assert people["230505630023"][9] == UNATTACHED


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"patient.csv": "iin\n"}, ("patient.csv", 0, "")),
        ({"clinics.csv": "code,name\nX,Y\n"}, ("clinics.csv", 2, "name")),
        ({"clinics.csv": "code,name_kk,name_ru,address\nX,a,b,c,EXTRA\n"}, ("clinics.csv", 2, "")),
        ({"clinics.csv": "code,name_kk,name_ru,address,hours\nX,a,b,c,mon-fri 9-18\n"},
         ("clinics.csv", 2, "hours")),
        ({"clinics.csv": "code,name_kk,name_ru,address,tz\nX,a,b,c,Mars/Olympus\n"},
         ("clinics.csv", 2, "tz")),
        ({"calendar.csv": "date,kind\n2026-02-30,day_off\n"}, ("calendar.csv", 2, "date")),
        ({"settings.csv": "key,value\ndays_ahead,1000\n"}, ("settings.csv", 2, "value")),
        ({"patients.csv": "iin,surname\n820412420011,\n"}, ("patients.csv", 2, "surname")),
        ({"specialties.csv": "code,name_kk,name_ru\nbad code,a,b\n"},
         ("specialties.csv", 2, "code")),
    ],
)  # fmt: skip
async def test_format_problems(
    backend: Backend, tmp_path: Path, files: dict[str, str], expected: tuple[str, int, str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        await import_path(backend, tmp_path, today=TODAY)
    assert expected in {(p.file, p.row, p.field) for p in caught.value.problems}
    await assert_nothing_written(backend)


# --- issue 10: specialties' ages, home-visit hours --------------------------------------------


async def audiences(backend: Backend) -> dict[str, Audience]:
    async with backend.uow() as uow:
        stmt = select(orm.specialties.c.code, orm.specialties.c.audience)
        return dict((await uow.session.execute(stmt)).all())


async def test_specialties_serve_ages_by_default_or_as_imported(
    backend: Backend, tmp_path: Path
) -> None:
    await import_path(backend, PILOT_JSON, today=TODAY)
    assert await audiences(backend) == {
        "therapist": Audience.ADULTS,
        "gp": Audience.ALL,
        "pediatrician": Audience.CHILDREN,
        "neurologist": Audience.ALL,
    }
    folder = tmp_path / "ages"
    folder.mkdir()
    (folder / "specialties.csv").write_text(
        "code,name_kk,name_ru,audience\n"
        "neurologist,Невропатолог,Невропатолог,children\n"
        "therapist,Терапевт,Терапевт,\n"  # empty: back to the default
        "gp,Жалпы практика дәрігері,Врач общей практики,ALL\n",
        encoding="utf-8",
    )
    await import_path(backend, folder, today=TODAY)
    assert (await audiences(backend))["neurologist"] is Audience.CHILDREN
    assert (await audiences(backend))["therapist"] is Audience.ADULTS

    (folder / "specialties.csv").write_text(
        "code,name_kk,name_ru,audience\ngp,ЖПД,ВОП,babies\n", encoding="utf-8"
    )
    with pytest.raises(ImportFileError) as caught:
        await import_path(backend, folder, today=TODAY)
    assert [(p.file, p.row, p.field) for p in caught.value.problems] == [
        ("specialties.csv", 2, "audience")
    ]


def _home_rows(*rows: dict[str, str]) -> Any:
    def edit(existing: list[dict[str, str]]) -> None:
        for r in existing:
            r.setdefault("kind", "")
            r.setdefault("capacity", "")
        existing.extend({"slot_minutes": "", "room": "", "capacity": "", **r} for r in rows)

    return edit


async def test_home_visit_hours_are_imported_with_the_schedule_and_make_no_slots(
    backend: Backend, tmp_path: Path
) -> None:
    await import_path(backend, PILOT_CSV, today=TODAY)
    slots_before = await count(backend, orm.slots)
    folder = copy_csv(tmp_path)
    edit_csv(
        folder / "schedules.csv",
        _home_rows(
            {
                "doctor": "KOS-T1",
                "weekday": "mon",
                "start": "14:00",
                "end": "18:00",
                "kind": "home_visits",
            },
            {
                "doctor": "KOS-G1",
                "weekday": "tue",
                "start": "09:00",
                "end": "12:00",
                "kind": "home",
                "slot_minutes": "60",
                "capacity": "2",
            },
        ),
    )

    summary = await import_path(backend, folder, today=TODAY)

    stored = await templates(backend)
    home = sorted((t for t in stored if t.kind is TemplateKind.HOME_VISITS), key=repr)
    assert home == sorted(
        [
            ScheduleTemplate.home_visits("KOS-T1", 0, dt.time(14), dt.time(18)),
            ScheduleTemplate.home_visits(
                "KOS-G1", 1, dt.time(9), dt.time(12), window_minutes=60, capacity=2
            ),
        ],
        key=repr,
    )
    assert len(stored) == 20
    assert summary.slots_created == 0  # home-visit hours are not bookable slots
    assert await count(backend, orm.slots) == slots_before


async def test_home_visit_hours_overlapping_the_reception_are_a_problem(
    backend: Backend, tmp_path: Path
) -> None:
    folder = copy_csv(tmp_path)
    edit_csv(
        folder / "schedules.csv",
        _home_rows(
            # KOS-T1 receives on Mondays 08:00-14:00
            {
                "doctor": "KOS-T1",
                "weekday": "mon",
                "start": "13:00",
                "end": "15:00",
                "kind": "home_visits",
            },
            {
                "doctor": "KOS-T1",
                "weekday": "tue",
                "start": "15:00",
                "end": "17:00",
                "kind": "visits",
                "capacity": "0",
            },
        ),
    )

    with pytest.raises(ImportFileError) as caught:
        await import_path(backend, folder, today=TODAY)

    assert [(p.file, p.row, p.field) for p in caught.value.problems] == [
        ("schedules.csv", 20, "start"),
        ("schedules.csv", 21, "kind"),
        ("schedules.csv", 21, "capacity"),
    ]
    assert "overlap" in caught.value.problems[0].problem
    await assert_nothing_written(backend)

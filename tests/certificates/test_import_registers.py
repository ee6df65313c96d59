"""Issue 13: `dariger import` reads the S17-S19 dispensary registers (JSON and CSV); bad rows
are reported by file, row and field and write nothing; after an import, an S17/S18/S19
request for an imported patient gets the statement the register says."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services import certificates
from backend.services import documents as service
from backend.services.documents import Documents
from backend.services.importer import ImportFileError, ImportProblem, import_path

TODAY = dt.date(2026, 11, 23)
ERLAN, GULMIRA = "990808320061", "820412420011"  # valid ИИНs (tests/fixtures/import)
PATIENTS = [
    {"iin": ERLAN, "surname": "Тоқтаров", "given_name": "Ерлан", "phone": "+7 747 555 20 06"},
    {"iin": GULMIRA, "surname": "Мұхаметжанова", "given_name": "Гүлмира"},
]


def write_json(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


async def registrations(backend: Backend) -> list[tuple[str, str, dt.date | None]]:
    table = orm.dispensary_registrations
    async with backend.uow() as uow:
        rows = (await uow.session.execute(select(table))).all()
    return sorted((r.iin, r.register, r.since) for r in rows)


async def patient_id(backend: Backend, iin: str) -> int:
    async with backend.uow() as uow:
        stmt = select(orm.patients.c.id).where(orm.patients.c.iin == iin)
        return int((await uow.session.execute(stmt)).scalar_one())


async def statement(
    backend: Backend, documents: Documents, clock: FixedClock, iin: str, kind: ServiceType
) -> bool | None:
    """Request the statement as the patient does, and let the system issue it."""
    summary = await certificates.request_certificate(
        backend.uow(), await patient_id(backend, iin), kind, now=clock.now()
    )
    issued = await service.issue_statement(
        backend.uow(), documents, summary.number, now=clock.now()
    )
    assert issued.service is kind
    return issued.on_register


async def test_json_registers_decide_the_statements(
    backend: Backend, documents: Documents, clock: FixedClock, tmp_path: Path
) -> None:
    path = write_json(
        tmp_path,
        "registers.json",
        {
            "patients": PATIENTS,
            "registers": [
                {"iin": ERLAN, "register": "tb", "since": "2024-02-01"},
                {"iin": ERLAN, "register": "Наркология"},  # Russian name, no date
                {"iin": GULMIRA, "register": "psychiatry", "status": "on"},
            ],
        },
    )
    summary = await import_path(backend, path, today=TODAY)
    assert summary.created == {"patients": 2, "registers": 3}
    assert "registers" in str(summary)
    assert await registrations(backend) == [
        (GULMIRA, "psychiatry", None),
        (ERLAN, "narcology", None),
        (ERLAN, "tb", dt.date(2024, 2, 1)),
    ]

    assert await statement(backend, documents, clock, ERLAN, ServiceType.STATEMENT_TB) is True
    assert (
        await statement(backend, documents, clock, ERLAN, ServiceType.STATEMENT_PSYCHIATRY)
        is False
    )
    assert (
        await statement(backend, documents, clock, ERLAN, ServiceType.STATEMENT_NARCOLOGY) is True
    )
    assert await statement(backend, documents, clock, GULMIRA, ServiceType.STATEMENT_TB) is False
    assert (
        await statement(backend, documents, clock, GULMIRA, ServiceType.STATEMENT_PSYCHIATRY)
        is True
    )

    # Re-import: Ерлан taken off the TB register, the narcological date set; the rest kept.
    again = write_json(
        tmp_path,
        "again.json",
        {
            "registers": [
                {"iin": ERLAN, "register": "tb", "status": "off"},
                {"iin": ERLAN, "register": "narcology", "since": "2025-05-05"},
                {"iin": GULMIRA, "register": "psychiatry"},
                {"iin": GULMIRA, "register": "narcology", "status": "off"},  # was not on it
            ]
        },
    )
    summary = await import_path(backend, again, today=TODAY)
    assert summary.removed == {"registers": 1}
    assert summary.updated == {"registers": 1}
    assert summary.unchanged == {"registers": 2}
    assert "1 taken off" in str(summary)
    assert await registrations(backend) == [
        (GULMIRA, "psychiatry", None),
        (ERLAN, "narcology", dt.date(2025, 5, 5)),
    ]
    assert await statement(backend, documents, clock, ERLAN, ServiceType.STATEMENT_TB) is False


async def test_csv_registers_with_a_semicolon_and_kazakh_names(
    backend: Backend, documents: Documents, clock: FixedClock, tmp_path: Path
) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        "iin,surname,given_name\n"
        + "".join(f"{p['iin']},{p['surname']},{p['given_name']}\n" for p in PATIENTS),
        encoding="utf-8",
    )
    (folder / "registers.csv").write_text(
        f"\ufeffiin;register;since\n{GULMIRA};наркологиялық;2020-01-15\n{GULMIRA};туберкулез;\n",
        encoding="utf-8",
    )
    summary = await import_path(backend, folder, today=TODAY)
    assert summary.created == {"patients": 2, "registers": 2}
    assert await registrations(backend) == [
        (GULMIRA, "narcology", dt.date(2020, 1, 15)),
        (GULMIRA, "tb", None),
    ]
    assert (
        await statement(backend, documents, clock, GULMIRA, ServiceType.STATEMENT_NARCOLOGY)
        is True
    )
    assert (
        await statement(backend, documents, clock, ERLAN, ServiceType.STATEMENT_NARCOLOGY) is False
    )


async def test_bad_register_rows_are_listed_and_nothing_is_written(
    backend: Backend, tmp_path: Path
) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "registers.csv").write_text(
        "iin,register,since,status\n"
        f"{ERLAN},tb,2024-02-01,\n"  # row 2: fine
        "990808320062,tb,,\n"  # row 3: bad check digit
        f"{ERLAN},oncology,,\n"  # row 4: no such register
        f"{ERLAN},psychiatry,2027-01-01,\n"  # row 5: in the future
        f"{ERLAN},narcology,1990-01-01,\n"  # row 6: before the birth date (1999-08-08)
        f"{GULMIRA},tb,,maybe\n"  # row 7: bad status
        f"{ERLAN},TB,,\n"  # row 8: the same ИИН and register as row 2
        f",narcology,2020-13-01,\n",  # row 9: no ИИН, bad date
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError) as caught:
        await import_path(backend, folder, today=TODAY)
    assert caught.value.problems == [
        ImportProblem("registers.csv", 3, "iin", "invalid ИИН (bad_checksum)"),
        ImportProblem("registers.csv", 4, "register", "expected tb, psychiatry or narcology"),
        ImportProblem("registers.csv", 5, "since", "in the future"),
        ImportProblem("registers.csv", 6, "since", "before the person's birth date (ИИН)"),
        ImportProblem(
            "registers.csv", 7, "status", "expected on (on the register) or off (taken off it)"
        ),
        ImportProblem("registers.csv", 8, "register", "990808320061 + tb repeats row 2"),
        ImportProblem("registers.csv", 9, "iin", "empty"),
        ImportProblem("registers.csv", 9, "since", "expected a date YYYY-MM-DD"),
    ]
    assert await registrations(backend) == []

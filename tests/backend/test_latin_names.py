"""Issue 15: doctors' names and clinics' addresses in Latin letters, computed once and stored:
by migration 0013 for the rows already there, by the importer (which takes the register's
official Latin form when the file has one, docs/import.md) and by the demo city."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select, text

from backend.adapters import orm
from backend.adapters.db import make_engine, migrate
from backend.bootstrap import Backend
from backend.services.demo import load_demo_data
from backend.services.importer import import_path
from tests.backend.test_importer import TODAY, by, copy_csv, edit_csv
from tests.backend.test_migrations import downgrade_to


async def _latin(backend: Backend) -> tuple[dict[str, str], dict[str, str]]:
    async with backend.uow() as uow:
        doctors = (await uow.session.execute(select(orm.doctors))).all()
        clinics = (await uow.session.execute(select(orm.clinics))).all()
    return {d.code: d.name_latin for d in doctors}, {c.code: c.address_latin for c in clinics}


async def test_the_importer_stores_the_official_form_or_the_passport_transliteration(
    backend: Backend, tmp_path: Path
) -> None:
    folder = copy_csv(tmp_path)

    def official(rows: list[dict[str, str]]) -> None:
        by(rows, code="KOS-G1")["name_latin"] = "Kim Oleg Nikolayevich"  # as in his passport
        by(rows, code="KOS-T1")["name_latin"] = ""  # empty: transliterated

    edit_csv(folder / "doctors.csv", official)
    await import_path(backend, folder, today=TODAY)

    doctors, clinics = await _latin(backend)
    assert doctors["KOS-G1"] == "Kim Oleg Nikolayevich"
    assert doctors["KOS-T1"] == "Abdirakhmanova Saule Kairatkyzy"  # Әбдірахманова Сәуле …
    assert doctors["KOS-N1"] == "Seiitov Arman Bolatuly"  # no column value: transliterated
    assert clinics["KOSSHY-CP"] == "Kosshy, Respublika koshesi, 5"

    def renamed(rows: list[dict[str, str]]) -> None:
        by(rows, code="KOS-N1")["surname"] = "Жұмабаев"

    edit_csv(folder / "doctors.csv", renamed)
    await import_path(backend, folder, today=TODAY)

    doctors, _ = await _latin(backend)
    assert doctors["KOS-N1"] == "Zhumabaev Arman Bolatuly"  # a new name: a new Latin form
    assert doctors["KOS-G1"] == "Kim Oleg Nikolayevich"  # the official one kept


async def test_the_demo_city_has_them(backend: Backend) -> None:
    await load_demo_data(backend)

    doctors, clinics = await _latin(backend)
    assert doctors and all(name.isascii() and name for name in doctors.values())
    assert clinics and all(address.isascii() and address for address in clinics.values())


async def test_0013_fills_in_the_rows_already_stored(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(migrate, url, "0011")
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO specialties (id, code, name_kk, name_ru, name_en) "
                    "VALUES (1, 'gp', 'к', 'р', 'e')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO clinics (id, code, name_kk, name_ru, name_en, address, tz_name,"
                    " schedule_json) VALUES (1, 'c', 'к', 'р', 'e', 'Алматы, Абай даңғылы, 65',"
                    " 'Asia/Almaty', '{}')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO doctors (id, code, clinic_id, specialty_id, surname, given_name,"
                    " patronymic) VALUES (1, 'd', 1, 1, 'Тұрсынова', 'Жанар', 'Бекқызы')"
                )
            )
        await asyncio.to_thread(migrate, url, "0013")
        async with engine.connect() as conn:
            doctor = (await conn.execute(select(orm.doctors.c.name_latin))).scalar_one()
            address = (await conn.execute(select(orm.clinics.c.address_latin))).scalar_one()
        assert doctor == "Tursynova Zhanar Bekkyzy"
        assert address == "Almaty, Abai dangyly, 65"
        await asyncio.to_thread(downgrade_to, url, "0011")
        await asyncio.to_thread(migrate, url, "0013")
    finally:
        await engine.dispose()

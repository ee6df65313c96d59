"""Issue 14: children in the small test world, represented by `alice` (tests/backend/world.py).

- `ali` (born 2019) is attached to clinic B, whose paediatrician has free slots on Tuesday;
- `dana` (born 2021) is attached to clinic A, district A/1 (doctor_a's home visits), no phone;
- `bobs_son` is represented by `bob`, not by alice;
- `erlan` turns 18 on the test clock's Monday 23.11.2026: his representation by alice ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from backend.bootstrap import Backend
from backend.domain.iin import Sex, make_iin
from backend.domain.model import Attachment, Audience, Doctor, Patient, Slot, Specialty
from tests.backend.world import World, at

TUESDAY = dt.date(2026, 11, 24)


@dataclass
class Children:
    paediatrician: Specialty
    paed_b: Doctor
    ali: Patient
    dana: Patient
    bobs_son: Patient
    erlan: Patient
    slots_paed_b: list[Slot] = field(default_factory=list)


def _child(born: dt.date, n: int, surname: str, given: str, *, rep: Patient, addr: str) -> Patient:
    return Patient.register(
        iin=make_iin(born, Sex.MALE if n % 2 else Sex.FEMALE, 500 + n),
        surname=surname,
        given_name=given,
        address=addr,
        representative_id=rep.id,
    )


async def add_children(backend: Backend, world: World) -> Children:
    async with backend.uow() as uow:
        s = uow.session
        paediatrician = Specialty(
            code="paediatrician",
            name_kk="Педиатр",
            name_ru="Педиатр",
            name_en="Paediatrician",
            audience=Audience.CHILDREN,
        )
        s.add(paediatrician)
        await s.flush()
        paed_b = Doctor(
            code="B-P1",
            clinic_id=world.clinic_b.id or 0,
            specialty_id=paediatrician.id or 0,
            surname="Омарова",
            given_name="Сәуле",
            room="7",
        )
        s.add(paed_b)
        await s.flush()
        ali = _child(
            dt.date(2019, 3, 15), 1, "Сейтқали", "Әли", rep=world.alice, addr="Алматы, Сәтпаев, 9"
        )
        dana = _child(
            dt.date(2021, 6, 1), 2, "Сейтқали", "Дана", rep=world.alice, addr="Астана, Абай, 4"
        )
        bobs_son = _child(
            dt.date(2018, 1, 5), 3, "Петров", "Павел", rep=world.bob, addr="Астана, 1"
        )
        erlan = _child(
            dt.date(2008, 11, 23), 5, "Сейтқали", "Ерлан", rep=world.alice, addr="Астана, 2"
        )
        s.add_all([ali, dana, bobs_son, erlan])
        await s.flush()
        since = dt.date(2020, 1, 1)
        s.add_all(
            [
                Attachment(patient_id=ali.id or 0, clinic_id=world.clinic_b.id or 0, since=since),
                Attachment(
                    patient_id=dana.id or 0,
                    clinic_id=world.clinic_a.id or 0,
                    district_id=world.district_a1.id,
                    since=since,
                ),
                Attachment(
                    patient_id=bobs_son.id or 0, clinic_id=world.clinic_a.id or 0, since=since
                ),
                Attachment(
                    patient_id=erlan.id or 0, clinic_id=world.clinic_a.id or 0, since=since
                ),
            ]
        )
        first = at(TUESDAY, 10)
        slots = [
            Slot(
                doctor_id=paed_b.id or 0,
                starts_at=first + dt.timedelta(minutes=20 * i),
                ends_at=first + dt.timedelta(minutes=20 * (i + 1)),
                room="7",
            )
            for i in range(4)
        ]
        s.add_all(slots)
        await uow.commit()
    return Children(paediatrician, paed_b, ali, dana, bobs_son, erlan, slots)

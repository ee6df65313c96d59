"""A small, explicit world for service tests: two clinics, doctors, slots, patients."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.iin import Sex, make_iin
from backend.domain.model import (
    Attachment,
    Clinic,
    District,
    Doctor,
    Patient,
    Slot,
    Specialty,
)

ALMATY = ZoneInfo("Asia/Almaty")
HOME_VISIT_CAPACITY = 2


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ALMATY)


@dataclass
class World:
    clinic_a: Clinic
    clinic_b: Clinic
    therapist: Specialty
    cardiologist: Specialty
    doctor_a: Doctor  # therapist at A, district doctor of A/1
    therapist_a2: Doctor  # the second therapist at A, no free times
    cardio_a: Doctor  # the only cardiologist at A: booking skips the doctor step
    doctor_b: Doctor  # therapist at B
    district_a1: District
    alice: Patient  # attached to A/1, phone, address
    bob: Patient  # attached to A/1
    carol: Patient  # attached nowhere
    dave: Patient  # attached to B
    slots_a: list[Slot] = field(default_factory=list)  # doctor_a, Tuesday 24.11 from 09:00
    slots_cardio: list[Slot] = field(default_factory=list)
    slots_b: list[Slot] = field(default_factory=list)
    past_slot_a: Slot | None = None  # Monday 23.11 08:00, before the test clock


def _patient(n: int, surname: str, given: str, phone: str | None, address: str | None) -> Patient:
    return Patient.register(
        iin=make_iin(dt.date(1985, 1 + n % 12, 1 + n), Sex.FEMALE if n % 2 else Sex.MALE, n),
        surname=surname,
        given_name=given,
        phone=phone,
        address=address,
    )


def _slots(doctor: Doctor, day: dt.date, start_hour: int, count: int, room: str) -> list[Slot]:
    first = at(day, start_hour)
    return [
        Slot(
            doctor_id=doctor.id or 0,
            starts_at=first + dt.timedelta(minutes=20 * i),
            ends_at=first + dt.timedelta(minutes=20 * (i + 1)),
            room=room,
        )
        for i in range(count)
    ]


async def build_world(backend: Backend, *, slots_per_doctor: int = 6) -> World:
    tuesday = dt.date(2026, 11, 24)
    async with backend.uow() as uow:
        s = uow.session
        clinic_a = Clinic(
            code="A",
            name_kk="№ 1 емхана",
            name_ru="Поликлиника № 1",
            name_en="Polyclinic No. 1",
            address="Астана, Абай даңғылы, 1",
        )
        clinic_b = Clinic(
            code="B",
            name_kk="№ 2 емхана",
            name_ru="Поликлиника № 2",
            name_en="Polyclinic No. 2",
            address="Алматы, Абай даңғылы, 2",
        )
        therapist = Specialty(
            code="therapist", name_kk="Терапевт", name_ru="Терапевт", name_en="Therapist"
        )
        cardiologist = Specialty(
            code="cardiologist", name_kk="Кардиолог", name_ru="Кардиолог", name_en="Cardiologist"
        )
        s.add_all([clinic_a, clinic_b, therapist, cardiologist])
        await s.flush()
        doctor_a = Doctor(
            code="A-T1",
            clinic_id=clinic_a.id or 0,
            specialty_id=therapist.id or 0,
            surname="Ахметова",
            given_name="Айгүл",
            patronymic="Серікқызы",
            room="101",
        )
        therapist_a2 = Doctor(
            code="A-T2",
            clinic_id=clinic_a.id or 0,
            specialty_id=therapist.id or 0,
            surname="Бекова",
            given_name="Гүлнар",
            room="102",
        )
        cardio_a = Doctor(
            code="A-C1",
            clinic_id=clinic_a.id or 0,
            specialty_id=cardiologist.id or 0,
            surname="Ким",
            given_name="Виктор",
            room="205",
        )
        doctor_b = Doctor(
            code="B-T1",
            clinic_id=clinic_b.id or 0,
            specialty_id=therapist.id or 0,
            surname="Иванов",
            given_name="Пётр",
            room="12",
        )
        s.add_all([doctor_a, therapist_a2, cardio_a, doctor_b])
        await s.flush()
        district = District(clinic_id=clinic_a.id or 0, number="1", doctor_id=doctor_a.id)
        s.add(district)
        alice = _patient(1, "Сейтқали", "Әлия", "+77011234501", "Астана, Мәңгілік Ел, 10, 5")
        bob = _patient(2, "Петров", "Борис", "+77011234502", "Астана, Кенесары, 3")
        carol = _patient(3, "Смағұлова", "Қарлығаш", "+77011234503", None)
        dave = _patient(4, "Дәулетов", "Данияр", "+77011234504", "Алматы, Сәтпаев, 7")
        s.add_all([alice, bob, carol, dave])
        await s.flush()
        since = dt.date(2020, 1, 1)
        s.add_all(
            [
                Attachment(
                    patient_id=alice.id or 0,
                    clinic_id=clinic_a.id or 0,
                    district_id=district.id,
                    since=since,
                ),
                Attachment(
                    patient_id=bob.id or 0,
                    clinic_id=clinic_a.id or 0,
                    district_id=district.id,
                    since=since,
                ),
                Attachment(patient_id=dave.id or 0, clinic_id=clinic_b.id or 0, since=since),
            ]
        )
        slots_a = _slots(doctor_a, tuesday, 9, slots_per_doctor, "101")
        slots_cardio = _slots(cardio_a, tuesday, 14, slots_per_doctor, "205")
        slots_b = _slots(doctor_b, tuesday, 9, slots_per_doctor, "12")
        past = _slots(doctor_a, dt.date(2026, 11, 23), 8, 1, "101")[0]
        s.add_all([*slots_a, *slots_cardio, *slots_b, past])
        await s.flush()
        # doctor_a's home-visit hours: windows 12-14, 14-16, 16-18, 18-20 on weekdays and
        # 10-12, 12-14 on Saturdays, HOME_VISIT_CAPACITY visits each.
        home_hours = [(weekday, dt.time(12), dt.time(20)) for weekday in range(5)]
        home_hours.append((5, dt.time(10), dt.time(14)))
        await s.execute(
            insert(orm.schedule_templates),
            [
                {
                    "doctor_id": doctor_a.id,
                    "weekday": weekday,
                    "start_time": start,
                    "end_time": end,
                    "slot_minutes": 120,
                    "room": "",
                    "kind": "home_visits",
                    "capacity": HOME_VISIT_CAPACITY,
                }
                for weekday, start, end in home_hours
            ],
        )
        await uow.commit()
    return World(
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        therapist=therapist,
        cardiologist=cardiologist,
        doctor_a=doctor_a,
        therapist_a2=therapist_a2,
        cardio_a=cardio_a,
        doctor_b=doctor_b,
        district_a1=district,
        alice=alice,
        bob=bob,
        carol=carol,
        dave=dave,
        slots_a=slots_a,
        slots_cardio=slots_cardio,
        slots_b=slots_b,
        past_slot_a=past,
    )

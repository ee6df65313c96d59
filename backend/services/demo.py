"""A deterministic demo city (`dariger demo-data`): clinics, doctors, districts, slots, patients.

Everything but the slots is independent of the date: the same ИИНs, phones and names on every
run and every machine (a fixed `random.Random(2026)` and fixed name lists). Slots cover the 14
days from `today`; the doctors' weekly schedules are stored, so the running service tops the
slots up daily. Loading twice adds nothing but the slots that have come into the 14-day
window since (the demo is detected by its clinic codes).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.iin import Sex, make_iin
from backend.domain.latin import to_latin
from backend.domain.model import (
    Attachment,
    Clinic,
    District,
    Doctor,
    Language,
    Patient,
    Specialty,
    default_audience,
    latin_name,
)
from backend.services.schedules import ScheduleTemplate, materialise_slots, save_templates

DEMO_SEED = 2026
DEMO_DAYS = 14
DEMO_TZ = "Asia/Almaty"
SLOT_MINUTES = 20
ATTACHED_SINCE = dt.date(2024, 1, 15)

# (code, kk, ru, en)
SPECIALTIES: tuple[tuple[str, str, str, str], ...] = (
    ("therapist", "Терапевт", "Терапевт", "Therapist"),
    ("pediatrician", "Педиатр", "Педиатр", "Paediatrician"),
    ("gp", "Жалпы практика дәрігері", "Врач общей практики", "General practitioner"),
    ("cardiologist", "Кардиолог", "Кардиолог", "Cardiologist"),
    ("neurologist", "Невропатолог", "Невропатолог", "Neurologist"),
    ("gynecologist", "Гинеколог", "Гинеколог", "Gynaecologist"),
    ("ent", "Оториноларинголог", "Оториноларинголог", "ENT specialist"),
)


@dataclass(frozen=True)
class _ClinicSpec:
    code: str
    number: int
    city: str
    address: str
    phone: str
    streets: tuple[str, ...]


CLINICS: tuple[_ClinicSpec, ...] = (
    _ClinicSpec(
        "DEMO-AST-05",
        5,
        "Астана",
        "Астана, Сәкен Сейфуллин көшесі, 12",
        "+77172550505",
        ("Бейбітшілік көшесі", "Кенесары көшесі", "Республика даңғылы", "Жеңіс даңғылы"),
    ),
    _ClinicSpec(
        "DEMO-AST-12",
        12,
        "Астана",
        "Астана, Тұран даңғылы, 37",
        "+77172551212",
        (
            "Қабанбай батыр даңғылы",
            "Мәңгілік Ел даңғылы",
            "Сығанақ көшесі",
            "Керей, Жәнібек хандар көшесі",
        ),
    ),
    _ClinicSpec(
        "DEMO-ALA-03",
        3,
        "Алматы",
        "Алматы, Абай даңғылы, 65",
        "+77272330303",
        ("Төле би көшесі", "Сәтбаев көшесі", "Жандосов көшесі", "Достық даңғылы"),
    ),
)

# The doctors of every demo clinic, in order; the first four serve districts 1-4.
STAFF: tuple[str, ...] = (
    "therapist",
    "therapist",
    "gp",
    "pediatrician",
    "cardiologist",
    "neurologist",
    "gynecologist",
    "ent",
)
DISTRICT_DOCTORS = 4  # districts "1", "2" (therapists), "3" (GP), "4" (paediatric)
PAEDIATRIC_DISTRICT = "4"

MORNING = (dt.time(8), dt.time(14))
AFTERNOON = (dt.time(14), dt.time(20))
SATURDAY = (dt.time(9), dt.time(14))
# District doctors' home-visit hours (issue 10), outside their reception: after a morning
# reception 14:00-18:00, before an afternoon one 08:00-14:00 and on Saturdays 10:00-14:00;
# 2-hour windows of HOME_VISITS_PER_WINDOW visits.
HOME_AFTER_MORNING = (dt.time(14), dt.time(18))
HOME_BEFORE_AFTERNOON = (dt.time(8), dt.time(14))
HOME_SATURDAY = (dt.time(10), dt.time(14))

# Kazakh given names, surnames and fathers' names for patronymics (-ұлы/-қызы). Surnames are
# listed in the masculine form; a woman's is derived by `surname_for` (Ахметов -> Ахметова).
KZ_SURNAMES: tuple[str, ...] = (
    "Ахметов", "Жұмабаев", "Сейітов", "Оспанов", "Тұрсынов", "Сәрсенбаев", "Мұқанов", "Қасымов",
    "Әбенов", "Ермеков", "Исабеков", "Нұрғалиев", "Бекмұхамбетов", "Сейтқали", "Омаров",
)  # fmt: skip
KZ_MALE = (
    "Асқар", "Ержан", "Нұрлан", "Данияр", "Бауыржан", "Серік", "Марат", "Ерлан",
    "Темірлан", "Арман", "Дәурен", "Айдос", "Ерасыл", "Алихан",
)  # fmt: skip
KZ_FEMALE = (
    "Айгүл", "Гүлнар", "Динара", "Жанар", "Әсел", "Аружан", "Сәуле", "Мадина",
    "Назерке", "Ботагөз", "Айжан", "Ләззат", "Томирис", "Жансая",
)  # fmt: skip
KZ_FATHERS = ("Марат", "Ерлан", "Серік", "Асқар", "Бекзат", "Нұрлан", "Қайрат", "Болат")
RU_SURNAMES: tuple[str, ...] = (
    "Иванов", "Петров", "Смирнов", "Ким", "Попов", "Волков", "Соколов", "Павленко",
)  # fmt: skip
RU_MALE = ("Сергей", "Андрей", "Дмитрий", "Алексей", "Игорь", "Виктор", "Михаил", "Олег")
RU_FEMALE = ("Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Марина")
RU_PATRONYMICS: tuple[tuple[str, str], ...] = (
    ("Петрович", "Петровна"), ("Иванович", "Ивановна"), ("Викторович", "Викторовна"),
    ("Сергеевич", "Сергеевна"), ("Александрович", "Александровна"),
    ("Николаевич", "Николаевна"),
)  # fmt: skip
MOBILE_PREFIXES = ("701", "702", "705", "707", "708", "747", "771", "775", "777", "778")


@dataclass(frozen=True)
class DemoPatient:
    """A featured demo patient, to sign in with during a demonstration."""

    iin: str
    phone: str | None
    name: str
    note: str


@dataclass
class DemoSummary:
    created: bool  # False when the demo city was already there (only slots were topped up)
    clinics: int
    specialties: int
    doctors: int
    districts: int
    patients: int
    attachments: int
    slots_created: int
    first_day: dt.date
    days: int
    featured: list[DemoPatient] = field(default_factory=list)

    def __str__(self) -> str:
        head = "Demo data loaded" if self.created else "Demo data already present; slots topped up"
        last = self.first_day + dt.timedelta(days=self.days - 1)
        lines = [
            f"{head}: {self.clinics} clinics, {self.specialties} specialties, "
            f"{self.doctors} doctors, {self.districts} districts, {self.patients} patients "
            f"({self.attachments} attached).",
            f"Slots created: {self.slots_created} ({self.first_day:%Y-%m-%d} .. {last:%Y-%m-%d}).",
            "",
            "Featured patients (sign in with the ИИН; the OTP goes to the phone):",
        ]
        table = [("ИИН", "Phone", "Name", "Note")] + [
            (p.iin, p.phone or "—", p.name, p.note) for p in self.featured
        ]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        for row in table:
            cells = [row[i].ljust(widths[i]) for i in range(3)]
            lines.append("  ".join([*cells, row[3]]).rstrip())
        return "\n".join(lines)


# --- the city, as plain data -------------------------------------------------------------


@dataclass(frozen=True)
class _DoctorSpec:
    code: str
    clinic_code: str
    specialty: str
    surname: str
    given_name: str
    patronymic: str
    room: str
    templates: tuple[ScheduleTemplate, ...]


@dataclass(frozen=True)
class _PatientSpec:
    iin: str
    surname: str
    given_name: str
    patronymic: str | None
    phone: str | None
    language: Language | None
    address: str
    clinic_code: str | None
    district: str | None
    representative_iin: str | None = None
    note: str | None = None  # featured patients only


@dataclass(frozen=True)
class _City:
    doctors: tuple[_DoctorSpec, ...]
    patients: tuple[_PatientSpec, ...]  # adults first, then children (after their representative)


# Surnames that agree with sex in Kazakh and Russian: the masculine ending and its feminine.
_GENDERED_ENDINGS: tuple[tuple[str, str], ...] = (
    ("ов", "ова"), ("ев", "ева"), ("ёв", "ёва"), ("ин", "ина"), ("ын", "ына"),
    ("ский", "ская"), ("цкий", "цкая"),
)  # fmt: skip


def surname_for(surname: str, sex: Sex) -> str:
    """The form of a family surname for a man or a woman: Ахметов/Ахметова, Иванов/Иванова;
    surnames without a gendered ending (Ким, Сейтқали, Павленко) are the same for both."""
    for masculine, feminine in _GENDERED_ENDINGS:
        if surname.endswith(feminine):
            base = surname[: -len(feminine)]
            return base + (feminine if sex is Sex.FEMALE else masculine)
        if surname.endswith(masculine):
            base = surname[: -len(masculine)]
            return base + (feminine if sex is Sex.FEMALE else masculine)
    return surname


def _person(rng: random.Random, sex: Sex) -> tuple[str, str, str]:
    male = sex is Sex.MALE
    if rng.random() < 0.7:
        surname = surname_for(rng.choice(KZ_SURNAMES), sex)
        given = rng.choice(KZ_MALE if male else KZ_FEMALE)
        patronymic = rng.choice(KZ_FATHERS) + ("ұлы" if male else "қызы")
    else:
        surname = surname_for(rng.choice(RU_SURNAMES), sex)
        given = rng.choice(RU_MALE if male else RU_FEMALE)
        patronymic = rng.choice(RU_PATRONYMICS)[0 if male else 1]
    return surname, given, patronymic


def _templates(code: str, index: int, room: str, specialty: str) -> tuple[ScheduleTemplate, ...]:
    opens, closes = MORNING if index % 2 == 0 else AFTERNOON
    weekly = [
        ScheduleTemplate(code, weekday, opens, closes, SLOT_MINUTES, room) for weekday in range(5)
    ]
    if index % 2 == 0 and specialty in {"therapist", "gp", "pediatrician"}:
        weekly.append(ScheduleTemplate(code, 5, *SATURDAY, SLOT_MINUTES, room))
    if index < DISTRICT_DOCTORS:  # the district doctors make the home visits (S4)
        home = HOME_AFTER_MORNING if index % 2 == 0 else HOME_BEFORE_AFTERNOON
        weekly.extend(ScheduleTemplate.home_visits(code, weekday, *home) for weekday in range(5))
        if index % 2 == 1:  # no Saturday reception
            weekly.append(ScheduleTemplate.home_visits(code, 5, *HOME_SATURDAY))
    return tuple(weekly)


def _address(rng: random.Random, clinic: _ClinicSpec) -> str:
    street = rng.choice(clinic.streets)
    return f"{clinic.city}, {street}, {rng.randint(1, 120)}, {rng.randint(1, 180)} п."


def _featured(clinics: dict[str, _ClinicSpec]) -> list[_PatientSpec]:
    ast5, ast12, ala3 = clinics["DEMO-AST-05"], clinics["DEMO-AST-12"], clinics["DEMO-ALA-03"]
    mother = make_iin(dt.date(1990, 3, 15), Sex.FEMALE, 1001)
    return [
        _PatientSpec(
            mother, "Сейтқали", "Айгүл", "Маратқызы", "+77011110001", Language.KK,
            f"{ast5.city}, Бейбітшілік көшесі, 14, 25 п.", ast5.code, "1",
            note="attached, Kazakh; legal representative of Әли and Аружан",
        ),
        _PatientSpec(
            make_iin(dt.date(1985, 7, 2), Sex.MALE, 1002), "Иванов", "Сергей", "Петрович",
            "+77021110002", Language.RU, f"{ast5.city}, Кенесары көшесі, 40, 7 п.",
            ast5.code, "2", note="attached, Russian",
        ),
        _PatientSpec(
            make_iin(dt.date(1995, 11, 20), Sex.MALE, 1003), "Ахметов", "Данияр", "Ерланұлы",
            "+77071110003", Language.EN, f"{ala3.city}, Төле би көшесі, 101, 12 п.",
            ala3.code, "1", note="attached, English",
        ),
        _PatientSpec(
            make_iin(dt.date(1978, 1, 9), Sex.MALE, 1004), "Жұмабаев", "Нұрлан", "Асқарұлы",
            "+77471110004", None, f"{ast12.city}, Сығанақ көшесі, 9, 44 п.",
            None, None, note="not attached to any clinic",
        ),
        _PatientSpec(
            make_iin(dt.date(1960, 5, 25), Sex.FEMALE, 1005), "Ким", "Елена", "Викторовна",
            None, None, f"{ast12.city}, Тұран даңғылы, 20, 3 п.",
            ast12.code, "3", note="attached, no registered phone",
        ),
        _PatientSpec(
            make_iin(dt.date(2019, 9, 1), Sex.MALE, 1006), "Сейтқали", "Әли", "Нұрланұлы",
            None, None, f"{ast5.city}, Бейбітшілік көшесі, 14, 25 п.", ast5.code,
            PAEDIATRIC_DISTRICT, representative_iin=mother,
            note="child; represented by Сейтқали Айгүл",
        ),
        # Issue 14: Айгүл's second child, attached to another clinic (№ 12): a parent books,
        # calls a doctor and sees applications for two children at two clinics.
        _PatientSpec(
            make_iin(dt.date(2015, 4, 10), Sex.FEMALE, 1007), "Сейтқали", "Аружан",
            "Нұрланқызы", None, None, f"{ast12.city}, Тұран даңғылы, 22, 8 п.", ast12.code,
            PAEDIATRIC_DISTRICT, representative_iin=mother,
            note="child; represented by Сейтқали Айгүл; another clinic",
        ),
    ]  # fmt: skip


def _city() -> _City:
    rng = random.Random(DEMO_SEED)  # noqa: S311 - demo data, not security
    clinics = {c.code: c for c in CLINICS}

    doctors: list[_DoctorSpec] = []
    for clinic in CLINICS:
        for index, specialty in enumerate(STAFF):
            sex = Sex.FEMALE if specialty == "gynecologist" else rng.choice((Sex.MALE, Sex.FEMALE))
            surname, given, patronymic = _person(rng, sex)
            code = f"{clinic.code}-D{index + 1:02d}"
            room = str(101 + index)
            doctors.append(
                _DoctorSpec(
                    code, clinic.code, specialty, surname, given, patronymic, room,
                    _templates(code, index, room, specialty),
                )
            )  # fmt: skip

    featured = _featured(clinics)
    iins = {p.iin for p in featured}
    phones = {p.phone for p in featured if p.phone}
    adults: list[_PatientSpec] = [p for p in featured if p.representative_iin is None]
    children: list[_PatientSpec] = [p for p in featured if p.representative_iin is not None]

    def new_iin(birth: dt.date, sex: Sex) -> str:
        serial = rng.randint(0, 9000)
        while (iin := make_iin(birth, sex, serial)) in iins:
            serial += 7
        iins.add(iin)
        return iin

    def new_phone() -> str:
        while (
            phone := f"+7{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"
        ) in phones:
            pass
        phones.add(phone)
        return phone

    languages = (None, None, None, Language.KK, Language.RU)
    for index in range(46):
        clinic = CLINICS[index % len(CLINICS)]
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 66))
        surname, given, patronymic = _person(rng, sex)
        unattached = index in {10, 30}
        adults.append(
            _PatientSpec(
                new_iin(birth, sex), surname, given, patronymic, new_phone(),
                rng.choice(languages), _address(rng, clinic),
                None if unattached else clinic.code,
                None if unattached else str(1 + index % 3),
            )
        )  # fmt: skip

    # Children (under 14 until at least 2031), each with an attached adult as representative.
    attached = [p for p in adults if p.clinic_code is not None]
    for _ in range(4):
        parent = rng.choice(attached)
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        birth = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 5))
        given = rng.choice(KZ_MALE if sex is Sex.MALE else KZ_FEMALE)
        children.append(
            _PatientSpec(
                new_iin(birth, sex), surname_for(parent.surname, sex), given, None, None, None,
                parent.address,
                parent.clinic_code, PAEDIATRIC_DISTRICT, representative_iin=parent.iin,
            )
        )  # fmt: skip
    return _City(doctors=tuple(doctors), patients=tuple(adults + children))


def featured_patients() -> list[DemoPatient]:
    """The documented demo patients (docs/import.md), the same on every run."""
    clinics = {c.code: c for c in CLINICS}
    out: list[DemoPatient] = []
    for spec in _featured(clinics):
        name = " ".join(p for p in (spec.surname, spec.given_name, spec.patronymic) if p)
        out.append(DemoPatient(spec.iin, spec.phone, name, spec.note or ""))
    return out


def demo_templates() -> list[ScheduleTemplate]:
    return [t for d in _city().doctors for t in d.templates]


# --- loading -------------------------------------------------------------------------------


def local_today(now: dt.datetime, tz_name: str = DEMO_TZ) -> dt.date:
    return now.astimezone(ZoneInfo(tz_name)).date()


async def load_demo_data(backend: Backend, *, today: dt.date | None = None) -> DemoSummary:
    """Load the demo city (one transaction), or top up its slots when it is already there."""
    day = today if today is not None else local_today(backend.clock.now())
    city = _city()
    clinic_codes = [c.code for c in CLINICS]
    async with backend.uow() as uow:
        session = uow.session
        stmt = select(orm.clinics.c.code).where(orm.clinics.c.code.in_(clinic_codes))
        created = not (await session.execute(stmt)).first()
        if created:
            await _insert_city(session, city)
            await _insert_registrations(session)
            present = {d.code for d in city.doctors}
        else:
            doctor_codes = [d.code for d in city.doctors]
            stmt = select(orm.doctors.c.code).where(orm.doctors.c.code.in_(doctor_codes))
            present = set((await session.execute(stmt)).scalars())
        templates = [t for d in city.doctors if d.code in present for t in d.templates]
        # Kept so that the service tops the slots up daily (unchanged ones are not rewritten).
        await save_templates(uow, templates)
        slots = await materialise_slots(uow, templates, day, DEMO_DAYS)
        await uow.commit()
    return DemoSummary(
        created=created,
        clinics=len(CLINICS),
        specialties=len(SPECIALTIES),
        doctors=len(city.doctors),
        districts=len(CLINICS) * DISTRICT_DOCTORS,
        patients=len(city.patients),
        attachments=sum(1 for p in city.patients if p.clinic_code is not None),
        slots_created=slots,
        first_day=day,
        days=DEMO_DAYS,
        featured=featured_patients(),
    )


# Issue 13: the demo's dispensary registers (S17-S19 statements are computed from them).
# Жұмабаев Нұрлан is on the TB register; everyone else is on none.
DEMO_REGISTRATIONS: tuple[tuple[str, str, dt.date], ...] = (
    (make_iin(dt.date(1978, 1, 9), Sex.MALE, 1004), "tb", dt.date(2024, 2, 1)),
)


async def _insert_registrations(session: AsyncSession) -> None:
    for iin, register, since in DEMO_REGISTRATIONS:
        await session.execute(
            insert(orm.dispensary_registrations).values(iin=iin, register=register, since=since)
        )


async def _insert_city(session: AsyncSession, city: _City) -> None:
    # Specialties are shared with imported data: reuse those with the same code.
    existing = {
        s.code: s
        for s in (
            await session.execute(
                select(Specialty).where(orm.specialties.c.code.in_([s[0] for s in SPECIALTIES]))
            )
        ).scalars()
    }
    specialties: dict[str, Specialty] = {}
    for code, kk, ru, en in SPECIALTIES:
        specialties[code] = existing.get(code) or Specialty(
            code=code, name_kk=kk, name_ru=ru, name_en=en, audience=default_audience(code)
        )
    clinics = {
        c.code: Clinic(
            code=c.code,
            name_kk=f"№ {c.number} қалалық емхана",
            name_ru=f"Городская поликлиника № {c.number}",
            name_en=f"City Polyclinic No. {c.number}",
            address=c.address,
            address_latin=to_latin(c.address),  # issue 15: computed once, stored
            tz_name=DEMO_TZ,
            phone=c.phone,
        )
        for c in CLINICS
    }
    session.add_all([*specialties.values(), *clinics.values()])
    await session.flush()

    doctors: dict[str, Doctor] = {}
    for doc in city.doctors:
        doctors[doc.code] = Doctor(
            code=doc.code,
            clinic_id=_id(clinics[doc.clinic_code].id),
            specialty_id=_id(specialties[doc.specialty].id),
            surname=doc.surname,
            given_name=doc.given_name,
            patronymic=doc.patronymic,
            room=doc.room,
            name_latin=latin_name(doc.surname, doc.given_name, doc.patronymic),  # issue 15
        )
    session.add_all(doctors.values())
    await session.flush()

    districts: dict[tuple[str, str], District] = {}
    for clinic in CLINICS:
        for index in range(DISTRICT_DOCTORS):
            number = str(index + 1)
            doctor = doctors[f"{clinic.code}-D{index + 1:02d}"]
            districts[clinic.code, number] = District(
                clinic_id=_id(clinics[clinic.code].id), number=number, doctor_id=doctor.id
            )
    session.add_all(districts.values())

    patients: dict[str, Patient] = {}
    for wave in (False, True):  # adults first: children point at their representative's id
        batch = []
        for spec in city.patients:
            if (spec.representative_iin is not None) is not wave:
                continue
            patient = Patient.register(
                iin=spec.iin,
                surname=spec.surname,
                given_name=spec.given_name,
                patronymic=spec.patronymic,
                phone=spec.phone,
                language=spec.language,
                address=spec.address,
                representative_id=(
                    _id(patients[spec.representative_iin].id) if spec.representative_iin else None
                ),
            )
            patients[spec.iin] = patient
            batch.append(patient)
        session.add_all(batch)
        await session.flush()

    attachments = []
    for spec in city.patients:
        if spec.clinic_code is None:
            continue
        patient = patients[spec.iin]
        district = districts.get((spec.clinic_code, spec.district or ""))
        attachments.append(
            Attachment(
                patient_id=_id(patient.id),
                clinic_id=_id(clinics[spec.clinic_code].id),
                district_id=district.id if district else None,
                since=max(ATTACHED_SINCE, patient.birth_date),
            )
        )
    session.add_all(attachments)
    await session.flush()


def _id(value: int | None) -> int:
    if value is None:  # pragma: no cover - always flushed first
        raise RuntimeError("object not flushed")
    return value

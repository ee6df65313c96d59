"""Issue 15, names a patient can read: English screens show doctors' names and clinics'
addresses in Latin letters (ICAO Doc 9303 as in Kazakhstan's passports, stored once), so every
English SMS of a booking is GSM-7; Kazakh and Russian screens keep the register's Cyrillic."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.latin import to_latin
from bot.sms.segments import Encoding, encoding_of
from tests.backend.world import World
from tests.sms.harness import SmsPhone
from tests.sms.test_journeys import _book, _signed_in

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE
async def test_an_english_booking_by_sms_is_gsm7_only(alice: SmsPhone, world: World) -> None:
    await _signed_in(alice, world, "en")
    await _book(alice, world)
    await alice.send("00")
    await alice.choose("appts")
    [item] = [o for o in await alice.options() if o.startswith("ap.")]
    await alice.choose(item)  # the appointment's card

    assert await alice.screen() == "appts.detail"
    for reply in alice.replies:  # every reply, one by one
        assert encoding_of(reply) is Encoding.GSM7, reply
    shown = "\n".join(alice.replies)
    assert "Akhmetova A. S." in shown  # Ахметова Айгүл Серікқызы
    assert "Ахметова" not in shown


@SQLITE
@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_kazakh_and_russian_keep_the_register_names(
    alice: SmsPhone, world: World, language: str
) -> None:
    await _signed_in(alice, world, language)
    await _book(alice, world)

    shown = "\n".join(alice.replies)
    assert "Ахметова А. С." in shown
    assert "Akhmetova" not in shown


@SQLITE
async def test_the_doctor_is_found_by_a_typed_latin_name(
    alice: SmsPhone, world: World, backend: Backend
) -> None:
    await _signed_in(alice, world, "en")
    await alice.send("00")
    await alice.choose("book")
    await alice.choose(f"sp.{world.therapist.id}")
    assert await alice.screen() == "book.doctor"

    await alice.send("akhmetova a. s.")

    assert await alice.screen() == "book.slot"  # the earliest free day's times (issue 15)
    assert alice.last.startswith("Akhmetova A. S.")


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        # ICAO Doc 9303 Part 3 (Cyrillic) and the Kazakh letters of Kazakhstan's passports.
        ("Әбдірахманова Сәуле Қайратқызы", "Abdirakhmanova Saule Kairatkyzy"),
        ("Нұрпейісова Динара", "Nurpeiisova Dinara"),
        ("Ғабит Мүсірепов", "Gabit Musirepov"),
        ("Жаңа Өмір, Һ", "Zhana Omir, H"),
        ("Щукин Юрий Ильич", "Shchukin Iurii Ilich"),
        ("Цой Чингиз Хасенович", "Tsoi Chingiz Khasenovich"),
        ("Объездная, 5", "Obieezdnaia, 5"),
        ("Выходцев Эдуард Ёлкин", "Vykhodtsev Eduard Elkin"),
        ("ЖШС «ЖАҢА»", "ZHSHS «ZHANA»"),
    ],
)
def test_the_passport_table(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin
    assert to_latin(cyrillic).isascii() or "«" in cyrillic


@SQLITE
async def test_a_clinic_registered_without_an_english_name_is_shown_in_latin(
    alice: SmsPhone, world: World, backend: Backend
) -> None:
    async with backend.uow() as uow:  # as the importer stores it: the Russian name
        await uow.session.execute(
            update(orm.clinics)
            .where(orm.clinics.c.id == world.clinic_a.id)
            .values(name_en="Поликлиника № 1")
        )
        await uow.commit()
    await _signed_in(alice, world, "en")
    await _book(alice, world)

    for reply in alice.replies:
        assert encoding_of(reply) is Encoding.GSM7, reply
    assert "Poliklinika No. 1" in "\n".join(alice.replies)

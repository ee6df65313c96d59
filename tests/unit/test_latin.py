"""Latin names for English screens (issue 15): the passport table written out letter by letter
(ICAO Doc 9303 Part 3, Cyrillic, with the Kazakh letters as Kazakhstan's passports write them),
never read back from `backend/domain/latin.py`."""

from __future__ import annotations

import pytest

from backend.domain.latin import to_latin
from backend.domain.model import Clinic, Doctor, latin_name

# Every capital letter of the Kazakh and Russian alphabets and its Latin form, by the table.
PASSPORT_TABLE = [
    ("А", "A"), ("Ә", "A"), ("Б", "B"), ("В", "V"), ("Г", "G"), ("Ғ", "G"), ("Д", "D"),
    ("Е", "E"), ("Ё", "E"), ("Ж", "ZH"), ("З", "Z"), ("И", "I"), ("Й", "I"), ("К", "K"),
    ("Қ", "K"), ("Л", "L"), ("М", "M"), ("Н", "N"), ("Ң", "N"), ("О", "O"), ("Ө", "O"),
    ("П", "P"), ("Р", "R"), ("С", "S"), ("Т", "T"), ("У", "U"), ("Ұ", "U"), ("Ү", "U"),
    ("Ф", "F"), ("Х", "KH"), ("Һ", "H"), ("Ц", "TS"), ("Ч", "CH"), ("Ш", "SH"),
    ("Щ", "SHCH"), ("Ъ", "IE"), ("Ы", "Y"), ("І", "I"), ("Ь", ""), ("Э", "E"), ("Ю", "IU"),
    ("Я", "IA"),
]  # fmt: skip


@pytest.mark.parametrize(("cyrillic", "latin"), PASSPORT_TABLE)
def test_every_letter_by_the_passport_table(cyrillic: str, latin: str) -> None:
    # A capital before a capital is all capitals; alone, only its first letter is.
    assert to_latin(cyrillic + "А") == latin + "A"
    assert to_latin(cyrillic) == latin.capitalize()
    assert to_latin(cyrillic.lower()) == latin.lower()
    assert to_latin(cyrillic + "а") == latin.capitalize() + "a"


def test_the_table_covers_both_alphabets_and_nothing_is_left_in_cyrillic() -> None:
    kazakh = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ"
    assert len(PASSPORT_TABLE) == len(kazakh) == 42
    assert {c for c, _ in PASSPORT_TABLE} == set(kazakh)
    assert to_latin(kazakh + kazakh.lower()).isascii()


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Оспанова С. Б.", "Ospanova S. B."),
        ("Абай даңғылы, 65", "Abai dangyly, 65"),
        ("Жұмабаев Ж. Ш.", "Zhumabaev Zh. Sh."),
        ("ЖАНАТ ХАН", "ZHANAT KHAN"),
        ("ШЖ 5", "SHZh 5"),  # only the very next letter decides
        ("ЖА.", "ZHA."),
        ("Щучинск", "Shchuchinsk"),
        ("Сейтқали Әлішер", "Seitkali Alisher"),
        ("Ильин", "Ilin"),
        ("Объезд", "Obieezd"),
        ("Юлия Яковлева", "Iuliia Iakovleva"),
        ("Шымкент-Ж1", "Shymkent-Zh1"),
        ("Dr. Smith 5/А", "Dr. Smith 5/A"),
        ("", ""),
        ("№ 5, 3-қабат", "№ 5, 3-kabat"),
    ],
)
def test_names_and_addresses(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


def test_the_stored_name_and_its_short_form() -> None:
    assert latin_name("Сейтқали", "Айгүл", "Маратқызы") == "Seitkali Aigul Maratkyzy"
    assert latin_name("Ким", "Елена", None) == "Kim Elena"
    assert latin_name("Ким", "Елена", "") == "Kim Elena"

    computed = Doctor(
        code="d", clinic_id=1, specialty_id=1, surname="Жұмабаев", given_name="Жанат",
        patronymic="Шәріпұлы",
    )  # fmt: skip
    assert computed.short_name == "Жұмабаев Ж. Ш."
    assert computed.short_name_latin == "Zhumabaev Zh. Sh."

    official = Doctor(
        code="d", clinic_id=1, specialty_id=1, surname="Жұмабаев", given_name="Жанат",
        patronymic="Шәріпұлы", name_latin="Zhumabayev Zhanat Sharipuly",
    )  # fmt: skip
    assert official.short_name_latin == "Zhumabayev Z. S."
    two = Doctor(
        code="d", clinic_id=1, specialty_id=1, surname="Ким", given_name="Елена",
        name_latin="Kim Yelena",
    )  # fmt: skip
    assert two.short_name_latin == "Kim Y."
    one = Doctor(
        code="d", clinic_id=1, specialty_id=1, surname="Ким", given_name="", name_latin="Kim"
    )
    assert one.short_name_latin == "Kim"


def test_a_clinic_address_stored_or_computed() -> None:
    def clinic(address_latin: str = "") -> Clinic:
        return Clinic(
            code="A", name_kk="Емхана", name_ru="Поликлиника", name_en="Polyclinic",
            address="Абай даңғылы, 65", address_latin=address_latin,
        )  # fmt: skip

    stored = clinic("Abay ave 65")
    assert stored.latin_address == "Abay ave 65"
    computed = clinic()
    assert computed.latin_address == "Abai dangyly, 65"

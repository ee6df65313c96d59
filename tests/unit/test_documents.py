"""Electronic documents' pure rules (issue 13; issue 17: every mutant of backend/domain killed).

Short verification codes, the S17-S19 validity term, the verdict and the masks shown on the
verify page. Expected values are written out here, not taken from the module.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pytest

from backend.domain import documents
from backend.domain.documents import (
    CODE_ALPHABET,
    CODE_BITS,
    CODE_LENGTH,
    DOCUMENT_SERVICES,
    REGISTER_OF,
    REGISTRY_STATEMENTS,
    Register,
    Verdict,
    format_code,
    mask_iin,
    mask_name,
    new_code,
    normalize_code,
    valid_until,
    verdict,
)
from backend.domain.statuses import ServiceType

# Crockford-like: digits 2-9 and the letters without I, L, O, U (0/O, 1/I/L look alike).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_the_code_alphabet_is_exactly_the_unambiguous_symbols() -> None:
    assert CODE_ALPHABET == ALPHABET
    assert len(set(ALPHABET)) == 30
    assert CODE_LENGTH == 10
    # 10 symbols of 30: floor(10 * log2 30) = 49 bits, above the minimum of 40.
    assert CODE_BITS == math.floor(10 * math.log2(30)) == 49


def test_a_new_code_is_ten_symbols_of_the_alphabet() -> None:
    codes = [new_code() for _ in range(300)]
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(ALPHABET)
    assert len(set(codes)) == 300
    # Every symbol turns up (3000 draws of 30 symbols: each is expected 100 times).
    seen = Counter("".join(codes))
    assert set(seen) == set(ALPHABET)


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("K7QF3M9PXW", "K7QF-3M9P-XW"),
        ("ABCDEFGHJK", "ABCD-EFGH-JK"),
        ("ABCDEF", "ABCD-EF"),
        ("ABCD", "ABCD"),
        ("AB", "AB"),
        ("", ""),
        ("ABCDEFGHJKMN", "ABCD-EFGH-JK"),
    ],
)
def test_codes_are_printed_in_groups_of_four_four_two(code: str, shown: str) -> None:
    assert format_code(code) == shown


@pytest.mark.parametrize(
    "typed",
    [
        "K7QF3M9PXW",
        "K7QF-3M9P-XW",
        "k7qf-3m9p-xw",
        "  K7QF 3M9P XW  ",
        "K7QF_3M9P.XW",
        "K7QF--3M9P\t\tXW",
        "K7QF\n3M9P-XW",
    ],
)
def test_a_typed_code_is_read_whatever_its_case_and_separators(typed: str) -> None:
    assert normalize_code(typed) == "K7QF3M9PXW"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "K7QF3M9PX",  # 9 symbols
        "K7QF3M9PXWA",  # 11
        "K7QF3M9PX0",  # 0 is not in the alphabet
        "K7QF3M9PXO",  # nor O
        "K7QF3M9PX1",  # nor 1
        "K7QF3M9PXI",
        "K7QF3M9PXL",
        "K7QF3M9PXU",
        "K7QF/3M9P/XW",  # a slash is no separator
        "K7QF3M9PXŴ",
        "K7QF3M9PX７",  # a full-width digit
    ],
)
def test_anything_else_is_no_code(typed: str) -> None:
    assert normalize_code(typed) is None


def test_every_symbol_of_the_alphabet_is_accepted() -> None:
    for symbol in ALPHABET:
        assert normalize_code(symbol * 10) == symbol * 10
        assert normalize_code(symbol.lower() * 10) == symbol * 10


@pytest.mark.parametrize(
    "service",
    [ServiceType.STATEMENT_TB, ServiceType.STATEMENT_PSYCHIATRY, ServiceType.STATEMENT_NARCOLOGY],
)
def test_a_registry_statement_is_valid_ten_calendar_days(service: ServiceType) -> None:
    # S17-S19 row 8: valid 10 calendar days from the issue date.
    assert valid_until(service, dt.date(2026, 12, 25)) == dt.date(2027, 1, 4)


@pytest.mark.parametrize(
    "service", [ServiceType.CERTIFICATE_027, ServiceType.APPOINTMENT, ServiceType.HOME_VISIT]
)
def test_other_documents_carry_no_term(service: ServiceType) -> None:
    assert valid_until(service, dt.date(2026, 12, 25)) is None


def test_the_document_services_and_their_registers() -> None:
    assert {
        ServiceType.STATEMENT_TB,
        ServiceType.STATEMENT_PSYCHIATRY,
        ServiceType.STATEMENT_NARCOLOGY,
    } == REGISTRY_STATEMENTS
    assert REGISTRY_STATEMENTS | {ServiceType.CERTIFICATE_027} == DOCUMENT_SERVICES
    assert REGISTER_OF == {
        ServiceType.STATEMENT_TB: Register.TB,  # S17
        ServiceType.STATEMENT_PSYCHIATRY: Register.PSYCHIATRY,  # S18
        ServiceType.STATEMENT_NARCOLOGY: Register.NARCOLOGY,  # S19
    }
    assert dt.timedelta(days=10) == documents.STATEMENT_VALIDITY


TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("revoked", "until", "expected"),
    [
        (False, None, Verdict.VALID),
        (False, TODAY, Verdict.VALID),  # the last valid day is still valid
        (False, TODAY + dt.timedelta(days=1), Verdict.VALID),
        (False, TODAY - dt.timedelta(days=1), Verdict.EXPIRED),
        (True, None, Verdict.REVOKED),
        (True, TODAY + dt.timedelta(days=5), Verdict.REVOKED),
        (True, TODAY - dt.timedelta(days=5), Verdict.REVOKED),  # revoked wins over expired
    ],
)
def test_the_verdict(revoked: bool, until: dt.date | None, expected: Verdict) -> None:
    assert verdict(revoked=revoked, valid_until_date=until, today=TODAY) is expected


@pytest.mark.parametrize(
    ("surname", "given", "shown"),
    [
        ("Сейтқали", "Айгүл", "Сейтқали А."),
        ("  Сейтқали ", "  Әли ", "Сейтқали Ә."),
        ("Сейтқали", "", "Сейтқали"),
        (" Сейтқали ", "   ", "Сейтқали"),
    ],
)
def test_a_name_is_masked_to_the_surname_and_one_initial(
    surname: str, given: str, shown: str
) -> None:
    assert mask_name(surname, given) == shown


@pytest.mark.parametrize(
    ("iin", "shown"),
    [
        ("900315410014", "********0014"),
        ("12345", "*2345"),
        ("1234", "1234"),
        ("12", "12"),
        ("", ""),
    ],
)
def test_an_iin_is_masked_to_its_last_four_digits(iin: str, shown: str) -> None:
    assert mask_iin(iin) == shown

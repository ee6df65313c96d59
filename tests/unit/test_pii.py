"""mask_pii: no raw ИИН or phone number survives in logs and audit lines."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.pii import mask_pii

# 920305 4 0123: 1*9+2*2+3*0+4*3+5*0+6*5+7*4+8*0+9*1+10*2+11*3 = 145; 145 mod 11 = 2
IIN = "920305401232"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_iin_in_free_text_is_masked_to_its_last_four_digits() -> None:
    assert mask_pii(f"login iin={IIN} ok") == "login iin=********1232 ok"


def test_iin_with_a_wrong_check_digit_is_still_masked() -> None:
    # A mistyped ИИН is still personal data.
    assert mask_pii("ИИН 920305401233") == "ИИН ********1233"


@pytest.mark.parametrize("typed", ["920305 401232", "9203 0540 1232", "920-305-401-232"])
def test_iin_typed_in_groups_is_masked(typed: str) -> None:
    masked = mask_pii(f"my iin is {typed}.")

    assert masked == "my iin is ********1232."
    assert "920305" not in _digits(masked)


def test_several_iins_are_all_masked() -> None:
    assert mask_pii(f"{IIN},{IIN};{IIN}") == "********1232,********1232;********1232"


@pytest.mark.parametrize(
    "phone",
    [
        "+77011234567",
        "+7 701 123 45 67",
        "+7 (701) 123-45-67",
        "+7-701-123-45-67",
        "+7.701.123.45.67",
        "8 701 123 45 67",
        "8 (701) 123-45-67",
        "87011234567",
        "77011234567",
        "7 701 123 45 67",
        "701 123 45 67",
        "(701) 123-45-67",
        "7011234567",
        "+7 701 123 4567",
    ],
)
def test_kz_phone_in_any_usual_form_is_masked(phone: str) -> None:
    masked = mask_pii(f"call {phone} please")

    assert masked == "call +7 701 *** ** 67 please"


def test_russian_number_is_masked_like_a_kz_one() -> None:
    assert mask_pii("tel +7 916 123 45 67") == "tel +7 916 *** ** 67"


@pytest.mark.parametrize(
    "phone", ["+996 555 123 456", "+996555123456", "+44 20 7946 0958", "+1 (202) 555-0143"]
)
def test_foreign_phone_is_masked_to_its_last_two_digits(phone: str) -> None:
    masked = mask_pii(f"relative: {phone}")

    assert masked.startswith("relative: *")
    assert masked.endswith(phone[-2:])
    assert len(_digits(masked)) == 2


def test_iin_and_phone_next_to_each_other_are_both_masked() -> None:
    masked = mask_pii(f"{IIN} 87011234567")

    assert masked == "********1232 +7 701 *** ** 67"


def test_two_phones_separated_by_a_space_are_both_masked() -> None:
    assert mask_pii("+7 701 123 45 67 8 702 765 43 21") == "+7 701 *** ** 67 +7 702 *** ** 21"


@pytest.mark.parametrize(
    "text",
    [
        "otp code 123 456",
        "otp code 123456",
        "visit on 2026-11-23 at 10:30",
        "visit on 23.11.2026 at 10:30",
        "big number 1234567890123",  # 13 digits: neither an ИИН nor a phone
        "big number 1187011234567",  # a phone-like tail inside a longer number
        "card 4400 4301 2345 6789",  # 16 digits in groups: not an ИИН
        "eleven digits 12345678901",
        "application HV-2026-000123",
        "price 7 000 тг, room 701",
        "slot 08:00-08:15 on Saturday",
        "",
    ],
)
def test_numbers_that_are_not_an_iin_or_a_phone_are_left_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_text_without_digits_is_unchanged() -> None:
    text = "Сәлеметсіз бе! Дәрігерді үйге шақыру"

    assert mask_pii(text) == text


@settings(max_examples=200)
@given(
    before=st.text(alphabet="abc ,.:;\n", max_size=10),
    after=st.text(alphabet="abc ,.:;\n", max_size=10),
    iin=st.text(alphabet="0123456789", min_size=12, max_size=12),
)
def test_a_raw_twelve_digit_number_never_survives(before: str, after: str, iin: str) -> None:
    masked = mask_pii(f"{before}{iin}{after}")

    assert iin not in masked
    assert iin[:8] not in _digits(masked)


@settings(max_examples=200)
@given(
    code=st.sampled_from(["700", "701", "702", "705", "707", "747", "771", "777", "778"]),
    subscriber=st.text(alphabet="0123456789", min_size=7, max_size=7),
    prefix=st.sampled_from(["+7", "+7 ", "8", "8 ", "7", "", "8 (", "+7 ("]),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_a_raw_kz_phone_never_survives(code: str, subscriber: str, prefix: str, sep: str) -> None:
    close = ") " if prefix.endswith("(") else sep
    phone = f"{prefix}{code}{close}{subscriber[:3]}{sep}{subscriber[3:5]}{sep}{subscriber[5:]}"

    masked = mask_pii(f"phone: {phone}!")

    assert masked == f"phone: +7 {code} *** ** {subscriber[-2:]}!"
    # Of the subscriber number only the last two digits are left (the digits of the masked
    # form can still spell its first five by coincidence: "+7 777 *** ** 80" and "77788").
    assert _digits(masked) == "7" + code + subscriber[-2:]


@settings(max_examples=200)
@given(st.text())
def test_mask_pii_never_fails_and_is_stable(text: str) -> None:
    once = mask_pii(text)

    assert mask_pii(once) == once

"""Kazakhstan mobile numbers: +7 7xx xxx xx xx (domain/README.md "Identity and consent")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.phone import (
    MOBILE_CODES,
    InvalidPhone,
    PhoneError,
    is_kz_mobile,
    mask_phone,
    normalize_kz_mobile,
)


def _reason(text: str) -> PhoneError:
    with pytest.raises(InvalidPhone) as caught:
        normalize_kz_mobile(text)
    return caught.value.reason


@pytest.mark.parametrize(
    "text",
    [
        "+77011234567",
        "+7 701 123 45 67",
        "+7 (701) 123-45-67",
        "+7-701-123-45-67",
        "+7 701 123 4567",
        "+7.701.123.45.67",
        "8 701 123 45 67",
        "8 (701) 123-45-67",
        "87011234567",
        "7 701 123 45 67",
        "77011234567",
        "701 123 45 67",
        "(701) 123-45-67",
        "7011234567",
        "  +7 701 123 45 67\n",
        "+7\u00a0701\u00a0123\u00a045\u00a067",
    ],
)
def test_usual_kazakh_forms_normalise_to_e164(text: str) -> None:
    assert normalize_kz_mobile(text) == "+77011234567"
    assert is_kz_mobile(text)


# The mobile codes after +7, written out here (not taken from the implementation, so removing
# one from `MOBILE_CODES` fails a test). Source: Kazakhstan's national numbering plan as notified
# to the ITU (E.164 country code 7, Kazakhstan's mobile ranges 7 700-709, 747, 771, 775-778).
KZ_MOBILE_CODES = (
    "700", "701", "702", "703", "704", "705", "706", "707", "708", "709",
    "747", "771", "775", "776", "777", "778",
)  # fmt: skip
# Other 7xx codes: landline areas (710-729: Almaty 727, Astana 717, ...) and unassigned ranges.
NOT_MOBILE_CODES = (
    "710", "711", "712", "713", "714", "715", "716", "717", "718", "719", "720", "721",
    "722", "723", "724", "725", "726", "727", "728", "729", "730", "736", "740", "746",
    "748", "750", "760", "770", "772", "773", "774", "779", "780", "790", "799",
)  # fmt: skip


def test_the_operator_codes_are_exactly_the_pinned_list() -> None:
    assert sorted(MOBILE_CODES) == list(KZ_MOBILE_CODES)


@pytest.mark.parametrize("code", KZ_MOBILE_CODES)
def test_every_mobile_operator_code_is_accepted(code: str) -> None:
    assert normalize_kz_mobile(f"8 {code} 555 12 34") == f"+7{code}5551234"
    assert normalize_kz_mobile(f"+7{code}5551234") == f"+7{code}5551234"


@pytest.mark.parametrize("code", NOT_MOBILE_CODES)
def test_other_seven_hundred_codes_are_not_mobile(code: str) -> None:
    assert _reason(f"8 {code} 555 12 34") is PhoneError.NOT_KZ_MOBILE


@pytest.mark.parametrize(
    "text",
    [
        "+996 555 123 456",  # Kyrgyzstan
        "+1 202 555 0143",  # USA
        "+44 20 7946 0958",  # UK
        "+998 90 123 45 67",  # Uzbekistan
        "+7 916 123 45 67",  # Russia, mobile
        "8 916 123 45 67",  # Russia, domestic form
        "+7 495 123 45 67",  # Moscow landline
        "+7 727 123 45 67",  # Almaty landline
        "8 (727) 123-45-67",
        "+7 717 212 34 56",  # Astana landline
        "727 123 45 67",
    ],
)
def test_foreign_russian_and_landline_numbers_are_not_kz_mobile(text: str) -> None:
    assert _reason(text) is PhoneError.NOT_KZ_MOBILE
    assert not is_kz_mobile(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "+",
        "+ ()",
        "+7",
        "8 701 123 45",  # too short
        "8 701 123 45 678",  # 12 digits
        "+7 701 123 45 678",  # +7 and 11 digits
        "7 701 123 45 67 89",
        "+7 701 123 45 6x",
        "tel +77011234567",
        "+7 701 123 45 67 +7",
        "7+7011234567",
        "123",
        "9 701 123 45 67",  # 11 digits not starting with 7 or 8
        "+1 234 567 890 123 456 78",  # longer than E.164 allows
        "٨٧٠١١٢٣٤٥٦٧",  # Arabic-Indic digits
        "8 701 123 45 6٧",  # an Arabic-Indic digit at the end
        "８７０１１２３４５６７",  # full-width digits
    ],
)
def test_text_that_is_not_a_phone_number_is_malformed(text: str) -> None:
    assert _reason(text) is PhoneError.MALFORMED
    assert not is_kz_mobile(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # E.164 (ITU-T): at most 15 digits; fewer than 7 is no subscriber number anywhere.
        ("+123456", PhoneError.MALFORMED),  # 6 digits
        ("+1234567", PhoneError.NOT_KZ_MOBILE),  # 7: a number, not a Kazakh one
        ("+123456789012345", PhoneError.NOT_KZ_MOBILE),  # 15
        ("+1234567890123456", PhoneError.MALFORMED),  # 16
    ],
)
def test_an_international_number_has_7_to_15_digits(text: str, reason: PhoneError) -> None:
    assert _reason(text) is reason


def test_invalid_phone_is_a_value_error_carrying_its_reason() -> None:
    with pytest.raises(ValueError, match="not_kz_mobile"):
        normalize_kz_mobile("+996 555 123 456")


@settings(max_examples=200)
@given(st.text())
def test_normalize_never_raises_anything_but_invalid_phone(text: str) -> None:
    try:
        result = normalize_kz_mobile(text)
    except InvalidPhone:
        return
    assert result.startswith("+7")
    assert len(result) == 12
    assert result[1:].isascii()
    assert result[1:].isdigit()
    assert result[2:5] in MOBILE_CODES


@settings(max_examples=200)
@given(st.text(alphabet="0123456789 +()-.", max_size=25))
def test_normalize_on_phone_like_text_returns_e164_or_invalid_phone(text: str) -> None:
    try:
        result = normalize_kz_mobile(text)
    except InvalidPhone:
        return
    assert result[2:5] in MOBILE_CODES
    assert result[1:].isdigit()
    assert normalize_kz_mobile(result) == result  # idempotent


@settings(max_examples=200)
@given(
    code=st.sampled_from(sorted(MOBILE_CODES)),
    subscriber=st.text(alphabet="0123456789", min_size=7, max_size=7),
    prefix=st.sampled_from(["+7", "+7 ", "8", "8 ", "7", ""]),
)
def test_any_kz_mobile_in_any_prefix_form_normalises_to_the_same_number(
    code: str, subscriber: str, prefix: str
) -> None:
    assert normalize_kz_mobile(f"{prefix}{code}{subscriber}") == f"+7{code}{subscriber}"


def test_mask_phone_shows_operator_code_and_last_two_digits() -> None:
    masked = mask_phone("+77011234567")

    assert masked == "+7 701 *** ** 67"
    assert "12345" not in masked


def test_mask_phone_of_a_non_kz_number_keeps_only_the_last_two_digits() -> None:
    assert mask_phone("+996555123456") == "***********56"
    assert mask_phone("1") == "1"


@pytest.mark.parametrize("text", ["++7 701 123 45 67", "++77011234567", "+++77011234567"])
def test_more_than_one_plus_is_malformed(text: str) -> None:
    assert _reason(text) is PhoneError.MALFORMED

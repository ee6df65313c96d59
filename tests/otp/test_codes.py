"""One-time codes as generated, shown and typed (otp/codes.py); every separator pinned."""

from __future__ import annotations

import secrets

import pytest

from otp.codes import format_code, generate, normalize_code

# What people (and phones that auto-format "123 456") put inside a typed code.
SEPARATORS = {
    " ": "space",
    "\t": "tab",
    "\r": "carriage return",
    "\n": "line feed",
    "-": "hyphen-minus",
    "\u00a0": "no-break space",
    "\u2009": "thin space (phones' auto-format)",
    "\u202f": "narrow no-break space",
    "\u2010": "hyphen",
    "\u2011": "non-breaking hyphen",
    "\u2012": "figure dash",
    "\u2013": "en dash",
}
# Anything else inside a code makes it a wrong code.
NOT_SEPARATORS = [".", ",", "_", "/", "*", "#", "+", "a", "\u2014", "\u200b", "\u2212", "0"]


@pytest.mark.parametrize("separator", SEPARATORS, ids=SEPARATORS.values())
def test_every_separator_is_ignored(separator: str) -> None:
    assert normalize_code(f"123{separator}456") == "123456"
    assert normalize_code(f"{separator}12{separator}34{separator}56{separator}") == "123456"


@pytest.mark.parametrize("other", NOT_SEPARATORS)
def test_other_characters_make_a_wrong_code(other: str) -> None:
    assert normalize_code(f"123{other}456") is None


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "1234567",
        "12345a",
        "abcdef",
        "１２３４５６",  # full-width digits
        "١٢٣٤٥٦",  # Arabic-Indic digits
        "¹²³456",  # superscripts count as digits for str.isdigit
    ],
)
def test_not_six_ascii_digits_is_not_a_code(typed: str) -> None:
    assert normalize_code(typed) is None


def test_the_length_to_expect_is_a_parameter() -> None:
    assert normalize_code("1234 5678", digits=8) == "12345678"
    assert normalize_code("123456", digits=8) is None
    assert normalize_code("12345678") is None


def test_typed_text_longer_than_64_characters_is_not_a_code() -> None:
    assert normalize_code("123456".center(64)) == "123456"
    assert normalize_code("123456".center(65)) is None


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("", ""),
        ("1234", "1234"),
        ("12345", "123 45"),
        ("123456", "123 456"),
        ("1234567", "1234 567"),
        ("12345678", "1234 5678"),
        ("1234567890", "12345 67890"),
    ],
)
def test_codes_are_shown_in_two_groups(code: str, shown: str) -> None:
    assert format_code(code) == shown


@pytest.mark.parametrize("digits", [6, 8, 10])
def test_generate_draws_digits_uniformly_and_pads(
    digits: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    bounds: list[int] = []

    def randbelow(bound: int) -> int:
        bounds.append(bound)
        return 42

    monkeypatch.setattr(secrets, "randbelow", randbelow)
    assert generate(digits) == "42".zfill(digits)
    assert bounds == [10**digits]


def test_generate_makes_six_digits_by_default() -> None:
    generated = {generate() for _ in range(200)}
    assert all(len(code) == 6 and code.isascii() and code.isdigit() for code in generated)
    assert len(generated) > 190

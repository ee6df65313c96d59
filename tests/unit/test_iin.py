"""ИИН rules (domain/README.md "Identity and consent").

Expected check digits are computed by hand in the comments: weights 1..11 over digits 1-11,
mod 11; when that gives 10, weights 3,4,5,6,7,8,9,10,11,1,2, mod 11; 10 again = no valid ИИН.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.iin import (
    Iin,
    IinError,
    InvalidIin,
    Sex,
    check_digit,
    is_valid_iin,
    make_iin,
    mask_iin,
    parse_iin,
)

# The last date an ИИН can encode: the property tests run over every century, the future too.
LAST_DAY = dt.date(2099, 12, 31)


def _reason(text: str) -> IinError:
    with pytest.raises(InvalidIin) as caught:
        parse_iin(text)
    return caught.value.reason


# One hand-checked valid ИИН per century/sex digit 1-6.
VALID_BY_CENTURY_DIGIT = [
    # 850120 1 5000: 1*8+2*5+3*0+4*1+5*2+6*0+7*1+8*5+9*0+10*0+11*0 = 79; 79 mod 11 = 2
    ("850120150002", dt.date(1885, 1, 20), Sex.MALE),
    # 540711 2 1111: 1*5+2*4+3*0+4*7+5*1+6*1+7*2+8*1+9*1+10*1+11*1 = 104; 104 mod 11 = 5
    ("540711211115", dt.date(1854, 7, 11), Sex.FEMALE),
    # 100213 3 0045: 1*1+2*0+3*0+4*2+5*1+6*3+7*3+8*0+9*0+10*4+11*5 = 148; 148 mod 11 = 5
    ("100213300455", dt.date(1910, 2, 13), Sex.MALE),
    # 920305 4 0123: 1*9+2*2+3*0+4*3+5*0+6*5+7*4+8*0+9*1+10*2+11*3 = 145; 145 mod 11 = 2
    ("920305401232", dt.date(1992, 3, 5), Sex.FEMALE),
    # 050607 5 0321: 1*0+2*5+3*0+4*6+5*0+6*7+7*5+8*0+9*3+10*2+11*1 = 169; 169 mod 11 = 4
    ("050607503214", dt.date(2005, 6, 7), Sex.MALE),
    # 061111 6 0010: 1*0+2*6+3*1+4*1+5*1+6*1+7*6+8*0+9*0+10*1+11*0 = 82; 82 mod 11 = 5
    ("061111600105", dt.date(2006, 11, 11), Sex.FEMALE),
]


@pytest.mark.parametrize(("value", "birth", "sex"), VALID_BY_CENTURY_DIGIT)
def test_valid_iin_gives_birth_date_and_sex_from_century_digit(
    value: str, birth: dt.date, sex: Sex
) -> None:
    parsed = parse_iin(value)

    assert parsed == Iin(value=value, birth_date=birth, sex=sex)
    assert str(parsed) == value
    assert is_valid_iin(value)


def test_odd_century_digit_is_male_and_even_is_female() -> None:
    sexes = {v[6]: s for v, _, s in VALID_BY_CENTURY_DIGIT}
    assert sexes == {
        "1": Sex.MALE,
        "2": Sex.FEMALE,
        "3": Sex.MALE,
        "4": Sex.FEMALE,
        "5": Sex.MALE,
        "6": Sex.FEMALE,
    }
    for value, _, sex in VALID_BY_CENTURY_DIGIT:
        assert parse_iin(value).sex is sex


@pytest.mark.parametrize(("value", "_birth", "_sex"), VALID_BY_CENTURY_DIGIT)
def test_every_other_check_digit_is_refused_as_bad_checksum(
    value: str, _birth: dt.date, _sex: Sex
) -> None:
    for wrong in "0123456789":
        if wrong == value[-1]:
            continue
        assert _reason(value[:11] + wrong) is IinError.BAD_CHECKSUM
        assert not is_valid_iin(value[:11] + wrong)


def test_first_weighting_giving_ten_falls_back_to_second_weighting() -> None:
    # 880315 3 0051: weights 1..11: 1*8+2*8+3*0+4*3+5*1+6*5+7*3+8*0+9*0+10*5+11*1 = 153;
    #   153 mod 11 = 10 -> second weighting
    # weights 3..11,1,2: 3*8+4*8+5*0+6*3+7*1+8*5+9*3+10*0+11*0+1*5+2*1 = 155; 155 mod 11 = 1
    parsed = parse_iin("880315300511")

    assert parsed.birth_date == dt.date(1988, 3, 15)
    assert parsed.sex is Sex.MALE
    assert check_digit("88031530051") == 1
    # 10 is not a digit: the first-weighting result must never be accepted as "0" either.
    assert _reason("880315300510") is IinError.BAD_CHECKSUM


@pytest.mark.parametrize("first", ["8803153005", "880315300511", ""])
def test_a_check_digit_is_only_for_exactly_eleven_digits(first: str) -> None:
    with pytest.raises(ValueError, match="zip"):
        check_digit(first)


def test_second_weighting_case_with_another_check_digit() -> None:
    # 880315 3 0052: 1*8+2*8+3*0+4*3+5*1+6*5+7*3+8*0+9*0+10*5+11*2 = 164; 164 mod 11 = 10
    # 3*8+4*8+5*0+6*3+7*1+8*5+9*3+10*0+11*0+1*5+2*2 = 157; 157 mod 11 = 3
    assert parse_iin("880315300523").birth_date == dt.date(1988, 3, 15)
    assert _reason("880315300524") is IinError.BAD_CHECKSUM


@pytest.mark.parametrize(
    "first11",
    [
        # 1*8+2*8+3*0+4*3+5*1+6*5+7*3+8*0+9*0+10*5+11*0 = 142; 142 mod 11 = 10
        # 3*8+4*8+5*0+6*3+7*1+8*5+9*3+10*0+11*0+1*5+2*0 = 153; 153 mod 11 = 10
        "88031530050",
        # 1*8+2*8+3*0+4*3+5*1+6*5+7*3+8*0+9*1+10*3+11*1 = 142; 142 mod 11 = 10
        # 3*8+4*8+5*0+6*3+7*1+8*5+9*3+10*0+11*1+1*3+2*1 = 164; 164 mod 11 = 10
        "88031530131",
    ],
)
def test_prefix_where_both_weightings_give_ten_is_uncheckable(first11: str) -> None:
    assert check_digit(first11) is None
    for last in "0123456789":
        assert _reason(first11 + last) is IinError.UNCHECKABLE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "92030540123",  # 11 digits
        "9203054012320",  # 13 digits
        "92030540123a",
        "ИИН920305401",
        "920305.401232",
        "+20305401232",
        "٩٢٠٣٠٥٤٠١٢٣٢",  # Arabic-Indic digits: isdigit() is True, but not an ИИН
        "920305٤01232",
        "９２０３０５４０１２３２",  # full-width digits
        "920305X401232",  # a letter inside is not dropped like a space
        "920305x401232",
        "920305_401232",
    ],
)
def test_text_that_is_not_twelve_ascii_digits_is_refused(text: str) -> None:
    assert _reason(text) is IinError.NOT_12_DIGITS


@pytest.mark.parametrize(
    "text",
    [
        "921305401232",  # month 13
        "920005401232",  # month 00
        "920230401232",  # 30 February
        "920431401232",  # 31 April
        "920300401232",  # day 00
        "000229300015",  # 29 February 1900: 1900 is not a leap year
    ],
)
def test_impossible_birth_date_is_refused(text: str) -> None:
    assert _reason(text) is IinError.BAD_DATE


def test_29_february_2000_is_a_real_birth_date() -> None:
    # Same first six digits as 1900 above, century digit 5: 2000 is a leap year.
    # 000229 5 0001: 1*0+2*0+3*0+4*2+5*2+6*9+7*5+8*0+9*0+10*0+11*1 = 118; 118 mod 11 = 8
    parsed = parse_iin("000229500018")

    assert parsed.birth_date == dt.date(2000, 2, 29)
    assert parsed.sex is Sex.MALE


@pytest.mark.parametrize("century_digit", ["0", "7", "8", "9"])
def test_century_digit_outside_one_to_six_is_refused(century_digit: str) -> None:
    assert _reason(f"920305{century_digit}01232") is IinError.BAD_CENTURY


@pytest.mark.parametrize(
    "text",
    ["920305 401232", " 920305401232 ", "920 305 401 232", "9203-0540-1232", "920305\u00a0401232"],
)
def test_spaces_and_dashes_inside_are_accepted_and_dropped(text: str) -> None:
    parsed = parse_iin(text)

    assert parsed.value == "920305401232"
    assert parsed.birth_date == dt.date(1992, 3, 5)


def test_invalid_iin_is_a_value_error_carrying_its_reason() -> None:
    with pytest.raises(ValueError, match="bad_checksum"):
        parse_iin("920305401233")


def test_make_iin_skips_serials_without_a_check_digit() -> None:
    # 88031530050 is uncheckable (see above): serial 50 advances to 51, check digit 1.
    assert make_iin(dt.date(1988, 3, 15), Sex.MALE, 50) == "880315300511"


def test_make_iin_wraps_from_serial_9999_to_0000() -> None:
    # 68010139999 is uncheckable: the next serial is 0000, not a five-digit 10000.
    assert check_digit("68010139999") is None
    assert make_iin(dt.date(1968, 1, 1), Sex.MALE, 9999) == "680101300009"


def test_make_iin_takes_the_serial_modulo_10000() -> None:
    assert make_iin(dt.date(1988, 3, 15), Sex.MALE, 10_050) == "880315300511"
    assert make_iin(dt.date(1988, 3, 15), Sex.MALE, 10_000) == make_iin(
        dt.date(1988, 3, 15), Sex.MALE, 0
    )


def test_make_iin_rejects_birth_years_without_a_century_digit() -> None:
    message = r"^birth year outside 1800-2099$"
    with pytest.raises(ValueError, match=message):
        make_iin(dt.date(2100, 1, 1), Sex.MALE, 1)
    with pytest.raises(ValueError, match=message):
        make_iin(dt.date(1799, 12, 31), Sex.FEMALE, 1)


@settings(max_examples=200)
@given(
    birth=st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)),
    sex=st.sampled_from(Sex),
    serial=st.integers(min_value=0, max_value=9999),
)
def test_make_iin_always_gives_an_iin_that_parses_to_that_birth_date_and_sex(
    birth: dt.date, sex: Sex, serial: int
) -> None:
    value = make_iin(birth, sex, serial)
    parsed = parse_iin(value, today=LAST_DAY)

    assert parsed.birth_date == birth
    assert parsed.sex is sex
    assert len(value) == 12


def _reference_check_digit(first11: str) -> int | None:
    """The README rule written out independently of backend.domain.iin."""
    first = sum((i + 1) * int(c) for i, c in enumerate(first11)) % 11
    if first != 10:
        return first
    second = sum(((i + 2) % 11 + 1) * int(c) for i, c in enumerate(first11)) % 11
    return None if second == 10 else second


def test_reference_check_digit_agrees_with_the_hand_computed_examples() -> None:
    assert _reference_check_digit("92030540123") == 2
    assert _reference_check_digit("88031530051") == 1  # via the second weighting
    assert _reference_check_digit("88031530050") is None


@settings(max_examples=200)
@given(
    birth=st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)),
    female=st.booleans(),
    serial=st.integers(min_value=0, max_value=9999),
)
def test_exactly_the_rule_check_digit_is_accepted_for_a_valid_prefix(
    birth: dt.date, female: bool, serial: int
) -> None:
    century_digit = {18: 1, 19: 3, 20: 5}[birth.year // 100] + int(female)
    first11 = f"{birth.year % 100:02d}{birth.month:02d}{birth.day:02d}{century_digit}{serial:04d}"
    expected = _reference_check_digit(first11)

    accepted = [d for d in "0123456789" if is_valid_iin(first11 + d, today=LAST_DAY)]

    assert check_digit(first11) == expected
    if expected is None:
        assert accepted == []
        assert _reason(first11 + "0") is IinError.UNCHECKABLE
    else:
        assert accepted == [str(expected)]
        parsed = parse_iin(first11 + str(expected), today=LAST_DAY)
        assert parsed.birth_date == birth
        assert parsed.sex is (Sex.FEMALE if female else Sex.MALE)


@settings(max_examples=200)
@given(st.text())
def test_parse_iin_raises_only_invalid_iin_on_arbitrary_text(text: str) -> None:
    with contextlib.suppress(InvalidIin):
        parse_iin(text)


def test_mask_iin_keeps_only_the_last_four_digits() -> None:
    assert mask_iin("920305401232") == "********1232"
    assert mask_iin("1234") == "1234"
    assert mask_iin("12") == "12"
    assert "920305" not in mask_iin("920305401232")


# Issue 9: an ИИН whose birth date is after today is invalid (nobody is registered unborn).
TODAY = dt.date(2026, 11, 23)


def test_a_birth_date_after_today_is_refused() -> None:
    tomorrow = make_iin(TODAY + dt.timedelta(days=1), Sex.FEMALE, 1)
    next_century = make_iin(dt.date(2099, 1, 1), Sex.MALE, 1)

    for text in (tomorrow, next_century):
        with pytest.raises(InvalidIin) as caught:
            parse_iin(text, today=TODAY)
        assert caught.value.reason is IinError.FUTURE_DATE
        assert not is_valid_iin(text, today=TODAY)


def test_born_today_is_valid() -> None:
    born_today = make_iin(TODAY, Sex.MALE, 1)

    assert parse_iin(born_today, today=TODAY).birth_date == TODAY


def test_without_today_the_system_date_is_the_limit() -> None:
    far_future = make_iin(dt.date(2099, 12, 31), Sex.FEMALE, 5)

    assert not is_valid_iin(far_future)
    assert is_valid_iin(make_iin(dt.date(2000, 1, 1), Sex.FEMALE, 5))

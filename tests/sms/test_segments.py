"""The shared segment counter: GSM-7 (basic + extension table) and UCS-2, packed exactly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sms.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    count_segments,
    gsm7_or_original,
    segments,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 septets: each extension character is an escape pair
        ("€" * 81, 2),
        ("a" * 159 + "{", 2),
        ("ә" * 70, 1),
        ("ә" * 71, 2),
        ("ә" * 134, 2),
        ("ә" * 135, 3),
        ("😀" * 35, 1),  # two UTF-16 units each
        ("😀" * 36, 2),
        ("a" * 100 + "ә", 2),  # one Kazakh letter makes the whole message UCS-2
    ],
)
def test_segment_counts(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_an_escape_pair_never_straddles_two_parts() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets, but "€" cannot split 152 | 1

    assert count_segments(text).units == 306
    assert segments(text) == 3


def test_a_surrogate_pair_never_straddles_two_parts() -> None:
    text = "а" * 66 + "😀" + "а" * 66  # 134 units, but the emoji cannot split 66 | 1

    assert count_segments(text).units == 134
    assert segments(text) == 3


def test_encodings() -> None:
    assert count_segments("Hello {name} ~ €").encoding is Encoding.GSM7
    assert count_segments("Сәлем").encoding is Encoding.UCS2
    assert count_segments("Almaty: äöüñ").encoding is Encoding.GSM7  # Kazakh Latin, partly
    assert count_segments("Qazaqstan: ğ ı ş ū").encoding is Encoding.UCS2


def test_smart_encoding_only_when_it_makes_the_text_gsm7() -> None:
    assert gsm7_or_original("Choose «Operator 1414» – now…") == 'Choose "Operator 1414" - now...'
    kazakh = "«Оператор 1414» таңдаңыз"
    assert gsm7_or_original(kazakh) == kazakh  # UCS-2 anyway: typography kept


_GSM = sorted(GSM7_BASIC | GSM7_EXTENSION)


@given(st.text(alphabet=st.sampled_from(_GSM), max_size=700))
def test_gsm7_count_is_between_the_naive_bounds(text: str) -> None:
    count = count_segments(text)
    assert count.encoding is Encoding.GSM7
    if count.units <= 160:
        assert count.segments == (1 if text else 0)
    else:
        assert math.ceil(count.units / 153) <= count.segments <= math.ceil(count.units / 152)


@given(st.text(min_size=1, max_size=400))
def test_appending_never_makes_a_message_cheaper(text: str) -> None:
    assert segments(text + "x") >= segments(text)
    assert segments(text + "ә") >= segments(text)

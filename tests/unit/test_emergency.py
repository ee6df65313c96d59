"""The emergency matcher: kk/ru/en signs stop a home visit (S12, R-38: call 103)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.emergency import looks_like_emergency, normalize


@pytest.mark.parametrize(
    "text",
    [
        # Kazakh
        "Кеуде ауырады",
        "кеудем қатты ауырады",
        "Әкем тыныс ала алмайды",
        "анам есінен танды",
        "Қан кетіп жатыр, тоқтамайды",
        "инсульт болған сияқты",
        "баланың талмасы ұстады",
        # Russian
        "Сильная боль в груди",
        "Ребёнок не дышит",
        "муж без сознания",
        "Потеряла сознание на кухне",
        "СИЛЬНОЕ   КРОВОТЕЧЕНИЕ",
        "похоже на инсульт, лицо перекосило",
        "у дочки судороги",
        "отёк Квинке после укуса",
        # English
        "Chest pain since morning",
        "my father can't breathe",
        "She is UNCONSCIOUS",
        "he fainted twice",
        "heavy bleeding from a cut",
        "face drooping and slurred speech",
        "arm weakness on the left",
        "a seizure ten minutes ago",
        "severe allergic reaction to a bee sting",
    ],
)
def test_emergency_signs_in_three_languages(text: str) -> None:
    assert looks_like_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "headache",
        "cough and runny nose",
        "fever 38.5 since yesterday",
        "sore throat",
        "back pain",
        "Басым ауырады",
        "жөтел, қызба 38",
        "тамағым ауырады",
        "Головная боль",
        "кашель, температура 37.8",
        "болит горло",
        "давление 140/90",
        "",
        "   ",
    ],
)
def test_ordinary_complaints_are_not_emergencies(text: str) -> None:
    assert not looks_like_emergency(text)


def test_normalisation_folds_case_yo_spaces_and_punctuation() -> None:
    assert normalize("  Отёк,   ГОРЛА!  ") == ("отек", "горла")
    assert normalize("can’t  breathe") == ("cant", "breathe")


def test_stems_must_start_a_word() -> None:
    assert not looks_like_emergency("heatstroke protection cream")
    assert looks_like_emergency("he had a stroke")


@given(st.text())
def test_any_text_is_answered_without_error(text: str) -> None:
    assert looks_like_emergency(text) in (True, False)


@given(
    st.sampled_from(["chest pain", "не дышит", "есінен танды"]),
    st.text(alphabet=" \t\n", min_size=1, max_size=3),
    st.booleans(),
)
def test_spacing_and_case_do_not_matter(phrase: str, space: str, upper: bool) -> None:
    text = space.join(phrase.split()) + space
    assert looks_like_emergency(text.upper() if upper else text)

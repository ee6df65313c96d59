"""Issue 15, "every screen checked for a way on": every SMS screen the walk meets, in kk, ru and
en, shows a number or a navigation word that leads on; after a wrong answer (the hint, and the
"having trouble?" notice of the third strike) the numbers that were valid still are, on the page
the patient sees, and a hint names no button that is not there."""

from __future__ import annotations

from dataclasses import replace

from bench.sms_screens import Found
from bot.sms.render import MENU_NUMBER, MORE_NUMBER, Rendering
from dialogs.engine.engine import TROUBLE
from dialogs.engine.step import CHOOSE_AN_OPTION
from tests.sms.test_budget import LANGUAGES, RENDERER, SQLITE
from tests.sms.test_budget import screens as screens  # noqa: PLC0414 - the walk, as a fixture

pytestmark = SQLITE


def _ways_on(rendering: Rendering, page: int) -> bool:
    lines = rendering.pages[page].text.splitlines()
    footer = any(line.startswith(("0 ", f"{MENU_NUMBER} ")) for line in lines)
    more = any(line.startswith(f"{MORE_NUMBER} ") for line in lines)
    return bool(rendering.pages[page].numbers) or footer or more


def test_every_screen_shows_a_way_on(screens: list[Found]) -> None:
    assert len(screens) > 30
    for found in screens:
        for language in LANGUAGES:
            rendering = RENDERER.render(found.screen, language)
            last = len(rendering.pages) - 1
            assert _ways_on(rendering, last), (found.screen.state, language, rendering.pages)


def test_after_a_wrong_answer_the_valid_numbers_stay_on_the_page(screens: list[Found]) -> None:
    checked = 0
    for found in screens:
        plain_screen = replace(found.screen, notice=None, error=None)
        for language in LANGUAGES:
            plain = RENDERER.render(plain_screen, language)
            if not plain.pages[0].numbers:
                continue
            for notice in (None, TROUBLE):
                hinted = RENDERER.render(
                    replace(plain_screen, error=CHOOSE_AN_OPTION, notice=notice), language
                )
                assert hinted.pages[0].numbers == plain.pages[0].numbers, (
                    found.screen.state,
                    language,
                    hinted.pages[0].text,
                )
                text = hinted.pages[0].text
                assert "«Operator 1414»" not in text and "«Оператор 1414»" not in text, text
                assert "«1414 операторы»" not in text, text
                checked += 1
    assert checked > 50

"""Keywords in kk/ru/en, case- and layout-insensitive; CANCEL is a keyword of its own."""

from __future__ import annotations

import pytest

from bot.sms.keywords import Keyword, match_keyword, spellings


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", Keyword.STOP),
        ("stop", Keyword.STOP),
        (" Stop! ", Keyword.STOP),
        ("СТОП", Keyword.STOP),
        ("стоп", Keyword.STOP),
        ("ТОҚТА", Keyword.STOP),
        ("токта", Keyword.STOP),  # without the Kazakh letter
        ("ЫЕЩЗ", Keyword.STOP),  # STOP typed on a Cyrillic layout
        ("cnjg", Keyword.STOP),  # СТОП typed on a Latin layout
        ("nj0nf", Keyword.STOP),  # ТОҚТА typed on a Latin layout (Kazakh letters on digits)
        ("UNSUBSCRIBE", Keyword.STOP),
        ("START", Keyword.START),
        ("старт", Keyword.START),
        ("Бастау", Keyword.START),
        ("HELP", Keyword.HELP),
        ("көмек", Keyword.HELP),
        ("КОМЕК", Keyword.HELP),
        ("r-vtr", Keyword.HELP),  # КӨМЕК on a Latin layout
        ("ПОМОЩЬ", Keyword.HELP),
        ("gjvjom", Keyword.HELP),  # ПОМОЩЬ on a Latin layout
        ("MENU", Keyword.MENU),
        ("Мәзір", Keyword.MENU),
        ("мазир", Keyword.MENU),
        ("меню", Keyword.MENU),
        ("MЕНЮ", Keyword.MENU),  # a Latin M among Cyrillic letters
        ("vty.", Keyword.MENU),  # МЕНЮ on a Latin layout (the final "." is "ю")
        ("OPERATOR", Keyword.OPERATOR),
        ("оператор", Keyword.OPERATOR),
        ("1414", Keyword.OPERATOR),
        ("CANCEL", Keyword.CANCEL),
        ("cancel", Keyword.CANCEL),
        ("Отмена", Keyword.CANCEL),
        ("KZ", Keyword.KK),
        ("kz", Keyword.KK),
        ("Қаз", Keyword.KK),
        ("RU", Keyword.RU),
        ("ру", Keyword.RU),
        ("EN", Keyword.EN),
        ("Eng", Keyword.EN),
    ],
)
def test_keywords(text: str, keyword: Keyword) -> None:
    assert match_keyword(text) is keyword


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "0",
        "00",
        "9",
        "900101300128",
        "482915",
        "stop the pain please",
        "cancel my appointment tomorrow",
        "fever 38.5, cough",
        "Астана, Абай даңғылы, 1",
        "да",
        "yes",
        "x" * 100,
    ],
)
def test_not_keywords(text: str) -> None:
    assert match_keyword(text) is None


@pytest.mark.parametrize("keyword", list(Keyword))
def test_every_spelling_matches_in_any_case(keyword: Keyword) -> None:
    for word in spellings(keyword):
        assert match_keyword(word) is keyword
        assert match_keyword(word.lower()) is keyword
        assert match_keyword(word.title()) is keyword

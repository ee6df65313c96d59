"""Screen → Telegram message: layout, escaping, the 4096-character limit, callback data."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.telegram.callbacks import Pick, pack_pick
from bot.telegram.render import MAX_ALERT, MAX_TEXT, alert_text, render_screen, split_text
from dialogs.engine.engine import NAV_BACK, NAV_LANGUAGE, NAV_MENU, NAV_OPERATOR
from dialogs.engine.screen import Option, OptionRole, Screen
from dialogs.engine.text import T, Verbatim
from tests.dialogs.harness import TRANSLATOR
from tests.telegram.harness import option_ids, plain

NAV = (
    Option(NAV_BACK, T("« Back"), OptionRole.NAV),
    Option(NAV_MENU, T("Main menu"), OptionRole.NAV),
    Option(NAV_LANGUAGE, T("Language: Қазақша / Русский / English"), OptionRole.NAV),
    Option(NAV_OPERATOR, T("Operator 1414"), OptionRole.NAV),
)


def rows(markup: InlineKeyboardMarkup | None) -> list[list[str]]:
    assert markup is not None
    return [
        [Pick.unpack(b.callback_data or "").opt for b in row] for row in markup.inline_keyboard
    ]


def test_items_fill_the_columns_actions_get_a_row_each_and_navigation_pairs_close() -> None:
    times = tuple(Option(f"t{i}", Verbatim(f"09:{i}0")) for i in range(7))
    actions = (
        Option("confirm", T("Confirm"), OptionRole.ACTION),
        Option("other", T("Another day"), OptionRole.ACTION),
    )
    # The order the options come in does not decide the layout: their roles do.
    screen = Screen(state="s", body=(T("Pick a time"),), options=(*NAV, *actions, *times), seq=9)
    screen = Screen(state="s", body=screen.body, options=screen.options, seq=9, columns=3)

    rendered = render_screen(screen, "en", TRANSLATOR)

    assert rows(rendered.markup) == [
        ["t0", "t1", "t2"],
        ["t3", "t4", "t5"],
        ["t6"],
        ["confirm"],
        ["other"],
        [NAV_BACK, NAV_MENU],
        [NAV_LANGUAGE, NAV_OPERATOR],
    ]
    assert rendered.markup is not None
    assert rendered.markup.inline_keyboard[0][0].text == "09:00"
    assert rendered.markup.inline_keyboard[0][0].callback_data == "p:9:t0"


def test_notice_error_and_body_are_paragraphs_and_every_text_is_escaped() -> None:
    screen = Screen(
        state="s",
        notice=T("Booked {what}", what=Verbatim("<b>#12</b>")),
        error=T("Wrong {what}", what=Verbatim("& bad")),
        body=(T("Your doctor: {name}", name=Verbatim("<script>Ким</script>")), T("Room 5")),
        sensitive=True,
    )

    rendered = render_screen(screen, "en", TRANSLATOR)

    assert rendered.parts == (
        "<b>Booked &lt;b&gt;#12&lt;/b&gt;</b>\n\n"
        "⚠️ Wrong &amp; bad\n\n"
        "Your doctor: &lt;script&gt;Ким&lt;/script&gt;\n\n"
        "Room 5",
    )
    assert rendered.protect is True
    assert rendered.markup is None


def test_long_text_is_split_below_the_limit_without_losing_a_word() -> None:
    words = [f"слово{i}&" for i in range(2500)]
    paragraphs = [(" ".join(words), "body"), ("last", "body")]

    parts = split_text(paragraphs)  # type: ignore[arg-type]

    assert len(parts) > 1
    assert all(len(plain(p)) <= MAX_TEXT for p in parts)
    assert len(plain(parts[0])) > MAX_TEXT - 20  # as full as the words allow
    assert " ".join(plain(p).replace("\n\n", " ") for p in parts).split() == [*words, "last"]


def test_a_long_word_is_cut_hard_and_nothing_is_lost() -> None:
    parts = split_text([("x" * (MAX_TEXT * 2 + 5), "error")])

    assert [len(plain(p)) for p in parts] == [MAX_TEXT, MAX_TEXT, 14]
    assert all(p.startswith("⚠️ ") for p in parts)


def test_the_limit_counts_utf16_units_like_telegram() -> None:
    parts = split_text([("😀" * MAX_TEXT, "body")])  # each emoji is two UTF-16 units

    assert [len(p) for p in parts] == [MAX_TEXT // 2, MAX_TEXT // 2]


def test_an_empty_screen_still_has_text() -> None:
    assert render_screen(Screen(state="s", body=()), "kk", TRANSLATOR).parts == ("…",)


def test_an_option_id_that_cannot_travel_is_left_out_not_crashed() -> None:
    screen = Screen(
        state="s",
        body=(T("x"),),
        options=(
            Option("a:b", Verbatim("A")),
            Option("x" * 70, Verbatim("X")),
            Option("ok", T("OK")),
        ),
    )

    assert option_ids(render_screen(screen, "kk", TRANSLATOR).markup) == ["ok"]
    assert pack_pick(1, "a:b") is None


def test_callback_data_fits_64_bytes_for_realistic_ids() -> None:
    data = pack_pick(2_000_000_000, "slot.1234567890.confirm")

    assert data is not None and len(data.encode()) <= 64
    assert Pick.unpack(data) == Pick(seq=2_000_000_000, opt="slot.1234567890.confirm")


def test_alerts_are_cut_to_200_characters() -> None:
    assert alert_text("short") == "short"
    assert len(alert_text("x" * 500)) == MAX_ALERT

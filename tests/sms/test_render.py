"""SmsRenderer and the parser: numbered lines, pages within the budget, numbers read back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from bot.i18n import Translator
from bot.sms import texts
from bot.sms.keywords import Keyword
from bot.sms.parse import KeywordSent, Shortcut, ShowPage, ToDialog, parse
from bot.sms.render import SmsRenderer
from bot.sms.segments import segments
from bot.sms.state import MemorySmsStateStore, RedisSmsStateStore, SmsState, SmsStateStore
from dialogs.engine.engine import NAV_BACK, NAV_LANGUAGE, NAV_MENU, NAV_OPERATOR
from dialogs.engine.events import Chose, Command, Start, Typed
from dialogs.engine.screen import Document, InputKind, Option, OptionRole, Screen
from dialogs.engine.text import T, Verbatim

ALMATY = ZoneInfo("Asia/Almaty")
NAV = (
    Option(NAV_BACK, T("« Back"), OptionRole.NAV),
    Option(NAV_MENU, T("Main menu"), OptionRole.NAV),
    Option(NAV_LANGUAGE, T("Language: Қазақша / Русский / English"), OptionRole.NAV),
    Option(NAV_OPERATOR, T("Operator 1414"), OptionRole.NAV),
)


@pytest.fixture(scope="module")
def renderer() -> SmsRenderer:
    return SmsRenderer(Translator())


def _screen(
    body: tuple[str, ...],
    options: tuple[Option, ...] = (),
    *,
    nav: tuple[Option, ...] = NAV,
    expects: InputKind = InputKind.NONE,
    seq: int = 7,
) -> Screen:
    return Screen(
        state="test",
        body=tuple(T(b) for b in body),
        options=(*options, *nav),
        expects=expects,
        seq=seq,
    )


def test_options_become_numbered_lines_and_nav_a_footer(renderer: SmsRenderer) -> None:
    screen = _screen(
        ("Choose:",),
        (Option("a", Verbatim("Дәрігерге жазылу")), Option("b", Verbatim("Менің жазылуларым"))),
    )

    rendering = renderer.render(screen, "en")

    [page] = rendering.pages
    footer = renderer.text(texts.NAV_BACK_AND_MENU, "en")  # "0 back, 00 menu"
    assert page.text == f"Choose:\n1 Дәрігерге жазылу\n2 Менің жазылуларым\n{footer}"
    assert page.numbers == {"1": "a", "2": "b"}
    assert rendering.back and rendering.menu
    assert not rendering.overflow


def test_the_footer_is_left_out_when_it_would_cost_a_segment(renderer: SmsRenderer) -> None:
    body = "ә" * 60  # 60 + "\n1 x" fits one UCS-2 segment; the footer would need a second
    rendering = renderer.render(_screen((body,), (Option("x", Verbatim("x")),)), "en")

    assert rendering.pages[0].text == f"{body}\n1 x"
    assert segments(rendering.pages[0].text) == 1


def test_a_long_list_is_paged_within_the_budget(renderer: SmsRenderer) -> None:
    doctors = tuple(
        Option(f"dr.{n}", Verbatim(f"Дәрігер Әлиева-{n:02d} Ә. Б.")) for n in range(1, 21)
    )

    rendering = renderer.render(_screen(("Дәрігерді таңдаңыз:",), doctors), "kk")

    assert len(rendering.pages) > 2
    assert all(segments(page.text) <= 2 for page in rendering.pages)
    more = f"\n9 {renderer.text(texts.MORE, 'kk')}"  # "9 келесі"
    for page in rendering.pages[:-1]:
        assert more in page.text
        assert "9" not in page.numbers
        assert len(page.numbers) <= 8
        assert list(page.numbers) == [str(n) for n in range(1, len(page.numbers) + 1)]
    assert more not in rendering.pages[-1].text
    shown = [i for page in rendering.pages for i in page.numbers.values()]
    assert shown == [o.id for o in doctors]  # each once, in order
    assert not rendering.overflow  # a list page is fine; the body fitted


def test_up_to_nine_options_fit_on_one_page(renderer: SmsRenderer) -> None:
    options = tuple(Option(str(n), Verbatim(f"o{n}")) for n in range(1, 10))

    rendering = renderer.render(_screen(("Pick",), options), "en")

    [page] = rendering.pages
    assert page.numbers["9"] == "9"


def test_a_body_too_long_for_one_reply_is_continued_and_flagged(renderer: SmsRenderer) -> None:
    paragraph = "Мемлекеттік көрсетілетін қызмет тегін көрсетіледі. " * 6

    rendering = renderer.render(
        _screen((paragraph.strip(),), (Option("ok", T("Confirm"), OptionRole.ACTION),)), "kk"
    )

    assert rendering.overflow
    assert len(rendering.pages) >= 3
    assert all(segments(page.text) <= 2 for page in rendering.pages)
    assert rendering.pages[-1].numbers == {"1": "ok"}
    words = " ".join(p.text for p in rendering.pages).split()
    assert words.count("тегін") == 6  # nothing lost at the cuts


def test_dates_are_short(renderer: SmsRenderer) -> None:
    when = dt.datetime(2026, 11, 25, 9, 20, tzinfo=ALMATY)
    screen = Screen(
        state="test",
        body=(T("Date and time: {when}.", when=when), T("{day}", day=when.date())),
    )

    for language in ("kk", "ru", "en"):
        text = renderer.render(screen, language).pages[0].text
        assert "25.11 09:20" in text
        assert "\n25.11" in text


def test_english_typography_is_folded_to_gsm7(renderer: SmsRenderer) -> None:
    screen = _screen(("Having trouble? Choose «Operator 1414» – Mon–Fri.",), nav=())

    text = renderer.render(screen, "en").pages[0].text

    assert text == 'Having trouble? Choose "Operator 1414" - Mon-Fri.'


def test_a_document_is_not_sent_by_sms(renderer: SmsRenderer) -> None:
    screen = Screen(state="test", body=(T("Ready."),), document=Document("a.pdf", b"%PDF"))

    text = renderer.render(screen, "en").pages[0].text

    assert renderer.text(texts.NO_DOCUMENT, "en") in text


# --- parsing ---------------------------------------------------------------------------


def _state(
    renderer: SmsRenderer, *, expects: InputKind = InputKind.NONE, many: int = 2
) -> SmsState:
    options = (
        Option("therapist", Verbatim("Терапевт")),
        *(Option(f"o{n}", Verbatim(f"Option {n:02d} with a long label")) for n in range(many)),
        Option("confirm", T("Confirm"), OptionRole.ACTION),
    )
    return SmsState(renderer.render(_screen(("Choose",), options, expects=expects), "en"))


def test_parse_numbers_pages_and_navigation(renderer: SmsRenderer) -> None:
    state = _state(renderer)

    assert parse("1", state) == ToDialog(Chose("therapist", seq=7))
    assert parse(" 2. ", state) == ToDialog(Chose("o0", seq=7))
    assert parse("0", state) == ToDialog(Chose(NAV_BACK, seq=7))
    assert parse("00", state) == ToDialog(Command("menu"))
    assert parse("8", state) == ToDialog(Typed("8"))  # out of range: the dialog's hint
    assert parse("", state) == ShowPage(0)
    assert parse("", None) == ToDialog(Start())
    assert parse("hello", None) == ToDialog(Typed("hello"))  # the dialog reads a first message


def test_parse_next_page(renderer: SmsRenderer) -> None:
    state = _state(renderer, many=20)
    assert len(state.rendering.pages) > 1

    assert parse("9", state) == ShowPage(1)
    state.page = len(state.rendering.pages) - 1
    assert parse("9", state) == ShowPage(0)  # past the last page: the first


def test_parse_labels_but_never_an_action(renderer: SmsRenderer) -> None:
    state = _state(renderer)

    assert parse("терапевт", state) == ToDialog(Chose("therapist", seq=7))
    assert parse("Main menu", state) == ToDialog(Chose(NAV_MENU, seq=7))
    assert parse("confirm", state) == ToDialog(Typed("confirm"))


def test_parse_keywords_first(renderer: SmsRenderer) -> None:
    state = _state(renderer)

    assert parse("Cancel", state) == KeywordSent(Keyword.CANCEL)
    assert parse("1414", state) == KeywordSent(Keyword.OPERATOR)
    assert parse("СТОП", None) == KeywordSent(Keyword.STOP)


def test_parse_shortcuts_on_menus_only(renderer: SmsRenderer) -> None:
    assert parse("1 2 1", _state(renderer)) == Shortcut(("1", "2", "1"))
    assert parse("482 915", _state(renderer, expects=InputKind.CODE)) == ToDialog(Typed("482 915"))
    assert parse("12 11", _state(renderer, expects=InputKind.DATE)) == ToDialog(Typed("12 11"))


async def _round_trip(store: SmsStateStore, renderer: SmsRenderer) -> None:
    state = _state(renderer, many=20)
    state.page = 1

    await store.save("+77011234501", state)

    assert await store.load("+77011234501") == state
    assert await store.load("+77011234502") is None
    await store.delete("+77011234501")
    assert await store.load("+77011234501") is None
    assert SmsState.from_json("{}") is None
    assert SmsState.from_json("not json") is None


async def test_state_round_trips_through_the_memory_store(renderer: SmsRenderer) -> None:
    await _round_trip(MemorySmsStateStore(ttl_seconds=600), renderer)


async def test_state_round_trips_through_redis_with_a_ttl(
    renderer: SmsRenderer, redis_client: Redis, redis_prefix: str
) -> None:
    store = RedisSmsStateStore(redis_client, prefix=redis_prefix, ttl_seconds=600)
    await _round_trip(store, renderer)

    await store.save("+77011234503", _state(renderer))

    [key] = [k async for k in redis_client.scan_iter(match=f"{redis_prefix}sms:pages:*")]
    assert b"77011234503" not in key  # a keyed hash of the phone names it (issue 9 §3)
    assert 0 < await redis_client.ttl(key) <= 600


def _typed_back(address: str, reason: str, *, echo: bool = True) -> Screen:
    return Screen(
        state="visit.confirm",
        body=(
            T("Please check your request:"),
            T("Address: {address}", address=Verbatim(address, echo=echo)),
            T("Reason: {reason}", reason=Verbatim(reason, echo=echo)),
        ),
        options=(
            Option("confirm", T("Send the request"), OptionRole.ACTION),
            Option("edit", T("Change the details"), OptionRole.ACTION),
            *NAV,
        ),
        seq=3,
    )


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_patients_long_typing_is_cut_short_to_keep_one_reply(
    renderer: SmsRenderer, language: str
) -> None:
    address = "Астана қаласы, Есіл ауданы, Мәңгілік Ел даңғылы, 10-үй, 5-пәтер, 3-подъезд"
    reason = "Қатты жөтел, дене қызуы 38,5, екі күннен бері басым ауырады, әлсіздік " * 6

    rendering = renderer.render(_typed_back(address, reason), language)

    [page] = rendering.pages
    assert segments(page.text) <= 2
    assert page.numbers == {"1": "confirm", "2": "edit"}
    assert "Астана" in page.text  # the beginning of each stays
    assert "Қатты жөтел" in page.text
    assert page.text.count("…") + page.text.count("...") >= 1
    assert reason.strip() not in page.text


def test_short_typing_and_other_verbatim_text_are_never_cut(renderer: SmsRenderer) -> None:
    short = renderer.render(_typed_back("Астана, Абай 1", "жөтел"), "kk")
    [page] = short.pages
    assert "Астана, Абай 1" in page.text
    assert "жөтел" in page.text
    assert "…" not in page.text

    long_reason = "Қатты жөтел, дене қызуы 38,5, екі күннен бері басым ауырады " * 4
    whole = renderer.render(_typed_back("Астана, Абай 1", long_reason, echo=False), "kk")
    assert len(whole.pages) > 1  # not an echo (an operator's words): paged, never shortened
    assert "…" not in "".join(p.text for p in whole.pages)

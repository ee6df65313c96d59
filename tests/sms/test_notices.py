"""What has happened always reaches the SMS patient: a notice (a message for a call back taken,
signed out, something failed on our side) is shown above the screen that follows it, with that
screen's numbers on the same page, instead of being dropped for the segment budget (found by
trying it: «leave a message» when the 1414 desk was closed answered with the bare menu in kk
and ru)."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.ports import FixedClock
from backend.services import booking, desk
from bot.i18n import Translator
from bot.sms.render import SmsRenderer
from dialogs.engine.engine import FAILURE
from dialogs.engine.text import T, Text
from tests.backend.world import World
from tests.sms.harness import SmsPhone
from tests.sms.test_journeys import _signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANGUAGES = ("kk", "ru", "en")
BUDGET = 2  # segments per reply (bot/sms/render.py)


def _said(text: Text, language: str) -> str:
    return SmsRenderer(Translator()).text(text, language)


async def _menu_numbers_on_the_page(phone: SmsPhone) -> None:
    state = await phone.state()
    assert state.rendering.state == "menu"
    assert state.current.numbers, phone.last  # the menu's numbers, on the page shown
    for number, option in state.current.numbers.items():
        assert f"{number} " in phone.last, (option, phone.last)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_message_for_a_call_back_is_confirmed(
    alice: SmsPhone, world: World, backend: Backend, clock: FixedClock, language: str
) -> None:
    await _signed_in(alice, world, language)
    clock.advance(dt.timedelta(days=6))  # Sunday: the 1414 desk is closed
    await alice.send("OPERATOR")
    await alice.choose("desk.callback")
    reply = await alice.send("Позвоните мне насчёт справки")

    thanks = T("Thank you. An operator of 1414 will call you back when the desk opens.")
    assert reply.startswith(_said(thanks, language)), reply
    await _menu_numbers_on_the_page(alice)
    assert alice.reply_segments[-1] <= BUDGET, reply
    [callback] = await desk.callbacks(backend.uow())
    assert callback.body == "Позвоните мне насчёт справки"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_signing_out_says_so(alice: SmsPhone, world: World, language: str) -> None:
    await _signed_in(alice, world, language)
    await alice.send("00")
    await alice.choose("account")
    reply = await alice.choose("signout")

    assert reply.startswith(_said(T("You are signed out."), language)), reply
    await _menu_numbers_on_the_page(alice)
    assert alice.reply_segments[-1] <= BUDGET, reply


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_failure_on_our_side_is_said_and_names_1414(
    alice: SmsPhone, world: World, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    await _signed_in(alice, world, language)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a defect in the booking service")

    await alice.choose("book")
    monkeypatch.setattr(booking, "doctors_for", broken)
    monkeypatch.setattr(booking, "free_slots_by_day", broken)
    monkeypatch.setattr(booking, "free_slots", broken)
    reply = await alice.send("1")

    assert reply.startswith(_said(FAILURE, language)), reply
    assert "1414" in reply
    await _menu_numbers_on_the_page(alice)
    assert alice.reply_segments[-1] <= BUDGET, reply

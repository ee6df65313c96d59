"""Issue 15's spirit, found by trying the service as a patient by SMS (signed Twilio webhooks):
an emoji-only address or symptoms are asked again in words (not "up to 500 characters"); «My
applications» offers every application as its own numbered option on the first reply and the
details put their actions on the first reply; the home-visit result says once when the doctor
comes; the 1414 «leave a message» prompt fits one segment; an emoji-only message for a call back
is asked again in words."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.ports import FixedClock
from backend.services import booking, desk
from bot.i18n import Translator
from bot.sms.render import SmsRenderer
from dialogs.engine.text import T, Text
from tests.backend.world import World
from tests.sms.harness import SmsPhone
from tests.sms.test_journeys import _signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BUDGET = 2  # segments per reply (bot/sms/render.py)
IN_WORDS = T("Please write the address in words: city, street, house.")
TOO_LONG = T(
    "Please type the address: city, street, house and flat (up to {limit} characters).",
    limit=500,
)
SYMPTOMS_IN_WORDS = T("Please describe the symptoms in words, or choose «Skip».")
MESSAGE_IN_WORDS = T("Please write your message in words: what you need.")


def _said(text: Text, language: str) -> str:
    said = SmsRenderer(Translator()).text(text, language)
    return said.replace("«", '"').replace("»", '"') if language == "en" else said  # GSM-7


@pytest.fixture(params=["kk", "ru", "en"])
def language(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def _within_budget(phone: SmsPhone) -> None:
    assert max(phone.reply_segments) <= BUDGET, list(
        zip(phone.reply_segments, phone.replies, strict=True)
    )


async def _to_address(alice: SmsPhone) -> None:
    await alice.send("00")
    await alice.choose("visit")
    await alice.choose("start")
    assert await alice.screen() == "visit.address"


async def test_an_emoji_address_or_symptoms_are_asked_again_in_words(
    alice: SmsPhone, world: World, language: str
) -> None:
    await _signed_in(alice, world, language)
    await _to_address(alice)

    reply = await alice.send("🤒🤒🤒")
    assert await alice.screen() == "visit.address"
    assert _said(IN_WORDS, language) in reply, reply
    assert _said(TOO_LONG, language) not in reply, reply

    await alice.send("Астана, Сарыарқа 5, пәтер 12")
    await alice.send("fever 38.5, cough")
    assert await alice.screen() == "visit.symptoms"
    reply = await alice.send("🤒🤒")
    assert await alice.screen() == "visit.symptoms"
    assert _said(SYMPTOMS_IN_WORDS, language) in reply, reply
    await alice.send("38.5")  # a temperature alone is a symptom
    assert await alice.screen() == "visit.phone"
    _within_budget(alice)


async def test_the_done_screen_says_once_when_the_doctor_comes(
    alice: SmsPhone, world: World
) -> None:
    await _signed_in(alice, world, "ru")
    await _to_address(alice)
    await alice.choose("addr.reg")
    await alice.send("температура 38.5")
    await alice.choose("skip")
    await alice.choose("phone.reg")
    reply = await alice.choose("confirm")
    assert await alice.screen() == "visit.done"
    assert reply.count("Врач придёт") == 1, reply
    _within_budget(alice)


async def test_my_applications_offer_each_one_on_the_first_reply_with_its_actions(
    alice: SmsPhone, world: World, backend: Backend, clock: FixedClock, language: str
) -> None:
    await _signed_in(alice, world, language)
    await _to_address(alice)
    await alice.choose("addr.reg")
    await alice.send("fever 38.5, cough")
    await alice.choose("skip")
    await alice.choose("phone.reg")
    await alice.choose("confirm")
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )

    await alice.send("00")
    listing = await alice.choose("apps")
    state = await alice.state()
    offered = [o for o in state.current.numbers.values() if o.startswith("app.")]
    assert len(offered) == 2 and f"app.{view.application_number}" in offered, listing
    for number, option in state.current.numbers.items():
        if not option.startswith("app."):
            continue
        # One numbered option per application: its number, what and its status.
        line = next(x for x in listing.splitlines() if x.startswith(f"{number} "))
        assert option.removeprefix("app.") in line, listing
    # The same punctuation on every line: «number: what. status.».
    lines = [x for x in listing.splitlines() if x[:2] in ("1 ", "2 ")]
    assert all(x.endswith(".") and x.count(". ") == 1 for x in lines), lines

    visit = next(o for o in offered if o != f"app.{view.application_number}")
    details = await alice.choose(visit)
    assert await alice.screen() == "apps.details"
    state = await alice.state()
    assert "cancel" in state.current.numbers.values(), details  # on the first reply
    await alice.send("00")
    await alice.choose("apps")
    await alice.choose(f"app.{view.application_number}")
    assert "appt" in (await alice.state()).current.numbers.values(), alice.last
    _within_budget(alice)


async def test_leave_a_message_fits_one_segment_and_an_emoji_one_is_asked_again(
    alice: SmsPhone, world: World, backend: Backend, clock: FixedClock, language: str
) -> None:
    await _signed_in(alice, world, language)
    clock.advance(dt.timedelta(days=6))  # Sunday: the 1414 desk is closed
    await alice.send("OPERATOR")
    await alice.choose("desk.callback")
    assert await alice.screen() == "operator.callback"
    assert alice.reply_segments[-1] == 1, alice.last

    reply = await alice.send("🙏🙏🙏")
    assert await alice.screen() == "operator.callback"
    assert _said(MESSAGE_IN_WORDS, language) in reply, reply
    assert await desk.callbacks(backend.uow()) == []
    await alice.send("Позвоните мне насчёт справки")
    [callback] = await desk.callbacks(backend.uow())
    assert callback.body == "Позвоните мне насчёт справки"
    _within_budget(alice)

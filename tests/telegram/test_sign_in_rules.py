"""Issue 9 §1 on Telegram, through the production dispatcher: the generic reply stays, words
at the code prompt cost no attempt (issue 15: the hint says a code has 6 digits), one account
cannot text codes to many patients, an ИИН born in the future is invalid."""

from __future__ import annotations

import datetime as dt

from backend.domain.iin import Sex, make_iin
from backend.ports import FixedClock
from otp import messages
from tests.backend.world import World
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.telegram.harness import TelegramChat


def _kk(msgid: str, **params: object) -> str:
    return TRANSLATOR.gettext("kk", msgid).format(**params)


async def _ask_code(tg: TelegramChat, iin: str) -> None:
    await tg.start()
    await tg.tap("signin")
    await tg.send_text(iin)


async def test_telegram_keeps_the_generic_reply_and_the_code_goes_to_the_patient(
    tg: TelegramChat, sms: RecordingSender, world: World
) -> None:
    await _ask_code(tg, world.alice.iin)

    assert _kk(messages.CODE_SENT, minutes=5) in tg.last_text
    assert [to for to, _ in sms.sent] == [world.alice.phone]
    assert await tg.state() == "signin.code"


async def test_words_at_the_code_prompt_get_a_hint_and_cost_no_attempt(
    tg: TelegramChat, sms: RecordingSender, world: World
) -> None:
    await _ask_code(tg, world.alice.iin)
    hint = _kk(messages.NOT_A_CODE, digits=6)

    for text in ("hello", world.alice.iin, "12345", "код", "1234567"):
        await tg.send_text(text)
        assert hint in tg.last_text, tg.last_text
        assert await tg.state() == "signin.code"

    await tg.send_text("000000")  # the first wrong code: all 5 attempts were still there
    assert _kk(messages.CODE_WRONG, attempts_left=4) in tg.last_text
    await tg.send_text(sms.last_code())
    assert await tg.state() == "menu"
    assert "book" in tg.options


async def test_an_iin_born_in_the_future_is_refused(
    tg: TelegramChat, sms: RecordingSender, clock: FixedClock
) -> None:
    unborn = make_iin(clock.now().date() + dt.timedelta(days=1), Sex.MALE, 1)

    await _ask_code(tg, unborn)

    assert _kk(messages.INVALID_IIN_FUTURE) in tg.last_text
    assert await tg.state() == "signin.iin"
    assert sms.sent == []


async def test_one_account_cannot_text_codes_to_many_patients(
    tg: TelegramChat, sms: RecordingSender, world: World, clock: FixedClock
) -> None:
    others = [make_iin(dt.date(1970, 1, 1 + n), Sex.FEMALE, 100 + n) for n in range(9)]
    await tg.start()
    await tg.tap("signin")
    for n, iin in enumerate([world.alice.iin, *others]):  # 10 codes, 9 of them decoys
        if n:
            await tg.tap("other")  # "Enter another IIN"
        await tg.send_text(iin)
        assert _kk(messages.CODE_SENT, minutes=5) in tg.last_text
        clock.advance(dt.timedelta(seconds=61))

    await tg.tap("other")
    await tg.send_text(world.bob.iin)

    assert _kk(messages.SEND_LIMIT_MINUTES, minutes=24 * 60 - 10) in tg.last_text
    assert [to for to, _ in sms.sent] == [world.alice.phone]  # nothing to Bob

"""Anything a patient (or a forger) can send, in many states: no exception, one reply each.

Each example is a fresh patient (signed in or not) on a random walk: typed text, commands, taps
on the current keyboard, taps on old messages, foreign callback data, contacts, the real ИИН
and code. Every update must get exactly one message sent or edited (a second tap on the message
just edited: an alert only), a tap exactly one answer, and never the "something went wrong"
apology.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from aiogram.types import InlineKeyboardMarkup, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.bootstrap import Backend
from bot.runtime import build_runtime
from dialogs.engine.engine import FAILURE
from tests.backend.world import World
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.telegram.harness import TelegramChat, make_chat, option_ids, tg_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COMMANDS = ["/start", "/menu", "/help", "/language", "/operator", "/stop", "/start@x y", "/"]
FAILURES = {TRANSLATOR.gettext(lang, FAILURE.msgid) for lang in ("kk", "ru", "en")}
REPLIES = (SendMessage, EditMessageText, SendDocument)

garbage_data = st.one_of(
    st.text(min_size=1, max_size=80),
    st.builds("p:{}:{}".format, st.integers(-3, 60), st.text(max_size=70)),
    st.builds(
        "{}:{}:{}".format,
        st.sampled_from(["x", "pp", "P", ""]),
        st.integers(),
        st.sampled_from(["menu", "help", "nav.op"]),
    ),
    st.just("p:1:" + "x" * 200),
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("text"), st.text(max_size=60)),
        st.tuples(st.just("text"), st.from_regex(r"\A[0-9 ]{1,14}\Z")),
        st.tuples(
            st.just("text"), st.sampled_from(COMMANDS) | st.from_regex(r"\A/[a-z_]{1,12}\Z")
        ),
        st.tuples(st.just("tap"), st.integers(0, 30)),
        st.tuples(st.just("old"), st.integers(0, 30)),
        st.tuples(st.just("data"), garbage_data),
        st.tuples(st.just("contact"), st.booleans()),
        st.tuples(st.just("iin"), st.none()),
        st.tuples(st.just("code"), st.none()),
    ),
    min_size=1,
    max_size=10,
)
# (signed in first?, the Telegram client's language)
patients = st.tuples(st.booleans(), st.sampled_from([None, "ru", "en", "uk"]))
_users = itertools.count(900_000_001)


def _keyboard(message: Message) -> list[str]:
    markup = message.reply_markup
    return option_ids(markup) if isinstance(markup, InlineKeyboardMarkup) else []


class Walker:
    def __init__(self, tg: TelegramChat, world: World, sms: RecordingSender) -> None:
        self.tg = tg
        self.world = world
        self.sms = sms
        self.seen: list[Message] = []  # every message that carried a keyboard

    async def act(self, kind: str, value: Any) -> bool:
        """Send one update; True when it was a tap (a callback query)."""
        tg = self.tg
        if kind == "text":
            await tg.send_text(value)
        elif kind == "iin":
            await tg.send_text(self.world.alice.iin)
        elif kind == "code":
            await tg.send_text(self.sms.last_code() if self.sms.sent else "123456")
        elif kind == "contact":
            await tg.send_contact("+77011234501", tg.user_id if value else None)
        elif kind == "tap" and tg.options:
            await tg.tap(tg.options[value % len(tg.options)])
            return True
        elif kind == "old" and self.seen:
            message = self.seen[value % len(self.seen)]
            ids = _keyboard(message)
            await tg.press(tg.callback_data(ids[0], message) if ids else "p:0:x", message)
            return True
        elif kind == "data":
            await tg.press(value)
            return True
        else:  # a tap with no keyboard yet
            await tg.send_text("/start")
        return False

    async def check(self, kind: str, value: Any) -> None:
        tapped = await self.act(kind, value)
        calls = self.tg.session.calls[self.tg.mark :]
        replies = [c for c in calls if isinstance(c, REPLIES)]
        answers = [c for c in calls if isinstance(c, AnswerCallbackQuery)]
        assert len(answers) == (1 if tapped else 0), (kind, value, calls)
        if not replies and tapped:  # a double tap (issue 15): the alert alone, said why
            assert answers[0].show_alert and answers[0].text, calls
            return
        assert len(replies) == 1, (kind, value, calls)
        reply = replies[0]
        text = (reply.text or "") if isinstance(reply, SendMessage | EditMessageText) else ""
        assert not any(failure in text for failure in FAILURES), (kind, value, text)
        if self.tg.current is not None:
            self.seen.append(self.tg.current)


@FUZZ
@given(patient=patients, script=actions)
async def test_every_update_gets_exactly_one_reply_and_never_an_error(
    backend: Backend,
    world: World,
    sms: RecordingSender,
    patient: tuple[bool, str | None],
    script: list[tuple[str, Any]],
) -> None:
    signed_in, language = patient
    # Fresh OTP, session and conversation stores per example (the clock stands still, so one
    # shared OTP store would lock the ИИН after a few examples); the database is shared.
    runtime = build_runtime(tg_settings(), backend, None, sender=sms, translator=TRANSLATOR)
    walker = Walker(make_chat(runtime, user_id=next(_users), language_code=language), world, sms)
    if signed_in:
        await walker.check("text", "/start")
        await walker.check("tap", walker.tg.options.index("signin"))
        await walker.check("iin", None)
        await walker.check("code", None)

    for kind, value in script:
        await walker.check(kind, value)

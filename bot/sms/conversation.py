"""One inbound SMS in, one reply out: keywords, numbers and pages around the dialog engine.

The patient's identity on SMS is the sender's phone: the conversation is ("sms", phone), and the
sign-in service itself refuses an ИИН registered to another phone (otp.service, on every path
an ИИН can take; naming 1414, never the other number). Everything else is the engine's: the
same dialogs as on Telegram, rendered by `SmsRenderer` and read back by `bot.sms.parse`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from types import MappingProxyType

from backend.bootstrap import Backend
from backend.domain.phone import InvalidPhone, mask_phone, normalize_kz_mobile
from backend.services import desk as desk_service
from backend.services import outbox
from backend.services.desk import DeskChat, DeskState
from bot.desk import texts as desk_texts
from bot.desk.feed import feed_for
from bot.desk.gate import DeskGate
from bot.logs import get_logger
from bot.notify.answers import reminder_answer
from bot.sms import texts
from bot.sms.keywords import LANGUAGE_KEYWORDS, Keyword, greeting_language
from bot.sms.parse import (
    CheckSent,
    KeywordSent,
    Parsed,
    Shortcut,
    ShowPage,
    ToDialog,
    parse,
    parse_number,
)
from bot.sms.render import Rendering, SmsRenderer
from bot.sms.state import SmsState, SmsStateStore
from bot.verify.sms import check_answer
from dialogs.engine.engine import Engine
from dialogs.engine.events import Chose, Command, Event, Typed
from dialogs.engine.screen import InputKind
from dialogs.engine.text import Text, Verbatim
from dialogs.journeys.common import LEAVE, OPERATOR_QUEUED

log = get_logger("bot.sms")

CHANNEL = "sms"
# Twilio Advanced Opt-Out names the keyword it acted on (OptOutType).
_CARRIER_KEYWORDS = {"STOP": Keyword.STOP, "START": Keyword.START, "HELP": Keyword.HELP}
LEAVE_QUEUE = "0"  # anchors §2.2: "0" by SMS; in the queue it leaves it
_COMMANDS = {Keyword.MENU: "menu", Keyword.OPERATOR: "operator", Keyword.START: "start"}


def sender_identity(from_number: str) -> str:
    """The conversation's user id: the E.164 Kazakhstan mobile, or the number as sent."""
    try:
        return normalize_kz_mobile(from_number)
    except InvalidPhone:
        return from_number.strip()


class SmsConversations:
    def __init__(
        self,
        engine: Engine,
        backend: Backend,
        renderer: SmsRenderer,
        states: SmsStateStore,
        desk: DeskGate | None = None,
    ) -> None:
        self.engine = engine
        self.backend = backend
        self.renderer = renderer
        self.states = states
        self.desk = desk or DeskGate(backend, feed_for(backend, None))

    async def handle(
        self, phone: str, body: str, *, carrier_keyword: str | None = None
    ) -> str | None:
        """The reply to one message from `phone` (None: no reply)."""
        async with self.serialised(phone):
            return await self.reply(phone, body, carrier_keyword=carrier_keyword)

    @asynccontextmanager
    async def serialised(self, phone: str) -> AsyncIterator[None]:
        """Hold `phone`'s conversation: one message of a phone at a time, in every process.
        The engine's own lock of the conversation, re-entrant within this task: the engine's
        steps inside take no second lock (issue 16: one lock per SMS, was two)."""
        async with self.engine.store.lock(CHANNEL, phone):
            yield

    async def language(self, phone: str) -> str:
        return await self.engine.current_language(CHANNEL, phone)

    # --- one message -----------------------------------------------------------------------

    async def reply(
        self,
        phone: str,
        body: str,
        *,
        carrier_keyword: str | None = None,
        claim: outbox.InboundClaim | None = None,
    ) -> str | None:
        """The reply to one message from `phone`, inside `serialised(phone)`. `claim`: the
        webhook's claim of the message, which read the opt-out and the open desk chat in its
        own round trip (issue 16); without it they are read here."""
        state = await self.states.load(phone)
        parsed: Parsed = parse(body, state)
        carrier = _CARRIER_KEYWORDS.get((carrier_keyword or "").strip().upper())
        if carrier is not None:
            parsed = KeywordSent(carrier)
        kind = parsed.keyword.value if isinstance(parsed, KeywordSent) else type(parsed).__name__
        log.info("sms_in", phone=mask_phone(phone), kind=kind)
        now = self.backend.clock.now()

        if isinstance(parsed, KeywordSent) and parsed.keyword is Keyword.STOP:
            source = "carrier" if carrier is not None else "keyword"
            await outbox.opt_out(self.backend.uow(), phone, now=now, source=source)
            if carrier is not None:  # the gateway has confirmed it already
                return None
            return self.renderer.notice([texts.STOPPED], await self.language(phone))

        preface: list[Text] = []
        if claim is not None and claim.opted_out is not None:
            opted_out = claim.opted_out  # read under this lock, with the claim
        else:
            opted_out = await outbox.is_opted_out(self.backend.uow(), phone)
        if opted_out:
            if isinstance(parsed, KeywordSent) and parsed.keyword is Keyword.START:
                await outbox.opt_in(self.backend.uow(), phone)
                preface.append(texts.RESUMED)
            elif isinstance(parsed, KeywordSent) and parsed.keyword is Keyword.HELP:
                return self.renderer.notice([texts.HELP_OFF], await self.language(phone))
            else:
                return self.renderer.notice([texts.OFF], await self.language(phone))

        if isinstance(parsed, CheckSent):  # issue 13: from any phone, no sign-in, one segment
            return self.renderer.notice(
                [await check_answer(self.backend, parsed.code)], await self.language(phone)
            )
        # Issue 12: while the conversation waits for or is with a 1414 operator, the bot never
        # answers it (STOP above still works): the message goes to the transcript.
        chat = await self._open_chat(phone, claim)
        if chat is not None:
            return await self._desk(phone, chat, body, parsed)
        return await self._route(phone, parsed, state, preface)

    async def _open_chat(self, phone: str, claim: outbox.InboundClaim | None) -> DeskChat | None:
        if claim is None or not claim.desk_read:
            return await self.desk.open_chat(CHANNEL, phone)
        if claim.desk_chat_id is None:  # the claim found none open: with the bot
            return None
        return await desk_service.open_chat(self.backend.uow(), CHANNEL, phone)

    async def _route(
        self, phone: str, parsed: Parsed, state: SmsState | None, preface: list[Text]
    ) -> str | None:
        """A message for the bot: a keyword, a page, a shortcut, a greeting or the dialog."""
        if isinstance(parsed, KeywordSent):
            return await self._keyword(phone, parsed.keyword, preface)
        if isinstance(parsed, ShowPage):
            if state is None:  # pragma: no cover - parse gives ShowPage only with a state
                return None
            state.page = parsed.page
            await self.states.save(phone, state)
            return state.current.text
        if isinstance(parsed, Shortcut):
            return await self._shortcut(phone, parsed.numbers, state)
        if isinstance(parsed, CheckSent):  # pragma: no cover - answered before the desk gate
            return None
        greeting = await self._greeting(phone, parsed, state)
        if greeting is not None:
            return await self._welcome_in(phone, greeting, preface)
        # A first message that gets the welcome: it names the language keywords (issue 15).
        return await self._show(phone, parsed.event, preface, welcome=state is None)

    async def _greeting(self, phone: str, parsed: Parsed, state: SmsState | None) -> str | None:
        """Issue 15: the language of a greeting sent to the welcome (a first message, or on the
        main menu) by a patient who is not signed in (a signed-in one keeps theirs)."""
        if not isinstance(parsed, ToDialog) or not isinstance(parsed.event, Typed):
            return None
        if state is not None and state.rendering.state != "menu":
            return None
        code = greeting_language(parsed.event.text)
        if code is None:
            return None
        if await self.engine.services.sessions.current(CHANNEL, phone) is not None:
            return None
        return code

    async def _welcome_in(self, phone: str, code: str, preface: list[Text]) -> str:
        if await self.language(phone) != code:
            await self._switch_language(phone, code)
        return await self._show(phone, Command("menu"), preface, welcome=True)

    async def _desk(self, phone: str, chat: DeskChat, body: str, parsed: Parsed) -> str | None:
        text = body.strip()
        leave = text == LEAVE_QUEUE or (
            isinstance(parsed, ToDialog)
            and isinstance(parsed.event, Chose)
            and parsed.event.option_id == LEAVE  # the queue screen's number
        )
        if chat.state is DeskState.WAITING and leave and await self.desk.leave(chat):
            screen = await self.engine.resume(CHANNEL, phone, desk_texts.LEFT)
            return await self._remember(phone, self.renderer.render(screen, screen.language))
        if not text:
            return None
        place = await self.desk.pass_on(chat, text)
        if place is None:  # with an operator: the operator answers
            return None
        language = await self.language(phone)
        return self.renderer.notice(
            [desk_texts.passed_on(place), desk_texts.LEAVE_BY_SMS], language
        )

    async def _keyword(self, phone: str, keyword: Keyword, preface: list[Text]) -> str | None:
        if keyword is Keyword.CANCEL:
            # Never an appointment cancelled by a bare word (nor a carrier opt-out): how to do
            # it, and the screen stays as it was. Issue 15: the number of the screen's own
            # "cancel" option when it shows one.
            language = await self.language(phone)
            state = await self.states.load(phone)
            shown = state.current.numbers.items() if state is not None else ()
            number = next((n for n, option in shown if option == "cancel"), None)
            if number is not None:
                hint = Text(
                    texts.CANCEL_HERE.msgid, MappingProxyType({"number": Verbatim(number)})
                )
                return self.renderer.notice([hint], language)
            return self.renderer.notice([texts.CANCEL_HINT], language)
        if keyword is Keyword.CONFIRM:  # issue 11: the answer to a reminder (bot/notify)
            answer = await reminder_answer(self.backend, phone)
            return self.renderer.notice([answer], await self.language(phone))
        if keyword is Keyword.HELP:
            return await self._show(phone, Command("help"), [*preface, texts.HELP])
        if keyword in LANGUAGE_KEYWORDS:
            return await self._switch_language(phone, LANGUAGE_KEYWORDS[keyword])
        return await self._show(phone, Command(_COMMANDS[keyword]), preface)

    async def _switch_language(self, phone: str, code: str) -> str:
        screen = await self.engine.handle(CHANNEL, phone, Command("language"))
        option = f"lang.{code}"  # the language dialog's own option for this language
        if option in screen.option_ids:
            screen = await self.engine.handle(CHANNEL, phone, Chose(option, seq=screen.seq))
        # The screen carries the language it is to be shown in (the switch made): no second
        # read of the conversation and session to ask for it again (issue 16, per-message cost).
        rendering = self.renderer.render(screen, screen.language)
        return await self._remember(phone, rendering)

    async def _shortcut(
        self, phone: str, numbers: Sequence[str], state: SmsState | None
    ) -> str | None:
        """ "1 2 1": each number on the screen the one before it led to (menus only)."""
        if state is None:  # pragma: no cover - parse gives Shortcut only with a state
            return None
        for number in numbers:
            step = parse_number(number, state)
            if isinstance(step, ShowPage):
                state.page = step.page
                continue
            event: Event = step.event if step is not None else Typed(number)
            rendering = await self._step(phone, event, ())
            state = SmsState(rendering)
            if step is None or rendering.expects != InputKind.NONE.value:
                break  # a wrong number (the dialog said why) or a question: stop here
        await self.states.save(phone, state)
        return state.current.text

    # --- the engine ------------------------------------------------------------------------

    async def _step(
        self, phone: str, event: Event, preface: Sequence[Text], *, welcome: bool = False
    ) -> Rendering:
        screen = await self.engine.handle(CHANNEL, phone, event)
        if welcome and screen.state == "menu" and screen.error is None:
            preface = [*preface, texts.LANGUAGES_LINE]
        return self.renderer.render(screen, screen.language, preface=preface)

    async def _show(
        self, phone: str, event: Event, preface: Sequence[Text], *, welcome: bool = False
    ) -> str:
        return await self._remember(
            phone, await self._step(phone, event, preface, welcome=welcome)
        )

    async def _remember(self, phone: str, rendering: Rendering) -> str:
        state = SmsState(rendering)
        await self.states.save(phone, state)
        if rendering.state == OPERATOR_QUEUED:
            await self.desk.after_screen(CHANNEL, phone, rendering.state)
        return state.current.text

"""One inbound SMS in, one reply out: keywords, numbers and pages around the dialog engine.

The patient's identity on SMS is the sender's phone: the conversation is ("sms", phone), and the
sign-in service itself refuses an ИИН registered to another phone (otp.service, on every path
an ИИН can take; naming 1414, never the other number). Everything else is the engine's: the
same dialogs as on Telegram, rendered by `SmsRenderer` and read back by `bot.sms.parse`.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.bootstrap import Backend
from backend.domain.phone import InvalidPhone, mask_phone, normalize_kz_mobile
from backend.services import outbox
from bot.logs import get_logger
from bot.notify.answers import reminder_answer
from bot.sms import texts
from bot.sms.keywords import LANGUAGE_KEYWORDS, Keyword
from bot.sms.parse import CheckSent, KeywordSent, Parsed, Shortcut, ShowPage, parse, parse_number
from bot.sms.render import Rendering, SmsRenderer
from bot.sms.state import SmsState, SmsStateStore
from bot.verify.sms import check_answer
from dialogs.engine.engine import Engine
from dialogs.engine.events import Chose, Command, Event, Typed
from dialogs.engine.screen import InputKind
from dialogs.engine.text import Text

log = get_logger("bot.sms")

CHANNEL = "sms"
_LOCK_CHANNEL = "sms-in"  # serialises one phone's messages around the engine's own lock
# Twilio Advanced Opt-Out names the keyword it acted on (OptOutType).
_CARRIER_KEYWORDS = {"STOP": Keyword.STOP, "START": Keyword.START, "HELP": Keyword.HELP}
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
    ) -> None:
        self.engine = engine
        self.backend = backend
        self.renderer = renderer
        self.states = states

    async def handle(
        self, phone: str, body: str, *, carrier_keyword: str | None = None
    ) -> str | None:
        """The reply to one message from `phone` (None: no reply)."""
        async with self.engine.store.lock(_LOCK_CHANNEL, phone):
            return await self._handle(phone, body, carrier_keyword)

    async def language(self, phone: str) -> str:
        return await self.engine.current_language(CHANNEL, phone)

    # --- one message -----------------------------------------------------------------------

    async def _handle(self, phone: str, body: str, carrier_keyword: str | None) -> str | None:
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
        if await outbox.is_opted_out(self.backend.uow(), phone):
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
        return await self._show(phone, parsed.event, preface)

    async def _keyword(self, phone: str, keyword: Keyword, preface: list[Text]) -> str | None:
        if keyword is Keyword.CANCEL:
            # Never an appointment cancelled by a bare word (nor a carrier opt-out): how to do
            # it, and the screen stays as it was.
            return self.renderer.notice([texts.CANCEL_HINT], await self.language(phone))
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
        rendering = self.renderer.render(screen, await self.language(phone))
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

    async def _step(self, phone: str, event: Event, preface: Sequence[Text]) -> Rendering:
        screen = await self.engine.handle(CHANNEL, phone, event)
        return self.renderer.render(screen, await self.language(phone), preface=preface)

    async def _show(self, phone: str, event: Event, preface: Sequence[Text]) -> str:
        return await self._remember(phone, await self._step(phone, event, preface))

    async def _remember(self, phone: str, rendering: Rendering) -> str:
        state = SmsState(rendering)
        await self.states.save(phone, state)
        return state.current.text

"""Delivery of the desk's messages on the patient's channel (issue 12).

Operator replies and the desk's own messages are stored by `backend.services.desk` as pending;
the relay delivers them: on Telegram at once through the bot, on SMS through the durable SMS
outbox (which sends, retries and respects STOP). An operator's words go out prefixed
(«Оператор 1414: …»); a hand-back shows the screen the patient left, with what they had
entered; a close asks the two quality questions (seed 001 §2.7, Annex 3).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Protocol

from backend.bootstrap import Backend
from backend.services import desk, outbox
from backend.services.desk import MessageKind, Outgoing, Sender
from bot.desk import texts
from bot.i18n import Translator
from bot.logs import get_logger
from bot.polling import first_round_delay
from bot.sms.render import SmsRenderer
from bot.sms.state import SmsState, SmsStateStore
from dialogs.engine.engine import Engine
from dialogs.engine.screen import Screen
from dialogs.journeys.common import DESK_CHAT, QUALITY_1

log = get_logger("bot.desk")


class PatientChannel(Protocol):
    async def send_text(self, address: str, text: str) -> None: ...
    async def send_screen(self, address: str, screen: Screen) -> None: ...


class SmsPatient:
    """Delivery on SMS: through the outbox; a screen is remembered as the SMS channel's last
    reply, so the patient's next number is read against it."""

    def __init__(
        self,
        backend: Backend,
        renderer: SmsRenderer,
        states: SmsStateStore,
        *,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.backend = backend
        self.renderer = renderer
        self.states = states
        self.wake = wake

    async def send_text(self, address: str, text: str) -> None:
        await self._enqueue(address, text)

    async def send_screen(self, address: str, screen: Screen) -> None:
        state = SmsState(self.renderer.render(screen, screen.language))
        await self.states.save(address, state)
        await self._enqueue(address, state.current.text)

    async def _enqueue(self, address: str, body: str) -> None:
        try:
            await outbox.enqueue(
                self.backend.uow(),
                to=address,
                body=body,
                kind="desk",
                now=self.backend.clock.now(),
            )
        except outbox.OptedOut:  # the patient sent STOP: nothing goes out
            log.info("desk message not sent: opted out")
            return
        if self.wake is not None:
            self.wake()


class Relay:
    def __init__(
        self,
        backend: Backend,
        engine: Engine,
        translator: Translator,
        channels: Mapping[str, PatientChannel],
    ) -> None:
        self.backend = backend
        self.engine = engine
        self.translator = translator
        self.channels = channels
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver what is pending; the number delivered."""
        done = 0
        for out in await desk.pending_deliveries(self.backend.uow()):
            channel = self.channels.get(out.channel)
            if channel is None:  # that channel is off in this process: left pending
                continue
            ok = True
            try:
                await self._deliver(channel, out)
                done += 1
            except Exception:
                log.exception("desk delivery failed", chat_id=out.message.chat_id)
                ok = False
            await desk.mark_delivered(
                self.backend.uow(), out.message.id, self.backend.clock.now(), ok=ok
            )
        return done

    async def _deliver(self, channel: PatientChannel, out: Outgoing) -> None:
        message = out.message
        kind = message.kind
        if message.sender is Sender.OPERATOR:
            text = texts.operator_says(message.body)
            await channel.send_text(out.address, self.translator.render(text, out.language))
        elif kind is MessageKind.LONG_WAIT:
            await channel.send_text(
                out.address, self.translator.render(texts.LONG_WAIT, out.language)
            )
        elif kind is MessageKind.CLOSED:
            screen = await self.engine.open(
                out.channel,
                out.user_id,
                QUALITY_1,
                data={DESK_CHAT: message.chat_id},
                language_hint=out.language,  # the patient's language when they asked for 1414
            )
            await channel.send_screen(out.address, screen)
        elif kind in (MessageKind.HANDED_BACK, MessageKind.IDLE_CLOSED):
            notice = texts.HANDED_BACK if kind is MessageKind.HANDED_BACK else texts.IDLE_CLOSED
            screen = await self.engine.resume(
                out.channel, out.user_id, notice, language_hint=out.language
            )
            await channel.send_screen(out.address, screen)

    async def run_forever(self, stopping: asyncio.Event, *, every: float = 2.0) -> None:
        await first_round_delay()  # the loops of a starting process do not all start at once
        while not stopping.is_set():
            try:
                await self.run_once()
            except Exception:  # the loop survives a database hiccup
                log.exception("desk relay round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=every)

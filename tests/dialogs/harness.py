"""Drive the dialog engine like a patient: start, tap options, type text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from backend.bootstrap import Backend
from bot.i18n import Translator
from bot.wiring import build_engine, build_services
from dialogs.engine.conversation import JsonValue
from dialogs.engine.engine import Engine
from dialogs.engine.events import Chose, Command, Event, Start, Typed
from dialogs.engine.screen import Screen
from dialogs.engine.text import Text, Verbatim
from otp import SentSms

PEPPER = "test-pepper-0123456789abcdef"
_CODE = re.compile(r"\b(\d{3}) ?(\d{3})\b")


@dataclass
class RecordingSender:
    """The SMS port, recording instead of sending."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, to: str, body: str) -> SentSms:
        self.sent.append((to, body))
        return SentSms(provider_id=f"rec-{len(self.sent)}", status="sent")

    def last_code(self) -> str:
        match = _CODE.search(self.sent[-1][1])
        assert match, self.sent[-1][1]
        return match.group(1) + match.group(2)


TRANSLATOR = Translator()


@dataclass
class Chat:
    engine: Engine
    channel: str = "test"
    user_id: str = "1"
    language_hint: str | None = None
    last: Screen | None = None
    history: list[Screen] = field(default_factory=list)

    async def send(self, event: Event) -> Screen:
        screen = await self.engine.handle(
            self.channel, self.user_id, event, language_hint=self.language_hint
        )
        self.last = screen
        self.history.append(screen)
        return screen

    async def start(self) -> Screen:
        return await self.send(Start())

    async def tap(self, option_id: str) -> Screen:
        assert self.last is not None and option_id in self.last.option_ids, (
            option_id,
            self.last.option_ids if self.last else None,
        )
        return await self.send(Chose(option_id, seq=self.last.seq))

    async def type(self, text: str) -> Screen:
        return await self.send(Typed(text))

    async def command(self, name: str) -> Screen:
        return await self.send(Command(name))

    async def data(self) -> dict[str, JsonValue]:
        """What the conversation keeps of the patient's entries."""
        conv = await self.engine.store.load(self.channel, self.user_id)
        assert conv is not None
        return dict(conv.data)

    async def forge(self, option_id: str) -> Screen:
        """A forged or outdated callback that the engine lets through (it was "shown")."""
        conv = await self.engine.store.load(self.channel, self.user_id)
        assert conv is not None
        conv.shown.append(option_id)
        await self.engine.store.save(conv)
        return await self.send(Chose(option_id, seq=conv.seq))

    def text(self, language: str = "en") -> str:
        """The last screen as a patient reads it (notice, error, body, options)."""
        assert self.last is not None
        parts: list[Text | Verbatim] = [
            item for item in (self.last.notice, self.last.error) if item is not None
        ]
        parts.extend(self.last.body)
        parts.extend(o.label for o in self.last.options)
        return "\n".join(TRANSLATOR.render(p, language) for p in parts)

    @property
    def state(self) -> str:
        assert self.last is not None
        return self.last.state


def make_engine(backend: Backend, sender: RecordingSender) -> Engine:
    services = build_services(backend, sender=sender, pepper=PEPPER, translator=TRANSLATOR)
    return build_engine(services)


async def sign_in(chat: Chat, sender: RecordingSender, iin: str) -> Screen:
    await chat.start()
    await chat.tap("signin")
    await chat.type(iin)
    return await chat.type(sender.last_code())

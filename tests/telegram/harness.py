"""Drive the Telegram channel like a patient: real `Update`s fed to the production dispatcher.

`RecordingSession` answers every Bot API method locally and records it (STYLE.md §3.1), so
the tests go through routers, filters and middlewares, and assert only on what was sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import itertools
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageText,
    GetMe,
    GetMyCommands,
    GetMyDescription,
    GetMyShortDescription,
    GetUpdates,
    SendDocument,
    SendMessage,
    SetMyCommands,
    SetMyDescription,
    SetMyShortDescription,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BotDescription,
    BotShortDescription,
    CallbackQuery,
    Chat,
    Contact,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)

from bot.config import Settings
from bot.runtime import Runtime
from bot.telegram.callbacks import Pick
from bot.telegram.setup import build_dispatcher

TOKEN = "42:TEST-token"
BOT_USER = User(id=42, is_bot=True, first_name="Dariger", username="dariger_test_bot")
NOW = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)
REPLIES = (SendMessage, EditMessageText, SendDocument)
_TAG = re.compile(r"<[^>]+>")


class RecordingSession(BaseSession):
    """A Bot API that answers locally: messages get increasing ids, everything else True.

    `fail` makes the next call of a method raise (to test fall-backs); `updates` feeds
    getUpdates (long polling)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self.results: list[object] = []
        self.fail: dict[type[TelegramMethod[Any]], Exception] = {}
        self.updates: asyncio.Queue[Update] = asyncio.Queue()
        self.profile: dict[tuple[str, str], object] = {}
        self._called = asyncio.Event()
        self._ids = itertools.count(1000)

    def _message(self, chat_id: int, message_id: int, text: str | None, markup: object) -> Message:
        return Message(
            message_id=message_id,
            date=NOW,
            chat=Chat(id=chat_id, type="private"),
            from_user=BOT_USER,
            text=text,
            reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
        )

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        if isinstance(method, GetUpdates):
            try:
                async with asyncio.timeout(0.05):
                    return cast(TelegramType, [await self.updates.get()])
            except TimeoutError:
                return cast(TelegramType, [])
        if isinstance(method, GetMe):  # aiogram's own look-up (command filters): not a reply
            return cast(TelegramType, BOT_USER)
        profile = self._profile(method)
        if profile is not None:
            return cast(TelegramType, profile)
        self.calls.append(method)
        self._called.set()
        failure = self.fail.pop(type(method), None)
        if failure is not None:
            self.results.append(failure)
            raise failure
        result: object = True
        if isinstance(method, SendMessage):
            sent = self._message(
                int(method.chat_id), next(self._ids), method.text, method.reply_markup
            )
            protected = method.protect_content is True
            result = sent.model_copy(update={"has_protected_content": protected or None})
        elif isinstance(method, SendDocument):
            result = self._message(int(method.chat_id), next(self._ids), None, None)
        elif isinstance(method, EditMessageText):
            result = self._message(
                int(method.chat_id or 0), method.message_id or 0, method.text, method.reply_markup
            )
        self.results.append(result)
        return cast(TelegramType, result)

    def _profile(self, method: TelegramMethod[Any]) -> object | None:
        """The bot's commands and descriptions per language: kept, and answered back."""
        code = getattr(method, "language_code", None) or ""
        if isinstance(method, GetMyCommands):
            commands = self.profile.get(("commands", code))
            return list(commands) if isinstance(commands, list) else []
        if isinstance(method, GetMyDescription):
            return BotDescription(description=str(self.profile.get(("description", code), "")))
        if isinstance(method, GetMyShortDescription):
            short = str(self.profile.get(("short", code), ""))
            return BotShortDescription(short_description=short)
        if isinstance(method, SetMyCommands | SetMyDescription | SetMyShortDescription):
            self.calls.append(method)
            if isinstance(method, SetMyCommands):
                self.profile[("commands", code)] = list(method.commands)
            elif isinstance(method, SetMyDescription):
                self.profile[("description", code)] = method.description or ""
            else:
                self.profile[("short", code)] = method.short_description or ""
            return True
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None

    def replies(self, since: int = 0) -> list[TelegramMethod[Any]]:
        """What the patient sees: sent and edited messages (not callback answers)."""
        return [c for c in self.calls[since:] if isinstance(c, REPLIES)]

    async def wait_for(
        self, kind: type[TelegramMethod[Any]], count: int = 1, seconds: float = 5
    ) -> list[Any]:
        """The calls of `kind`, once there are `count` (updates handled in the background)."""
        async with asyncio.timeout(seconds):
            while len(self.of(kind)) < count:
                self._called.clear()
                await self._called.wait()
        return self.of(kind)

    def of(self, kind: type[TelegramMethod[Any]], since: int = 0) -> list[Any]:
        return [c for c in self.calls[since:] if isinstance(c, kind)]


def plain(text: str) -> str:
    """The HTML of a message as the patient reads it."""
    return html.unescape(_TAG.sub("", text))


def option_ids(markup: InlineKeyboardMarkup | None) -> list[str]:
    if markup is None:
        return []
    return [
        Pick.unpack(b.callback_data).opt
        for row in markup.inline_keyboard
        for b in row
        if b.callback_data
    ]


def tg_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "otp_pepper": "test-pepper-0123456789abcdef",
        "public_base_url": "",
        "telegram_webhook_secret": None,
        "telegram_api_base": "",
        "redis_url": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def make_bot(session: RecordingSession | None = None) -> Bot:
    return Bot(TOKEN, session=session or RecordingSession())


@dataclass
class TelegramChat:
    """One patient in a private chat with the bot."""

    dispatcher: Dispatcher
    bot: Bot
    runtime: Runtime
    user_id: int = 777_000_001
    language_code: str | None = None
    current: Message | None = None  # the last message that carries our keyboard
    mark: int = 0  # where the calls of the last update start
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def session(self) -> RecordingSession:
        return cast(RecordingSession, self.bot.session)

    @property
    def user(self) -> User:
        return User(
            id=self.user_id, is_bot=False, first_name="Patient", language_code=self.language_code
        )

    @property
    def chat(self) -> Chat:
        return Chat(id=self.user_id, type="private")

    # --- feeding updates --------------------------------------------------------------

    async def feed(self, update: Update) -> list[TelegramMethod[Any]]:
        """Feed one update through the dispatcher; the calls it made."""
        self.mark = len(self.session.calls)
        results_mark = len(self.session.results)
        await self.dispatcher.feed_update(self.bot, update)
        for result in self.session.results[results_mark:]:
            if isinstance(result, Message) and result.reply_markup is not None:
                self.current = result
        return self.session.calls[self.mark :]

    def message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(self._ids), date=NOW, chat=self.chat, from_user=self.user, **fields
        )

    def update(self, **fields: Any) -> Update:
        return Update(update_id=next(self.update_ids), **fields)

    async def send_text(self, text: str) -> list[TelegramMethod[Any]]:
        entities = None
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0]) if text.strip() else 1
            entities = [MessageEntity(type="bot_command", offset=0, length=length)]
        return await self.feed(self.update(message=self.message(text=text, entities=entities)))

    async def start(self) -> list[TelegramMethod[Any]]:
        return await self.send_text("/start")

    async def send_contact(self, phone: str, owner: int | None) -> list[TelegramMethod[Any]]:
        contact = Contact(phone_number=phone, first_name="Patient", user_id=owner)
        return await self.feed(self.update(message=self.message(contact=contact)))

    async def press(self, data: str, message: Message | None = None) -> list[TelegramMethod[Any]]:
        """A callback query with raw data, from `message` (default: the current one)."""
        query = CallbackQuery(
            id=f"cq{next(self._ids)}",
            from_user=self.user,
            chat_instance="chat-instance",
            data=data,
            message=message or self.current,
        )
        return await self.feed(self.update(callback_query=query))

    def callback_data(self, option_id: str, message: Message | None = None) -> str:
        """The data of the button for `option_id` in the keyboard of `message`."""
        source = message or self.current
        assert source is not None and source.reply_markup is not None, "no keyboard yet"
        markup = source.reply_markup
        assert isinstance(markup, InlineKeyboardMarkup)
        for row in markup.inline_keyboard:
            for button in row:
                data = button.callback_data
                if data and Pick.unpack(data).opt == option_id:
                    return data
        raise AssertionError(f"no button {option_id!r} in {option_ids(markup)}")

    async def tap(self, option_id: str) -> list[TelegramMethod[Any]]:
        """Tap the button whose callback data carries `option_id` in the last keyboard."""
        return await self.press(self.callback_data(option_id))

    # --- reading what was sent --------------------------------------------------------

    @property
    def last_reply(self) -> SendMessage | EditMessageText:
        replies = [c for c in self.session.calls if isinstance(c, SendMessage | EditMessageText)]
        assert replies, "nothing was sent"
        return replies[-1]

    @property
    def last_html(self) -> str:
        return self.last_reply.text or ""

    @property
    def last_text(self) -> str:
        return plain(self.last_html)

    @property
    def options(self) -> list[str]:
        """The option ids of the current keyboard, in layout order."""
        if self.current is None or not isinstance(self.current.reply_markup, InlineKeyboardMarkup):
            return []
        return option_ids(self.current.reply_markup)

    @property
    def labels(self) -> dict[str, str]:
        """Option id → button text of the current keyboard."""
        markup = self.current.reply_markup if self.current is not None else None
        if not isinstance(markup, InlineKeyboardMarkup):
            return {}
        return {
            Pick.unpack(b.callback_data).opt: b.text
            for row in markup.inline_keyboard
            for b in row
            if b.callback_data
        }

    @property
    def rows(self) -> list[list[str]]:
        markup = self.current.reply_markup if self.current is not None else None
        if not isinstance(markup, InlineKeyboardMarkup):
            return []
        return [
            [Pick.unpack(b.callback_data).opt for b in row if b.callback_data]
            for row in markup.inline_keyboard
        ]

    async def state(self) -> str:
        conv = await self.runtime.engine.store.load("telegram", str(self.user_id))
        assert conv is not None
        return conv.state


def make_chat(runtime: Runtime, **fields: Any) -> TelegramChat:
    return TelegramChat(
        dispatcher=build_dispatcher(runtime), bot=make_bot(), runtime=runtime, **fields
    )


async def sign_in(tg: TelegramChat, sms_code: Callable[[], str], iin: str) -> None:
    """Start, sign in with `iin` and the code the SMS port recorded: the main menu."""
    await tg.start()
    await tg.tap("signin")
    await tg.send_text(iin)
    await tg.send_text(sms_code())


async def signed_in_chat(
    runtime: Runtime, sms_code: Callable[[], str], iin: str, language: str
) -> TelegramChat:
    """A new chat whose client speaks `language`, signed in with `iin`: on the main menu."""
    tg = make_chat(runtime, language_code=language)
    await sign_in(tg, sms_code, iin)
    assert await tg.state() == "menu"
    return tg

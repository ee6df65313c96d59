"""Per-update cost of one Telegram dialog step, against a bare aiogram FSM handler.

    .venv/bin/python -m bench.dialog_step [--iterations 300] [--warmup 30] [--redis URL]

The step: a signed-in patient on the booking screen «choose a time» taps a time, and gets the
confirm screen (doctor, clinic, room, date and time, a Confirm button) as an edit of the
message. It goes through the production dispatcher (dedupe, per-user Redis isolation, the
engine with its Redis conversation store, sessions in Redis, the slot read from a SQLite
database, the renderer). The baseline, measured in the same run on the same Redis: a bare
aiogram handler with `RedisStorage` FSM (and its Redis isolation) that reads the state and
data, writes the data and edits the message with a keyboard. Both reply through a local
session that answers every Bot API call without a network, so the figures are the server's
own cost per update. Each figure is the median of `--iterations` updates after a warm-up; the
dialog's updates and the bare handler's are interleaved (one round: the two timed dialog
steps, two bare updates), so that a change of load on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.base import BaseSession
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from redis.asyncio import Redis

from backend.adapters.db import migrate
from backend.bootstrap import Backend, BookingPolicy, bootstrap
from backend.domain.iin import Sex, make_iin
from backend.domain.model import Attachment, Clinic, District, Doctor, Patient, Slot, Specialty
from backend.ports import FixedClock
from bot.config import Settings
from bot.i18n import Translator
from bot.runtime import Runtime
from bot.telegram.callbacks import Pick
from bot.telegram.setup import build_dispatcher
from bot.wiring import build_engine, build_services, key_secret
from otp import SentSms

ALMATY = ZoneInfo("Asia/Almaty")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)  # Monday, before every cut-off
TOKEN = "42:BENCH"  # noqa: S105 - a fake token: the local session never calls Telegram
PEPPER = "bench-pepper-0123456789abcdef"
PATIENT = make_iin(dt.date(1985, 2, 2), Sex.FEMALE, 1)
_CODE = re.compile(r"\b(\d{3}) ?(\d{3})\b")


class LocalSession(BaseSession):
    """Answers every Bot API call at once: messages with increasing ids, the rest True."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1000)
        self.last: Message | None = None

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        if isinstance(method, SendMessage | EditMessageText):
            markup = method.reply_markup
            message_id = (
                method.message_id
                if isinstance(method, EditMessageText) and method.message_id
                else next(self._ids)
            )
            self.last = Message(
                message_id=message_id,
                date=NOW,
                chat=Chat(id=int(method.chat_id or 0), type="private"),
                text=method.text,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                has_protected_content=getattr(method, "protect_content", None) is True or None,
            )
            return cast(TelegramType, self.last)
        return cast(TelegramType, True)

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


class CodeOutbox:
    """The SMS port: keeps the last text (the sign-in code)."""

    def __init__(self) -> None:
        self.last = ""

    async def send(self, to: str, body: str) -> SentSms:
        self.last = body
        return SentSms(provider_id="bench", status="sent")

    def code(self) -> str:
        match = _CODE.search(self.last)
        if match is None:
            raise SystemExit(f"no code in the SMS: {self.last!r}")
        return match.group(1) + match.group(2)


async def seed(backend: Backend) -> None:
    """One clinic, one therapist with a day of 20-minute slots, one attached patient."""
    async with backend.uow() as uow:
        s = uow.session
        clinic = Clinic(
            code="B", name_kk="Емхана", name_ru="Поликлиника", name_en="Clinic", address="Астана"
        )
        specialty = Specialty(
            code="therapist", name_kk="Терапевт", name_ru="Терапевт", name_en="Therapist"
        )
        s.add_all([clinic, specialty])
        await s.flush()
        doctor = Doctor(
            code="B-T1",
            clinic_id=clinic.id or 0,
            specialty_id=specialty.id or 0,
            surname="Ахметова",
            given_name="Айгүл",
            room="101",
        )
        s.add(doctor)
        await s.flush()
        district = District(clinic_id=clinic.id or 0, number="1", doctor_id=doctor.id)
        patient = Patient.register(
            iin=PATIENT, surname="Сейтқали", given_name="Әлия", phone="+77011234501"
        )
        s.add_all([district, patient])
        await s.flush()
        s.add(
            Attachment(
                patient_id=patient.id or 0,
                clinic_id=clinic.id or 0,
                district_id=district.id,
                since=dt.date(2020, 1, 1),
            )
        )
        first = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ALMATY)
        s.add_all(
            Slot(
                doctor_id=doctor.id or 0,
                starts_at=first + dt.timedelta(minutes=20 * i),
                ends_at=first + dt.timedelta(minutes=20 * (i + 1)),
                room="101",
            )
            for i in range(18)
        )
        await uow.commit()


class ChatUser:
    """A patient in a private chat, feeding updates to a dispatcher."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, user_id: int) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.user = User(id=user_id, is_bot=False, first_name="Bench", language_code="ru")
        self.chat = Chat(id=user_id, type="private")
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)

    @property
    def session(self) -> LocalSession:
        return cast(LocalSession, self.bot.session)

    async def feed(self, **fields: Any) -> float:
        update = Update(update_id=next(self.update_ids), **fields)
        started = time.perf_counter()
        await self.dispatcher.feed_update(self.bot, update)
        return time.perf_counter() - started

    async def text(self, text: str) -> float:
        message = Message(
            message_id=next(self.message_ids),
            date=NOW,
            chat=self.chat,
            from_user=self.user,
            text=text,
        )
        return await self.feed(message=message)

    def data(self, option_id: str | None = None, index: int | None = None) -> str:
        message = self.session.last
        markup = message.reply_markup if message is not None else None
        if markup is None:
            raise SystemExit("no keyboard on the last message")
        buttons = [b for row in markup.inline_keyboard for b in row if b.callback_data]
        if index is not None:
            return buttons[index].callback_data or ""
        for button in buttons:
            if button.callback_data and Pick.unpack(button.callback_data).opt == option_id:
                return button.callback_data
        raise SystemExit(f"no {option_id!r} in {[b.callback_data for b in buttons]}")

    async def press(self, data: str) -> float:
        query = CallbackQuery(
            id=f"q{next(self.message_ids)}",
            from_user=self.user,
            chat_instance="bench",
            data=data,
            message=self.session.last,
        )
        return await self.feed(callback_query=query)


def option_ids(patient: ChatUser) -> list[str]:
    message = patient.session.last
    markup = message.reply_markup if message is not None else None
    if markup is None:
        return []
    return [
        Pick.unpack(b.callback_data).opt
        for row in markup.inline_keyboard
        for b in row
        if b.callback_data
    ]


def first_with(patient: ChatUser, prefix: str) -> str:
    for option_id in option_ids(patient):
        if option_id.startswith(prefix):
            return option_id
    raise SystemExit(f"no option {prefix}* in {option_ids(patient)}")


async def dialog_patient(backend: Backend, redis: Redis, prefix: str) -> ChatUser:
    """A signed-in patient on the time screen, through the production dispatcher."""
    outbox = CodeOutbox()
    translator = Translator()
    services = build_services(
        backend,
        sender=outbox,
        pepper=PEPPER,
        translator=translator,
        redis=redis,
        key_prefix=prefix,
    )
    secret = key_secret(PEPPER)
    engine = build_engine(services, redis=redis, key_prefix=prefix, secret=secret)
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN)
    # As bot.runtime.build_runtime: the key prefix and secret (without the secret the desk
    # gate keeps no marks and asks the database at every update).
    runtime = Runtime(
        settings,
        backend,
        redis,
        translator,
        outbox,
        services,
        engine,
        key_prefix=prefix,
        key_secret=secret,
    )
    dispatcher = build_dispatcher(runtime, key_prefix=prefix)
    patient = ChatUser(dispatcher, Bot(TOKEN, session=LocalSession()), 555_000_001)

    await patient.text("/start")
    await patient.press(patient.data("signin"))
    await patient.text(PATIENT)
    await patient.text(outbox.code())
    await patient.press(patient.data("book"))
    await patient.press(patient.data(first_with(patient, "sp.")))
    if any(o.startswith("dr.") for o in option_ids(patient)):  # one doctor: no doctor step
        await patient.press(patient.data(first_with(patient, "dr.")))
    if any(o.startswith("day.") for o in option_ids(patient)):  # else the earliest day's times
        await patient.press(patient.data(first_with(patient, "day.")))
    if not first_with(patient, "slot."):
        raise SystemExit("not on the time screen")
    return patient


async def dialog_step(patient: ChatUser) -> tuple[float, float]:
    """The time → confirm step (reads the database) and the language screen from the confirm
    screen (reads nothing the step needs), timed; then back to the times (not timed)."""
    elapsed = await patient.press(patient.data(first_with(patient, "slot.")))
    if "confirm" not in option_ids(patient):
        raise SystemExit(f"expected the confirm screen, got {option_ids(patient)}")
    language = await patient.press(patient.data("nav.lang"))  # reads nothing it needs
    if "nav.lang" in option_ids(patient):
        raise SystemExit(f"expected the language screen, got {option_ids(patient)}")
    await patient.press(patient.data("nav.back"))  # back to confirm (not timed)
    await patient.press(patient.data("nav.back"))  # back to the times (not timed)
    return elapsed, language


async def redis_bytes(redis: Redis, prefix: str) -> dict[str, tuple[int, int]]:
    """Redis's own MEMORY USAGE of the dialog's keys, by kind: (keys, bytes). An idle
    conversation keeps `conv`, `session` (the sign-in, its index and the patient's card) and
    `desk` (the gate's mark); `otp` are the sign-in's rate records (they expire), `tg` one
    dedupe mark per update (they expire)."""
    kinds: dict[str, tuple[int, int]] = {}
    async for key in redis.scan_iter(match=prefix + "*"):
        name = key.decode() if isinstance(key, bytes) else str(key)
        kind = name.removeprefix(prefix).split(":", 1)[0]
        if kind == "fsm":  # the baseline's
            continue
        count, size = kinds.get(kind, (0, 0))
        kinds[kind] = (count + 1, size + int(await redis.memory_usage(key) or 0))
    return kinds


class BarePick(CallbackData, prefix="b"):
    seq: int
    opt: str


async def bare_patient(redis: Redis, prefix: str) -> ChatUser:
    """A bare aiogram FSM handler on the same Redis: state and data in, data out, an edit with
    a keyboard of times."""
    storage = RedisStorage(redis, key_builder=DefaultKeyBuilder(prefix=f"{prefix}fsm"))
    dispatcher = Dispatcher(storage=storage, events_isolation=storage.create_isolation())

    async def start(message: Message, state: FSMContext) -> None:
        await state.set_state("book:slot")
        await state.set_data({"doctor": 1, "day": "2026-11-24"})
        await message.answer("Choose a time", reply_markup=keyboard(0))

    async def choose(query: CallbackQuery, callback_data: BarePick, state: FSMContext) -> None:
        current = await state.get_state()
        data = await state.get_data()
        data["slot"] = callback_data.opt
        await state.set_data(data)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                f"{current}: confirm {data['slot']} on {data['day']}?",
                reply_markup=keyboard(callback_data.seq + 1),
            )

    def keyboard(seq: int) -> InlineKeyboardMarkup:
        times = [f"slot.{i}" for i in range(18)]
        rows = [
            [
                InlineKeyboardButton(text=t, callback_data=BarePick(seq=seq, opt=t).pack())
                for t in times[i : i + 3]
            ]
            for i in range(0, len(times), 3)
        ]
        return InlineKeyboardMarkup(inline_keyboard=rows)

    dispatcher.message.register(start, F.text == "/start")
    dispatcher.callback_query.register(choose, BarePick.filter())
    patient = ChatUser(dispatcher, Bot(TOKEN, session=LocalSession()), 555_000_002)
    await patient.text("/start")
    return patient


async def measure(
    backend: Backend, redis: Redis, prefix: str, iterations: int, warmup: int
) -> tuple[list[float], list[float], list[float]]:
    """The dialog's two steps and the bare handler, interleaved update by update, so that
    both see the same load on a shared machine (run one after the other, a change of load
    between them moved the ratio by 2x)."""
    patient = await dialog_patient(backend, redis, prefix)
    bare = await bare_patient(redis, prefix)
    steps: list[float] = []
    navigation: list[float] = []
    handler: list[float] = []
    for i in range(warmup + iterations):
        step, language = await dialog_step(patient)
        bare_a = await bare.press(bare.data(index=(2 * i) % 18))
        bare_b = await bare.press(bare.data(index=(2 * i + 1) % 18))
        if i >= warmup:
            steps.append(step)
            navigation.append(language)
            handler.extend((bare_a, bare_b))
    return steps, navigation, handler


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument(
        "--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()

    redis = Redis.from_url(args.redis)
    prefix = f"dariger-bench:{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(migrate, url)
        backend = bootstrap(url, clock=FixedClock(NOW), policy=BookingPolicy())
        try:
            await seed(backend)
            step, navigation, bare = await measure(
                backend, redis, prefix, args.iterations, args.warmup
            )
            kinds = await redis_bytes(redis, prefix)
        finally:
            await backend.close()
            keys = [key async for key in redis.scan_iter(match=prefix + "*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()

    step_ms = statistics.median(step) * 1000
    bare_ms = statistics.median(bare) * 1000
    print(
        f"updates timed: {args.iterations} of each step and {len(bare)} bare ones, "
        f"interleaved, after {args.warmup} rounds of warm-up"
    )
    print(
        f"dialog step (time -> confirm, engine + Redis + SQLite): median {step_ms:.2f} ms, "
        f"p90 {statistics.quantiles(step, n=10)[-1] * 1000:.2f} ms"
    )
    print(
        f"bare aiogram FSM handler (RedisStorage):                median {bare_ms:.2f} ms, "
        f"p90 {statistics.quantiles(bare, n=10)[-1] * 1000:.2f} ms"
    )
    nav_ms = statistics.median(navigation) * 1000
    print(
        f"navigation step (confirm -> language, reads no data): median {nav_ms:.2f} ms, "
        f"p90 {statistics.quantiles(navigation, n=10)[-1] * 1000:.2f} ms"
    )
    print(f"ratio (dialog step / bare handler): {step_ms / bare_ms:.1f}x (goal <= 3x)")
    print(f"ratio (navigation step / bare handler): {nav_ms / bare_ms:.1f}x (goal <= 1.5x)")
    idle = sum(kinds.get(kind, (0, 0))[1] for kind in ("conv", "session", "desk"))
    print(f"Redis per idle conversation (conv + session + desk keys): {idle} bytes (goal <= 2048)")
    for kind, (count, size) in sorted(kinds.items()):
        print(f"  {kind:8} {count:4} keys {size:7} bytes")


if __name__ == "__main__":
    asyncio.run(main())

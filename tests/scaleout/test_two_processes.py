"""Scale-out, measured (issue 16): two `dariger serve` processes on one PostgreSQL database and
one Redis, Telegram in webhook mode against a local Bot API stub, SMS through signed Twilio
webhooks and a local Twilio API stub.

One patient's Telegram updates and SMS are fed alternately to both processes, and every one is
delivered twice (to the other process as well), as Telegram and Twilio do on a retry:
- each update and each SMS is processed exactly once (one reply per update; a redelivered SMS
  gets the first reply, without being handled again);
- per patient, in order: each SMS names a language and its reply is in that language, whichever
  process answered it;
- the outbox: messages queued while both processes run are sent once each by the Twilio stub,
  though both processes run an outbox worker;
- the slot top-up runs in both processes at start-up and leaves no slot twice.

Bounded waits only (each under 30 s); the processes are stopped at the end whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, insert, select

from backend.adapters.orm import schedule_templates, slots
from backend.bootstrap import Backend
from backend.services import outbox
from bot.config import Settings
from bot.sms.webhook import reply_language
from tests.backend.world import World, build_world
from tests.sms.harness import message_text, sign
from tests.sms.twilio_stub import ACCOUNT, TwilioStub, twilio_stub

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

PUBLIC = "https://dariger.example.kz"
TWILIO_TOKEN = "scaleout-twilio-token"
WEBHOOK_SECRET = "scaleout-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A Redis database of its own (every key name is also keyed by this run's random pepper).
REDIS_URL = os.environ.get("TEST_SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/14")
DARIGER = Path(sys.executable).with_name("dariger")
# Start-up is 2-3 s on an idle machine; the shared test machine can take far longer to import.
START_TIMEOUT = 120.0
WAIT_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- a local Bot API server --------------------------------------------------------------------


@dataclass
class BotApiStub:
    """Answers the Bot API methods the channel calls; records what was sent to whom."""

    bot_id: int
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{bot}/{method}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.calls.append((method, form))
        result: Any = True
        if method == "getMe":
            result = {"id": self.bot_id, "is_bot": True, "first_name": "Dariger"}
        elif method in ("sendMessage", "editMessageText", "sendDocument"):
            chat = int(form.get("chat_id", "0"))
            result = {
                "message_id": int(form.get("message_id") or next(self._ids)),
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "text": form.get("text", ""),
            }
        return web.json_response({"ok": True, "result": result})

    def replies_to(self, chat: int) -> list[str]:
        return [
            form.get("text", "")
            for method, form in self.calls
            if method in ("sendMessage", "editMessageText") and form.get("chat_id") == str(chat)
        ]


# --- the two processes -------------------------------------------------------------------------


@dataclass
class Process:
    port: int
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _env(database_url: str, port: int, *, twilio: TwilioStub, bot_api: str, token: str,
         pepper: str) -> dict[str, str]:  # fmt: skip
    env = {
        k: v for k, v in os.environ.items() if k not in {n.upper() for n in Settings.model_fields}
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        MIGRATE_ON_START="false",  # the test database is migrated; processes never race it
        HOST="127.0.0.1",
        PORT=str(port),
        PUBLIC_BASE_URL=PUBLIC,
        LOG_FORMAT="json",
        SMS_SENDER="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_FROM_NUMBER="+77010000000",
        TWILIO_API_BASE=twilio.url,
        OTP_PEPPER=pepper,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE=bot_api,
    )
    return env


@contextlib.asynccontextmanager
async def two_processes(
    database_url: str, twilio: TwilioStub, bot_api: str, tmp_path: Path
) -> AsyncIterator[tuple[Process, Process]]:
    token = f"{secrets.randbelow(10**9) + 10**9}:scaleout-{secrets.token_hex(8)}"
    pepper = secrets.token_hex(32)  # fresh key names in Redis for this run
    processes: list[Process] = []
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = tmp_path / f"serve-{name}.log"
            with log.open("wb") as out:
                popen = subprocess.Popen(  # noqa: ASYNC220, S603 - our own CLI, test-controlled
                    [str(DARIGER), "serve"],
                    env=_env(
                        database_url,
                        port,
                        twilio=twilio,
                        bot_api=bot_api,
                        token=token,
                        pepper=pepper,
                    ),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=tmp_path,
                )
            processes.append(Process(port, popen, log))
        async with aiohttp.ClientSession() as http:
            for process in processes:
                await _until_ready(http, process)
        yield processes[0], processes[1]
    finally:
        for process in processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.to_thread(process.popen.wait, 15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                await asyncio.to_thread(process.popen.wait, 5)


async def _until_ready(http: aiohttp.ClientSession, process: Process) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            pytest.fail(f"dariger serve exited: {process.log.read_text()[-3000:]}")
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with http.get(process.url + "/readyz", timeout=aiohttp.ClientTimeout(2)) as r:
                if r.status == 200:
                    return
        await asyncio.sleep(0.2)
    pytest.fail(f"dariger serve not ready in {START_TIMEOUT} s: {process.log.read_text()[-3000:]}")


async def _until(check: Any, what: str, seconds: float = WAIT_TIMEOUT) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# --- the patient -------------------------------------------------------------------------------


def _update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "Patient", "language_code": "en"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def _post_update(http: aiohttp.ClientSession, process: Process, body: dict[str, Any]) -> int:
    async with http.post(
        process.url + "/telegram/webhook", json=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
    ) as response:
        return response.status


async def _post_sms(
    http: aiohttp.ClientSession, process: Process, sid: str, phone: str, body: str
) -> tuple[int, str | None]:
    form = {"MessageSid": sid, "AccountSid": ACCOUNT, "From": phone, "To": "+77010000000",
            "Body": body}  # fmt: skip
    signature = sign(f"{PUBLIC}/sms/twilio", form, TWILIO_TOKEN)
    async with http.post(
        process.url + "/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}
    ) as response:
        return response.status, message_text(await response.text())


async def test_two_processes_share_the_work_exactly_once_and_in_order(
    database_url: str, backend: Backend, tmp_path: Path
) -> None:
    world: World = await build_world(backend)
    # Reception hours every day for one doctor: both processes top the slots up at start-up.
    async with backend.engine.begin() as conn:
        await conn.execute(
            insert(schedule_templates),
            [
                {
                    "doctor_id": world.doctor_b.id,
                    "weekday": weekday,
                    "start_time": dt.time(8),
                    "end_time": dt.time(20),
                    "slot_minutes": 10,
                    "room": "1",
                    "kind": "reception",
                    "capacity": 1,
                }
                for weekday in range(7)
            ],
        )
    slots_before = await _slot_count(backend)
    phone = world.alice.phone
    assert phone is not None
    chat = 700_000_000 + secrets.randbelow(10**8)
    first_update = secrets.randbelow(10**9)
    stub = BotApiStub(bot_id=0)
    server = TestServer(stub.app(), host="127.0.0.1")
    await server.start_server()
    try:
        with twilio_stub() as twilio:
            bot_api = str(server.make_url("")).rstrip("/")
            async with (
                two_processes(database_url, twilio, bot_api, tmp_path) as (a, b),
                aiohttp.ClientSession() as http,
            ):
                await _scenario(http, (a, b), stub=stub, twilio=twilio, backend=backend, chat=chat,
                                first_update=first_update, phone=phone)  # fmt: skip
                await _no_duplicate_slots(backend)
                created = await _topped_up(a, b)
                # Each slot was created by one process only, and none twice.
                assert sum(created) == await _slot_count(backend) - slots_before > 0, created
    finally:
        await server.close()


async def _scenario(
    http: aiohttp.ClientSession,
    processes: tuple[Process, Process],
    *,
    stub: BotApiStub,
    twilio: TwilioStub,
    backend: Backend,
    chat: int,
    first_update: int,
    phone: str,
) -> None:
    a, b = processes
    languages = ["KZ", "RU", "EN", "RU", "KZ", "EN"]
    now = dt.datetime.now(dt.UTC)
    queued = [
        await outbox.enqueue(
            backend.uow(), to=f"+7701555{i:04d}", body=f"notice {i}", kind="test", now=now
        )
        for i in range(12)
    ]
    for step, keyword in enumerate(languages):
        first, second = (a, b) if step % 2 == 0 else (b, a)
        # Telegram: the update to one process and its redelivery to the other, at once.
        update = _update(first_update + step, chat, "/start")
        statuses = await asyncio.gather(
            _post_update(http, first, update), _post_update(http, second, update)
        )
        assert list(statuses) == [200, 200]
        await _until(lambda n=step + 1: len(stub.replies_to(chat)) >= n, f"telegram reply {step}")
        # SMS: the message to the other process and Twilio's retry of it to the first.
        sid = f"SM{secrets.token_hex(16)}"
        (status, reply), (again_status, again) = await asyncio.gather(
            _post_sms(http, second, sid, phone, keyword),
            _post_sms(http, first, sid, phone, keyword),
        )
        assert status == again_status == 200
        # One of the two handled it; the other answered with its reply, or with nothing while
        # the first was still working on it (Twilio retries that later).
        replies = [r for r in (reply, again) if r]
        assert replies, (reply, again)
        assert len(set(replies)) == 1
        expected = {"KZ": "kk", "RU": "ru", "EN": "en"}[keyword]
        assert reply_language(replies[0]) == expected, (keyword, replies[0])

    # Exactly once: one reply per update, though every update reached both processes.
    await asyncio.sleep(1.0)  # a late duplicate would show now
    assert len(stub.replies_to(chat)) == len(languages), stub.replies_to(chat)
    inbound = await _inbound_count(backend, phone)
    assert inbound == len(languages)
    # The outbox: every queued message sent once, though both workers ran.
    await _until(lambda: len(twilio.accepted) >= len(queued), "the outbox to drain")
    await asyncio.sleep(1.5)  # a second send would show now
    sent = Counter((to, body) for _, to, body in twilio.accepted)
    assert len(sent) == len(queued)
    assert set(sent.values()) == {1}, sent


async def _inbound_count(backend: Backend, phone: str) -> int:
    from backend.adapters.orm import sms_inbound

    async with backend.engine.connect() as conn:
        result = await conn.execute(
            select(func.count()).select_from(sms_inbound).where(sms_inbound.c.phone == phone)
        )
        return int(result.scalar_one())


async def _slot_count(backend: Backend) -> int:
    async with backend.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(slots))).scalar_one())


async def _topped_up(*processes: Process) -> list[int]:
    """The slots each process's start-up top-up created (0 when its run failed and left the
    work to the other: logged as a warning, retried at the next run)."""

    def runs(process: Process) -> list[dict[str, Any]]:
        text = process.log.read_text().splitlines()
        lines = [json.loads(line) for line in text if line.startswith("{")]
        events = ("slots topped up", "slot top-up failed")
        return [line for line in lines if line.get("event") in events]

    await _until(lambda: all(runs(p) for p in processes), "both top-ups")
    return [int(runs(p)[0].get("created", 0)) for p in processes]


async def _no_duplicate_slots(backend: Backend) -> None:
    async with backend.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(slots))).scalar_one()
        distinct = (
            await conn.execute(
                select(func.count()).select_from(
                    select(slots.c.doctor_id, slots.c.starts_at).distinct().subquery()
                )
            )
        ).scalar_one()
    assert total > 0
    assert total == distinct

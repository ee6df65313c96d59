"""Capacity (issue 16): messages per second per process, p50/p99 and CPU per message.

    .venv/bin/python -m bench.capacity [--db postgresql|sqlite] [--patients 50] [--rounds 2]
                                       [--channel sms|telegram] [--split]

Runs the production app (`create_app`, a real HTTP server on a free port) on a fresh database
(a PostgreSQL database of its own, dropped afterwards, and Redis at --redis; or a SQLite file
with in-process state) and drives N concurrent patients, each from their own phone, through
whole SMS journeys: every message a signed Twilio webhook, every reply awaited before the next.
The journey walks the channel-neutral menus in three languages (language keyword, HELP, the
main menu, switching language): no sign-in, since a demo city has few patients with phones.

`--channel telegram`: the same with Telegram webhooks (`POST /telegram/webhook` with the
secret header; the commands /start, /help, /menu, /language, /menu, /start). The webhook answers
at once and the update is handled in a task, so a message's latency runs from the POST to the
bot's `sendMessage` reaching a local Bot API server (TELEGRAM_API_BASE, in this process).

Printed: messages/s, p50/p99 latency of one message, and CPU per message. By default the CPU is
this whole process's (the load generator, its HTTP client and the local Bot API server included:
an upper bound on the app's). `--split` (SMS) runs the app in a process of its own and prints
the app process's CPU per message and the load generator's apart (read from /proc: Linux).
Goals (issue 16): ≥ 200 messages/s per process, ≤ 5 ms CPU per message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import asyncpg
from aiohttp import web
from pydantic import SecretStr

from backend.adapters.db import migrate
from backend.bootstrap import bootstrap
from bot.app import create_app
from bot.config import Settings
from bot.i18n import Translator
from bot.logs import configure_logging
from bot.sms.channel import SMS_WORKER_KEY
from bot.sms.chat import SignedPoster
from bot.sms.render import SmsRenderer
from bot.sms.webhook import INBOUND_PATH
from bot.telegram.webhook import WEBHOOK_PATH
from dialogs.engine.engine import FAILURE, LANGUAGES
from otp import SentSms

PUBLIC = "https://dariger.example.kz"
TOKEN = "bench-twilio-token"  # noqa: S105 - signs the bench's own webhooks
PG_ADMIN = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
JOURNEY: Sequence[str] = ("EN", "HELP", "00", "RU", "00", "KZ")
TELEGRAM_JOURNEY: Sequence[str] = ("/start", "/help", "/menu", "/language", "/menu", "/start")
TELEGRAM_TOKEN = "123456:bench-telegram-token-0000000000000"  # noqa: S105 - a local fake API
TELEGRAM_SECRET = "bench-webhook-secret"  # noqa: S105
GOAL_RATE = 200.0
GOAL_CPU_MS = 5.0


class NullGateway:
    async def send(self, to: str, body: str) -> SentSms:
        return SentSms(provider_id=f"SM{secrets.token_hex(16)}", status="queued")


@dataclass
class Figures:
    messages: int
    seconds: float
    cpu_seconds: float  # this process's: the load generator (and the app unless split)
    latencies: list[float]
    app_cpu_seconds: float | None = None  # the app's process, when it runs apart (--split)
    apologies: int = 0  # SMS answered with the apology naming 1414: each one a failure

    @property
    def failures(self) -> str:
        """What to print after the figures: the apologies, which the figures must not hide."""
        if not self.apologies:
            return ""
        return f"; {self.apologies} of them ANSWERED WITH THE APOLOGY (failed)"

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_ms(self) -> float:
        """The app's CPU per message (with the load generator's unless split)."""
        seconds = self.cpu_seconds if self.app_cpu_seconds is None else self.app_cpu_seconds
        return seconds * 1000 / self.messages

    @property
    def generator_cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / self.messages

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[tuple[str, str]]:
    """(DATABASE_URL, REDIS_URL) of a fresh, migrated database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await asyncio.to_thread(migrate, url)
            yield url, ""
        return
    name = f"dariger_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(migrate, url)
        yield url, REDIS_URL
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def _app_on_a_port(url: str, redis_url: str, **settings: Any) -> AsyncIterator[int]:
    """The production app on a free local port, its outbox worker off (the bench counts the
    replies), until the block ends: the port. `settings`: the channel's own."""
    backend = bootstrap(url)
    app = create_app(
        Settings(
            _env_file=None,
            database_url=url,
            redis_url=redis_url,
            public_base_url=PUBLIC,
            # A fresh pepper: fresh Redis key names for this run.
            otp_pepper=SecretStr(secrets.token_hex(32)),
            **settings,
        ),
        backend,
        sender=NullGateway(),
    )
    app[SMS_WORKER_KEY] = False
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()
        await backend.close()


def _sms_poster(session: aiohttp.ClientSession, port: int) -> SignedPoster:
    return SignedPoster(
        session, f"http://127.0.0.1:{port}{INBOUND_PATH}", PUBLIC + INBOUND_PATH, TOKEN
    )


@contextlib.asynccontextmanager
async def serving(db: str) -> AsyncIterator[SignedPoster]:
    """The production app on a free port; a poster of signed webhooks to it."""
    async with (
        database(db) as (url, redis_url),
        _app_on_a_port(url, redis_url, twilio_auth_token=SecretStr(TOKEN)) as port,
    ):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            yield _sms_poster(session, port)


def _serve_apart(url: str, redis_url: str, port: multiprocessing.connection.Connection) -> None:
    """The app's process of `serving_apart`: serves until its parent closes the pipe."""
    configure_logging("console", "WARNING")

    async def serve() -> None:
        async with _app_on_a_port(url, redis_url, twilio_auth_token=SecretStr(TOKEN)) as listening:
            port.send(listening)
            # The parent closes its end when the run is over.
            await asyncio.to_thread(_wait_closed, port)

    asyncio.run(serve())


def _wait_closed(pipe: multiprocessing.connection.Connection) -> None:
    with contextlib.suppress(EOFError, OSError):
        pipe.recv()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process of this machine (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def serving_apart(db: str) -> AsyncIterator[tuple[SignedPoster, Callable[[], float]]]:
    """The production app in a process of its own; a poster, and the app process's CPU."""
    async with database(db) as (url, redis_url):
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(target=_serve_apart, args=(url, redis_url, theirs), daemon=True)
        child.start()
        theirs.close()
        try:
            port = await asyncio.to_thread(ours.recv)
            pid = child.pid or 0
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                yield _sms_poster(session, port), lambda: process_cpu_seconds(pid)
        finally:
            ours.close()
            await asyncio.to_thread(child.join, 30)
            if child.is_alive():  # pragma: no cover - a hung server
                child.kill()


_PROFILE_ANSWERS: dict[str, object] = {
    "getmycommands": [],
    "getmydescription": {"description": ""},
    "getmyshortdescription": {"short_description": ""},
}


class FakeBotApi:
    """A local Bot API server: every method answers at once; a `sendMessage` (or an edit)
    resolves the waiter of its chat, which is how a Telegram message's latency is taken."""

    def __init__(self) -> None:
        self.waiters: dict[int, asyncio.Future[None]] = {}
        self.sent = 0
        self._ids = 1000

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.call)
        return app

    async def call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        form = await request.post()
        result: object = True
        if method == "getme":
            result = {"id": 1, "is_bot": True, "first_name": "Dariger", "username": "DarigerBot"}
        elif method in _PROFILE_ANSWERS:  # the start-up's look at the bot's profile
            result = _PROFILE_ANSWERS[method]
        elif method in ("sendmessage", "editmessagetext"):
            chat_id = int(str(form.get("chat_id", "0")))
            self._ids += 1
            self.sent += 1
            result = {
                "message_id": self._ids,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": str(form.get("text", "")),
            }
            waiter = self.waiters.pop(chat_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        return web.json_response({"ok": True, "result": result})


class TelegramPoster:
    """Posts a Telegram update for one chat and waits for the bot's reply to it."""

    def __init__(self, session: aiohttp.ClientSession, url: str, api: FakeBotApi) -> None:
        self.session, self.url, self.api = session, url, api
        # Fresh ids each run: the dedupe middleware remembers update ids in Redis.
        self._update_ids = secrets.randbelow(2**40) * 1000

    async def send(self, phone: str, text: str) -> None:
        chat_id = int(phone.lstrip("+"))
        self._update_ids += 1
        update = {
            "update_id": self._update_ids,
            "message": {
                "message_id": self._update_ids,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Bench"},
                "text": text,
                **(
                    {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                    if text.startswith("/")
                    else {}
                ),
            },
        }
        waiter = asyncio.get_running_loop().create_future()
        self.api.waiters[chat_id] = waiter
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        async with self.session.post(self.url, json=update, headers=headers) as response:
            response.raise_for_status()
        await asyncio.wait_for(waiter, timeout=60)


@contextlib.asynccontextmanager
async def serving_telegram(db: str) -> AsyncIterator[TelegramPoster]:
    """The production app with the Telegram channel in webhook mode, its Bot API local."""
    api = FakeBotApi()
    api_runner = web.AppRunner(api.app(), access_log=None, handle_signals=False)
    await api_runner.setup()
    api_site = web.TCPSite(api_runner, "127.0.0.1", 0)
    await api_site.start()
    api_host, api_port = api_runner.addresses[0][:2]
    try:
        telegram = {
            "telegram_bot_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_webhook_secret": SecretStr(TELEGRAM_SECRET),
            "telegram_api_base": f"http://{api_host}:{api_port}",
        }
        async with (
            database(db) as (url, redis_url),
            _app_on_a_port(url, redis_url, **telegram) as port,
        ):
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                yield TelegramPoster(session, f"http://127.0.0.1:{port}{WEBHOOK_PATH}", api)
    finally:
        await api_runner.cleanup()


class Poster(Protocol):
    async def send(self, phone: str, body: str) -> object: ...


def _apologies() -> frozenset[str]:
    renderer = SmsRenderer(Translator())
    return frozenset(renderer.notice([FAILURE], language) for language in LANGUAGES)


_APOLOGIES = _apologies()


async def _timed(
    poster: Poster, phone: str, body: str, latencies: list[float], failed: list[str]
) -> None:
    started = time.perf_counter()
    reply = await poster.send(phone, body)
    latencies.append(time.perf_counter() - started)
    if isinstance(reply, str) and reply in _APOLOGIES:  # a fast apology is not capacity
        failed.append(phone)


async def drive(
    poster: Poster,
    phones: Sequence[str],
    journey: Sequence[str],
    app_cpu: Callable[[], float] | None = None,
) -> Figures:
    """Every phone walks `journey` (message after reply), all phones at once. `app_cpu`: the
    app process's CPU seconds so far, when the app runs apart."""
    latencies: list[float] = []
    failed: list[str] = []

    async def patient(phone: str) -> None:
        for body in journey:
            await _timed(poster, phone, body, latencies, failed)

    app_before = app_cpu() if app_cpu is not None else 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(patient(phone) for phone in phones))
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    return Figures(
        messages=len(latencies),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        latencies=latencies,
        app_cpu_seconds=app_cpu() - app_before if app_cpu is not None else None,
        apologies=len(failed),
    )


def phones(count: int, start: int = 0) -> list[str]:
    return [f"+7705{start + i:07d}" for i in range(count)]


def report(title: str, figures: Figures) -> None:
    print(
        f"{title}: {figures.messages} messages in {figures.seconds:.2f} s: "
        f"{figures.rate:.0f} messages/s "
        f"(goal ≥ {GOAL_RATE:.0f}, {figures.rate / GOAL_RATE:.2f}×), "
        f"p50 {figures.p50 * 1000:.0f} ms, p99 {figures.pct(0.99) * 1000:.0f} ms, "
        f"CPU {figures.cpu_ms:.1f} ms/message (goal ≤ {GOAL_CPU_MS:.0f}, "
        f"{figures.cpu_ms / GOAL_CPU_MS:.2f}×)"
        + (
            " [the bench process and the app together]"
            if figures.app_cpu_seconds is None
            else f" [the app's process; the load generator's: {figures.generator_cpu_ms:.1f} ms]"
        )
        + figures.failures
    )


async def run(
    db: str, patients: int, rounds: int, channel: str = "sms", *, split: bool = False
) -> list[Figures]:
    results = []
    journey = JOURNEY if channel == "sms" else TELEGRAM_JOURNEY
    if split:
        if channel != "sms":
            raise SystemExit("--split drives the SMS channel only")
        async with serving_apart(db) as (poster, app_cpu):
            await drive(poster, phones(4, start=9_000_000), journey[:2])  # warm-up
            for n in range(rounds):
                walkers = phones(patients, start=n * patients)
                figures = await drive(poster, walkers, journey, app_cpu)
                report(f"[{db}, {channel}, app apart] round {n + 1}, {patients} patients", figures)
                results.append(figures)
        return results
    serve = serving(db) if channel == "sms" else serving_telegram(db)
    async with serve as poster:
        await drive(poster, phones(4, start=9_000_000), journey[:2])  # warm-up
        for n in range(rounds):
            figures = await drive(poster, phones(patients, start=n * patients), journey)
            report(f"[{db}, {channel}] round {n + 1}, {patients} patients", figures)
            results.append(figures)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--channel", choices=("sms", "telegram"), default="sms")
    parser.add_argument(
        "--split", action="store_true", help="the app in a process of its own (its CPU apart)"
    )
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    asyncio.run(run(args.db, args.patients, args.rounds, args.channel, split=args.split))


if __name__ == "__main__":
    main()

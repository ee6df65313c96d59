"""Issue 9 §2: the webhook with the right secret but a body that is not an update answers 400,
logs one warning and processes nothing; text with control characters is cleaned at the
boundary; while Redis is down an update through the webhook still gets the apology."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from aiogram.methods import SendMessage
from aiohttp import web
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from bot.logs import configure_logging
from bot.runtime import Runtime, build_redis, build_runtime
from bot.telegram import WEBHOOK_PATH, install
from dialogs.engine.engine import FAILURE
from tests.backend.world import World
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.infra.redis_server import RedisServer, own_redis
from tests.telegram.harness import RecordingSession, TelegramChat, make_bot, tg_settings

__all__ = ["own_redis"]  # the fixture, used by name

PUBLIC = "https://dariger.example.kz"
SECRET = "webhook-secret_123"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
REFUSED = "telegram webhook body refused"


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """Every log record of the test, as parsed JSON lines (ours and the libraries')."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    lines: list[dict[str, Any]] = []

    class _Lines(list[dict[str, Any]]):
        def __iter__(self) -> Iterator[dict[str, Any]]:
            self.clear()
            self.extend(json.loads(line) for line in stream.getvalue().splitlines() if line)
            return super().__iter__()

    lines = _Lines()
    yield lines
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    structlog.reset_defaults()


def webhook_settings(runtime: Runtime, **overrides: Any) -> Runtime:
    settings = tg_settings(public_base_url=PUBLIC, telegram_webhook_secret=SECRET, **overrides)
    return dataclasses.replace(runtime, settings=settings)


@pytest.fixture
def session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def webhook_app(runtime: Runtime, session: RecordingSession) -> web.Application:
    app = web.Application()
    install(app, webhook_settings(runtime), bot=make_bot(session))
    return app


def update_json(tg: TelegramChat, text: str = "/start") -> dict[str, Any]:
    update = tg.update(message=tg.message(text=text))
    body: dict[str, Any] = update.model_dump(mode="json", exclude_none=True, by_alias=True)
    return body


def _good(tg: TelegramChat) -> dict[str, Any]:
    return update_json(tg, "/start")


def _with(tg: TelegramChat, **fields: Any) -> bytes:
    return json.dumps({**_good(tg), **fields}).encode()


BAD_BODIES: dict[str, Any] = {
    "bad json": lambda tg: b'{"update_id": 1, "message": ',
    "empty": lambda tg: b"",
    "whitespace": lambda tg: b"  \n",
    "not utf-8": lambda tg: b'{"update_id": 1, "x": "\xff\xfe"}',
    "form-encoded": lambda tg: b"update_id=1&message=hello",
    "a list": lambda tg: b"[1, 2, 3]",
    "a string": lambda tg: b'"update"',
    "null": lambda tg: b"null",
    "nested arrays": lambda tg: b"[" * 10_000 + b"]" * 10_000,
    "nested objects": lambda tg: b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "nested in an update": lambda tg: _with(
        tg, message={**_good(tg)["message"], "x": json.loads("[" * 100 + "]" * 100)}
    ),
    "update_id a word": lambda tg: _with(tg, update_id="abc"),
    "message a number": lambda tg: _with(tg, message=5),
    "text a list": lambda tg: _with(tg, message={**_good(tg)["message"], "text": ["/start"]}),
    "chat missing": lambda tg: _with(
        tg, message={k: v for k, v in _good(tg)["message"].items() if k != "chat"}
    ),
    "no update_id": lambda tg: json.dumps({"message": _good(tg)["message"]}).encode(),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", sorted(BAD_BODIES))
async def test_a_malformed_body_is_refused_with_400_one_warning_and_nothing_processed(  # noqa: PLR0917
    aiohttp_client: AiohttpClient,
    webhook_app: web.Application,
    session: RecordingSession,
    tg: TelegramChat,
    log_lines: list[dict[str, Any]],
    name: str,
) -> None:
    client = await aiohttp_client(webhook_app)
    body: bytes = BAD_BODIES[name](tg)

    response = await client.post(
        WEBHOOK_PATH,
        data=body,
        headers={HEADER: SECRET, "Content-Type": "application/json"},
    )

    assert response.status == 400
    await asyncio.sleep(0.05)
    gc.collect()  # a task that failed unobserved would be reported now
    await asyncio.sleep(0)
    assert session.of(SendMessage) == []
    assert await tg.runtime.engine.store.load("telegram", str(tg.user_id)) is None
    lines = list(log_lines)
    assert [line["event"] for line in lines if line["level"] == "warning"] == [REFUSED]
    assert not [line for line in lines if line["level"] in ("error", "critical")]
    assert "never retrieved" not in json.dumps(lines)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_form_encoded_post_is_refused(
    aiohttp_client: AiohttpClient,
    webhook_app: web.Application,
    session: RecordingSession,
    tg: TelegramChat,
) -> None:
    client = await aiohttp_client(webhook_app)

    response = await client.post(WEBHOOK_PATH, data={"update_id": "1"}, headers={HEADER: SECRET})

    assert response.status == 400
    await asyncio.sleep(0.05)
    assert session.of(SendMessage) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_good_update_is_still_processed(
    aiohttp_client: AiohttpClient,
    webhook_app: web.Application,
    session: RecordingSession,
    tg: TelegramChat,
) -> None:
    client = await aiohttp_client(webhook_app)

    response = await client.post(WEBHOOK_PATH, json=_good(tg), headers={HEADER: SECRET})

    assert response.status == 200
    [reply] = await session.wait_for(SendMessage)
    assert reply.chat_id == tg.user_id


async def test_control_characters_in_text_are_removed_at_the_boundary(
    tg: TelegramChat, world: World
) -> None:
    await tg.start()
    await tg.tap("signin")
    assert await tg.state() == "signin.iin"
    iin = world.alice.iin

    await tg.send_text("\x00\u202e" + iin[:6] + "\x07\u2066" + iin[6:] + "\x9b")

    # The engine saw the ИИН itself: the code is on its way.
    assert await tg.state() == "signin.code"


# --- Redis down, through the webhook ---------------------------------------------------------


async def settled() -> None:
    """Wait (bounded) until the updates handed to the background are handled to the end."""
    async with asyncio.timeout(30):
        while pending := [
            t for t in asyncio.all_tasks() if t.get_name() == "telegram-update" and not t.done()
        ]:
            await asyncio.wait(pending)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_an_update_is_answered_with_the_apology_while_redis_is_down(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    own_redis: RedisServer,
    session: RecordingSession,
    tg: TelegramChat,
) -> None:
    redis = build_redis(own_redis.url)
    runtime = build_runtime(
        tg_settings(redis_url=own_redis.url),
        backend,
        redis,
        sender=RecordingSender(),
        translator=TRANSLATOR,
    )
    app = web.Application()
    install(app, webhook_settings(runtime, redis_url=own_redis.url), bot=make_bot(session))
    app.on_cleanup.append(lambda _app: redis.aclose())
    client = await aiohttp_client(app)
    first = await client.post(WEBHOOK_PATH, json=_good(tg), headers={HEADER: SECRET})
    assert first.status == 200
    await settled()
    [welcome] = session.of(SendMessage)

    own_redis.stop()
    during = await client.post(WEBHOOK_PATH, json=_good(tg), headers={HEADER: SECRET})
    assert during.status == 200
    await settled()
    [apology] = session.of(SendMessage)[1:]
    assert apology.text == TRANSLATOR.render(FAILURE, "kk")
    assert "1414" in apology.text

    own_redis.start()
    after = await client.post(WEBHOOK_PATH, json=_good(tg), headers={HEADER: SECRET})
    assert after.status == 200
    await settled()
    [menu] = session.of(SendMessage)[2:]
    assert menu.text == welcome.text
    assert menu.reply_markup is not None

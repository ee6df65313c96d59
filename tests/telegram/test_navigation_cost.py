"""Issue 16: a tap that reads nothing from the register runs no SQL (the sign-in session
brings the patient's language and the phone check, otp/sessions.py), and yet a language
chosen or a phone changed on another process shows at the next tap. Through the production
dispatcher; statements counted as in tests/telegram/test_event_cost.py."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from backend.bootstrap import Backend
from backend.services.importer import import_path
from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from bot.telegram.setup import build_dispatcher
from dialogs.engine.text import T
from tests.backend.world import World
from tests.dialogs.harness import PEPPER, TRANSLATOR, RecordingSender
from tests.telegram.harness import TelegramChat, make_bot, sign_in, tg_settings
from tests.telegram.test_event_cost import counted

MAIN_MENU = T("Main menu")


def _shown_in(tg: TelegramChat, language: str) -> bool:
    return tg.labels.get("nav.menu") == TRANSLATOR.render(MAIN_MENU, language)


async def test_navigation_taps_run_no_sql(
    tg: TelegramChat, sms: RecordingSender, world: World, backend: Backend
) -> None:
    await sign_in(tg, sms.last_code, world.alice.iin)

    with counted(backend) as statements:  # (the main menu reads the children, issue 14)
        await tg.tap("nav.lang")
        await tg.send_text("/help")
        await tg.send_text("/language")
        await tg.send_text("/help")

    assert await tg.state() == "help"
    assert statements == []


async def test_a_chosen_language_shows_at_the_next_tap_without_sql(
    tg: TelegramChat, sms: RecordingSender, world: World, backend: Backend
) -> None:
    await sign_in(tg, sms.last_code, world.alice.iin)
    await tg.tap("nav.lang")
    await tg.tap("lang.en")  # written to the register and announced

    with counted(backend) as statements:
        await tg.send_text("/help")

    assert _shown_in(tg, "en")
    assert statements == []


def _process(backend: Backend, sms: RecordingSender, redis: Redis, prefix: str) -> Runtime:
    """One serving process: its own services, engine and stores on the shared Redis."""
    settings = tg_settings(otp_pepper=PEPPER)
    return build_runtime(
        settings, backend, redis, sender=sms, translator=TRANSLATOR, key_prefix=prefix
    )


def _chat(runtime: Runtime, prefix: str, first_update: int) -> TelegramChat:
    return TelegramChat(
        dispatcher=build_dispatcher(runtime, key_prefix=prefix),
        bot=make_bot(),
        runtime=runtime,
        update_ids=itertools.count(first_update),
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.redis
async def test_changes_on_one_process_show_on_the_other(  # noqa: PLR0917 - fixtures
    backend: Backend,
    world: World,
    sms: RecordingSender,
    redis_client: Redis,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    one = _chat(_process(backend, sms, redis_client, redis_prefix), redis_prefix, 1)
    two = _chat(_process(backend, sms, redis_client, redis_prefix), redis_prefix, 10_000)
    await sign_in(one, sms.last_code, world.alice.iin)
    await two.send_text("/menu")
    assert "book" in two.options  # signed in on process two too

    with counted(backend) as statements:
        await two.tap("nav.lang")
    assert statements == []  # the card process one wrote at sign-in vouches here too

    await two.tap("lang.ru")  # process two writes the language and announces it
    with counted(backend) as statements:
        await one.send_text("/help")
    assert _shown_in(one, "ru")
    assert statements == []

    # The register gets another phone for Alice (an import, on whichever process).
    folder = tmp_path / "phones"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        f"iin,surname,given_name,phone\n{world.alice.iin},Сейтқали,Әлия,+77770000001\n",
        encoding="utf-8",
    )
    await import_path(backend, folder)

    for process in (one, two):  # the session ended: the signed-out menu, on both
        await process.send_text("/menu")
        assert "signin" in process.options
        assert "book" not in process.options


# Its own Redis database: `dariger import` writes under the production key prefix.
CLI_REDIS_URL = "redis://127.0.0.1:6379/12"
DARIGER = Path(sys.executable).parent / "dariger"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.redis
async def test_a_phone_changed_by_dariger_import_ends_the_sessions_at_once(
    backend: Backend, world: World, sms: RecordingSender, database_url: str, tmp_path: Path
) -> None:
    """`dariger import` is a process of its own: the new phone it writes reaches the serving
    processes' sessions through Redis at once, not when the session's card expires (15 min)."""
    redis = Redis.from_url(CLI_REDIS_URL)
    try:
        await redis.flushdb()
        chat = _chat(_process(backend, sms, redis, "dariger:"), "dariger:", 1)
        await sign_in(chat, sms.last_code, world.alice.iin)
        await chat.send_text("/menu")
        assert "book" in chat.options

        folder = tmp_path / "phones"
        folder.mkdir()
        (folder / "patients.csv").write_text(
            f"iin,surname,given_name,phone\n{world.alice.iin},Сейтқали,Әлия,+77770000001\n",
            encoding="utf-8",
        )
        settings_env = {name.upper() for name in Settings.model_fields}
        env = {k: v for k, v in os.environ.items() if k not in settings_env}
        env |= {"DATABASE_URL": database_url, "REDIS_URL": CLI_REDIS_URL, "OTP_PEPPER": PEPPER}
        done = await asyncio.create_subprocess_exec(
            str(DARIGER), "import", str(folder), env=env, cwd=tmp_path
        )
        assert await asyncio.wait_for(done.wait(), 60) == 0

        await chat.send_text("/menu")  # the session ended: the signed-out menu
        assert "signin" in chat.options
        assert "book" not in chat.options
    finally:
        await redis.flushdb()
        await redis.aclose()

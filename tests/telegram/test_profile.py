"""Issue 15, "Telegram conventions": the command menu, the description and the short
description are set at start-up in kk, ru and en, and only when Telegram has something else."""

from __future__ import annotations

import dataclasses

import pytest
from aiogram.methods import SetMyCommands, SetMyDescription, SetMyShortDescription
from aiohttp import web
from pytest_aiohttp import AiohttpClient

from bot.i18n import Translator
from bot.runtime import Runtime
from bot.telegram import install
from bot.telegram.setup import set_bot_profile
from tests.telegram.harness import RecordingSession, make_bot, tg_settings

COMMANDS = ["start", "menu", "help", "language", "operator"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_start_up_sets_commands_and_descriptions_per_language(
    aiohttp_client: AiohttpClient, runtime: Runtime
) -> None:
    session = RecordingSession()
    app = web.Application()
    settings = tg_settings(public_base_url="https://dariger.example.kz/")
    install(app, dataclasses.replace(runtime, settings=settings), bot=make_bot(session))
    await aiohttp_client(app)

    by_code = {c.language_code or "": c for c in session.of(SetMyCommands)}
    assert set(by_code) == {"kk", "ru", "en", ""}
    for command in by_code.values():
        assert [c.command for c in command.commands] == COMMANDS
    menu = {code: by_code[code].commands[1].description for code in by_code}
    assert menu["ru"] == "Главное меню" and menu["en"] == "Main menu"
    assert menu["kk"] != menu["en"] and menu[""] == menu["kk"]  # others read Kazakh

    descriptions = {d.language_code or "": d.description for d in session.of(SetMyDescription)}
    shorts = {
        d.language_code or "": d.short_description for d in session.of(SetMyShortDescription)
    }
    assert set(descriptions) == set(shorts) == {"kk", "ru", "en", ""}
    for code in ("kk", "ru", "en"):
        for text in (descriptions[code], shorts[code]):
            assert text and "103" in text and "1414" in text
        assert len(descriptions[code] or "") <= 512 and len(shorts[code] or "") <= 120
    assert descriptions["ru"] != descriptions["en"] != descriptions["kk"]
    assert "бесплат" in (descriptions["ru"] or "").lower()


async def test_nothing_is_set_again_when_telegram_already_has_it() -> None:
    session = RecordingSession()
    bot = make_bot(session)
    translator = Translator()
    assert await set_bot_profile(bot, translator) == 12
    before = len(session.calls)

    assert await set_bot_profile(bot, translator) == 0
    assert session.calls[before:] == []

    session.profile.pop(("description", "ru"))  # changed elsewhere: only that is set again
    assert await set_bot_profile(bot, translator) == 1
    [again] = session.of(SetMyDescription, since=before)
    assert again.language_code == "ru"

"""The 1414 desk end to end in a real headless browser (issue 12): Debian's Chromium driven by
Playwright against the production app on a free 127.0.0.1 port, on PostgreSQL.

A patient asks for an operator on Telegram (updates fed through the production dispatcher)
and another by SMS (signed Twilio webhooks to the same app). An operator signs in, sees both
appear in the queue with their context, claims one chat then the other, replies (the reply
reaches the Telegram chat / the SMS outbox, prefixed), sees the patient's answer appear live
(no reload), hands the chat back, and the patient's next message is answered by the bot.

The app runs with Telegram off (no network in tests): the test's recording bot is the relay's
Telegram channel, as in tests/desk/test_telegram.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
from aiogram.methods import SendMessage
from playwright.async_api import BrowserContext, Page, expect
from pytest_aiohttp import AiohttpClient, AiohttpServer

from backend.bootstrap import Backend
from backend.services import desk, staff
from bot.app import RUNTIME_KEY, SLOT_TOP_UP_KEY, create_app
from bot.desk.channel import DESK_KEY
from bot.desk.relay import PatientChannel
from bot.desk.telegram import TelegramPatient
from bot.operator.desk_pages import DESK_POLL_KEY
from bot.operator.web import HEARTBEAT_KEY
from bot.sms.channel import SMS_WORKER_KEY
from bot.sms.segments import count_segments
from tests.backend.world import build_world
from tests.console.conftest import PASSWORD, console_settings
from tests.console.test_browser import CHROMIUM, browser
from tests.sms.harness import GatewaySender, SmsPhone
from tests.telegram.harness import TelegramChat, make_chat, plain

__all__ = ["browser"]  # the Chromium fixture of tests/console/test_browser.py

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no {CHROMIUM}: run scripts/ensure-browser.sh"
    ),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

LIVE = 10_000  # ms: how long the page may take to show what the server streams


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


def telegram_texts(tg: TelegramChat, since: int = 0) -> list[str]:
    return [plain(c.text) for c in tg.session.calls[since:] if isinstance(c, SendMessage)]


@dataclass
class Scene:
    page: Page
    base: str
    tg: TelegramChat
    sms: SmsPhone
    backend: Backend
    shots: Path
    tg_chat: desk.DeskChat | None = None
    sms_chat: desk.DeskChat | None = None


async def sms_outbox(sms: SmsPhone, text: str) -> None:
    async def arrived() -> bool:
        await sms.channel.worker.drain()
        return text in sms.outbox_texts()

    await eventually(arrived)


async def test_an_operator_takes_a_telegram_and_an_sms_chat_and_hands_them_back(
    aiohttp_server: AiohttpServer,  # first: the server stops after the browser closed
    aiohttp_client: AiohttpClient,
    browser: BrowserContext,
    backend: Backend,
    tmp_path: Path,
) -> None:
    world = await build_world(backend)
    gateway = GatewaySender()
    app = create_app(console_settings(), backend, sender=gateway)
    app[SMS_WORKER_KEY] = False  # the test drains the SMS outbox itself
    app[SLOT_TOP_UP_KEY] = False
    app[DESK_POLL_KEY] = 1.0  # the live feed is what makes it fast; the poll is the back-up
    app[HEARTBEAT_KEY] = 1.0
    runtime = app[RUNTIME_KEY]
    tg = make_chat(runtime, language_code="en")
    the_desk = app[DESK_KEY]
    cast(dict[str, PatientChannel], the_desk.relay.channels)["telegram"] = TelegramPatient(
        tg.bot, runtime.translator
    )
    server = await aiohttp_server(app, host="127.0.0.1")
    base = str(server.make_url("")).rstrip("/")
    assert world.alice.phone is not None
    sms = SmsPhone(await aiohttp_client(server), app, gateway, world.alice.phone)

    await staff.add_account(
        backend.uow(),
        "anna",
        role=staff.Role.OPERATOR,
        password=PASSWORD,
        now=backend.clock.now(),
        display_name="Anna Operator",
        must_change_password=False,
    )
    page = await browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)

    # The operator signs in and opens the queue: nobody is waiting yet.
    await page.goto(f"{base}/operator/login?lang=ru&next=/operator/desk")
    await page.fill("#login", "anna")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page).to_have_url(f"{base}/operator/desk")
    await expect(page.locator("#waiting-empty")).to_be_visible()

    scene = Scene(page, base, tg, sms, backend, tmp_path)
    await _two_patients_join(scene)
    await _telegram_chat(scene)
    await _sms_chat(scene)
    # No CSP violation, no script error, nothing missing (but the browser's own favicon.ico).
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    assert [url for url in missing if not url.endswith("/favicon.ico")] == []
    await page.close()


async def _two_patients_join(scene: Scene) -> None:
    """Two patients ask for an operator; both appear in the queue live, with their context."""
    page, tg, sms, backend = scene.page, scene.tg, scene.sms, scene.backend
    await tg.start()
    await tg.tap("help")
    await tg.tap("hours")
    await tg.tap("nav.op")
    await tg.tap("desk.join")
    assert await tg.state() == "operator.queued"
    await sms.send("Hello")
    await sms.send("РУС")
    await sms.send("OPERATOR")
    await sms.choose("desk.join")
    assert await sms.screen() == "operator.queued"
    await sms.send("Нужна справка 027")  # waiting: stored for the operator
    scene.tg_chat = tg_chat = await desk.open_chat(backend.uow(), "telegram", str(tg.user_id))
    scene.sms_chat = sms_chat = await desk.open_chat(backend.uow(), "sms", sms.phone)
    assert tg_chat is not None and sms_chat is not None
    waiting = page.locator("#waiting tbody tr")
    await expect(waiting).to_have_count(2, timeout=LIVE)
    tg_row = page.locator(f'#waiting tr[data-chat="{tg_chat.id}"]')
    sms_row = page.locator(f'#waiting tr[data-chat="{sms_chat.id}"]')
    await expect(tg_row).to_contain_text("Telegram")
    await expect(tg_row).to_contain_text("Английский")
    await expect(tg_row).to_contain_text("help.hours")
    await expect(sms_row).to_contain_text("SMS")
    await expect(sms_row).to_contain_text("Русский")
    await expect(sms_row).to_contain_text("Запрос оператора")
    await page.screenshot(path=str(scene.shots / "desk-queue.png"), full_page=True)


async def _telegram_chat(scene: Scene) -> None:
    page, base, tg, backend = scene.page, scene.base, scene.tg, scene.backend
    assert scene.tg_chat is not None
    await page.locator(f'#waiting tr[data-chat="{scene.tg_chat.id}"] button.claim').click()
    await expect(page).to_have_url(f"{base}/operator/desk/chat/{scene.tg_chat.id}")
    await expect(page.locator("#ctx-channel")).to_have_text("Telegram")
    await expect(page.locator("#ctx-step")).to_have_text("help.hours")
    await expect(page.locator("#segments-warning")).to_be_hidden()
    # A quick reply in the patient's language (English), completed by the operator.
    await page.locator(".quick-reply").first.click()
    await expect(page.locator("#reply")).to_have_value(
        "Hello! This is the 1414 contact centre. How can I help you?"
    )
    mark = len(tg.session.calls)
    await page.click("#send")
    await expect(page.locator("#transcript li.operator")).to_have_count(1)
    await eventually(
        lambda: _true(
            "1414 operator: Hello! This is the 1414 contact centre. How can I help you?"
            in telegram_texts(tg, mark)
        )
    )
    # The patient answers: it appears live, without a reload.
    await page.evaluate("window.sameDocument = true")
    assert await tg.send_text("I need my certificate 027") == []  # the bot stays silent
    patient = page.locator("#transcript li.patient")
    await expect(patient.last).to_contain_text("I need my certificate 027", timeout=LIVE)
    assert await page.evaluate("window.sameDocument") is True
    # Hand back: the patient is back where they were, and the bot answers the next message.
    await page.click("#hand-back")
    await expect(page).to_have_url(f"{base}/operator/desk?done=handed_back")
    await expect(page.locator("#done")).to_be_visible()
    await eventually(lambda: _true(any("handed you back" in t for t in telegram_texts(tg, mark))))
    assert await tg.state() == "help.hours"
    await tg.send_text("/menu")
    assert await tg.state() == "menu"
    assert await desk.open_chat(backend.uow(), "telegram", str(tg.user_id)) is None


async def _sms_chat(scene: Scene) -> None:
    page, base, sms = scene.page, scene.base, scene.sms
    assert scene.sms_chat is not None
    await expect(page.locator("#waiting tbody tr")).to_have_count(1)
    await page.locator(f'#waiting tr[data-chat="{scene.sms_chat.id}"] button.claim').click()
    await expect(page).to_have_url(f"{base}/operator/desk/chat/{scene.sms_chat.id}")
    await expect(page.locator("#ctx-channel")).to_have_text("SMS")
    await expect(page.locator("#ctx-phone")).to_contain_text("***")
    await expect(page.locator("#ctx-phone")).not_to_contain_text(sms.phone)
    await expect(page.locator("#transcript li.patient")).to_contain_text("Нужна справка 027")
    # The live segment counter counts what the patient will get, prefix included, exactly as
    # the SMS channel does; over 2 segments a warning shows.
    box = page.locator("#reply")
    counter = page.locator("#segments")
    for typed in ("Справка готова.", "Справка готова, " * 12, "Ready €" * 30, "Ok 👍" * 40):
        await box.fill(typed)
        expected = count_segments(f"Оператор 1414: {typed.strip()}")
        await expect(counter).to_have_attribute("data-segments", str(expected.segments))
        await expect(counter).to_have_attribute("data-encoding", expected.encoding.value)
        warning = page.locator("#segments-warning")
        if expected.segments > 2:
            await expect(warning).to_be_visible()
        else:
            await expect(warning).to_be_hidden()
    await page.screenshot(path=str(scene.shots / "desk-chat-sms.png"), full_page=True)
    print("screenshots:", scene.shots)  # noqa: T201
    await box.fill("Здравствуйте! Справка 027 готова.")
    await page.click("#send")
    await sms_outbox(sms, "Оператор 1414: Здравствуйте! Справка 027 готова.")
    await page.evaluate("window.sameDocument = true")
    assert await sms.send("Спасибо! Куда подойти?") == ""  # with an operator: no bot reply
    await expect(page.locator("#transcript li.patient").last).to_contain_text(
        "Спасибо! Куда подойти?", timeout=LIVE
    )
    assert await page.evaluate("window.sameDocument") is True
    await page.click("#hand-back")
    await expect(page).to_have_url(f"{base}/operator/desk?done=handed_back")
    await expect(page.locator("#waiting-empty")).to_be_visible()
    await expect(page.locator("#mine-empty")).to_be_visible()

    async def handed_back() -> bool:
        await sms.channel.worker.drain()
        return any("вернул вас к боту" in t for t in sms.outbox_texts())

    await eventually(handed_back)
    await sms.send("HELP")
    assert await sms.screen() == "help"  # the bot answers again


async def _true(value: bool) -> bool:
    return value

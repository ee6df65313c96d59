"""End to end in a real headless browser: Debian's Chromium (/usr/bin/chromium, installed by
scripts/ensure-browser.sh) driven by Playwright, against the real app on a free 127.0.0.1 port.
Playwright never downloads a browser here (`executable_path`, no `playwright install`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect
from pytest_aiohttp import AiohttpServer

from backend.bootstrap import Backend
from backend.domain.statuses import ApplicationStatus
from backend.ports import FixedClock
from backend.services import applications, staff
from bot.app import SLOT_TOP_UP_KEY, create_app
from bot.operator.clinic_pages import POLL_KEY
from bot.operator.web import HEARTBEAT_KEY
from bot.sms.channel import SMS_WORKER_KEY
from tests.backend.world import World, build_world
from tests.console.conftest import PASSWORD, ConsoleWorld, console_settings

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no {CHROMIUM}: run scripts/ensure-browser.sh"
)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a fresh profile (its --user-data-dir) in the test's tmp dir."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            chromium_sandbox=False,
        )
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def site(
    aiohttp_server: AiohttpServer, backend: Backend, clock: FixedClock
) -> tuple[str, World]:
    """The real app (create_app) served on a free 127.0.0.1 port; its base URL."""
    world = await build_world(backend)
    app = create_app(console_settings(), backend)
    app[SMS_WORKER_KEY] = False
    app[SLOT_TOP_UP_KEY] = False
    app[POLL_KEY] = 0.2
    app[HEARTBEAT_KEY] = 1.0
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("")).rstrip("/"), world


async def sign_in(page: Page, base: str, login: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/operator/login?lang=ru")
    await page.fill("#login", login)
    await page.fill("#password", password)
    await page.click("#sign-in")


async def test_clinic_staff_work_an_application_in_the_browser(
    browser: BrowserContext,
    site: tuple[str, World],
    backend: Backend,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    base, world = site
    helper = ConsoleWorld.__new__(ConsoleWorld)
    helper.backend, helper.clock, helper.world = backend, clock, world
    number = await helper.certificate()
    theirs = await helper.certificate(world.dave.id)
    await staff.add_account(
        backend.uow(),
        "nurse",
        role=staff.Role.CLINIC_STAFF,
        password=PASSWORD,
        now=clock.now(),
        display_name="Nurse Aigerim",
        clinic_code="A",
        must_change_password=False,
    )
    page = await browser.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    # A wrong password: the message, the login kept.
    await sign_in(page, base, "nurse", "not the password 123")
    await expect(page.locator("#error")).to_contain_text("Неверный логин или пароль")
    await expect(page.locator("#login")).to_have_value("nurse")

    # The queue; a new application appears live (server-sent events, no reload).
    await sign_in(page, base, "nurse")
    await expect(page).to_have_url(f"{base}/operator/clinic")
    await expect(page.locator("#queue")).to_contain_text(number)
    await expect(page.locator("#queue")).not_to_contain_text(theirs)
    await expect(page.locator('#live[data-live="on"]')).to_be_attached()  # the stream is up
    fresh = await helper.home_visit()
    await expect(page.locator(f'#queue tr.fresh[data-number="{fresh}"]')).to_be_visible(
        timeout=20_000
    )
    await page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)
    print("screenshot:", tmp_path / "queue.png")  # noqa: T201

    # The card, take into work, complete: the patient's application changes.
    await page.click(f'a[href="/operator/clinic/a/{number}"]')
    await expect(page.locator("h1")).to_contain_text(number)
    await page.click("#take")
    await expect(page.locator("#done")).to_have_text("Взята в работу.")
    await expect(page.locator("#status")).to_have_attribute("data-status", "in_progress")
    await page.click("#complete")
    await expect(page.locator("#status")).to_have_attribute("data-status", "completed")
    await page.screenshot(path=str(tmp_path / "card.png"), full_page=True)
    details = await applications.application_details(backend.uow(), world.alice.id or 0, number)
    assert details.summary.status is ApplicationStatus.COMPLETED

    # Another clinic's card: not found.
    response = await page.goto(f"{base}/operator/clinic/a/{theirs}")
    assert response is not None
    assert response.status == 404
    await expect(page.locator("h1")).to_have_text("Такой страницы или заявки нет.")

    # Sign out: the pages are closed again.
    await page.goto(f"{base}/operator/clinic")
    await page.click("#sign-out")
    await expect(page).to_have_url(f"{base}/operator/login?out=1")
    await page.goto(f"{base}/operator/clinic")
    await expect(page).to_have_url(f"{base}/operator/login?next=/operator/clinic")
    # No CSP violation and no script error (the 401/404 answers above are logged as
    # "Failed to load resource", as intended).
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


async def test_an_operator_signs_in_sees_the_failed_messages_and_is_locked_out(
    browser: BrowserContext, site: tuple[str, World], backend: Backend, clock: FixedClock
) -> None:
    base, _world = site
    await staff.add_account(
        backend.uow(),
        "anna",
        role=staff.Role.OPERATOR,
        password=PASSWORD,
        now=clock.now(),
        display_name="Anna",
        must_change_password=False,
    )
    page = await browser.new_page()
    await sign_in(page, base, "anna")
    await expect(page).to_have_url(f"{base}/operator/desk")  # an operator starts at the queue
    await page.goto(f"{base}/operator/sms")
    await expect(page.locator("h1").first).to_have_text("Недоставленные SMS")
    await page.click('a[href$="lang=kk"]')
    await expect(page.locator("html")).to_have_attribute("lang", "kk")
    await page.click("#sign-out")

    for _ in range(5):
        await sign_in(page, base, "anna", "a wrong password 1")
    await sign_in(page, base, "anna")  # locked: the right password is refused too
    await expect(page.locator("#error")).to_be_visible()
    await expect(page).to_have_url(f"{base}/operator/login")

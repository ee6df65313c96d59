"""Signing in and out of the staff console, sessions, lock-out, CSRF and the headers."""

from __future__ import annotations

import datetime as dt

from pytest_aiohttp import AiohttpClient
from sqlalchemy import select
from structlog.testing import capture_logs

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.services import staff
from bot.app import SLOT_TOP_UP_KEY, create_app
from bot.sms.channel import SMS_WORKER_KEY
from tests.console.conftest import PASSWORD, ConsoleWorld, csrf_of
from tests.sms.harness import sms_settings

WRONG_RU = "Неверный логин или пароль"


async def test_no_page_without_a_session_the_browser_is_sent_to_sign_in(
    console: ConsoleWorld,
) -> None:
    browser = await console.browser()
    for path in ("/operator/", "/operator/sms", "/operator/clinic", "/operator/audit"):
        response = await browser.get(path)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/operator/login?next="), path
    events = await browser.client.get(
        "/operator/clinic/events", headers={"Accept": "text/event-stream"}
    )
    assert events.status == 401


async def test_sign_in_opens_the_console_and_sign_out_ends_the_session(
    console: ConsoleWorld,
) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()

    response = await browser.sign_in("anna")
    assert response.status == 303
    cookie = response.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("dariger_staff="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Strict" in session_cookie
    page = await browser.page("/operator/sms")
    assert "Anna" in page

    out = await browser.post("/operator/logout", csrf_from="/operator/sms")
    assert out.status == 303
    assert (await browser.get("/operator/sms")).status == 303


async def test_the_session_cookie_is_secure_and_host_prefixed_by_default(
    console: ConsoleWorld, aiohttp_client: AiohttpClient, backend: Backend
) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    app = create_app(sms_settings(), backend)
    app[SMS_WORKER_KEY] = False
    app[SLOT_TOP_UP_KEY] = False
    client = await aiohttp_client(app)
    login_page = await client.get("/operator/login")
    nonce = csrf_of(await login_page.text())
    assert "Secure" in login_page.headers["Set-Cookie"]
    # The test client keeps Secure cookies off plain http, as a browser would: sent by hand.
    response = await client.post(
        "/operator/login",
        data={"login": "anna", "password": PASSWORD, "csrf": nonce},
        headers={"Cookie": f"dariger_console_login={nonce}"},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = next(
        c for c in response.headers.getall("Set-Cookie") if c.startswith("__Host-dariger_staff=")
    )
    assert "Secure" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie


async def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(
    console: ConsoleWorld,
) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()

    wrong = await browser.sign_in("anna", "not the password at all")
    unknown = await browser.sign_in("nobody", "not the password at all")

    assert wrong.status == unknown.status == 401
    wrong_text, unknown_text = await wrong.text(), await unknown.text()
    assert WRONG_RU in wrong_text
    assert WRONG_RU in unknown_text
    assert 'value="anna"' in wrong_text  # the login typed is kept
    assert (await browser.get("/operator/sms")).status == 303


async def test_repeated_failures_lock_the_account_with_an_escalating_wait(
    console: ConsoleWorld,
) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()
    for _ in range(5):
        assert (await browser.sign_in("anna", "wrong password 123")).status == 401

    # Locked: even the right password is refused, with the same answer.
    locked = await browser.sign_in("anna", PASSWORD)
    assert locked.status == 401
    assert WRONG_RU in await locked.text()

    console.clock.advance(dt.timedelta(minutes=1, seconds=1))
    assert (await browser.sign_in("anna", "wrong password 123")).status == 401  # 6th: 2 min
    console.clock.advance(dt.timedelta(minutes=1, seconds=30))
    assert (await browser.sign_in("anna", PASSWORD)).status == 401  # still locked
    console.clock.advance(dt.timedelta(minutes=1))
    assert (await browser.sign_in("anna", PASSWORD)).status == 303


async def test_sign_in_attempts_are_limited_per_client_address(console: ConsoleWorld) -> None:
    browser = await console.browser()
    statuses = [(await browser.sign_in(f"user{n}", "whatever 12345")).status for n in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


async def test_a_post_without_a_valid_csrf_token_is_refused(console: ConsoleWorld) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()
    await browser.sign_in("anna")

    for token in ("", "forged-token"):
        refused = await browser.post("/operator/logout", csrf=token)
        assert refused.status == 403
    # Still signed in: the forged sign-out did nothing.
    assert (await browser.get("/operator/sms")).status == 200


async def test_the_sign_in_form_needs_its_own_token(console: ConsoleWorld) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()
    response = await browser.client.post(
        "/operator/login",
        data={"login": "anna", "password": PASSWORD, "csrf": "made-up"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert (await browser.get("/operator/sms")).status == 303


async def test_an_idle_session_expires_and_so_does_a_long_one(console: ConsoleWorld) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()
    await browser.sign_in("anna")

    console.clock.advance(dt.timedelta(minutes=29))
    assert (await browser.get("/operator/sms")).status == 200
    console.clock.advance(dt.timedelta(minutes=31))
    expired = await browser.get("/operator/sms")
    assert expired.status == 303
    assert "expired=1" in expired.headers["Location"]

    await browser.sign_in("anna")
    for _ in range(30):  # busy all day (14.5 h), each request within the idle limit
        console.clock.advance(dt.timedelta(minutes=29))
        if (await browser.get("/operator/sms")).status != 200:
            break
    else:
        raise AssertionError("the session outlived its absolute expiry")


async def test_a_disabled_account_loses_its_session_at_once(console: ConsoleWorld) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()
    await browser.sign_in("anna")

    await staff.remove_account(console.backend.uow(), "anna", now=console.clock.now())

    assert (await browser.get("/operator/sms")).status == 303
    assert (await browser.sign_in("anna")).status == 401


async def test_a_password_set_by_an_administrator_must_be_changed_first(
    console: ConsoleWorld,
) -> None:
    await console.account("anna", staff.Role.OPERATOR, must_change=True)
    browser = await console.browser()
    await browser.sign_in("anna")

    response = await browser.get("/operator/sms")
    assert response.status == 303
    assert response.headers["Location"] == "/operator/password"
    new = "a brand new passphrase 42"
    short = await browser.post(
        "/operator/password",
        {"current": PASSWORD, "new": "short", "repeat": "short"},
        csrf_from="/operator/password",
    )
    assert short.status == 422
    changed = await browser.post(
        "/operator/password",
        {"current": PASSWORD, "new": new, "repeat": new},
        csrf_from="/operator/password",
    )
    assert changed.status == 303
    assert (await browser.get("/operator/sms")).status == 200
    other = await console.browser()
    assert (await other.sign_in("anna", new)).status == 303


async def test_every_answer_carries_the_security_headers(console: ConsoleWorld) -> None:
    await console.account("anna", staff.Role.OPERATOR)
    browser = await console.browser()
    await browser.sign_in("anna")
    for path in (
        "/operator/login",
        "/operator/sms",
        "/operator/static/console.css",
        "/operator/x",
    ):
        response = await browser.get(path)
        headers = response.headers
        assert headers["Cache-Control"] == "no-store", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp, path
    page = await browser.page("/operator/sms")
    assert "<script>" not in page
    assert "<style>" not in page
    assert ' style="' not in page


async def test_passwords_are_never_stored_or_logged_in_clear(console: ConsoleWorld) -> None:
    with capture_logs() as logs:
        await console.account("anna", staff.Role.OPERATOR)
        browser = await console.browser()
        await browser.sign_in("anna")
        await browser.sign_in("anna", "a wrong guess 12345")
    assert PASSWORD not in repr(logs)
    assert "a wrong guess" not in repr(logs)
    async with console.backend.uow() as uow:
        stored = (await uow.session.execute(select(orm.staff_accounts.c.password_hash))).scalar()
        tokens = (await uow.session.execute(select(orm.staff_sessions.c.id))).scalars().all()
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    cookie = browser.client.session.cookie_jar.filter_cookies(browser.client.make_url("/"))
    token = cookie["dariger_staff"].value
    assert token not in tokens  # only its hash is kept


async def test_the_token_opens_the_json_api_only(console: ConsoleWorld) -> None:
    bearer = {"Authorization": "Bearer operator-console-test-token-0123"}
    client = console.client
    ok = await client.get("/operator/sms", params={"format": "json"}, headers=bearer)
    assert ok.status == 200
    assert "messages" in await ok.json() or isinstance(await ok.json(), dict)
    for path in ("/operator/clinic", "/operator/audit", "/operator/"):
        assert (await client.get(path, headers=bearer)).status == 401, path
    wrong = {"Authorization": "Bearer operator-console-test-token-0124"}
    assert (await client.get("/operator/sms", headers=wrong)).status == 401

"""Who may open the failed-messages page: a signed-in operator (a session), or a script with
OPERATOR_TOKEN (the JSON API only)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from structlog.testing import capture_logs

from bot.cli import main
from bot.config import Settings
from tests.operator.conftest import BEARER, TOKEN, Console, StartConsole, basic

CHALLENGE = 'Bearer realm="Dariger 1414"'


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def from_env() -> Settings:
    return settings()


async def test_without_a_token_the_json_api_is_closed_and_sessions_still_work(
    start_console: StartConsole,
) -> None:
    console = await start_console(operator_token=None)

    refused = await console.get(headers=BEARER)
    signed_in = await console.get()

    assert refused.status == 401
    assert signed_in.status == 200


async def test_without_a_session_or_token_a_browser_is_sent_to_sign_in(
    start_console: StartConsole,
) -> None:
    console = await start_console(sign_in=False)

    response = await console.get()

    assert response.status == 303
    assert response.headers["Location"] == "/operator/login?next=/operator/sms"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer " + "x" * len(TOKEN),
        basic("operator", "wrong-password-0123456789")["Authorization"],
        basic(TOKEN, "")["Authorization"],  # the token as the user name is not the password
        "Basic " + base64.b64encode(TOKEN.encode()).decode(),  # no "user:" part
        "Basic not-base64!",
        f"Token {TOKEN}",
        TOKEN,
        "Bearer",
    ],
)
async def test_wrong_credentials_get_401(console: Console, authorization: str) -> None:
    # A request with credentials is judged by them alone, even from a signed-in browser.
    response = await console.get(headers={"Authorization": authorization})

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize(
    "headers",
    [BEARER, {"Authorization": f"bearer {TOKEN}"}, basic("anna", TOKEN), basic("", TOKEN)],
    ids=["bearer", "bearer-lowercase", "basic", "basic-no-user"],
)
async def test_the_token_opens_the_failed_messages_as_json(
    console: Console, headers: dict[str, str]
) -> None:
    response = await console.get(headers=headers)

    assert response.status == 200
    assert response.content_type == "application/json"


async def test_the_token_opens_nothing_else(console: Console) -> None:
    for path in ("/operator/", "/operator/clinic", "/operator/audit", "/operator/patients"):
        response = await console.get(path, headers=BEARER)
        assert response.status == 401, path


async def test_unknown_console_paths_ask_for_a_session_before_saying_not_found(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    signed_in = await console.get("/operator/patients")
    indexes = [await console.get(path) for path in ("/operator", "/operator/")]
    anonymous = await start_console(sign_in=False)
    redirected = await anonymous.get("/operator/patients")

    assert redirected.status == 303
    assert signed_in.status == 404
    assert signed_in.headers["Cache-Control"] == "no-store"
    for index in indexes:
        assert index.status == 303
        assert index.headers["Location"] == "/operator/desk"  # a desk role starts at the queue


async def test_every_console_answer_carries_the_security_headers(console: Console) -> None:
    answers = {
        "page": await console.get(),
        "json": await console.get(format="json"),
        "401": await console.get(headers={"Authorization": "Bearer nope"}),
        "400": await console.get(days="abc"),
    }

    for name, response in answers.items():
        headers = response.headers
        assert headers["Cache-Control"] == "no-store", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["Content-Security-Policy"].startswith("default-src 'none';"), name
        assert "unsafe-inline" not in headers["Content-Security-Policy"], name


async def test_the_page_has_no_inline_script_or_style(console: Console) -> None:
    response = await console.get()
    page = await response.text()

    assert "<style" not in page
    assert " style=" not in page  # an inline style attribute would be blocked
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/operator/static/console.js" defer>'
    ]
    assert '<link rel="stylesheet" href="/operator/static/console.css">' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


async def test_the_token_is_never_logged(start_console: StartConsole) -> None:
    with capture_logs() as logs:
        console = await start_console()
        await console.get(headers={"Authorization": f"Bearer {TOKEN}-wrong"})
        await console.get(headers=basic("anna", TOKEN))
        await console.get()

    refused = [entry for entry in logs if entry["event"] == "operator_auth_refused"]
    assert [entry["reason"] for entry in refused] == ["wrong"]
    assert TOKEN not in repr(logs)


# --- the setting -----------------------------------------------------------------------------


def test_a_short_token_is_refused_without_echoing_it() -> None:
    short = "only-15-chars-x"

    with pytest.raises(ValidationError) as refused:
        settings(operator_token=short)

    [error] = refused.value.errors()
    assert error["loc"] == ("operator_token",)
    assert "at least 16 characters" in error["msg"]
    assert short not in str(refused.value)


@pytest.mark.parametrize(
    "token", ["with a space in the middle", "tab\tinside-the-token-01", "кириллица-в-токене-0123"]
)
def test_a_token_that_a_header_cannot_carry_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="OPERATOR_TOKEN must be"):
        settings(operator_token=token)


def test_the_token_comes_from_the_environment_and_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPERATOR_TOKEN", TOKEN)

    settings = from_env()

    assert isinstance(settings.operator_token, SecretStr)
    assert settings.operator_token.get_secret_value() == TOKEN
    assert settings.operator_console_enabled
    assert TOKEN not in repr(settings) + str(settings) + settings.model_dump_json()


def test_an_empty_token_means_the_console_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_TOKEN", "")

    settings = from_env()

    assert settings.operator_token is None
    assert not settings.operator_console_enabled


def test_the_cli_names_a_bad_token_in_one_line_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("OPERATOR_TOKEN", "short-secret")

    code = main(["migrate"])

    err = capsys.readouterr().err
    assert code == 2
    assert "OPERATOR_TOKEN: OPERATOR_TOKEN must be at least 16 characters" in err
    assert "short-secret" not in err

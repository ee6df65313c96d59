"""The console speaks kk, ru or en, and lists the period asked for (1 to 90 days)."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.services import outbox
from backend.services.outbox import OutboxStatus
from tests.operator.conftest import Console, StartConsole

PHONE = "+77011234501"
HEADINGS = {
    "kk": ("Жеткізілмеген SMS", "Телефон", "Жіберу мәртебесі", "Жеткізу есебі", "Әрекет саны"),
    "ru": ("Недоставленные SMS", "Телефон", "Статус отправки", "Отчёт о доставке", "Попытки"),
    "en": ("Failed SMS", "Phone", "Sending status", "Delivery report", "Attempts"),
}
EMPTY = {
    "kk": "Бұл кезеңде жеткізілмеген SMS жоқ.",
    "ru": "За этот период недоставленных SMS нет.",
    "en": "No failed SMS in this period.",
}


async def fail_one(console: Console, phone: str = PHONE, body: str = "Напоминание") -> int:
    """A notification the worker gave up on, written and failed at the clock's time."""
    uow = console.backend.uow
    now = console.clock.now()
    message_id = await outbox.enqueue(uow(), to=phone, body=body, kind="notification", now=now)
    await outbox.mark_final(
        uow(), message_id, now=now, status=OutboxStatus.FAILED, error="twilio_http_400_code_21211"
    )
    return message_id


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_page_in_each_language(console: Console, language: str) -> None:
    empty = await console.page(lang=language)
    await fail_one(console)

    page = await console.page(lang=language)

    assert f'<html lang="{language}">' in page
    assert EMPTY[language] in empty
    for heading in HEADINGS[language]:
        assert heading in page
    for other in {"kk", "ru", "en"} - {language}:
        assert HEADINGS[other][0] not in page
        assert HEADINGS[other][2] not in page


@pytest.mark.parametrize(
    ("accept_language", "lang", "expected"),
    [
        (None, None, "ru"),  # the default
        ("en-US,en;q=0.9", None, "en"),
        ("de-DE, kk;q=0.5, ru;q=0.4", None, "kk"),
        ("ru;q=0.3, kk-KZ;q=0.8", None, "kk"),
        ("de, fr", None, "ru"),
        ("en", "kk", "kk"),  # ?lang= wins
        ("en", "de", "en"),  # a language we do not have is ignored
    ],
)
async def test_the_language_is_chosen_from_the_query_then_the_browser(
    console: Console, accept_language: str | None, lang: str | None, expected: str
) -> None:
    headers: dict[str, str] = {}
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    query = {"lang": lang} if lang is not None else {}

    page = await console.page(headers=headers, **query)

    assert f'<html lang="{expected}">' in page
    assert HEADINGS[expected][0] in page


async def test_the_sign_in_page_is_in_the_browsers_language(
    start_console: StartConsole,
) -> None:
    console = await start_console(sign_in=False)
    response = await console.get(headers={"Accept-Language": "kk"})

    assert response.status == 303
    page = await console.client.get(
        response.headers["Location"], headers={"Accept-Language": "kk"}
    )
    text = await page.text()
    assert '<html lang="kk">' in text
    assert "Кіру" in text


async def test_seven_days_by_default_and_the_period_asked_for(console: Console) -> None:
    await fail_one(console, "+77011234501")  # Monday 23.11 10:00
    console.clock.advance(dt.timedelta(days=10))  # now Thursday 03.12 10:00
    await console.sign_in()  # the session of 10 days ago has ended
    await fail_one(console, "+77011234502")

    default = await console.page()
    one_day = await console.page(days=1)
    nine_days = await console.page(days=9)
    ten_days = await console.page(days=10)
    ninety = await console.json(days=90)

    assert "+77011234502" in default and "+77011234501" not in default
    assert "Последние 7 дн., начало: 26.11.2026 10:00 (время Алматы)." in default
    assert "+77011234502" in one_day and "+77011234501" not in one_day
    assert "+77011234501" not in nine_days
    assert "+77011234501" in ten_days  # failed exactly 10 days ago
    assert [m["to"] for m in ninety["messages"]] == ["+77011234502", "+77011234501"]
    assert ninety["days"] == 90


@pytest.mark.parametrize("days", ["0", "91", "-1", "abc", "7.5", "1e1", "٣"])
async def test_a_bad_period_is_refused_clearly(console: Console, days: str) -> None:
    page = await console.get(days=days)
    as_json = await console.get(days=days, format="json")
    english = await console.get(days=days, lang="en")  # the choice sticks (a cookie): last

    assert page.status == english.status == as_json.status == 400
    assert await page.text() == "days: нужно целое число от 1 до 90."
    assert await english.text() == "days must be a whole number from 1 to 90."
    assert await as_json.json() == {"error": "days: нужно целое число от 1 до 90."}


async def test_a_long_list_is_cut_and_says_so(console: Console) -> None:
    for n in range(201):
        await fail_one(console, body=f"message {n}")

    data = await console.json()
    page = await console.page()

    assert data["count"] == 200
    assert data["truncated"] is True
    assert data["messages"][0]["text"] == "message 200"  # the latest first
    assert "Показаны только последние 200: выберите период короче." in page

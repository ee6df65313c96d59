"""The bot built from the settings: which Bot API server, and the webhook secret."""

from __future__ import annotations

from bot.telegram.setup import build_bot
from bot.telegram.webhook import webhook_secret
from tests.telegram.harness import tg_settings


async def test_telegram_api_base_points_the_bot_at_another_server() -> None:
    bot = build_bot(tg_settings(telegram_api_base="http://127.0.0.1:8081/"))
    try:
        assert bot.session.api.api_url(bot.token, "getMe") == (
            f"http://127.0.0.1:8081/bot{bot.token}/getMe"
        )
    finally:
        await bot.session.close()


async def test_the_default_bot_api_is_telegrams() -> None:
    bot = build_bot(tg_settings())
    try:
        assert bot.session.api.api_url(bot.token, "getMe").startswith("https://api.telegram.org/")
    finally:
        await bot.session.close()


def test_the_derived_webhook_secret_is_stable_per_token_and_valid_for_telegram() -> None:
    one = webhook_secret(tg_settings(telegram_bot_token="1:a"))

    assert one == webhook_secret(tg_settings(telegram_bot_token="1:a"))
    assert one != webhook_secret(tg_settings(telegram_bot_token="1:b"))
    assert webhook_secret(tg_settings(telegram_webhook_secret="given")) == "given"
    assert one.isalnum() and len(one) <= 256

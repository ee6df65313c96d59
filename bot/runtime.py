"""Everything the channels share at run time, built once from the settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from backend.bootstrap import Backend
from bot.config import Settings
from bot.i18n import Translator
from bot.logs import get_logger
from bot.wiring import build_engine, build_services, key_secret
from dialogs.engine.engine import Engine
from dialogs.services import Services
from otp import ConsoleSmsSender, SmsSender

log = get_logger("bot.runtime")


@dataclass
class Runtime:
    settings: Settings
    backend: Backend
    redis: Redis | None
    translator: Translator
    sender: SmsSender
    services: Services
    engine: Engine
    # Redis key names: the prefix, and the secret of the keyed hashes of identities (issue 9 §3).
    key_prefix: str = "dariger:"
    key_secret: bytes | None = None


def build_sender(settings: Settings) -> SmsSender:
    if settings.sms_sender == "twilio":
        from bot.sms.twilio_sender import TwilioSmsSender  # noqa: PLC0415 - only when configured

        token = settings.twilio_auth_token
        return TwilioSmsSender(
            settings.twilio_account_sid,
            token.get_secret_value() if token else "",
            messaging_service_sid=settings.twilio_messaging_service_sid or None,
            from_number=settings.twilio_from_number or None,
            status_callback_url=(
                f"{settings.public_base_url.rstrip('/')}/sms/twilio/status"
                if settings.public_base_url
                else None
            ),
        )
    return ConsoleSmsSender(settings.console_sms_path)


def otp_pepper(settings: Settings) -> str:
    """The server pepper for OTP HMACs: a secret from the environment. The embedded default
    (console SMS) may run without one: a random pepper per process, so codes die on restart."""
    if settings.otp_pepper is not None and settings.otp_pepper.get_secret_value():
        return settings.otp_pepper.get_secret_value()
    if settings.sms_sender != "console":
        raise ValueError("OTP_PEPPER must be set when real SMS are sent")
    log.warning("OTP_PEPPER is not set: using a random one for this process (development only)")
    return secrets.token_hex(32)


def build_runtime(
    settings: Settings,
    backend: Backend,
    redis: Redis | None,
    *,
    sender: SmsSender | None = None,
    translator: Translator | None = None,
    key_prefix: str = "dariger:",
) -> Runtime:
    translator = translator or Translator()
    sender = sender or build_sender(settings)
    pepper = otp_pepper(settings)
    secret = key_secret(pepper)
    services = build_services(
        backend,
        sender=sender,
        pepper=pepper,
        translator=translator,
        redis=redis,
        key_prefix=key_prefix,
    )
    return Runtime(
        settings=settings,
        backend=backend,
        redis=redis,
        translator=translator,
        sender=sender,
        services=services,
        engine=build_engine(services, redis=redis, key_prefix=key_prefix, secret=secret),
        key_prefix=key_prefix,
        key_secret=secret,
    )

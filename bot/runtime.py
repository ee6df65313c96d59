"""Everything the channels share at run time, built once from the settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend.bootstrap import Backend
from backend.services.holidays import years_without_kurban_ait
from bot.config import Settings
from bot.i18n import Translator
from bot.logs import get_logger
from bot.wiring import build_engine, build_services, key_secret
from dialogs.engine.engine import Engine
from dialogs.services import Services
from otp import ConsoleSmsSender, SmsSender

log = get_logger("bot.runtime")
KAZAKHSTAN = ZoneInfo("Asia/Almaty")  # one zone, UTC+5, since 2024-03-01


async def warn_unknown_kurban_ait(backend: Backend) -> list[int]:
    """At start-up: a warning when this year or the next has no date of Құрбан айт, a day off
    the `holidays` package only estimates (issue 10 part 5). Returns those years."""
    today = backend.clock.now().astimezone(KAZAKHSTAN).date()
    years = await years_without_kurban_ait(backend.uow(), today=today)
    if years:
        log.warning(
            "Kurban ait date unknown: clinics would stay open on it; add it as a calendar day"
            " (kind day_off, note 'Құрбан айт') with `dariger import`, see docs/import.md",
            years=years,
        )
    return years


# The Redis client rides out a Redis restart (issue 9 §2): an idle pooled connection is
# checked with a PING before use, and a command that meets a closed connection or a timeout is
# retried on a fresh one with a short jittered back-off (at most 0.1, 0.2, 0.25 s): a restart
# costs no request. While Redis is down, a command gives up after those retries (under a
# few seconds, connecting included), and the channel answers with its apology.
REDIS_HEALTH_CHECK_SECONDS = 10
REDIS_RETRIES = 3
REDIS_BACKOFF_BASE_SECONDS = 0.05
REDIS_BACKOFF_CAP_SECONDS = 0.25
REDIS_CONNECT_TIMEOUT_SECONDS = 2.0
REDIS_SOCKET_TIMEOUT_SECONDS = 5.0
# Connections to Redis per process, and how long a command waits for one when all are busy.
# redis-py's own pool (100 by default since redis-py 6) raises MaxConnectionsError at once when
# they are all in use: 500 SMS at once got 399 apologies (bench.sms_burst). This pool waits.
REDIS_MAX_CONNECTIONS = 100
REDIS_POOL_WAIT_SECONDS = 10.0


def build_redis(
    url: str,
    *,
    connect_timeout: float = REDIS_CONNECT_TIMEOUT_SECONDS,
    socket_timeout: float = REDIS_SOCKET_TIMEOUT_SECONDS,
    max_connections: int = REDIS_MAX_CONNECTIONS,
) -> Redis:
    """The app's Redis client for REDIS_URL, with health checks and retries; a command waits for
    a free connection when all `max_connections` are in use."""
    retry = Retry(
        ExponentialWithJitterBackoff(
            base=REDIS_BACKOFF_BASE_SECONDS, cap=REDIS_BACKOFF_CAP_SECONDS
        ),
        REDIS_RETRIES,
    )
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=REDIS_POOL_WAIT_SECONDS,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
        socket_keepalive=True,
        health_check_interval=REDIS_HEALTH_CHECK_SECONDS,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    client = Redis(connection_pool=pool)
    client.auto_close_connection_pool = True  # `aclose()` closes the pool, as from_url's does
    return client


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
            base_url=settings.twilio_api_base or None,
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

"""Settings: flat 12-factor environment variables (or a `.env` file), read once at start-up.

The composition root (`bot.cli`) builds one `Settings()` and passes it down; nothing reads the
environment at import time. Every default is the embedded one: SQLite, in-process state, the
console SMS sender and no Telegram token, so `make run` needs no accounts. `.env.example`
documents each variable.
"""

from __future__ import annotations

import logging
import re
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SQLITE_SCHEME = "sqlite+aiosqlite://"
POSTGRES_SCHEME = "postgresql+asyncpg://"
# Plain PostgreSQL URLs (as cloud providers hand them out) name no driver: use asyncpg.
_POSTGRES_ALIASES = ("postgresql://", "postgres://")
# The operator console's token: long enough that guessing it is hopeless, and plain printable
# ASCII without spaces, so it survives an `Authorization: Bearer` header and a browser's
# Basic login prompt unchanged.
OPERATOR_TOKEN_MIN_LENGTH = 16
_OPERATOR_TOKEN = re.compile(r"[!-~]+")
# The pepper of stored OTP hashes: the OTP service refuses a shorter one (otp/service.py).
OTP_PEPPER_MIN_BYTES = 16
# Telegram's own rules: a bot token is "<bot id>:<secret>"; a webhook secret is 1-256 of these.
_TELEGRAM_TOKEN = re.compile(r"[0-9]+:\S+")
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_HTTP_URL = re.compile(r"https?://[^\s/?#]+(/\S*)?")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class Settings(BaseSettings):
    # An empty variable (`OTP_PEPPER=` copied from .env.example) means "not set". A rejected
    # value is never echoed in the error (it may be a secret).
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_ignore_empty=True, hide_input_in_errors=True
    )

    # Storage and state.
    database_url: str = f"{SQLITE_SCHEME}/./var/dariger.db"
    redis_url: str = ""  # empty: conversation state and OTP counters live in the process
    migrate_on_start: bool = True

    # HTTP server (health checks and, later, the webhooks and operator console).
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_base_url: str = ""  # the URL Telegram and Twilio reach us at (webhooks)

    # Logs.
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"

    # Booking rules.
    max_future_appointments: int = Field(default=3, ge=1)

    # SMS.
    sms_sender: Literal["console", "twilio"] = "console"
    console_sms_path: str = "var/console-sms.jsonl"
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr | None = None
    twilio_messaging_service_sid: str = ""
    twilio_from_number: str = ""
    twilio_api_base: str = ""  # empty: https://api.twilio.com; else a proxy or a local stub

    # Electronic documents (issue 13). Production: the issuing key as a PKCS#12 file; empty: a
    # self-signed DEVELOPMENT key made in signing_dev_dir on first use (`dariger keys dev`).
    signing_p12_path: str = ""
    signing_p12_password: SecretStr | None = None
    signing_dev_dir: str = "var/keys"
    # SMS download links: HMAC-signed, for one patient, expiring (default 24 h).
    document_link_hours: int = Field(default=24, ge=1, le=24 * 7)
    document_link_secret: SecretStr | None = None
    verify_rate_per_minute: int = Field(default=30, ge=1)  # /verify and /d per client address

    # One-time passwords: the pepper for stored code hashes (secrets come only from the env).
    otp_pepper: SecretStr | None = None

    # Telegram: no token means the Telegram channel is off.
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base: str = ""  # empty: api.telegram.org; else a local Bot API server

    # The staff console (bot/operator): staff accounts sign in with a session. OPERATOR_TOKEN
    # only turns on the machine API (`GET /operator/sms` as JSON with the token); unset: 401.
    operator_token: SecretStr | None = None
    # Session cookies are `Secure` (and `__Host-` prefixed): false only for a plain-http
    # development server on 127.0.0.1 (start-up warns).
    console_cookie_secure: bool = True
    console_idle_minutes: int = Field(default=30, ge=5, le=480)
    console_session_hours: int = Field(default=12, ge=1, le=24)

    # The 1414 desk's timeouts, in minutes (issue 12; anchors §2.2 item 6): a long wait offers
    # the bot; an idle operator is warned, then the chat goes back to the queue; a patient who
    # does not answer the operator has the chat closed. The sweep runs every `desk_sweep_seconds`.
    desk_long_wait_minutes: int = Field(default=15, ge=1)
    desk_operator_idle_warn_minutes: int = Field(default=5, ge=1)
    desk_operator_idle_requeue_minutes: int = Field(default=10, ge=1)
    desk_patient_idle_close_minutes: int = Field(default=30, ge=1)
    desk_sweep_seconds: int = Field(default=30, ge=1)
    # Prometheus metrics (bot/metrics.py): no token means `/metrics` is off (404); with one,
    # scrapes send `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        url = value.strip()
        for alias in _POSTGRES_ALIASES:
            if url.startswith(alias):
                return POSTGRES_SCHEME + url[len(alias) :]
        if url.startswith((SQLITE_SCHEME, POSTGRES_SCHEME)):
            return url
        scheme = url.split("://", 1)[0] + "://" if "://" in url else repr(url[:20])
        # Only the scheme is echoed back: the rest of the URL may hold a password.
        msg = (
            f"DATABASE_URL must start with {SQLITE_SCHEME} or {POSTGRES_SCHEME} "
            f"(or postgresql:// / postgres://), not {scheme}"
        )
        raise ValueError(msg)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            msg = "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
            raise ValueError(msg)
        return level

    @field_validator("operator_token", "metrics_token")
    @classmethod
    def _operator_token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value()
        if len(token) < OPERATOR_TOKEN_MIN_LENGTH or not _OPERATOR_TOKEN.fullmatch(token):
            # Neither the value nor its length is echoed back.
            name = (info.field_name or "operator_token").upper()
            msg = (
                f"{name} must be at least {OPERATOR_TOKEN_MIN_LENGTH} characters of "
                "letters, digits and punctuation, without spaces "
                "(for example the output of `openssl rand -hex 24`)"
            )
            raise ValueError(msg)
        return value

    @field_validator("otp_pepper")
    @classmethod
    def _otp_pepper(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < OTP_PEPPER_MIN_BYTES:
            msg = (
                f"OTP_PEPPER must be at least {OTP_PEPPER_MIN_BYTES} bytes "
                "(for example the output of `openssl rand -hex 32`)"
            )
            raise ValueError(msg)
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TELEGRAM_TOKEN.fullmatch(value.get_secret_value()):
            msg = "TELEGRAM_BOT_TOKEN must look like 123456789:AA… (the token @BotFather gave)"
            raise ValueError(msg)
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TELEGRAM_SECRET.fullmatch(value.get_secret_value()):
            msg = (
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule)"
            )
            raise ValueError(msg)
        return value

    @field_validator("public_base_url", "telegram_api_base", "twilio_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        url = value.strip()
        if url and not _HTTP_URL.fullmatch(url):
            msg = "must be empty or an http(s) URL such as https://dariger.example.kz"
            raise ValueError(msg)
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        url = value.strip()
        if url and not url.startswith(_REDIS_SCHEMES):
            # Only the scheme is echoed back: the rest may hold a password.
            scheme = url.split("://", 1)[0] + "://" if "://" in url else repr(url[:10])
            msg = (
                "REDIS_URL must be empty or start with redis://, rediss:// or unix://, "
                f"not {scheme}"
            )
            raise ValueError(msg)
        return url

    @field_validator("twilio_from_number")
    @classmethod
    def _twilio_from_number(cls, value: str) -> str:
        number = value.strip()
        if number and not _E164.fullmatch(number):
            msg = "TWILIO_FROM_NUMBER must be an international number such as +77001234567"
            raise ValueError(msg)
        return number

    @field_validator("host", "console_sms_path")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            msg = "must not be empty"
            raise ValueError(msg)
        return value.strip()

    @field_validator("log_format", "sms_sender", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _sms_sender_complete(self) -> Self:
        """Real SMS need their credentials and an OTP pepper; every missing one is named."""
        if self.sms_sender != "twilio":
            return self
        missing = [
            name
            for name, present in (
                ("TWILIO_ACCOUNT_SID", bool(self.twilio_account_sid)),
                ("TWILIO_AUTH_TOKEN", self.twilio_auth_token is not None),
                (
                    "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER",
                    bool(self.twilio_messaging_service_sid or self.twilio_from_number),
                ),
                # Codes go out by SMS: their hashes need a pepper that survives a restart.
                ("OTP_PEPPER", self.otp_pepper is not None),
            )
            if not present
        ]
        if missing:
            msg = f"SMS_SENDER=twilio needs {', '.join(missing)}"
            raise ValueError(msg)
        return self

    @property
    def operator_console_enabled(self) -> bool:
        return self.operator_token is not None

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and bool(
            self.telegram_bot_token.get_secret_value()
        )

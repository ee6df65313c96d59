"""Settings: embedded defaults, environment overrides, validation with clear messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.cli import main
from bot.config import Settings


@pytest.mark.usefixtures("clean_env")
def test_defaults_are_the_embedded_service() -> None:
    settings = Settings()

    assert settings.database_url == "sqlite+aiosqlite:///./var/dariger.db"
    assert settings.redis_url == ""
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert (settings.log_format, settings.log_level) == ("console", "INFO")
    assert settings.migrate_on_start is True
    assert settings.max_future_appointments == 3
    assert settings.sms_sender == "console"
    assert settings.console_sms_path == "var/console-sms.jsonl"
    assert settings.telegram_bot_token is None
    assert settings.telegram_enabled is False
    assert settings.otp_pepper is None
    assert settings.public_base_url == ""


@pytest.mark.usefixtures("clean_env")
def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/dariger")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("HOST", "10.0.0.5")
    monkeypatch.setenv("PORT", "9090")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("MIGRATE_ON_START", "false")
    monkeypatch.setenv("MAX_FUTURE_APPOINTMENTS", "5")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")

    settings = Settings()

    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/dariger"
    assert settings.redis_url == "redis://cache:6379/0"
    assert (settings.host, settings.port) == ("10.0.0.5", 9090)
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")
    assert settings.migrate_on_start is False
    assert settings.max_future_appointments == 5
    assert settings.telegram_enabled is True


def test_dotenv_file_is_read_and_environment_wins(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("PORT=9001\nLOG_LEVEL=WARNING\nOTP_PEPPER=\n", "utf-8")
    monkeypatch.setenv("PORT", "9002")

    settings = Settings()

    assert settings.port == 9002
    assert settings.log_level == "WARNING"
    assert settings.otp_pepper is None  # an empty value means "not set"


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
@pytest.mark.usefixtures("clean_env")
def test_plain_postgres_urls_get_the_asyncpg_driver(
    monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"{scheme}u:p@db:5432/dariger")

    assert Settings().database_url == "postgresql+asyncpg://u:p@db:5432/dariger"


@pytest.mark.parametrize(
    "url", ["mysql://u:secret@db/dariger", "sqlite:///./var/dariger.db", "dariger.db"]
)
@pytest.mark.usefixtures("clean_env")
def test_unsupported_database_url_is_rejected_clearly(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    with pytest.raises(ValidationError) as raised:
        Settings()

    assert "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://" in str(
        raised.value
    )


@pytest.mark.parametrize("port", ["0", "65536", "http"])
@pytest.mark.usefixtures("clean_env")
def test_bad_port_is_rejected(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    monkeypatch.setenv("PORT", port)

    with pytest.raises(ValidationError, match="port"):
        Settings()


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
@pytest.mark.usefixtures("clean_env")
def test_bad_log_settings_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.usefixtures("clean_env")
def test_twilio_sender_needs_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_SENDER", "twilio")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")

    with pytest.raises(ValidationError, match="TWILIO_AUTH_TOKEN"):
        Settings()

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+77001234567")
    with pytest.raises(ValidationError, match="OTP_PEPPER"):  # codes by real SMS need it
        Settings()

    monkeypatch.setenv("OTP_PEPPER", "0123456789abcdef")
    assert Settings().sms_sender == "twilio"


@pytest.mark.usefixtures("clean_env")
def test_secrets_are_secret_str_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "TWILIO_AUTH_TOKEN": "twilio-secret-value",
        "OTP_PEPPER": "pepper-secret-value",
        "TELEGRAM_BOT_TOKEN": "123456:telegram-secret-value",
        "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-value",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    settings = Settings()
    shown = repr(settings) + str(settings) + settings.model_dump_json()

    for name, value in values.items():
        secret = getattr(settings, name.lower())
        assert isinstance(secret, SecretStr)
        assert secret.get_secret_value() == value
        assert value not in shown


@pytest.mark.usefixtures("clean_env")
def test_cli_reports_bad_settings_by_name_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "70000")
    monkeypatch.setenv("DATABASE_URL", "mysql://u:secret@db/dariger")

    code = main(["migrate"])

    err = capsys.readouterr().err
    assert code == 2
    assert "PORT: Input should be less than or equal to 65535" in err
    assert "DATABASE_URL: DATABASE_URL must start with" in err
    assert "secret" not in err
    assert "Traceback" not in err


BAD_SETTINGS = {
    "OTP_PEPPER": "short-pepper",
    "TELEGRAM_BOT_TOKEN": "not a token",
    "TELEGRAM_WEBHOOK_SECRET": "has spaces and ü",
    "PUBLIC_BASE_URL": "dariger.example.kz",
    "TELEGRAM_API_BASE": "ftp://api",
    "REDIS_URL": "http://user:hunter2@cache:6379",
    "TWILIO_FROM_NUMBER": "8 700 123",
    "HOST": "   ",
    "OPERATOR_TOKEN": "short",
    "PORT": "0",
}


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("name", sorted(BAD_SETTINGS))
def test_each_bad_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, BAD_SETTINGS[name])

    with pytest.raises(ValidationError) as raised:
        Settings()

    [error] = raised.value.errors()
    assert error["loc"] == (name.lower(),)


@pytest.mark.usefixtures("clean_env")
def test_good_values_of_the_checked_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    good = {
        "OTP_PEPPER": "0123456789abcdef",
        "TELEGRAM_BOT_TOKEN": "123456:AAbb-cc_dd",
        "TELEGRAM_WEBHOOK_SECRET": "webhook-secret_123",
        "PUBLIC_BASE_URL": "https://dariger.example.kz/",
        "TELEGRAM_API_BASE": "http://127.0.0.1:8081",
        "REDIS_URL": "rediss://:pw@cache:6380/1",
        "TWILIO_FROM_NUMBER": "+77001234567",
        "HOST": "0.0.0.0",  # noqa: S104 - a value, not a bind
    }
    for name, value in good.items():
        monkeypatch.setenv(name, value)

    settings = Settings()

    assert settings.public_base_url == "https://dariger.example.kz/"
    assert settings.otp_pepper is not None


def test_serve_with_bad_settings_exits_2_with_one_line_each_before_anything_runs(
    clean_env: Path, subprocess_env: dict[str, str]
) -> None:
    env = {
        **subprocess_env,
        "DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'var' / 'dariger.db'}",
        "OTP_PEPPER": "short-pepper",
        "OPERATOR_TOKEN": "short",
        "REDIS_URL": "http://user:hunter2@cache:6379",
        "PORT": "8080",
    }
    dariger = Path(sys.executable).parent / "dariger"

    done = subprocess.run(  # noqa: S603 - our own script
        [str(dariger), "serve"],
        env=env,
        cwd=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    problems = [line for line in done.stderr.splitlines() if line.startswith("  ")]
    assert [line.split(":", 1)[0].strip() for line in problems] == [
        "REDIS_URL",
        "OTP_PEPPER",
        "OPERATOR_TOKEN",
    ]
    assert "hunter2" not in done.stderr
    assert "short-pepper" not in done.stderr
    assert not (clean_env / "var").exists()  # nothing migrated, nothing created
    assert done.stdout == ""

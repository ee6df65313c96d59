"""docker-compose.yml (issue 16) cannot run here: it is parsed, and kept in step with the
Dockerfile (port, command, user, health check) and the settings (every variable it sets is one
that Settings reads)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS = {name.upper() for name in Settings.model_fields}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def _final_stage(dockerfile: str) -> str:
    return dockerfile.rsplit("\nFROM ", 1)[-1]


def test_the_services_are_the_app_postgres_and_redis(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"dariger", "migrate", "postgres", "redis"}
    for name, service in compose["services"].items():
        assert "healthcheck" in service or name == "migrate", name
    assert set(compose["volumes"]) == {"postgres-data", "redis-data"}


def test_the_app_runs_like_the_image(compose: dict[str, Any], dockerfile: str) -> None:
    app = compose["services"]["dariger"]
    final = _final_stage(dockerfile)
    cmd = re.search(r"^CMD (\[.*\])$", final, re.MULTILINE)
    assert cmd is not None
    assert app["command"] == yaml.safe_load(cmd.group(1))
    user = re.search(r"^USER (\S+)$", final, re.MULTILINE)
    assert user is not None
    assert app["user"] == compose["services"]["migrate"]["user"] == user.group(1)
    exposed = re.search(r"^EXPOSE (\d+)$", final, re.MULTILINE)
    assert exposed is not None
    port = exposed.group(1)
    assert app["environment"]["PORT"] == port
    assert app["environment"]["HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    assert [p.split(":")[-1] for p in app["ports"]] == [port]
    assert f"127.0.0.1:{port}/readyz" in " ".join(app["healthcheck"]["test"])
    assert app["build"] == compose["services"]["migrate"]["build"] == "."
    assert compose["services"]["migrate"]["command"] == ["dariger", "migrate"]


def test_the_app_waits_for_its_dependencies_and_the_migration(compose: dict[str, Any]) -> None:
    depends = compose["services"]["dariger"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["dariger"]["environment"]["MIGRATE_ON_START"] == "false"


def test_every_variable_is_a_setting_and_postgres_and_redis_are_the_services(
    compose: dict[str, Any],
) -> None:
    env = compose["services"]["dariger"]["environment"]
    assert set(env) <= SETTINGS, set(env) - SETTINGS
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://dariger:")
    assert env["DATABASE_URL"].endswith("@postgres:5432/dariger")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    postgres = compose["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_DB"] == "dariger"
    assert postgres["POSTGRES_USER"] == "dariger"
    # The secrets come from the environment (.env), never from the file.
    for name in ("OTP_PEPPER", "TWILIO_AUTH_TOKEN", "OPERATOR_TOKEN", "METRICS_TOKEN"):
        assert env[name].startswith("${"), name
    assert env["LOG_FORMAT"] == "json"


def test_the_settings_of_the_compose_file_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the defaults a user gets (passwords filled in), Settings accepts the values."""
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    env = data["services"]["dariger"]["environment"]
    filled = {
        name: re.sub(
            r"\$\{(\w+)(:-([^}]*)|:\?[^}]*)?\}",
            # ${NAME:-default}: the default; ${NAME:?message}: a required value, given.
            lambda m: "x" * 32 if (m.group(2) or "").startswith(":?") else m.group(3) or "",
            str(value),
        )
        for name, value in env.items()
    }
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in filled.items():
        monkeypatch.setenv(name, value)  # as docker passes them: empty means not set
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.migrate_on_start is False
    assert settings.port == 8080

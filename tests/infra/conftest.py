"""Fixtures for the infrastructure tests: a clean environment, free ports, the real servers."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bot.config import Settings

# Every variable Settings reads: each test starts with none of them set.
SETTINGS_ENV = tuple(name.upper() for name in Settings.model_fields)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def free_port() -> int:
    """A TCP port nobody listens on right now (so a connection to it is refused)."""
    return _free_port()


@pytest.fixture
def real_postgres_url() -> str:
    return os.environ.get(
        "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )


@pytest.fixture
def real_redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No Dariger variable in the environment, and a working directory with no `.env`."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment for a `dariger` subprocess: ours, minus Dariger's variables."""
    return {key: value for key, value in os.environ.items() if key not in SETTINGS_ENV}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'dariger.db'}"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo `configure_logging` (which `main()` calls) so that no test logs into a stream
    captured by an earlier one."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    structlog.reset_defaults()

"""Fixtures for notifications: the small world, a runtime with a recording SMS port."""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from bot.runtime import Runtime, build_runtime
from tests.backend.world import World, build_world
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.telegram.harness import tg_settings


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.fixture
def sms() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def runtime(backend: Backend, sms: RecordingSender, world: World) -> Runtime:
    return build_runtime(tg_settings(), backend, None, sender=sms, translator=TRANSLATOR)

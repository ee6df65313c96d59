"""Fixtures shared by the dialog tests: the small world, a recording SMS sender, a chat."""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from tests.backend.world import World, build_world
from tests.dialogs.harness import Chat, RecordingSender, make_engine


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def chat(backend: Backend, sender: RecordingSender, world: World) -> Chat:
    return Chat(make_engine(backend, sender))

"""One development key per test session (signing is the slow part); the world; the ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.bootstrap import Backend
from backend.services.documents import Documents, SqlDispensaryRegisters
from bot.documents.keys import DevKey, make_dev_key
from bot.documents.signing import PdfSigner
from tests.backend.world import World, build_world

BASE_URL = "https://dariger.test"


@pytest.fixture(scope="session")
def dev_key(tmp_path_factory: pytest.TempPathFactory) -> DevKey:
    return make_dev_key(Path(tmp_path_factory.mktemp("keys")))


@pytest.fixture(scope="session")
def signer(dev_key: DevKey) -> PdfSigner:
    return PdfSigner(dev_key.p12_path, dev_key.password)


@pytest.fixture
def documents(backend: Backend, signer: PdfSigner) -> Documents:
    return Documents(
        maker=signer, registers=SqlDispensaryRegisters(backend.uow), base_url=BASE_URL
    )


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)

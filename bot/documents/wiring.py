"""Build the document ports from the settings (the composition root's part for issue 13)."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from backend.bootstrap import Backend
from backend.services.documents import Documents, SqlDispensaryRegisters
from bot.config import Settings
from bot.documents.keys import ensure_dev_key
from bot.documents.signing import PdfSigner

log = logging.getLogger(__name__)


@cache
def _signer(path: str, password: bytes | None) -> PdfSigner:
    return PdfSigner(Path(path), password)


def build_signer(settings: Settings) -> PdfSigner:
    """The production key from SIGNING_P12_PATH, else the DEVELOPMENT key (made on first use)."""
    if settings.signing_p12_path:
        secret = settings.signing_p12_password
        password = secret.get_secret_value().encode() if secret is not None else None
        return _signer(settings.signing_p12_path, password)
    dev = ensure_dev_key(Path(settings.signing_dev_dir))
    log.warning(
        "documents are signed with a DEVELOPMENT key (%s): not for production", dev.p12_path
    )
    return _signer(str(dev.p12_path), dev.password)


def base_url(settings: Settings) -> str:
    return settings.public_base_url or f"http://{settings.host}:{settings.port}"


def build_documents(settings: Settings, backend: Backend) -> Documents:
    return Documents(
        maker=build_signer(settings),
        registers=SqlDispensaryRegisters(backend.uow),
        base_url=base_url(settings),
    )

"""PAdES signatures (pyHanko) with the issuing key from a PKCS#12 file."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from backend.domain.documents import DocumentContent
from bot.documents.pdf import render


class PdfSigner:
    """The `DocumentMaker` port: renders and PAdES-signs one document (B-B level).

    One issuing key for the deployment; the issuing clinic is named in the document
    (docs/certificates.md). The key is loaded once.
    """

    def __init__(self, p12_path: Path, password: bytes | None) -> None:
        signer = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]
            str(p12_path), passphrase=password
        )
        if signer is None:
            raise ValueError(f"cannot load the signing key from {p12_path}")
        self._signer = signer

    def sign(self, pdf: bytes, *, reason: str = "") -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name="Signature",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason or None,
            md_algorithm="sha256",
        )
        out = signers.sign_pdf(writer, meta, signer=self._signer)
        return bytes(out.getvalue())

    def make_sync(self, content: DocumentContent) -> bytes:
        """Render and sign (CPU-bound; pyHanko's sync API runs its own event loop)."""
        return self.sign(render(content), reason=f"Dariger {content.number}")

    async def make(self, content: DocumentContent) -> bytes:
        # In a worker thread: the event loop keeps serving while a document is signed.
        return await asyncio.to_thread(self.make_sync, content)

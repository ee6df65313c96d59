"""Issue 13, must show: the produced PDF validates against the development trust root, one
changed byte breaks it, the QR decodes to the verify URL, the text has the Kazakh title and
the holder's name."""

from __future__ import annotations

import io

import pypdf
import zxingcpp
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from backend.bootstrap import Backend
from backend.domain.documents import Register, format_code
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, certificates
from backend.services import documents as service
from backend.services.documents import Documents
from bot.documents.keys import DevKey
from tests.backend.world import World
from tests.certificates.conftest import BASE_URL


async def _validates(pdf: bytes, dev_key: DevKey) -> bool:
    root = load_cert_from_pemder(str(dev_key.root_path))  # type: ignore[no-untyped-call]
    context = ValidationContext(trust_roots=[root])
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        status = await async_validate_pdf_signature(reader.embedded_signatures[0], context)
    except Exception:  # a broken file is a failed validation
        return False
    return bool(status.bottom_line)


async def _statement(
    backend: Backend, docs: Documents, world: World, clock: FixedClock
) -> tuple[str, bytes]:
    alice = world.alice.id or 0
    summary = await certificates.request_certificate(
        backend.uow(), alice, ServiceType.STATEMENT_TB, now=clock.now()
    )
    issued = await service.issue_statement(backend.uow(), docs, summary.number, now=clock.now())
    file = await service.document_file(backend.uow(), issued.document_id)
    assert file is not None
    return issued.code, file.content


async def test_the_signed_statement_validates_and_one_changed_byte_breaks_it(
    backend: Backend, documents: Documents, world: World, clock: FixedClock, dev_key: DevKey
) -> None:
    _code, pdf = await _statement(backend, documents, world, clock)

    assert pdf.startswith(b"%PDF")
    assert await _validates(pdf, dev_key)
    # A byte inside the signed range (the page content), not in the signature's own slot.
    index = pdf.index(b"stream") + 20
    tampered = pdf[:index] + bytes([pdf[index] ^ 0x01]) + pdf[index + 1 :]
    assert not await _validates(tampered, dev_key)


async def test_the_qr_decodes_to_the_verify_url_and_the_text_has_title_and_name(
    backend: Backend, documents: Documents, world: World, clock: FixedClock
) -> None:
    code, pdf = await _statement(backend, documents, world, clock)

    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    text = page.extract_text()
    # The Kazakh title, first (the patient's language), as the standard names it (S17, L892).
    assert "Фтизиопульмонология" in text
    assert text.index("Фтизиопульмонология") < text.index("фтизиопульмонологии")
    assert world.alice.surname in text
    assert world.alice.given_name in text
    assert format_code(code) in text
    decoded = [r.text for image in page.images for r in zxingcpp.read_barcodes(image.image)]
    assert decoded == [f"{BASE_URL}/verify/{code}"]


async def test_a_statement_completes_by_system_and_says_whether_the_person_is_registered(
    backend: Backend, documents: Documents, world: World, clock: FixedClock
) -> None:
    await _register(backend, world.bob.iin)
    bob = world.bob.id or 0
    summary = await certificates.request_certificate(
        backend.uow(), bob, ServiceType.STATEMENT_TB, now=clock.now()
    )
    issued = await service.issue_statement(
        backend.uow(), documents, summary.number, now=clock.now()
    )
    detail = await applications.application_details(backend.uow(), bob, summary.number)

    assert issued.on_register is True
    assert detail.summary.status is ApplicationStatus.COMPLETED
    assert detail.history[-1].actor is Actor.SYSTEM
    file = await service.document_file(backend.uow(), issued.document_id)
    assert file is not None
    text = pypdf.PdfReader(io.BytesIO(file.content)).pages[0].extract_text()
    words = " ".join(text.split())  # the columns wrap lines
    assert "Динамикалық байқауда тұрады." in words  # S17 row 7, in its words
    assert "Состоит на динамическом наблюдении." in words


async def _register(backend: Backend, iin: str) -> None:
    await service.add_registration(backend.uow(), iin, Register.TB)

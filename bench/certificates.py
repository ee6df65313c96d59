"""Issue 13: how many documents are rendered and PAdES-signed per second (one process, one core).

    .venv/bin/python -m bench.certificates [--count 50]

Renders a Kazakh/Russian statement (DejaVu Sans embedded, QR code) and signs it with a freshly
made DEVELOPMENT key; prints documents per second for rendering alone and render + sign, and the
size of one signed PDF.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from backend.domain.documents import DocumentContent, new_code
from backend.domain.statuses import ServiceType
from bot.documents.keys import make_dev_key
from bot.documents.pdf import render
from bot.documents.signing import PdfSigner


def _content(i: int) -> DocumentContent:
    code = new_code()
    return DocumentContent(
        number=f"BNCH-{i:04d}",
        code=code,
        service=ServiceType.STATEMENT_TB,
        languages=("kk", "ru"),
        holder_name="Сейтқали Айгүл Маратқызы",
        holder_iin="900315400014",
        holder_birth_date=dt.date(1990, 3, 15),
        issuer="№ 5 қалалық емхана / Городская поликлиника № 5",
        issued_on=dt.date(2026, 11, 23),
        valid_until=dt.date(2026, 12, 3),
        on_register=False,
        verify_url=f"https://dariger.example.kz/verify/{code}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        key = make_dev_key(Path(folder))
        signer = PdfSigner(key.p12_path, key.password)
        signer.make_sync(_content(0))  # warm-up: fonts, key, imports

        start = time.perf_counter()
        for i in range(args.count):
            render(_content(i))
        rendered = time.perf_counter() - start

        start = time.perf_counter()
        size = 0
        for i in range(args.count):
            size = len(signer.make_sync(_content(i)))
        signed = time.perf_counter() - start

    print(f"documents: {args.count}")
    print(f"rendered per second:          {args.count / rendered:8.1f}")
    print(f"rendered + signed per second: {args.count / signed:8.1f}")
    print(f"signed PDF size:              {size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()

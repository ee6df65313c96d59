"""The SMS answer to «CHECK <code>» (issue 13): the same verdict as /verify, in one segment."""

from __future__ import annotations

from backend.bootstrap import Backend
from backend.domain.documents import Verdict, format_code, normalize_code
from backend.services import documents
from dialogs.engine.text import T, Text, Verbatim

CHECK_HOW = T("Send CHECK and the document code, e.g. CHECK K7QF-3M9P-XW.")
CHECK_UNKNOWN = T("{code}: no document with this code.")
CHECK_VALID_UNTIL = T("{code}: valid until {until}. {holder}")
CHECK_VALID = T("{code}: valid, issued {issued}. {holder}")
CHECK_REVOKED = T("{code}: REVOKED. {holder}")
CHECK_EXPIRED = T("{code}: expired on {until}. {holder}")


def _date(value: object) -> Verbatim:
    return Verbatim(value.strftime("%d.%m.%Y") if hasattr(value, "strftime") else "")


async def check_answer(backend: Backend, typed: str) -> Text:
    code = normalize_code(typed)
    if code is None:
        return CHECK_HOW
    result = await documents.verify(backend.uow(), code, now=backend.clock.now())
    shown = Verbatim(format_code(code))
    holder = Verbatim(result.holder or "")
    if result.verdict is Verdict.UNKNOWN:
        return Text(CHECK_UNKNOWN.msgid, {"code": shown})
    if result.verdict is Verdict.REVOKED:
        return Text(CHECK_REVOKED.msgid, {"code": shown, "holder": holder})
    if result.verdict is Verdict.EXPIRED:
        until = _date(result.valid_until)
        return Text(CHECK_EXPIRED.msgid, {"code": shown, "until": until, "holder": holder})
    if result.valid_until is not None:
        until = _date(result.valid_until)
        return Text(CHECK_VALID_UNTIL.msgid, {"code": shown, "until": until, "holder": holder})
    return Text(
        CHECK_VALID.msgid, {"code": shown, "issued": _date(result.issued_on), "holder": holder}
    )

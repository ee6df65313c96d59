"""Public pages of issue 13: `/verify/{code}` (HTML kk/ru/en and JSON) and `/d/{token}` (the
SMS download link). Both rate-limited per client address; neither needs a sign-in."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web

from backend.bootstrap import Backend
from backend.domain.documents import Verdict
from backend.services import documents as service
from backend.services.documents import Documents, Verification
from backend.services.notifications import Notification
from bot.app import BACKEND_KEY
from bot.config import Settings
from bot.documents.pdf import TITLES
from bot.documents.wiring import base_url, build_documents
from bot.documents.worker import StatementWorker
from bot.i18n import Translator
from bot.runtime import Runtime
from bot.verify.links import LinkRefused, LinkSigner
from dialogs.engine.text import T, Text

STATEMENTS_KEY = web.AppKey("statements", StatementWorker)
# Set to False before the app starts to run the statement worker by hand (tests).
STATEMENTS_ENABLED_KEY = web.AppKey("statements_enabled", bool)
LANGS = ("kk", "ru", "en")

# The page's words (domain `messages`, kk/ru/en in locales/*/LC_MESSAGES/messages.po).
TITLE = T("Document verification")
VERDICTS: dict[Verdict, Text] = {
    Verdict.VALID: T("The document is valid"),
    Verdict.REVOKED: T("The document has been revoked"),
    Verdict.EXPIRED: T("The document has expired"),
    Verdict.UNKNOWN: T("No document has this code"),
}
TYPE = T("Type")
ISSUER = T("Issued by")
HOLDER = T("Holder")
IIN = T("IIN")
ISSUED = T("Date of issue")
UNTIL = T("Valid until")
LIMITED = T("Too many requests. Try again in a minute.")
LINK_REFUSED: dict[str, Text] = {
    "expired": T("This link has expired. Ask for a new one from the application."),
    "invalid": T("This link is not valid."),
    "revoked": T("This document was revoked and can no longer be downloaded."),
}
TRANSLATOR_KEY = web.AppKey("verify_translator", Translator)


@dataclass
class LazyDocuments:
    """The document ports, built on first use (the signing key is loaded only when needed)."""

    settings: Settings
    backend: Backend
    built: Documents | None = None

    def get(self) -> Documents:
        if self.built is None:
            self.built = build_documents(self.settings, self.backend)
        return self.built


@dataclass
class RateLimiter:
    """An in-process token bucket per client address (per worker process)."""

    per_minute: int
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens, last = self.buckets.get(key, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
        if len(self.buckets) > 100_000:  # a crude bound on memory under a spray of addresses
            self.buckets.clear()
        if tokens < 1.0:
            self.buckets[key] = (tokens, now)
            return False
        self.buckets[key] = (tokens - 1.0, now)
        return True


DOCUMENTS_KEY = web.AppKey("documents", LazyDocuments)
LINKS_KEY = web.AppKey("document_links", LinkSigner)
LIMITER_KEY = web.AppKey("verify_limiter", RateLimiter)


def _language(request: web.Request) -> str:
    asked = request.query.get("lang", "")
    if asked in LANGS:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return "kk"


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _said(request: web.Request, lang: str) -> Callable[[Text], str]:
    translator = request.app[TRANSLATOR_KEY]
    return lambda text: translator.render(text, lang)


def _limited(request: web.Request) -> web.Response | None:
    if request.app[LIMITER_KEY].allow(request.remote or "-"):
        return None
    if _wants_json(request):
        return web.json_response(
            {"error": "rate_limited"}, status=429, headers={"Retry-After": "60"}
        )
    lang = _language(request)
    text = _said(request, lang)(LIMITED)
    return _page(text, f"<p>{html.escape(text)}</p>", status=429, lang=lang)


def _page(title: str, body: str, *, status: int = 200, lang: str = "kk") -> web.Response:
    document = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
    return web.Response(
        text=document,
        content_type="text/html",
        status=status,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )


def _json(result: Verification) -> dict[str, object]:
    return {
        "status": result.verdict.value,
        "type": result.service.value if result.service else None,
        "issuer": result.issuer,
        "holder": result.holder,
        "iin": result.iin,
        "issued_on": result.issued_on.isoformat() if result.issued_on else None,
        "valid_until": result.valid_until.isoformat() if result.valid_until else None,
    }


def _html(result: Verification, lang: str, said: Callable[[Text], str]) -> str:
    rows = ""
    if result.verdict is not Verdict.UNKNOWN and result.service is not None:
        pairs = [
            (said(TYPE), TITLES[result.service][lang]),
            (said(ISSUER), result.issuer or ""),
            (said(HOLDER), result.holder or ""),
            (said(IIN), result.iin or ""),
            (said(ISSUED), result.issued_on.strftime("%d.%m.%Y") if result.issued_on else ""),
        ]
        if result.valid_until is not None:
            pairs.append((said(UNTIL), result.valid_until.strftime("%d.%m.%Y")))
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs
        )
    return (
        f"<h1>{html.escape(said(TITLE))}</h1>"
        f'<p class="status {result.verdict.value}"><strong>'
        f"{html.escape(said(VERDICTS[result.verdict]))}</strong></p><table>{rows}</table>"
    )


async def verify_page(request: web.Request) -> web.Response:
    limited = _limited(request)
    if limited is not None:
        return limited
    backend = request.app[BACKEND_KEY]
    result = await service.verify(
        backend.uow(), request.match_info["code"], now=backend.clock.now()
    )
    status = 404 if result.verdict is Verdict.UNKNOWN else 200
    if _wants_json(request):
        return web.json_response(
            _json(result), status=status, headers={"Cache-Control": "no-store"}
        )
    lang = _language(request)
    said = _said(request, lang)
    return _page(said(TITLE), _html(result, lang, said), status=status, lang=lang)


async def download(request: web.Request) -> web.StreamResponse:
    limited = _limited(request)
    if limited is not None:
        return limited
    backend = request.app[BACKEND_KEY]
    lang = _language(request)
    try:
        claim = request.app[LINKS_KEY].check(request.match_info["token"], now=backend.clock.now())
    except LinkRefused as refused:
        text = _said(request, lang)(LINK_REFUSED.get(refused.reason, LINK_REFUSED["invalid"]))
        return _page(text, f"<h1>{html.escape(text)}</h1>", status=403, lang=lang)
    file = await service.document_file(backend.uow(), claim.document_id)
    if file is None or file.patient_id != claim.patient_id:
        text = _said(request, lang)(LINK_REFUSED["invalid"])
        return _page(text, f"<h1>{html.escape(text)}</h1>", status=403, lang=lang)
    if file.revoked:  # issue 13: a revoked document is not served, /verify says why
        text = _said(request, lang)(LINK_REFUSED["revoked"])
        return _page(text, f"<h1>{html.escape(text)}</h1>", status=410, lang=lang)
    return web.Response(
        body=file.content,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Cache-Control": "no-store, private",
        },
    )


def download_url(
    documents: Documents,
    links: LinkSigner,
    patient_id: int,
    document_id: int,
    *,
    now: dt.datetime,
    hours: int,
) -> str:
    token = links.token(patient_id, document_id, expires=now + dt.timedelta(hours=hours))
    return f"{documents.base_url.rstrip('/')}/d/{token}"


def link_signer(runtime: Runtime) -> LinkSigner:
    secret = runtime.settings.document_link_secret
    if secret is not None and secret.get_secret_value():
        return LinkSigner(secret.get_secret_value().encode())
    if runtime.key_secret is None:  # pragma: no cover - build_runtime always sets it
        raise ValueError("no secret for the document links")
    return LinkSigner(runtime.key_secret)


def document_links(runtime: Runtime) -> Callable[[Notification], str]:
    """The SMS notice's link: for this patient and this document, expiring (24 h default)."""
    links = link_signer(runtime)
    settings = runtime.settings

    def link_for(notification: Notification) -> str:
        expires = runtime.backend.clock.now() + dt.timedelta(hours=settings.document_link_hours)
        document_id = int(notification.params.get("document_id", 0))
        token = links.token(notification.patient_id, document_id, expires=expires)
        return f"{base_url(settings).rstrip('/')}/d/{token}"

    return link_for


def install(app: web.Application, runtime: Runtime) -> None:
    app[DOCUMENTS_KEY] = LazyDocuments(runtime.settings, runtime.backend)
    app[LINKS_KEY] = link_signer(runtime)
    app[LIMITER_KEY] = RateLimiter(runtime.settings.verify_rate_per_minute)
    app[TRANSLATOR_KEY] = runtime.translator
    app[STATEMENTS_KEY] = StatementWorker(runtime.backend, app[DOCUMENTS_KEY].get)
    app[STATEMENTS_ENABLED_KEY] = True
    app.router.add_get("/verify/{code}", verify_page)
    app.router.add_get("/d/{token}", download)
    app.cleanup_ctx.append(_run_statements)


async def _run_statements(app: web.Application) -> AsyncIterator[None]:
    if not app[STATEMENTS_ENABLED_KEY]:
        yield
        return
    stopping = asyncio.Event()
    task = asyncio.create_task(app[STATEMENTS_KEY].run_forever(stopping), name="statements")
    try:
        yield
    finally:
        stopping.set()
        try:
            async with asyncio.timeout(10):
                await task
        except TimeoutError:
            task.cancel()

"""The Clinic API as an aiohttp sub-application at /api/clinic/v1 (issue 11).

One middleware does, for every request under the prefix: the key check (before anything else,
so an unknown path answers 401 before 404 without a key), one log line with the key id (never
the key), and the translation of every error into a 4xx JSON body
`{"error": {"code", "message", "fields"}}`. A database or network outage is 503; a bug is a
logged 500 (the tests and the fuzz assert none happens).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.bootstrap import Backend
from backend.domain.refusals import Refusal, RefusalCode, RefusalGroundNotAllowed
from backend.domain.statuses import InvalidTransition
from backend.services import clinic, documents
from bot.app import READS_OWN_BODY, body_deadline
from bot.clinic_api import models
from bot.logs import get_logger

log = get_logger("bot.clinic_api")

PREFIX: Final = "/api/clinic/v1"
OPENAPI_PATH: Final = "/openapi.json"
MAX_JSON_BYTES: Final = 64 * 1024
# A 5 MB PDF in base64 is 4/3 larger, plus the JSON around it.
MAX_DOCUMENT_JSON_BYTES: Final = clinic.MAX_DOCUMENT_BYTES * 4 // 3 + 16 * 1024
_MAX_AUTH_HEADER = 512
NUMBER_PATTERN: Final = r"[A-Za-z0-9-]{1,32}"
_CALLER: Final = web.RequestKey("clinic_api_caller", clinic.Caller)

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """An answer with an error body; raised anywhere below the middleware."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = models.ErrorOut(
            error=models.ErrorDetail(code=self.code, message=self.message, fields=self.fields)
        )
        return web.json_response(
            body.model_dump(mode="json", exclude_none=True),
            status=self.status,
            headers={**self.headers, hdrs.CACHE_CONTROL: "no-store"},
        )


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _validation_error(exc: ValidationError) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return ApiError(400, "bad_json", "the body is not valid JSON")
    fields: dict[str, str] = {}
    for error in errors:
        fields.setdefault(_field(error["loc"]), error["msg"])
    return ApiError(422, "validation_error", "some fields are missing or wrong", fields=fields)


def _error_for(exc: Exception) -> ApiError | None:
    """The answer for a known error of the services; None for anything else."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ValidationError):
        return _validation_error(exc)
    if isinstance(exc, Refusal):
        if exc.code is RefusalCode.APPLICATION_NOT_FOUND:
            return ApiError(404, "not_found", "no such application at this clinic")
        return ApiError(422, exc.code.value, f"refused: {exc.code.value}")
    if isinstance(exc, RefusalGroundNotAllowed):
        return ApiError(422, "ground_not_allowed", str(exc), fields={"ground": str(exc)})
    if isinstance(exc, InvalidTransition):
        return ApiError(
            409,
            "invalid_transition",
            f"the application is {exc.current.value}: it cannot become {exc.target.value}",
        )
    if isinstance(exc, clinic.Conflict):
        return ApiError(409, exc.code, exc.message)
    if isinstance(exc, documents.DocumentError):
        return ApiError(409, exc.code, str(exc))
    if isinstance(exc, clinic.Invalid):
        return ApiError(422, exc.code, exc.message, fields={exc.field: exc.message})
    if isinstance(exc, IntegrityError):  # two changes of one application at the same time
        return ApiError(
            409, "concurrent_change", "the application changed meanwhile: read it and retry"
        )
    if isinstance(exc, (OperationalError, PoolTimeout, OSError, TimeoutError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return ApiError(503, "unavailable", "the service is unavailable: try again later")
    return None


# --- reading a request ---------------------------------------------------------------------


async def _body(request: web.Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes (announced or actually sent)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "body_too_large", f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:  # a slow body is cut off as the app's middleware does for everyone else
        async with asyncio.timeout(body_deadline(request)):
            while chunk := await request.content.read(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "body_too_large", f"the body is over {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(408, "body_too_slow", "the request body came too slowly") from None
    return b"".join(chunks)


async def read_json(
    request: web.Request, model: type[M], *, limit: int = MAX_JSON_BYTES, optional: bool = False
) -> M:
    """The body as `model`: JSON only (415), not too large (413), valid JSON (400), the right
    fields and types (422). `optional`: an empty body is `{}`."""
    raw = await _body(request, limit)
    if not raw and optional:
        return model.model_validate({})
    if request.content_type != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "send JSON with Content-Type: application/json"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_json", "the body is not UTF-8") from None
    return model.model_validate_json(text)


def _query(request: web.Request) -> models.ListQuery:
    values: dict[str, str] = {}
    for name, value in request.query.items():
        if name in values:
            raise ApiError(
                422, "validation_error", "a parameter is given twice", fields={name: "given twice"}
            )
        values[name] = value
    return models.ListQuery.model_validate(values)


def _number(request: web.Request) -> str:
    return request.match_info["number"]


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(
        model.model_dump(mode="json"), status=status, headers={hdrs.CACHE_CONTROL: "no-store"}
    )


# --- the handlers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # below PREFIX, aiohttp syntax
    name: str
    summary: str
    handler: Callable[[ClinicApi, web.Request], Awaitable[web.StreamResponse]]
    body: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    status: int = 200
    public: bool = False


class ClinicApi:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def caller(self, request: web.Request) -> clinic.Caller:
        return request[_CALLER]

    def now(self) -> dt.datetime:
        return self.backend.clock.now()

    async def me(self, request: web.Request) -> web.StreamResponse:
        caller = self.caller(request)
        return _json(
            models.HealthOut(status="ok", clinic_id=caller.clinic_id, key_id=caller.key_id)
        )

    async def list_applications(self, request: web.Request) -> web.StreamResponse:
        query = _query(request)
        page = await clinic.open_applications(
            self.backend.uow(),
            self.caller(request).clinic_id,
            service=query.service,
            status=query.status,
            date_from=query.date_from,
            date_to=query.date_to,
            page=query.page,
            per_page=query.per_page,
            now=self.now(),
        )
        return _json(
            models.ApplicationListOut(
                items=[models.application_out(i) for i in page.items],
                page=page.page,
                per_page=page.per_page,
                total=page.total,
            )
        )

    async def read_application(self, request: web.Request) -> web.StreamResponse:
        details = await clinic.application_for_clinic(
            self.backend.uow(), self.caller(request).clinic_id, _number(request), now=self.now()
        )
        return _json(models.detail_out(details))

    async def take(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request, models.ActionIn, optional=True)
        details = await clinic.take_into_work(
            self.backend.uow(),
            self.caller(request),
            _number(request),
            now=self.now(),
            note=body.note,
        )
        return _json(models.detail_out(details))

    async def complete(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request, models.ActionIn, optional=True)
        from bot.verify import DOCUMENTS_KEY  # noqa: PLC0415 - installed after this API

        lazy = request.config_dict.get(DOCUMENTS_KEY)  # issue 13: 027/е made and signed
        details = await clinic.complete(
            self.backend.uow(),
            self.caller(request),
            _number(request),
            now=self.now(),
            note=body.note,
            documents=lazy.get() if lazy is not None else None,
        )
        return _json(models.detail_out(details))

    async def refuse(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request, models.RefuseIn)
        details = await clinic.refuse(
            self.backend.uow(),
            self.caller(request),
            _number(request),
            RefusalCode(body.ground.value),
            now=self.now(),
            note=body.note,
        )
        return _json(models.detail_out(details))

    async def home_visit(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request, models.HomeVisitIn)
        details = await clinic.assign_home_visit(
            self.backend.uow(),
            self.caller(request),
            _number(request),
            doctor_code=body.doctor_code,
            window_start=body.window_start,
            window_end=body.window_end,
            now=self.now(),
        )
        return _json(models.detail_out(details))

    async def attendance(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request, models.AttendanceIn)
        details = await clinic.record_attendance(
            self.backend.uow(),
            self.caller(request),
            _number(request),
            attended=body.attended,
            now=self.now(),
        )
        return _json(models.detail_out(details))

    async def post_document(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request, models.DocumentIn, limit=MAX_DOCUMENT_JSON_BYTES)
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                422,
                "validation_error",
                "content_base64 is not base64",
                fields={"content_base64": "not base64 (RFC 4648)"},
            ) from None
        document = await clinic.post_document(
            self.backend.uow(),
            self.caller(request),
            _number(request),
            filename=body.filename,
            content=content,
            now=self.now(),
        )
        return _json(models.document_out(document), status=201)

    async def revoke_document(self, request: web.Request) -> web.StreamResponse:
        """Issue 13: the clinic revokes the document it issued; idempotent."""
        body = await read_json(request, models.RevokeIn)
        caller = self.caller(request)
        revoked = await documents.revoke_for_clinic(
            self.backend.uow(),
            caller.clinic_id,
            _number(request),
            now=self.now(),
            reason=caller.note(body.reason),  # who revoked it, kept with the reason
        )
        log.info(
            "clinic_api_document_revoked",
            number=revoked.application_number,
            already=not revoked.newly,
        )
        return _json(models.revocation_out(revoked))

    async def openapi(self, _request: web.Request) -> web.StreamResponse:
        from bot.clinic_api.openapi import document  # noqa: PLC0415 - avoids an import cycle

        return web.json_response(document())

    # --- the middleware --------------------------------------------------------------------

    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        caller: clinic.Caller | None = None
        status = 500
        try:
            route = _route_of(request)
            if route is None or not route.public:
                caller = await self.authenticate(request)
                request[_CALLER] = caller
            if route is None:
                raise _no_route(request)
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # aiohttp's own (none expected past _no_route)
            http_error = ApiError(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
            status = http_error.status
            return http_error.response()
        except Exception as exc:
            error = _error_for(exc)
            if error is None:
                # Not log.exception: a console renderer that shows locals could itself fail on
                # a detached ORM object, and this answer must still go out.
                log.error(
                    "clinic_api_failed",
                    method=request.method,
                    path=request.path,
                    error=repr(exc),
                    traceback="".join(traceback.format_exception(exc)),
                )
                error = ApiError(500, "internal_error", "an unexpected error: it was logged")
            elif error.status == 503:
                log.warning("clinic_api_unavailable", error=repr(exc))
            status = error.status
            return error.response()
        finally:
            log.info(
                "clinic_api",
                method=request.method,
                path=request.path,
                status=status,
                key_id=caller.key_id if caller else None,
                clinic_id=caller.clinic_id if caller else None,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )

    async def authenticate(self, request: web.Request) -> clinic.Caller:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        scheme, _, presented = header.strip().partition(" ")
        unauthorized = ApiError(
            401,
            "unauthorized",
            "send a valid clinic API key: Authorization: Bearer <key>",
            headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="Dariger Clinic API"'},
        )
        if len(header) > _MAX_AUTH_HEADER or scheme.lower() != "bearer" or not presented:
            raise unauthorized
        caller = await clinic.authenticate(self.backend.uow(), presented.strip(), now=self.now())
        if caller is None:
            log.warning("clinic_api_key_refused", path=request.path, remote=request.remote)
            raise unauthorized
        return caller


ROUTES: Final[tuple[Route, ...]] = (
    Route("GET", OPENAPI_PATH, "openapi", "This OpenAPI document", ClinicApi.openapi, public=True),
    Route(
        "GET", "/me", "me", "The key's clinic (a key check)", ClinicApi.me, answer=models.HealthOut
    ),
    Route(
        "GET",
        "/applications",
        "list_applications",
        "The clinic's open applications, overdue first, then by deadline (paginated)",
        ClinicApi.list_applications,
        answer=models.ApplicationListOut,
    ),
    Route(
        "GET",
        "/applications/{number}",
        "read_application",
        "One application with its history, appointment or home visit, and documents",
        ClinicApi.read_application,
        answer=models.ApplicationDetailOut,
    ),
    Route(
        "POST",
        "/applications/{number}/take",
        "take_into_work",
        "Take the application into work (in progress)",
        ClinicApi.take,
        body=models.ActionIn,
        answer=models.ApplicationDetailOut,
    ),
    Route(
        "POST",
        "/applications/{number}/complete",
        "complete",
        "Complete the application (not appointments: record attendance)",
        ClinicApi.complete,
        body=models.ActionIn,
        answer=models.ApplicationDetailOut,
    ),
    Route(
        "POST",
        "/applications/{number}/refuse",
        "refuse",
        "A reasoned refusal on a ground the service allows",
        ClinicApi.refuse,
        body=models.RefuseIn,
        answer=models.ApplicationDetailOut,
    ),
    Route(
        "POST",
        "/applications/{number}/home-visit",
        "assign_home_visit",
        "Assign a doctor of this clinic and a time window to a home visit",
        ClinicApi.home_visit,
        body=models.HomeVisitIn,
        answer=models.ApplicationDetailOut,
    ),
    Route(
        "POST",
        "/applications/{number}/attendance",
        "record_attendance",
        "Record an appointment as attended (completed) or missed (did not attend)",
        ClinicApi.attendance,
        body=models.AttendanceIn,
        answer=models.ApplicationDetailOut,
    ),
    Route(
        "POST",
        "/applications/{number}/documents",
        "post_document",
        "Post the finished document (a PDF, at most 5 MB) for the application",
        ClinicApi.post_document,
        body=models.DocumentIn,
        answer=models.DocumentOut,
        status=201,
    ),
    Route(
        "POST",
        "/applications/{number}/document/revoke",
        "revoke_document",
        "Revoke the application's signed document, with a reason (idempotent); /verify then "
        "says revoked and the patient is told",
        ClinicApi.revoke_document,
        body=models.RevokeIn,
        answer=models.RevocationOut,
    ),
)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(
        re.escape(PREFIX) + re.sub(r"\\\{number\\\}", NUMBER_PATTERN, re.escape(path))
    )


_MATCHERS: Final = tuple((_pattern(r.path), r) for r in ROUTES)


def _routes_at(path: str) -> list[Route]:
    return [route for pattern, route in _MATCHERS if pattern.fullmatch(path)]


def _route_of(request: web.Request) -> Route | None:
    for route in _routes_at(request.path):
        if route.method == request.method:
            return route
    return None


def _no_route(request: web.Request) -> ApiError:
    allowed = sorted({r.method for r in _routes_at(request.path)})
    if allowed:
        return ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here (allowed: {', '.join(allowed)})",
            headers={hdrs.ALLOW: ", ".join(allowed)},
        )
    return ApiError(404, "no_such_endpoint", "no such endpoint: see /api/clinic/v1/openapi.json")


async def _nowhere(_request: web.Request) -> web.StreamResponse:  # pragma: no cover - guard
    raise web.HTTPNotFound


def application(backend: Backend) -> web.Application:
    api = ClinicApi(backend)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await api.guard(request, handler)

    sub = web.Application(middlewares=[guard])
    sub[READS_OWN_BODY] = True  # bodies are streamed and limited per route (_body)
    for route in ROUTES:

        def bound(
            method: Callable[[ClinicApi, web.Request], Awaitable[web.StreamResponse]],
        ) -> Handler:
            async def handle(request: web.Request) -> web.StreamResponse:
                return await method(api, request)

            return handle

        path = route.path.replace("{number}", "{number:" + NUMBER_PATTERN + "}")
        sub.router.add_route(route.method, path, bound(route.handler), name=route.name)
    # Anything else under the prefix reaches the guard too: 401 without a key, then 404/405.
    sub.router.add_route("*", "/{tail:.*}", _nowhere)
    return sub

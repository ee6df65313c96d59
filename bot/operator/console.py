"""The console as an aiohttp sub-application mounted at `/operator`, behind OPERATOR_TOKEN.

Every request under `/operator` passes the token check first (an unknown page answers 401
before 404, so nothing about the console is learnt without the token), and every answer
carries the console's security headers (no caching, a tight Content-Security-Policy).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from backend.bootstrap import Backend
from backend.services import notifications, outbox
from bot.i18n import CONSOLE_DOMAIN, Translator
from bot.logs import get_logger
from bot.operator import sms
from bot.operator.auth import CHALLENGE, TokenAuth, Verdict
from bot.operator.language import C_, Words, choose_language, weights
from bot.operator.page import document, secure
from bot.runtime import Runtime

log = get_logger("bot.operator")

PREFIX: Final = "/operator"
SMS_PATH: Final = f"{PREFIX}/sms"
CONSOLE_OFF: Final = "Operator console is off: set OPERATOR_TOKEN to turn it on"


class OperatorConsole:
    def __init__(self, backend: Backend, translator: Translator, auth: TokenAuth) -> None:
        self.backend = backend
        self.translator = translator
        self.auth = auth

    def application(self) -> web.Application:
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self.guard(request, handler)

        console = web.Application(middlewares=[guard])
        console.router.add_get("", self.index)  # /operator
        console.router.add_get("/", self.index)  # /operator/
        console.router.add_get("/sms", self.failed_sms, name="sms")
        return console

    def words(self, request: web.Request) -> Words:
        language = choose_language(
            request.query.get("lang"), request.headers.get(hdrs.ACCEPT_LANGUAGE)
        )
        return Words(self.translator, language)

    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The token first, for every path under /operator; the security headers always."""
        verdict = self.auth.check(request.headers.get(hdrs.AUTHORIZATION))
        if verdict is not Verdict.OK:
            if verdict is not Verdict.MISSING:  # a browser asks without credentials first
                log.warning(
                    "operator_auth_refused",
                    reason=verdict.value,
                    path=request.path,
                    remote=request.remote,
                )
            text = self.words(request)(
                C_("Dariger 1414: sign in with the operator token (any user name).")
            )
            response = web.Response(
                status=401, text=text, headers={hdrs.WWW_AUTHENTICATE: CHALLENGE}
            )
            secure(response.headers)
            return response
        try:
            answer = await handler(request)
        except web.HTTPException as exc:
            secure(exc.headers)
            raise
        secure(answer.headers)
        return answer

    async def index(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.app.router["sms"].url_for())

    async def failed_sms(self, request: web.Request) -> web.StreamResponse:
        words = self.words(request)
        try:
            json = wants_json(request)
        except sms.BadQuery as bad:
            return web.Response(status=400, text=words(bad.msgid))
        try:
            days = sms.parse_days(request.query.get("days"))
        except sms.BadQuery as bad:
            if json:
                return web.json_response({"error": words(bad.msgid)}, status=400)
            return web.Response(status=400, text=words(bad.msgid))
        now = self.backend.clock.now()
        since = now - dt.timedelta(days=days)
        found = await outbox.problems(self.backend.uow(), since=since, limit=sms.LIMIT + 1)
        rows = [sms.shown(message) for message in found[: sms.LIMIT]]
        more = len(found) > sms.LIMIT
        # Issue 11: failed Telegram notifications on the same page.
        telegram = await notifications.problems(self.backend.uow(), since=since, limit=sms.LIMIT)
        log.info("operator_failed_sms_viewed", days=days, rows=len(rows), json=json)
        if json:
            return web.json_response(
                sms.as_json(rows, days=days, since=since, now=now, more=more, telegram=telegram)
            )
        title, nav, body = sms.as_html(
            rows,
            words=words,
            language=words.language,
            days=days,
            since=since,
            more=more,
            telegram=telegram,
        )
        page = document(
            language=words.language,
            title=title,
            brand=words(C_("Dariger · 1414 operator console")),
            nav=nav,
            body=body,
        )
        return web.Response(text=page, content_type="text/html", charset="utf-8")


def wants_json(request: web.Request) -> bool:
    """`?format=json|html`, else JSON when `Accept` prefers it to HTML (a browser never does)."""
    given = request.query.get("format")
    if given is not None:
        if given not in ("json", "html"):
            raise sms.BadQuery(sms.BAD_FORMAT)
        return given == "json"
    accept = dict(reversed(weights(request.headers.get(hdrs.ACCEPT))))  # the first one counts
    return accept.get("application/json", 0.0) > accept.get("text/html", 0.0)


OPERATOR_KEY: Final = web.AppKey("operator_console", OperatorConsole)


def install(app: web.Application, runtime: Runtime) -> None:
    """Mount the console at /operator when OPERATOR_TOKEN is set; otherwise say how to."""
    token = runtime.settings.operator_token
    if token is None:
        app.on_startup.append(_say_off)
        return
    console = OperatorConsole(
        runtime.backend, Translator(domain=CONSOLE_DOMAIN), TokenAuth(token.get_secret_value())
    )
    app[OPERATOR_KEY] = console
    app.add_subapp(PREFIX, console.application())
    app.on_startup.append(_say_on)


async def _say_off(_app: web.Application) -> None:
    log.info(CONSOLE_OFF)


async def _say_on(_app: web.Application) -> None:
    log.info("operator console is on", failed_sms=SMS_PATH)

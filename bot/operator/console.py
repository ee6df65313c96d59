"""The staff console as an aiohttp sub-application mounted at `/operator` (issues 11 and 12).

Every request passes `guard` first: the security headers on every answer; the static files
and the sign-in page are public; the machine API (`GET /operator/sms` as JSON with
OPERATOR_TOKEN) is the only thing a token opens; everything else needs a live staff session
(a cookie), and every unsafe method a valid CSRF token of that session. Pages are Jinja2
templates (autoescaped) in kk/ru/en. See docs/operator.md.
"""

from __future__ import annotations

import collections
import datetime as dt
import secrets
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from backend.bootstrap import Backend
from backend.services import notifications, outbox, staff
from bot.app import READS_OWN_BODY
from bot.config import Settings
from bot.i18n import CONSOLE_DOMAIN, LANGUAGES, Translator
from bot.logs import get_logger
from bot.operator import sms
from bot.operator.auth import TokenAuth, Verdict
from bot.operator.language import C_, Words, choose_language, weights
from bot.operator.page import secure
from bot.operator.web import (
    FORM_KEY,
    MACHINE_KEY,
    STAFF_KEY,
    WORDS_KEY,
    BodyRefused,
    Forbidden,
    current,
    form,
    parse_form,
    read_body,
    render,
    require,
    words,
)
from bot.runtime import Runtime

log = get_logger("bot.operator")

PREFIX: Final = "/operator"
SMS_PATH: Final = f"{PREFIX}/sms"
LOGIN_PATH: Final = f"{PREFIX}/login"
PASSWORD_PATH: Final = f"{PREFIX}/password"
LANG_COOKIE: Final = "dariger_console_lang"
LOGIN_CSRF_COOKIE: Final = "dariger_console_login"
PACKAGE_DIR: Final = Path(__file__).resolve().parent
# Sign-in attempts per client address per minute (besides the per-account lock-out).
SIGN_INS_PER_MINUTE: Final = 10
# The largest body a console form may send: a 5 MB PDF and the multipart around it.
MAX_UPLOAD_BYTES: Final = 5 * 1024 * 1024 + 64 * 1024
UPLOAD_PATHS: Final = ("/document",)

WRONG_SIGN_IN: Final = C_(
    "The login or password is wrong, or sign-in is paused after too many failed attempts. "
    "Try again in a few minutes."
)
TOO_MANY: Final = C_("Too many sign-in attempts from this address. Wait a minute, then try again.")
BAD_CSRF: Final = C_(
    "The form has expired or did not come from this console. Reload the page and try again."
)
NOT_ALLOWED: Final = C_("Your role does not open this page.")
NOT_FOUND: Final = C_("There is no such page or application.")
SIGNED_OUT: Final = C_("You have signed out.")
EXPIRED: Final = C_("Your session has ended. Sign in again.")
TOO_LARGE: Final = C_("The upload is too large: a document is at most 5 MB.")
TOO_SLOW: Final = C_("The upload came too slowly. Try again.")


class SignInLimiter:
    """At most `limit` sign-in attempts per client address in any minute (in memory: per
    process; the per-account lock-out in the database is the real defence)."""

    def __init__(self, limit: int = SIGN_INS_PER_MINUTE) -> None:
        self.limit = limit
        self._seen: dict[str, collections.deque[dt.datetime]] = {}

    def allow(self, address: str, now: dt.datetime) -> bool:
        window = now - dt.timedelta(minutes=1)
        if len(self._seen) > 10_000:  # forget idle addresses
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > window}
        times = self._seen.setdefault(address, collections.deque())
        while times and times[0] <= window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


class StaffConsole:
    def __init__(
        self,
        backend: Backend,
        translator: Translator,
        *,
        settings: Settings,
        token: TokenAuth | None = None,
    ) -> None:
        self.backend = backend
        self.translator = translator
        self.token = token
        self.secure_cookies = settings.console_cookie_secure
        self.policy = staff.Policy(
            idle=dt.timedelta(minutes=settings.console_idle_minutes),
            absolute=dt.timedelta(hours=settings.console_session_hours),
        )
        self.limiter = SignInLimiter()
        # Pages add themselves here: (path, method, handler, name).
        self.sub = web.Application(middlewares=[self._guard_middleware()])

    @property
    def cookie_name(self) -> str:
        # `__Host-`: the browser keeps it only if Secure, host-only, Path=/ (no subdomain or
        # plain-http page can plant or read it).
        return "__Host-dariger_staff" if self.secure_cookies else "dariger_staff"

    def application(self) -> web.Application:
        sub = self.sub
        sub[READS_OWN_BODY] = True  # forms are read (and limited) by the guard
        aiohttp_jinja2.setup(
            sub,
            loader=jinja2.PackageLoader("bot.operator", "templates"),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            undefined=jinja2.StrictUndefined,
        )
        sub.router.add_get("", self.index)
        sub.router.add_get("/", self.index, name="home")
        sub.router.add_get("/login", self.login_page, name="login")
        sub.router.add_post("/login", self.login)
        sub.router.add_post("/logout", self.logout, name="logout")
        sub.router.add_get("/password", self.password_page, name="password")
        sub.router.add_post("/password", self.change_password)
        sub.router.add_get("/sms", self.failed_sms, name="sms")
        sub.router.add_get("/audit", self.audit_page, name="audit")
        sub.router.add_static("/static", PACKAGE_DIR / "static", name="static")
        from bot.operator import clinic_pages  # noqa: PLC0415 - pages import this module

        clinic_pages.add_routes(sub, self)
        from bot.operator import desk_pages  # noqa: PLC0415 - pages import this module

        desk_pages.add_routes(sub, self)
        from bot.operator import supervisor_pages  # noqa: PLC0415

        supervisor_pages.add_routes(sub, self)
        return sub

    # --- the guard ---------------------------------------------------------------------

    def _guard_middleware(self) -> Middleware:
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            try:
                answer = await self.guard(request, handler)
            except web.HTTPException as exc:
                secure(exc.headers)
                raise
            secure(answer.headers)
            asked = request.query.get("lang", "").strip().lower()
            if asked in LANGUAGES and not answer.prepared:
                answer.set_cookie(
                    LANG_COOKIE,
                    asked,
                    max_age=365 * 86400,
                    path="/",
                    secure=self.secure_cookies,
                    httponly=True,
                    samesite="Strict",
                )
            return answer

        return guard

    def words_for(self, request: web.Request) -> Words:
        asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
        language = choose_language(asked, request.headers.get(hdrs.ACCEPT_LANGUAGE))
        return Words(self.translator, language)

    def now(self) -> dt.datetime:
        return self.backend.clock.now()

    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request[WORDS_KEY] = self.words_for(request)
        path = request.path.removeprefix(PREFIX)
        if path.startswith("/static/"):
            return await handler(request)
        if hdrs.AUTHORIZATION in request.headers:
            return await self._machine(request, handler, path)
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        if unsafe:
            limit = MAX_UPLOAD_BYTES if path.endswith(UPLOAD_PATHS) else 64 * 1024
            try:
                raw = await read_body(request, limit)
            except BodyRefused as refused:
                said = words(request)
                text = TOO_LARGE if refused.status == 413 else TOO_SLOW
                return web.Response(status=refused.status, text=said(text))
            request[FORM_KEY] = parse_form(request.headers.get(hdrs.CONTENT_TYPE, ""), raw)
        if path == "/login":
            return await handler(request)
        token = request.cookies.get(self.cookie_name, "")
        signed_in = await staff.session(
            self.backend.uow(), token, now=self.now(), policy=self.policy
        )
        if signed_in is None:
            return self._to_sign_in(request, expired=bool(token))
        request[STAFF_KEY] = signed_in
        if unsafe:
            presented = request.headers.get("X-CSRF-Token") or form(request).get("csrf")
            if not staff.csrf_matches(signed_in, presented):
                log.warning(
                    "console_csrf_refused", path=request.path, login=signed_in.account.login
                )
                return self.problem(request, 403, BAD_CSRF)
        if signed_in.account.must_change_password and path not in ("/password", "/logout"):
            raise web.HTTPSeeOther(PASSWORD_PATH)
        try:
            return await handler(request)
        except Forbidden:
            return self.problem(request, 403, NOT_ALLOWED)
        except web.HTTPNotFound:
            return self.problem(request, 404, NOT_FOUND)

    async def _machine(
        self, request: web.Request, handler: Handler, path: str
    ) -> web.StreamResponse:
        """OPERATOR_TOKEN opens the failed-messages list as JSON, and nothing else."""
        verdict = (
            Verdict.WRONG
            if self.token is None
            else self.token.check(request.headers.get(hdrs.AUTHORIZATION))
        )
        if verdict is not Verdict.OK or path != "/sms" or request.method != "GET":
            log.warning(
                "operator_auth_refused",
                reason=verdict.value if verdict is not Verdict.OK else "not_an_api_path",
                path=request.path,
                remote=request.remote,
            )
            return web.json_response(
                {"error": "a valid OPERATOR_TOKEN opens GET /operator/sms?format=json only"},
                status=401,
                headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="Dariger 1414"'},
            )
        request[MACHINE_KEY] = True
        return await handler(request)

    def _to_sign_in(self, request: web.Request, *, expired: bool) -> web.StreamResponse:
        if request.method == "GET" and "text/event-stream" not in request.headers.get(
            hdrs.ACCEPT, ""
        ):
            target = request.rel_url.path_qs
            location = request.app.router["login"].url_for().with_query(next=target)
            if expired:
                location = location.update_query(expired="1")
            response = web.HTTPSeeOther(location)
            if expired:
                response.del_cookie(self.cookie_name, path="/")
            raise response
        return web.Response(status=401, text=words(request)(EXPIRED))

    def problem(self, request: web.Request, status: int, message: str) -> web.Response:
        said = words(request)
        return render(
            request, "problem.html", status=status, title=said(message), message=said(message)
        )

    # --- signing in and out ---------------------------------------------------------------

    def _login_form(
        self, request: web.Request, *, status: int = 200, error: str = "", login: str = ""
    ) -> web.Response:
        said = words(request)
        nonce = secrets.token_urlsafe(24)
        notice = ""
        if request.query.get("expired") == "1":
            notice = said(EXPIRED)
        elif request.query.get("out") == "1":
            notice = said(SIGNED_OUT)
        response = render(
            request,
            "login.html",
            status=status,
            title=said(C_("Sign in")),
            login_csrf=nonce,
            error=error,
            notice=notice,
            login=login,
            next=safe_next(request.query.get("next", "")),
        )
        # Login CSRF: a double-submit nonce (no session yet to tie a token to).
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            nonce,
            path=LOGIN_PATH,
            secure=self.secure_cookies,
            httponly=True,
            samesite="Strict",
            max_age=3600,
        )
        return response

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        return self._login_form(request)

    async def login(self, request: web.Request) -> web.StreamResponse:
        said = words(request)
        data = form(request)
        login = data.get("login").strip()[:64]
        nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not nonce or not secrets.compare_digest(nonce, data.get("csrf")):
            log.warning("console_csrf_refused", path=request.path, login=None)
            return self._login_form(request, status=403, error=said(BAD_CSRF), login=login)
        address = request.remote or "-"
        if not self.limiter.allow(address, self.now()):
            log.warning("console_sign_in_rate_limited", remote=address)
            return self._login_form(request, status=429, error=said(TOO_MANY), login=login)
        made = await staff.sign_in(
            self.backend.uow(),
            login,
            data.get("password"),
            now=self.now(),
            remote=address,
            policy=self.policy,
        )
        if made is None:
            log.info("console_sign_in_refused", remote=address)
            return self._login_form(request, status=401, error=said(WRONG_SIGN_IN), login=login)
        log.info("console_signed_in", login=made.session.account.login, remote=address)
        target = safe_next(data.get("next")) or str(request.app.router["home"].url_for())
        response = web.HTTPSeeOther(target)
        response.set_cookie(
            self.cookie_name,
            made.token,
            path="/",
            secure=self.secure_cookies,
            httponly=True,
            samesite="Strict",
        )
        response.del_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(self.cookie_name, "")
        await staff.sign_out(self.backend.uow(), token, now=self.now())
        log.info("console_signed_out", login=current(request).account.login)
        response = web.HTTPSeeOther(request.app.router["login"].url_for().with_query(out="1"))
        response.del_cookie(self.cookie_name, path="/")
        raise response

    async def password_page(
        self, request: web.Request, *, error: str = "", status: int = 200
    ) -> web.StreamResponse:
        said = words(request)
        return render(
            request,
            "password.html",
            status=status,
            title=said(C_("Change your password")),
            error=error,
            minimum=staff.MIN_PASSWORD,
        )

    async def change_password(self, request: web.Request) -> web.StreamResponse:
        said = words(request)
        data = form(request)
        new = data.get("new")
        if new != data.get("repeat"):
            return await self.password_page(
                request, error=said(C_("The two new passwords differ.")), status=422
            )
        try:
            changed = await staff.change_password(
                self.backend.uow(),
                current(request).account.id,
                current=data.get("current"),
                new=new,
                now=self.now(),
            )
        except staff.StaffError:
            message = C_(
                "The new password must have at least {minimum} characters and differ from "
                "the current one."
            )
            return await self.password_page(
                request, error=said(message, minimum=staff.MIN_PASSWORD), status=422
            )
        if not changed:
            return await self.password_page(
                request, error=said(C_("The current password is wrong.")), status=422
            )
        raise web.HTTPSeeOther(request.app.router["home"].url_for())

    # --- pages -----------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        account = current(request).account
        if account.role is staff.Role.CLINIC_STAFF:
            raise web.HTTPSeeOther(request.app.router["clinic_queue"].url_for())
        # 1414 operators and supervisors start at the desk's queue (issue 12).
        raise web.HTTPSeeOther(request.app.router["desk_queue"].url_for())

    async def audit_page(self, request: web.Request) -> web.StreamResponse:
        require(request, {staff.Role.SUPERVISOR})
        entries = await staff.audit_log(self.backend.uow(), limit=200)
        said = words(request)
        return render(
            request,
            "audit.html",
            title=said(C_("Audit log")),
            entries=[(sms.local_time(e.at), e) for e in entries],
        )

    async def failed_sms(self, request: web.Request) -> web.StreamResponse:
        said = words(request)
        machine = request.get(MACHINE_KEY, False)
        if not machine:
            require(request, staff.DESK_ROLES)
        try:
            json = machine or wants_json(request)
        except sms.BadQuery as bad:
            return web.Response(status=400, text=said(bad.msgid))
        try:
            days = sms.parse_days(request.query.get("days"))
        except sms.BadQuery as bad:
            if json:
                return web.json_response({"error": said(bad.msgid)}, status=400)
            return web.Response(status=400, text=said(bad.msgid))
        now = self.now()
        since = now - dt.timedelta(days=days)
        found = await outbox.problems(self.backend.uow(), since=since, limit=sms.LIMIT + 1)
        rows = [sms.shown(message) for message in found[: sms.LIMIT]]
        more = len(found) > sms.LIMIT
        # Issue 11: failed Telegram notifications on the same page.
        telegram = await notifications.problems(self.backend.uow(), since=since, limit=sms.LIMIT)
        who = None if machine else current(request).account.login
        log.info("operator_failed_sms_viewed", days=days, rows=len(rows), json=json, login=who)
        if json:
            return web.json_response(
                sms.as_json(rows, days=days, since=since, now=now, more=more, telegram=telegram)
            )
        title, _nav, body = sms.as_html(
            rows,
            words=said,
            language=said.language,
            days=days,
            since=since,
            more=more,
            telegram=telegram,
        )
        return render(request, "fragment.html", title=title, body=jinja2_markup(body))


def jinja2_markup(html: str) -> object:
    """HTML built (and escaped value by value) in Python, placed as is in a template."""
    from markupsafe import Markup  # noqa: PLC0415 - jinja2's own dependency

    return Markup(html)  # noqa: S704 - sms.as_html escapes every value it places


def safe_next(target: str) -> str:
    """A console path to go back to after signing in; anything else (another site): ''."""
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(PREFIX + "/") or "\\" in target:
        return ""
    if target.startswith((LOGIN_PATH, f"{PREFIX}/logout")):
        return ""
    return target[:500]


def wants_json(request: web.Request) -> bool:
    """`?format=json|html`, else JSON when `Accept` prefers it to HTML (a browser never does)."""
    given = request.query.get("format")
    if given is not None:
        if given not in ("json", "html"):
            raise sms.BadQuery(sms.BAD_FORMAT)
        return given == "json"
    accept = dict(reversed(weights(request.headers.get(hdrs.ACCEPT))))  # the first one counts
    return accept.get("application/json", 0.0) > accept.get("text/html", 0.0)


OPERATOR_KEY: Final = web.AppKey("operator_console", StaffConsole)


def install(app: web.Application, runtime: Runtime) -> None:
    """Mount the staff console at /operator (always: staff sign in with their accounts);
    OPERATOR_TOKEN, when set, also opens the failed-messages JSON to scripts."""
    settings = runtime.settings
    token = settings.operator_token
    console = StaffConsole(
        runtime.backend,
        Translator(domain=CONSOLE_DOMAIN),
        settings=settings,
        token=TokenAuth(token.get_secret_value()) if token is not None else None,
    )
    app[OPERATOR_KEY] = console
    app.add_subapp(PREFIX, console.application())
    app.on_startup.append(_say_on if settings.console_cookie_secure else _say_insecure)


async def _say_on(_app: web.Application) -> None:
    log.info("staff console is on", path=PREFIX + "/", failed_sms=SMS_PATH)


async def _say_insecure(_app: web.Application) -> None:
    log.warning(
        "staff console cookies are not Secure (CONSOLE_COOKIE_SECURE=false): "
        "for a plain-http development server on 127.0.0.1 only"
    )

"""`dariger`: the command line, and the composition root of the running service.

    dariger serve          migrate (MIGRATE_ON_START), then serve HTTP on HOST:PORT
    dariger migrate        upgrade the database to the latest schema
    dariger demo-data      load the demo city (idempotent: a second run tops up slots)
    dariger import PATH    import a register export (a file or a folder)
    dariger top-up-slots   make slots from the stored schedules for the booking horizon
    dariger chat --phone P text the service by SMS from this terminal (signed like Twilio)
    dariger clinic-key add CLINIC [--label L] / list CLINIC / revoke KEY_ID   Clinic API keys
    dariger operator add LOGIN --role operator|supervisor / remove / reset / list   accounts
    dariger clinic-staff add LOGIN --clinic CODE   a clinic staff member's console account

Exit codes: 0 done, 1 failed (a clear message on stderr, no traceback), 2 bad usage or
configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from backend.adapters.db import migrate
from backend.bootstrap import Backend, BookingPolicy, bootstrap
from backend.pii import mask_pii
from bot.app import create_app, make_runner
from bot.config import Settings
from bot.logs import configure_logging, get_logger
from bot.operator import staff_cli
from bot.runtime import warn_unknown_kurban_ait

log = get_logger("bot.cli")

TELEGRAM_OFF = "Telegram is off: set TELEGRAM_BOT_TOKEN to turn it on"
MAX_TOP_UP_DAYS = 366
_SQLITE_SETTLE_SECONDS = 0.05

Command = Callable[[Settings, argparse.Namespace], int]


def _say(*lines: object) -> None:
    """Command output for people (stdout); logs go to stderr."""
    for line in lines:
        print(line, flush=True)  # noqa: T201 - the CLI's own output


def _fail(message: str) -> int:
    print(f"dariger: {mask_pii(message)}", file=sys.stderr, flush=True)  # noqa: T201
    return 1


def _reason(exc: BaseException) -> str:
    """The error's own words, without SQLAlchemy's "Background on this error" link."""
    text = str(exc).split("\n(Background on", 1)[0]
    return f"{type(exc).__name__}: {text}"


def build_backend(settings: Settings) -> Backend:
    return bootstrap(
        settings.database_url,
        policy=BookingPolicy(max_future_appointments=settings.max_future_appointments),
    )


def describe_database(url: str) -> str:
    """The database URL with its password hidden, for start-up lines."""
    return make_url(url).render_as_string(hide_password=True)


def _migrate(settings: Settings) -> int:
    """Upgrade the schema (blocking; called before the event loop starts)."""
    try:
        migrate(settings.database_url)
    except (SQLAlchemyError, OSError) as exc:
        log.debug("migration failed", exc_info=True)
        return _fail(f"cannot migrate {describe_database(settings.database_url)}: {_reason(exc)}")
    return 0


# --- serve ---------------------------------------------------------------------------------


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Run the HTTP application until SIGTERM/SIGINT (or until `stop` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:  # a signal during start-up stops the service once it is up
        loop.add_signal_handler(sig, stop.set)
    backend = build_backend(settings)
    app = create_app(settings, backend)
    # Our middleware logs requests (without query strings); slow clients are limited.
    runner = make_runner(app)
    try:
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
        except OSError as exc:
            return _fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}")
        url = f"http://{settings.host}:{settings.port}"
        log.info(
            "serving",
            url=url,
            database=describe_database(settings.database_url),
            redis="configured" if settings.redis_url else "not configured (in-process state)",
            sms_sender=settings.sms_sender,
        )
        _say(f"Dariger is serving on {url} (health: {url}/healthz, readiness: {url}/readyz)")
        await _check_kurban_ait(backend)
        if not settings.telegram_enabled:
            _say(TELEGRAM_OFF)
        if settings.sms_sender == "console":
            _say(f"SMS: console sender, messages are written to {settings.console_sms_path}")
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()  # closes the backend and Redis (the app's on_cleanup)
        for sig in signals:
            loop.remove_signal_handler(sig)
    _say("Dariger stopped")
    return 0


async def _check_kurban_ait(backend: Backend) -> None:
    """Warn (never fail) when this or next year's Құрбан айт is unknown (issue 10 part 5)."""
    try:
        await warn_unknown_kurban_ait(backend)
    except SQLAlchemyError:
        log.warning("cannot check the holiday calendar", exc_info=True)


def _cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    # Every setting was validated when Settings loaded (main): nothing has run yet.
    if settings.migrate_on_start and (code := _migrate(settings)) != 0:
        return code
    try:
        return asyncio.run(serve(settings))
    except ValueError as exc:  # a setting only the wiring could judge: still one line
        log.debug("start-up failed", exc_info=True)
        print(f"dariger: configuration error: {mask_pii(str(exc))}", file=sys.stderr)  # noqa: T201
        return 2


# --- one-shot commands -----------------------------------------------------------------------


def _cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    code = _migrate(settings)
    if code == 0:
        _say(f"Database is at the latest schema: {describe_database(settings.database_url)}")
    return code


def _with_backend(settings: Settings, work: Callable[[Backend], Awaitable[object]]) -> object:
    async def run() -> object:
        backend = build_backend(settings)
        try:
            return await work(backend)
        finally:
            await backend.close()
            # asyncio.run closes the loop next. A SQLite connection invalidated by an error is
            # stopped without being awaited (SQLAlchemy's aiosqlite adapter, sqlalchemy#13039),
            # and its worker thread would answer into a closed loop ("Event loop is closed").
            if backend.engine.dialect.name == "sqlite":
                await asyncio.sleep(_SQLITE_SETTLE_SECONDS)

    return asyncio.run(run())


def _cmd_demo_data(settings: Settings, _args: argparse.Namespace) -> int:
    from backend.services.demo import load_demo_data  # noqa: PLC0415 - only this command

    try:
        summary = _with_backend(settings, load_demo_data)
    except (SQLAlchemyError, OSError) as exc:
        log.debug("demo data failed", exc_info=True)
        return _fail(f"cannot load demo data (run `dariger migrate` first?): {_reason(exc)}")
    _say(summary)
    return 0


def _cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from backend.services.importer import ImportFileError  # noqa: PLC0415

    path = pathlib.Path(args.path)
    if not path.exists():
        return _fail(f"import: {path} does not exist")
    try:
        summary = _with_backend(
            settings, lambda backend: _import_announced(settings, backend, path)
        )
    except ImportFileError as exc:
        # The importer lists every problem by file, row and field; nothing was written.
        return _fail(f"import of {path} failed: {exc}")
    except (ValueError, OSError, SQLAlchemyError) as exc:
        log.debug("import failed", exc_info=True)
        return _fail(f"import of {path} failed: {_reason(exc)}")
    _say(summary)
    return 0


async def _import_announced(settings: Settings, backend: Backend, path: pathlib.Path) -> object:
    """The import, its changes of patients' phones and languages announced to the sign-in
    sessions the serving processes keep in Redis (issue 16: a new phone ends the patient's
    sessions at once, not when the session's card expires). Without REDIS_URL the sessions
    live in the serving process, out of this one's reach: they see it within CARD_TTL."""
    from backend.services.importer import import_path  # noqa: PLC0415 - only this command
    from bot.i18n import Translator  # noqa: PLC0415
    from bot.runtime import build_redis, build_sender, otp_pepper  # noqa: PLC0415
    from bot.wiring import build_services  # noqa: PLC0415

    if not settings.redis_url:
        return await import_path(backend, path)
    redis = build_redis(settings.redis_url)
    try:
        # The services watch the backend's patient changes (bot/wiring.py), as `serve` does.
        build_services(
            backend,
            sender=build_sender(settings),
            pepper=otp_pepper(settings),
            translator=Translator(),
            redis=redis,
        )
        return await import_path(backend, path)
    finally:
        await redis.aclose()


def _cmd_top_up_slots(settings: Settings, args: argparse.Namespace) -> int:
    """What `serve` does every few hours: the stored weekly schedules become slots for the
    next N days (default: the booking horizon) from each clinic's local today."""
    from backend.services.schedules import top_up_slots  # noqa: PLC0415 - only this command

    async def run(backend: Backend) -> tuple[int, int]:
        days: int = args.days or backend.policy.horizon_days
        async with backend.uow() as uow:
            return await top_up_slots(uow, now=backend.clock.now(), days=days), days

    try:
        created, days = cast(tuple[int, int], _with_backend(settings, run))
    except (SQLAlchemyError, OSError) as exc:
        log.debug("top-up failed", exc_info=True)
        return _fail(f"cannot top up slots (run `dariger migrate` first?): {_reason(exc)}")
    _say(f"Slots topped up: {created} new (next {days} days from each clinic's local date)")
    return 0


def _days(text: str) -> int:
    """A whole number of days, 1-366 (argparse type)."""
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_TOP_UP_DAYS:
        raise argparse.ArgumentTypeError(f"expected a whole number 1-{MAX_TOP_UP_DAYS}")
    return days


def _cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """The SMS the console sender wrote (the embedded default): how a newcomer reads a code."""
    from backend.domain.phone import mask_phone  # noqa: PLC0415
    from otp import read_console_outbox  # noqa: PLC0415

    messages = read_console_outbox(settings.console_sms_path, args.limit)
    if not messages:
        _say(f"no SMS yet in {settings.console_sms_path}")
        return 0
    for message in messages:
        to = mask_phone(str(message.get("to", "")))
        _say(f"{message.get('at', '')}  to {to}", f"  {message.get('body', '')}")
    return 0


def _cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Text the service from the terminal through the real SMS path (bot/sms/chat.py)."""
    import logging  # noqa: PLC0415 - only this command

    import aiohttp  # noqa: PLC0415

    from backend.domain.phone import InvalidPhone, normalize_kz_mobile  # noqa: PLC0415
    from bot.sms.chat import (  # noqa: PLC0415
        ChatError,
        chat_in_process,
        chat_remote,
        stdin_lines,
    )

    try:
        phone = normalize_kz_mobile(args.phone)
    except InvalidPhone:
        message = f"dariger: chat: {args.phone!r} is not a Kazakhstan mobile number"
        print(message, file=sys.stderr)  # noqa: T201
        return 2
    if settings.log_level != "DEBUG":  # the terminal is for the conversation
        logging.getLogger().setLevel(logging.ERROR)
    if args.url:
        conversation = chat_remote(settings, args.url, phone, stdin_lines(), sys.stdout)
    else:
        if settings.migrate_on_start and (code := _migrate(settings)) != 0:
            return code
        conversation = chat_in_process(
            settings, build_backend(settings), phone, stdin_lines(), sys.stdout
        )
    try:
        asyncio.run(conversation)
    except ChatError as exc:
        return _fail(f"chat: {exc}")
    except (aiohttp.ClientError, OSError) as exc:
        return _fail(f"chat: cannot reach the service: {_reason(exc)}")
    return 0


# --- clinic-key: the Clinic API's keys ------------------------------------------------------


def _cmd_clinic_key_add(settings: Settings, args: argparse.Namespace) -> int:
    """A new key for a clinic system, printed once (only its hash is stored)."""
    from backend.services import clinic  # noqa: PLC0415 - only these commands

    async def run(backend: Backend) -> clinic.NewKey:
        return await clinic.create_key(
            backend.uow(), args.clinic, label=args.label, now=backend.clock.now()
        )

    try:
        made = cast(clinic.NewKey, _with_backend(settings, run))
    except clinic.UnknownClinic as exc:
        return _fail(f"clinic-key: {exc}")
    except ValueError as exc:
        return _fail(f"clinic-key: {exc}")
    except (SQLAlchemyError, OSError) as exc:
        log.debug("clinic-key add failed", exc_info=True)
        return _fail(f"cannot make a key (run `dariger migrate` first?): {_reason(exc)}")
    log.info("clinic API key created", key_id=made.view.id, clinic=made.view.clinic_code)
    _say(
        f"Clinic API key #{made.view.id} for clinic {made.view.clinic_code}"
        + (f" ({made.view.label})" if made.view.label else "")
        + ":",
        made.secret,
        "It is shown only now: keep it in the clinic system's secret store.",
        "Use it as `Authorization: Bearer <key>` (docs/clinic-api.md).",
    )
    return 0


def _cmd_clinic_key_list(settings: Settings, args: argparse.Namespace) -> int:
    from backend.services import clinic  # noqa: PLC0415 - only these commands

    async def run(backend: Backend) -> list[clinic.KeyView]:
        return await clinic.list_keys(backend.uow(), args.clinic)

    try:
        keys = cast(list[clinic.KeyView], _with_backend(settings, run))
    except clinic.UnknownClinic as exc:
        return _fail(f"clinic-key: {exc}")
    except (SQLAlchemyError, OSError) as exc:
        log.debug("clinic-key list failed", exc_info=True)
        return _fail(f"cannot list keys (run `dariger migrate` first?): {_reason(exc)}")
    if not keys:
        _say(f"no keys for clinic {args.clinic}")
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M} UTC" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M} UTC" if key.last_used_at else "never"
        _say(
            f"#{key.id}  {key.prefix}  {state}  created {key.created_at:%Y-%m-%d %H:%M} UTC"
            f"  last used {used}  {key.label}".rstrip()
        )
    return 0


def _cmd_clinic_key_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from backend.services import clinic  # noqa: PLC0415 - only these commands

    async def run(backend: Backend) -> clinic.KeyView:
        return await clinic.revoke_key(backend.uow(), args.key_id, now=backend.clock.now())

    try:
        key = cast(clinic.KeyView, _with_backend(settings, run))
    except clinic.UnknownKey as exc:
        return _fail(f"clinic-key: {exc}")
    except (SQLAlchemyError, OSError) as exc:
        log.debug("clinic-key revoke failed", exc_info=True)
        return _fail(f"cannot revoke the key (run `dariger migrate` first?): {_reason(exc)}")
    log.info("clinic API key revoked", key_id=key.id, clinic=key.clinic_code)
    _say(f"Clinic API key #{key.id} of clinic {key.clinic_code} is revoked")
    return 0


def _add_clinic_key_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    key_cmd = commands.add_parser("clinic-key", help="the Clinic API's keys: add, list, revoke")
    actions = key_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="make a key for a clinic (printed once)")
    add.add_argument("clinic", metavar="CLINIC", help="the clinic's code")
    add.add_argument("--label", default="", help="who uses it, e.g. the clinic's MIS name")
    add.set_defaults(func=_cmd_clinic_key_add)
    listing = actions.add_parser("list", help="a clinic's keys (never the keys themselves)")
    listing.add_argument("clinic", metavar="CLINIC", help="the clinic's code")
    listing.set_defaults(func=_cmd_clinic_key_list)
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id", metavar="KEY_ID", type=int, help="the key's number (#N)")
    revoke.set_defaults(func=_cmd_clinic_key_revoke)


# --- electronic documents (issue 13) ----------------------------------------------------


def _cmd_keys_dev(settings: Settings, args: argparse.Namespace) -> int:
    from bot.documents.keys import make_dev_key  # noqa: PLC0415 - only this command

    out = pathlib.Path(args.out or settings.signing_dev_dir)
    try:
        key = make_dev_key(out)
    except OSError as exc:
        return _fail(f"cannot write the key to {out}: {_reason(exc)}")
    _say(
        "This is a DEVELOPMENT signing key (self-signed): never use it in production.",
        f"PKCS#12: {key.p12_path} (password: {key.password.decode()})",
        f"Development trust root: {key.root_path}",
        "Production: set SIGNING_P12_PATH and SIGNING_P12_PASSWORD to the clinic's key.",
    )
    return 0


def _cmd_certificate_issue(settings: Settings, args: argparse.Namespace) -> int:
    from backend.domain.documents import format_code  # noqa: PLC0415 - only these commands
    from backend.domain.refusals import Refusal  # noqa: PLC0415
    from backend.domain.statuses import Actor, InvalidTransition  # noqa: PLC0415
    from backend.services import documents  # noqa: PLC0415
    from bot.documents.wiring import build_documents  # noqa: PLC0415

    async def run(backend: Backend) -> documents.IssuedDocument:
        ports = build_documents(settings, backend)
        # S5: the clinic completes 027/е; S17-S19 are SYSTEM's (computed from the register).
        try:
            return await documents.issue_statement(
                backend.uow(), ports, args.application, now=backend.clock.now()
            )
        except documents.DocumentError as exc:
            if exc.code != "not_a_statement":
                raise
        return await documents.issue(
            backend.uow(), ports, args.application, actor=Actor.CLINIC, now=backend.clock.now()
        )

    try:
        issued = cast(documents.IssuedDocument, _with_backend(settings, run))
    except Refusal as exc:
        return _fail(f"certificate: {exc.code.value}")
    except (documents.DocumentError, InvalidTransition) as exc:
        return _fail(f"certificate: {exc}")
    except (SQLAlchemyError, OSError) as exc:
        log.debug("certificate issue failed", exc_info=True)
        return _fail(f"cannot issue (run `dariger migrate` first?): {_reason(exc)}")
    _say(
        f"Application {issued.application_number}: document issued, "
        f"verification code {format_code(issued.code)}"
    )
    return 0


def _cmd_certificate_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from backend.services import documents  # noqa: PLC0415 - only this command

    async def run(backend: Backend) -> bool:
        return await documents.revoke(
            backend.uow(), args.code, now=backend.clock.now(), reason=args.reason
        )

    try:
        known = cast(bool, _with_backend(settings, run))
    except (SQLAlchemyError, OSError) as exc:
        return _fail(f"cannot revoke (run `dariger migrate` first?): {_reason(exc)}")
    if not known:
        return _fail(f"certificate: no document has the code {args.code}")
    _say(f"Document {args.code} is revoked: verification says so from now on")
    return 0


def _add_document_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    keys_cmd = commands.add_parser("keys", help="document signing keys")
    key_actions = keys_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    dev = key_actions.add_parser("dev", help="make a self-signed DEVELOPMENT signing key")
    dev.add_argument("--out", default="", help="folder (default SIGNING_DEV_DIR, var/keys)")
    dev.set_defaults(func=_cmd_keys_dev)
    cert_cmd = commands.add_parser("certificate", help="electronic documents: issue, revoke")
    actions = cert_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = actions.add_parser(
        "issue", help="make, sign and attach the document of an application (completes it)"
    )
    issue.add_argument("application", metavar="APPLICATION", help="the application number")
    issue.set_defaults(func=_cmd_certificate_issue)
    revoke = actions.add_parser("revoke", help="revoke a document by its verification code")
    revoke.add_argument("code", metavar="CODE", help="the verification code, e.g. K7QF-3M9P-XW")
    revoke.add_argument("--reason", default="", help="why (kept with the document)")
    revoke.set_defaults(func=_cmd_certificate_revoke)


# --- main ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dariger",
        description="Dariger: Telegram and SMS access to primary-care state services.",
        epilog="Settings come from the environment or .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve_cmd = commands.add_parser(
        "serve", help="migrate (MIGRATE_ON_START) and serve HTTP on HOST:PORT"
    )
    serve_cmd.set_defaults(func=_cmd_serve)
    commands.add_parser("migrate", help="upgrade the database schema").set_defaults(
        func=_cmd_migrate
    )
    commands.add_parser(
        "demo-data", help="load the demo city: clinics, doctors, patients, slots (idempotent)"
    ).set_defaults(func=_cmd_demo_data)
    import_cmd = commands.add_parser("import", help="import a register export (JSON or CSV)")
    import_cmd.add_argument("path", metavar="PATH", help="a file or a folder of files")
    import_cmd.set_defaults(func=_cmd_import)
    top_up_cmd = commands.add_parser(
        "top-up-slots",
        help="make slots from the stored schedules for the next days (serve does it every 6 h)",
    )
    top_up_cmd.add_argument(
        "--days", type=_days, default=None, help="how many days ahead (default: booking horizon)"
    )
    top_up_cmd.set_defaults(func=_cmd_top_up_slots)
    outbox_cmd = commands.add_parser(
        "outbox", help="list the last SMS of the console sender (codes included: dev only)"
    )
    outbox_cmd.add_argument("--limit", type=int, default=10, help="how many (default 10)")
    outbox_cmd.set_defaults(func=_cmd_outbox)
    chat_cmd = commands.add_parser(
        "chat", help="text the service from this terminal through the real SMS path"
    )
    chat_cmd.add_argument("--phone", required=True, help="the patient's phone, +7 7xx xxx xx xx")
    chat_cmd.add_argument(
        "--url", default="", help="a running service (default: an in-process app)"
    )
    chat_cmd.set_defaults(func=_cmd_chat)
    _add_clinic_key_commands(commands)
    staff_cli.add_commands(commands)  # operator / clinic-staff accounts (bot/operator)
    _add_document_commands(commands)
    return parser


def settings_error(exc: ValidationError) -> str:
    """One line per bad setting, by its environment name; values are never echoed."""
    lines = []
    for error in exc.errors():
        names = ".".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {names}: {message}" if names else f"  {message}")
    return "configuration error:\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or bad usage: argparse has printed why
        return exc.code if isinstance(exc.code, int) else 2
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"dariger: {settings_error(exc)}", file=sys.stderr)  # noqa: T201
        return 2
    configure_logging(settings.log_format, settings.log_level)
    command = cast(Command, args.func)
    try:
        return command(settings, args)
    except KeyboardInterrupt:
        return 130

"""`dariger operator add|remove|reset|list` and `dariger clinic-staff add`: console accounts.

A password never goes through argv (shell history, `ps`): `add` and `reset` print a one-time
password (to be changed at the first sign-in), or read one from stdin with `--password-stdin`
(without echo on a terminal).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from sqlalchemy.exc import SQLAlchemyError

from backend.services import staff
from bot.logs import get_logger

if TYPE_CHECKING:
    from backend.bootstrap import Backend
    from bot.config import Settings

log = get_logger("bot.operator.cli")


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """(the password, whether it was generated here and must be shown once)."""
    if not args.password_stdin:
        return staff.one_time_password(), True
    if sys.stdin.isatty():
        return getpass.getpass("Password (not echoed): "), False
    return sys.stdin.readline().rstrip("\r\n"), False


class _Failed(Exception):
    """The command failed and has said why on stderr: exit with `code`."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _run(settings: Settings, work: object, what: str) -> object:
    from bot import cli  # noqa: PLC0415 - bot.cli imports this module

    try:
        return cli._with_backend(settings, work)  # type: ignore[arg-type]
    except staff.StaffError as exc:
        raise _Failed(cli._fail(f"{what}: {exc}")) from None
    except (SQLAlchemyError, OSError) as exc:
        log.debug("staff account command failed", exc_info=True)
        raise _Failed(
            cli._fail(f"{what} failed (run `dariger migrate` first?): {cli._reason(exc)}")
        ) from None


def _show(account: staff.Account, password: str | None, *, what: str) -> None:
    where = f", clinic {account.clinic_code}" if account.clinic_code else ""
    print(f"{what}: {account.login} ({account.role.value}{where})")  # noqa: T201
    if password is not None:
        print("One-time password (shown only now; changed at the first sign-in):")  # noqa: T201
        print(password)  # noqa: T201


def _cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    role = staff.Role(args.role)
    try:
        password, generated = _password(args)
        staff.check_password(password)
    except staff.StaffError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)  # noqa: T201
        return 2

    async def run(backend: Backend) -> staff.Account:
        return await staff.add_account(
            backend.uow(),
            args.login,
            role=role,
            password=password,
            now=backend.clock.now(),
            display_name=args.name or "",
            clinic_code=args.clinic,
            must_change_password=generated,
        )

    account = cast(staff.Account, _run(settings, run, args.command))
    log.info("staff account added", login=account.login, role=account.role.value)
    _show(account, password if generated else None, what="Account added")
    return 0


def _cmd_remove(settings: Settings, args: argparse.Namespace) -> int:
    async def run(backend: Backend) -> staff.Account:
        return await staff.remove_account(backend.uow(), args.login, now=backend.clock.now())

    account = cast(staff.Account, _run(settings, run, "operator remove"))
    log.info("staff account disabled", login=account.login)
    _show(account, None, what="Account disabled, its sessions ended")
    return 0


def _cmd_reset(settings: Settings, args: argparse.Namespace) -> int:
    try:
        password, generated = _password(args)
        staff.check_password(password)
    except staff.StaffError as exc:
        print(f"operator reset: {exc}", file=sys.stderr)  # noqa: T201
        return 2

    async def run(backend: Backend) -> staff.Account:
        return await staff.reset_password(
            backend.uow(), args.login, password=password, now=backend.clock.now()
        )

    account = cast(staff.Account, _run(settings, run, "operator reset"))
    log.info("staff password reset", login=account.login)
    _show(account, password if generated else None, what="Password reset, unlocked")
    return 0


def _cmd_list(settings: Settings, _args: argparse.Namespace) -> int:
    async def run(backend: Backend) -> list[staff.Account]:
        return await staff.accounts(backend.uow())

    for account in cast(list[staff.Account], _run(settings, run, "operator list")):
        state = "disabled" if account.disabled else "active"
        where = f" {account.clinic_code}" if account.clinic_code else ""
        print(f"{account.login}\t{account.role.value}{where}\t{state}\t{account.display_name}")  # noqa: T201
    return 0


def _guarded(
    command: Callable[[Settings, argparse.Namespace], int],
) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return command(settings, args)
        except _Failed as failed:
            return failed.code

    return run


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (no echo) instead of printing a one-time one",
    )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    op = commands.add_parser("operator", help="staff console accounts: add, remove, reset, list")
    actions = op.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="a new console account")
    add.add_argument("login")
    add.add_argument(
        "--role", choices=[r.value for r in staff.Role], default=staff.Role.OPERATOR.value
    )
    add.add_argument("--name", help="the name shown in the console")
    add.add_argument("--clinic", help="the clinic's code (clinic staff only)")
    _password_option(add)
    add.set_defaults(func=_guarded(_cmd_add))
    remove = actions.add_parser("remove", help="disable an account and end its sessions")
    remove.add_argument("login")
    remove.set_defaults(func=_guarded(_cmd_remove))
    reset = actions.add_parser("reset", help="a new password; unlocks the account")
    reset.add_argument("login")
    _password_option(reset)
    reset.set_defaults(func=_guarded(_cmd_reset))
    actions.add_parser("list", help="every account (never a password)").set_defaults(
        func=_guarded(_cmd_list)
    )

    clinic_staff = commands.add_parser("clinic-staff", help="clinic staff console accounts")
    cs_actions = clinic_staff.add_subparsers(dest="action", required=True, metavar="ACTION")
    cs_add = cs_actions.add_parser("add", help="a clinic staff account")
    cs_add.add_argument("login")
    cs_add.add_argument("--clinic", required=True, help="the clinic's code")
    cs_add.add_argument("--name", help="the name shown in the console")
    _password_option(cs_add)
    cs_add.set_defaults(func=_guarded(_cmd_add), role=staff.Role.CLINIC_STAFF.value)

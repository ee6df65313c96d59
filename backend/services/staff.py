"""The staff console's accounts, sessions and audit log (issues 11 and 12). No HTTP here.

Accounts: 1414 operators, supervisors and clinic staff (each bound to one clinic). Passwords
are kept only as argon2id hashes (argon2-cffi); a password is never stored, logged or returned
except the one-time password `reset` makes, which the caller shows once.

Sessions: the browser holds a random token; the table holds only its SHA-256 (a leaked table
opens no session). Each session has its CSRF secret (the synchroniser token of its forms), an
idle expiry (moved on by use) and an absolute one.

Sign-in: the same answer for an unknown login, a wrong password, a disabled account and a
locked one (`None`), so the page tells nothing about which logins exist. After
`Policy.lock_after` failures in a row the account is locked, for a time that doubles with each
further failure (capped); an unknown login costs the same argon2 work as a known one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update

from backend.adapters import orm
from backend.adapters.repository import SqlClinicApi
from backend.services.clinic import Caller
from backend.services.common import require_aware
from backend.services.unit_of_work import UnitOfWork


class Role(StrEnum):
    OPERATOR = "operator"  # 1414: the queue and their own chats
    SUPERVISOR = "supervisor"  # 1414: all chats, reassign, desk hours, figures
    CLINIC_STAFF = "clinic_staff"  # one clinic's applications (clinics without a system)


DESK_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR})

_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]")
MIN_PASSWORD = 12
MAX_PASSWORD = 256
MAX_NAME = 100


class StaffError(Exception):
    """A refused account operation, with a message for the CLI."""


@dataclass(frozen=True)
class Policy:
    idle: dt.timedelta = dt.timedelta(minutes=30)
    absolute: dt.timedelta = dt.timedelta(hours=12)
    lock_after: int = 5
    lock_first: dt.timedelta = dt.timedelta(minutes=1)
    lock_max: dt.timedelta = dt.timedelta(hours=1)

    def lock_for(self, failures: int) -> dt.timedelta | None:
        """How long an account is locked after `failures` failures in a row (None: not)."""
        if failures < self.lock_after:
            return None
        doubled: dt.timedelta = self.lock_first * (2 ** min(failures - self.lock_after, 16))
        return min(doubled, self.lock_max)


@dataclass(frozen=True)
class Account:
    id: int
    login: str
    display_name: str
    role: Role
    clinic_id: int | None
    clinic_code: str | None
    must_change_password: bool
    disabled: bool


@dataclass(frozen=True)
class StaffSession:
    account: Account
    csrf_secret: str
    expires_at: dt.datetime  # the earlier of the idle and the absolute expiry


@dataclass(frozen=True)
class NewSession:
    token: str  # for the cookie only: never stored, never logged
    session: StaffSession


@dataclass(frozen=True)
class AuditEntry:
    login: str
    action: str
    target: str
    detail: str
    at: dt.datetime


@dataclass(frozen=True)
class StaffCaller(Caller):
    """A clinic staff member acting through backend.services.clinic (no API key: key_id 0)."""

    login: str = ""

    def note(self, text: str = "") -> str:
        who = f"clinic staff {self.login}"
        return f"{who}: {text}"[:500] if text else who


_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise StaffError(f"a password has at most {MAX_PASSWORD} characters")
    return password


def one_time_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_login(login: str) -> str:
    return login.strip().lower()


def _check_login(login: str) -> str:
    login = normalize_login(login)
    if not _LOGIN.fullmatch(login):
        raise StaffError(
            "a login is 3-64 characters: latin letters, digits, '.', '_' or '-' "
            "(starting and ending with a letter or digit)"
        )
    return login


async def _clinic_codes(uow: UnitOfWork) -> dict[int, str]:
    rows = (await uow.session.execute(select(orm.clinics.c.id, orm.clinics.c.code))).all()
    return {row.id: row.code for row in rows}


def _account(row: Any, codes: dict[int, str]) -> Account:
    return Account(
        id=row.id,
        login=row.login,
        display_name=row.display_name,
        role=Role(row.role),
        clinic_id=row.clinic_id,
        clinic_code=codes.get(row.clinic_id) if row.clinic_id is not None else None,
        must_change_password=row.must_change_password,
        disabled=row.disabled_at is not None,
    )


async def _row(uow: UnitOfWork, login: str) -> Any:
    stmt = select(orm.staff_accounts).where(orm.staff_accounts.c.login == normalize_login(login))
    return (await uow.session.execute(stmt)).one_or_none()


async def add_account(
    uow: UnitOfWork,
    login: str,
    *,
    role: Role,
    password: str,
    now: dt.datetime,
    display_name: str = "",
    clinic_code: str | None = None,
    must_change_password: bool = True,
) -> Account:
    now = require_aware(now)
    login = _check_login(login)
    check_password(password)
    name = " ".join(display_name.split())[:MAX_NAME] or login
    async with uow:
        clinic_id = None
        if role is Role.CLINIC_STAFF:
            if not clinic_code:
                raise StaffError("clinic staff need a clinic: --clinic CODE")
            clinic = await SqlClinicApi(uow.session).clinic_by_code(clinic_code.strip())
            if clinic is None:
                raise StaffError(f"no clinic with the code {clinic_code!r}")
            clinic_id = clinic.id
        elif clinic_code:
            raise StaffError("only clinic staff belong to a clinic")
        existing = await _row(uow, login)
        if existing is not None:
            raise StaffError(f"the login {login!r} is taken")
        await uow.session.execute(
            insert(orm.staff_accounts).values(
                login=login,
                display_name=name,
                role=role.value,
                clinic_id=clinic_id,
                password_hash=hash_password(password),
                failed_attempts=0,
                locked_until=None,
                must_change_password=must_change_password,
                created_at=now,
                disabled_at=None,
            )
        )
        await _audit(uow, None, login, "account_added", login, role.value, None, now)
        row = await _row(uow, login)
        account = _account(row, await _clinic_codes(uow))
        await uow.commit()
        return account


async def remove_account(uow: UnitOfWork, login: str, *, now: dt.datetime) -> Account:
    """Disable the account (its audit rows stay) and end its sessions."""
    now = require_aware(now)
    async with uow:
        row = await _row(uow, login)
        if row is None:
            raise StaffError(f"no account {normalize_login(login)!r}")
        table = orm.staff_accounts
        await uow.session.execute(
            update(table).where(table.c.id == row.id).values(disabled_at=now)
        )
        await uow.session.execute(
            delete(orm.staff_sessions).where(orm.staff_sessions.c.account_id == row.id)
        )
        await _audit(uow, row.id, row.login, "account_disabled", row.login, "", None, now)
        account = _account(row, await _clinic_codes(uow))
        await uow.commit()
        return account


async def reset_password(
    uow: UnitOfWork, login: str, *, password: str, now: dt.datetime
) -> Account:
    """A new password (to be changed at next sign-in), unlocked and enabled; sessions end."""
    now = require_aware(now)
    check_password(password)
    async with uow:
        row = await _row(uow, login)
        if row is None:
            raise StaffError(f"no account {normalize_login(login)!r}")
        table = orm.staff_accounts
        await uow.session.execute(
            update(table)
            .where(table.c.id == row.id)
            .values(
                password_hash=hash_password(password),
                failed_attempts=0,
                locked_until=None,
                disabled_at=None,
                must_change_password=True,
            )
        )
        await uow.session.execute(
            delete(orm.staff_sessions).where(orm.staff_sessions.c.account_id == row.id)
        )
        await _audit(uow, row.id, row.login, "password_reset", row.login, "", None, now)
        account = _account(row, await _clinic_codes(uow))
        await uow.commit()
        return account


async def accounts(uow: UnitOfWork) -> list[Account]:
    async with uow:
        rows = (
            await uow.session.execute(
                select(orm.staff_accounts).order_by(orm.staff_accounts.c.login)
            )
        ).all()
        codes = await _clinic_codes(uow)
        return [_account(row, codes) for row in rows]


async def sign_in(
    uow: UnitOfWork,
    login: str,
    password: str,
    *,
    now: dt.datetime,
    remote: str | None = None,
    policy: Policy = Policy(),
) -> NewSession | None:
    """A new session, or None (unknown login, wrong password, disabled or locked: alike)."""
    now = require_aware(now)
    login = normalize_login(login)[:64]
    password = password[:MAX_PASSWORD]
    async with uow:
        row = await _row(uow, login) if login else None
        if row is None or row.disabled_at is not None:
            _verify(_DUMMY_HASH, password)  # the same work as for a known login
            await _audit(uow, None, login or "-", "sign_in_refused", login, "", remote, now)
            await uow.commit()
            return None
        table = orm.staff_accounts
        if row.locked_until is not None and row.locked_until > now:
            _verify(_DUMMY_HASH, password)
            await _audit(uow, row.id, row.login, "sign_in_locked", row.login, "", remote, now)
            await uow.commit()
            return None
        if not _verify(row.password_hash, password):
            failures = row.failed_attempts + 1
            lock = policy.lock_for(failures)
            await uow.session.execute(
                update(table)
                .where(table.c.id == row.id)
                .values(failed_attempts=failures, locked_until=now + lock if lock else None)
            )
            detail = f"failures={failures}" + (
                f" locked={int(lock.total_seconds())}s" if lock else ""
            )
            await _audit(uow, row.id, row.login, "sign_in_refused", row.login, detail, remote, now)
            await uow.commit()
            return None
        values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = hash_password(password)
        await uow.session.execute(update(table).where(table.c.id == row.id).values(**values))
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + policy.absolute
        await uow.session.execute(
            insert(orm.staff_sessions).values(
                id=_token_id(token),
                account_id=row.id,
                csrf_secret=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
        await _audit(uow, row.id, row.login, "signed_in", row.login, "", remote, now)
        account = _account(row, await _clinic_codes(uow))
        await uow.commit()
        return NewSession(
            token=token,
            session=StaffSession(
                account=account, csrf_secret=csrf, expires_at=min(expires, now + policy.idle)
            ),
        )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def session(
    uow: UnitOfWork,
    token: str,
    *,
    now: dt.datetime,
    policy: Policy = Policy(),
    touch: bool = True,
) -> StaffSession | None:
    """The live session of a cookie's token (its use moves the idle expiry on), or None."""
    now = require_aware(now)
    if not token or len(token) > 128:
        return None
    sid = _token_id(token)
    sessions, accounts_ = orm.staff_sessions, orm.staff_accounts
    async with uow:
        stmt = (
            select(sessions, accounts_)
            .join(accounts_, accounts_.c.id == sessions.c.account_id)
            .where(sessions.c.id == sid)
        )
        found = (await uow.session.execute(stmt)).one_or_none()
        if found is None:
            return None
        row = found._mapping
        idle_end = row[sessions.c.last_seen_at] + policy.idle
        if (
            row[sessions.c.expires_at] <= now
            or idle_end <= now
            or row[accounts_.c.disabled_at] is not None
        ):
            await uow.session.execute(delete(sessions).where(sessions.c.id == sid))
            await uow.commit()
            return None
        if touch:
            await uow.session.execute(
                update(sessions).where(sessions.c.id == sid).values(last_seen_at=now)
            )
            idle_end = now + policy.idle
        account = Account(
            id=row[accounts_.c.id],
            login=row[accounts_.c.login],
            display_name=row[accounts_.c.display_name],
            role=Role(row[accounts_.c.role]),
            clinic_id=row[accounts_.c.clinic_id],
            clinic_code=None,
            must_change_password=row[accounts_.c.must_change_password],
            disabled=False,
        )
        if account.clinic_id is not None:
            account = Account(
                **{
                    **account.__dict__,
                    "clinic_code": (await _clinic_codes(uow)).get(account.clinic_id),
                }
            )
        await uow.commit()
        return StaffSession(
            account=account,
            csrf_secret=row[sessions.c.csrf_secret],
            expires_at=min(row[sessions.c.expires_at], idle_end),
        )


def csrf_matches(staff_session: StaffSession, presented: str | None) -> bool:
    """The synchroniser token check (constant time)."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), staff_session.csrf_secret.encode())


async def sign_out(uow: UnitOfWork, token: str, *, now: dt.datetime) -> None:
    now = require_aware(now)
    sid = _token_id(token)
    async with uow:
        found = (
            await uow.session.execute(
                select(orm.staff_sessions.c.account_id).where(orm.staff_sessions.c.id == sid)
            )
        ).one_or_none()
        await uow.session.execute(delete(orm.staff_sessions).where(orm.staff_sessions.c.id == sid))
        if found is not None:
            await _audit(uow, found.account_id, "", "signed_out", "", "", None, now)
        await uow.commit()


async def _audit(  # noqa: PLR0917 - one internal writer of audit rows
    uow: UnitOfWork,
    account_id: int | None,
    login: str,
    action: str,
    target: str,
    detail: str,
    remote: str | None,
    now: dt.datetime,
) -> None:
    if not login and account_id is not None:
        row = (
            await uow.session.execute(
                select(orm.staff_accounts.c.login).where(orm.staff_accounts.c.id == account_id)
            )
        ).one_or_none()
        login = row.login if row is not None else ""
    await uow.session.execute(
        insert(orm.staff_audit).values(
            account_id=account_id,
            login=login[:64],
            action=action[:40],
            target=target[:100],
            detail=detail[:500],
            remote=(remote or None) and remote[:64],
            at=now,
        )
    )


async def audit(
    uow: UnitOfWork,
    account: Account,
    action: str,
    target: str,
    *,
    now: dt.datetime,
    detail: str = "",
    remote: str | None = None,
) -> None:
    """Record what a staff member did or looked at (an action, a card opened)."""
    now = require_aware(now)
    async with uow:
        await _audit(uow, account.id, account.login, action, target, detail, remote, now)
        await uow.commit()


async def audit_log(
    uow: UnitOfWork, *, login: str | None = None, limit: int = 200
) -> Sequence[AuditEntry]:
    table = orm.staff_audit
    stmt = select(table).order_by(table.c.at.desc(), table.c.id.desc()).limit(limit)
    if login is not None:
        stmt = stmt.where(table.c.login == normalize_login(login))
    async with uow:
        rows = (await uow.session.execute(stmt)).all()
        return [
            AuditEntry(login=r.login, action=r.action, target=r.target, detail=r.detail, at=r.at)
            for r in rows
        ]


def caller(account: Account) -> StaffCaller:
    """The clinic service's caller for a clinic staff member (their clinic's scope)."""
    if account.role is not Role.CLINIC_STAFF or account.clinic_id is None:
        raise StaffError("only clinic staff act for a clinic")
    return StaffCaller(key_id=0, clinic_id=account.clinic_id, label="", login=account.login)


async def change_password(
    uow: UnitOfWork, account_id: int, *, current: str, new: str, now: dt.datetime
) -> bool:
    """The account's own change (the current password first); False: the current is wrong.
    Raises StaffError for a new password the rules refuse or one equal to the current."""
    now = require_aware(now)
    check_password(new)
    if new == current:
        raise StaffError("the new password is the same as the current one")
    table = orm.staff_accounts
    async with uow:
        row = (
            await uow.session.execute(select(table).where(table.c.id == account_id))
        ).one_or_none()
        if row is None or not _verify(row.password_hash, current[:MAX_PASSWORD]):
            return False
        await uow.session.execute(
            update(table)
            .where(table.c.id == account_id)
            .values(password_hash=hash_password(new), must_change_password=False)
        )
        await _audit(uow, row.id, row.login, "password_changed", row.login, "", None, now)
        await uow.commit()
        return True


@dataclass(frozen=True)
class ClinicInfo:
    code: str
    names: Mapping[str, str]  # kk, ru, en
    tz: str
    doctors: Sequence[tuple[str, str]]  # (code, short name)


async def clinic_info(uow: UnitOfWork, clinic_id: int) -> ClinicInfo | None:
    """What the clinic staff pages show about their clinic: its name, zone and doctors."""
    async with uow:
        clinic = await uow.register.clinic(clinic_id)
        if clinic is None:
            return None
        stmt = (
            select(orm.doctors.c.code, orm.doctors.c.surname, orm.doctors.c.given_name)
            .where(orm.doctors.c.clinic_id == clinic_id)
            .order_by(orm.doctors.c.surname, orm.doctors.c.given_name)
        )
        doctors = [
            (row.code, f"{row.surname} {row.given_name}")
            for row in (await uow.session.execute(stmt)).all()
        ]
        names = {"kk": clinic.name_kk, "ru": clinic.name_ru, "en": clinic.name_en}
        return ClinicInfo(code=clinic.code, names=names, tz=clinic.tz_name, doctors=doctors)

"""Table mutation: single-entry changes to the module-level rule tables (make mutation).

mutmut mutates code inside functions only; the rules that live in module-level tables
(transitions per actor, refusal grounds per service, operator codes, code separators, ...)
are mutated here. For each table the script makes one change at a time in the source text:
drops an entry, changes a value (each number ±1, a dict value to each listed alternative),
adds a listed forbidden entry. It then runs the unit tests (the `[tool.mutmut]` test
selection, the table's own test files first) against the mutated module, in this process:
project modules are dropped from `sys.modules` and re-imported with the mutant in place.

A mutant is killed when a test fails (or the module no longer imports). Prints killed/total
per table and per module; `--survivors` lists what survived. Exit status 0: it reports.

    python scripts/table_mutation.py [--only MODULE_OR_TABLE] [--survivors]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"backend", "otp", "bot", "dialogs", "tests"}
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Mutant:
    table: str
    description: str
    source: str  # the whole mutated module


@dataclass(frozen=True)
class Table:
    """One module-level rule table: `name` assigned in `module` (a dotted name)."""

    module: str
    name: str
    tests: tuple[str, ...]  # test files to run first (the rest of the selection follows)
    # Source snippets to insert into the table's collection: forbidden entries.
    additions: Callable[[ModuleType], Sequence[str]] = lambda _m: ()
    # For a dict: the source of a value -> the sources to put there instead.
    value_changes: Callable[[str], Sequence[str]] | None = None
    drop: bool = True  # drop each entry
    numbers: bool = True  # each integer constant ±1
    characters: bool = True  # a string literal of a `frozenset("...")`: drop each character
    attribute: str | None = None  # a class attribute (dataclass defaults) instead of a module one

    @property
    def label(self) -> str:
        return (
            f"{self.module}.{self.name}"
            if self.attribute is None
            else (f"{self.module}.{self.name}.{self.attribute}")
        )


# --- the tables ------------------------------------------------------------------------------

_STATUS_TESTS = ("tests/unit/test_statuses.py", "tests/unit/test_application_model.py")
_SERVICES = (
    "APPOINTMENT",
    "HOME_VISIT",
    "CERTIFICATE_027",
    "STATEMENT_TB",
    "STATEMENT_PSYCHIATRY",
    "STATEMENT_NARCOLOGY",
)
_ACTORS = ("PATIENT", "CLINIC", "OPERATOR", "SYSTEM")
_STATUSES = (
    "SUBMITTED",
    "REGISTERED",
    "NEXT_WORKING_DAY",
    "IN_PROGRESS",
    "COMPLETED",
    "REFUSED",
    "CANCELLED",
    "NO_SHOW",
)


def _toggle_each_service(value: str) -> list[str]:
    """A transition's services with one service added or removed (symmetric difference)."""
    return [f"frozenset({value} ^ {{ServiceType.{s}}})" for s in _SERVICES]


def _forbidden_moves(module: ModuleType) -> list[str]:
    """Every (actor, from, to) the table does not list, added for all services."""
    present = {(a.name, f.name, t.name) for a, f, t in module.ACTOR_TRANSITIONS}
    return [
        f"(A.{a}, S.{f}, S.{t}): ALL_SERVICES"
        for a in _ACTORS
        for f in _STATUSES
        for t in _STATUSES
        if (a, f, t) not in present
    ]


def _other_ground_sets(value: str) -> list[str]:
    return [v for v in ("_CLINIC_GROUNDS", "_CONSENT_GROUND", "LEGAL_GROUNDS") if v != value]


def _other_services(module: ModuleType, name: str) -> list[str]:
    present = {s.name for s in getattr(module, name)}
    return [f"ServiceType.{s}" for s in _SERVICES if s not in present]


def _other_codes(module: ModuleType, name: str) -> list[str]:
    present = {c.name for c in getattr(module, name)}
    return [f"RefusalCode.{c.name}" for c in module.RefusalCode if c.name not in present]


_REFUSAL_TESTS = (
    "tests/unit/test_refusals.py",
    "tests/unit/test_refusal_ground_errors.py",
    "tests/unit/test_application_model.py",
)
_CALENDAR_TESTS = (
    "tests/unit/test_calendar.py",
    "tests/unit/test_deadlines.py",
    "tests/unit/test_holidays_law.py",
)
_OTP_POLICY_TESTS = ("tests/otp/test_policy_limits.py",)

TABLES: tuple[Table, ...] = (
    # backend.domain.statuses
    Table(
        "backend.domain.statuses",
        "ACTOR_TRANSITIONS",
        _STATUS_TESTS,
        additions=_forbidden_moves,
        value_changes=_toggle_each_service,
    ),
    *(
        Table(
            "backend.domain.statuses",
            name,
            _STATUS_TESTS,
            additions=lambda m, n=name: _other_services(m, n),  # type: ignore[misc]
        )
        for name in ("CLINIC_SERVICES", "AUTOMATED_SERVICES", "APPOINTMENTS", "VISITS")
    ),
    Table("backend.domain.statuses", "E_CHANNEL_DEADLINE", _STATUS_TESTS + _CALENDAR_TESTS),
    Table("backend.domain.statuses", "STATEMENT_VALIDITY", _STATUS_TESTS),
    # backend.domain.refusals
    Table(
        "backend.domain.refusals",
        "LEGAL_GROUNDS",
        _REFUSAL_TESTS,
        additions=lambda m: _other_codes(m, "LEGAL_GROUNDS"),
    ),
    Table(
        "backend.domain.refusals",
        "_CLINIC_GROUNDS",
        _REFUSAL_TESTS,
        additions=lambda m: [f"RefusalCode.{c}" for c in ("NO_SUBJECT_CONSENT", "SLOT_TAKEN")],
    ),
    Table(
        "backend.domain.refusals",
        "_CONSENT_GROUND",
        _REFUSAL_TESTS,
        additions=lambda m: [f"RefusalCode.{c}" for c in ("UNRELIABLE_DATA", "NOT_ATTACHED_HERE")],
    ),
    Table(
        "backend.domain.refusals",
        "REFUSAL_GROUNDS",
        _REFUSAL_TESTS,
        value_changes=_other_ground_sets,
    ),
    # backend.domain.phone
    Table(
        "backend.domain.phone",
        "MOBILE_CODES",
        ("tests/unit/test_phone.py",),
        additions=lambda _m: ['"710"', '"717"', '"727"', '"779"', '"799"', '"790"'],
    ),
    Table("backend.domain.phone", "_E164_DIGITS", ("tests/unit/test_phone.py",)),
    # backend.domain.iin
    Table("backend.domain.iin", "_WEIGHTS_1", ("tests/unit/test_iin.py",)),
    Table("backend.domain.iin", "_WEIGHTS_2", ("tests/unit/test_iin.py",)),
    Table(
        "backend.domain.iin",
        "_CENTURY",
        ("tests/unit/test_iin.py",),
        additions=lambda _m: ["0: 1700", "7: 2100", "8: 2100"],
    ),
    # backend.domain.calendar
    Table("backend.domain.calendar", "INTAKE_CUTOFF_BEFORE_CLOSING", _CALENDAR_TESTS),
    Table(
        "backend.domain.calendar",
        "KURBAN_AIT",
        _CALENDAR_TESTS,
        additions=lambda _m: ["dt.date(2026, 5, 28)", "dt.date(2025, 6, 9)"],
    ),
    Table(
        "backend.domain.calendar",
        "KURBAN_AIT_NOTES",
        _CALENDAR_TESTS,
        additions=lambda _m: ['"айт"', '"ait"'],
    ),
    # backend.domain.model
    Table("backend.domain.model", "ADULT_AGE", ("tests/unit/test_specialty_audience.py",)),
    Table(
        "backend.domain.model",
        "DEFAULT_AUDIENCES",
        ("tests/unit/test_specialty_audience.py",),
        additions=lambda _m: ['"gp": Audience.ADULTS', '"surgeon": Audience.CHILDREN'],
        value_changes=lambda v: [
            a for a in ("Audience.CHILDREN", "Audience.ADULTS", "Audience.ALL") if a != v
        ],
    ),
    # backend.domain.documents
    Table(
        "backend.domain.documents",
        "CODE_ALPHABET",
        ("tests/unit/test_documents.py",),
        additions=lambda _m: ["0", "O", "1", "I", "L", "U"],
    ),
    Table("backend.domain.documents", "CODE_LENGTH", ("tests/unit/test_documents.py",)),
    Table("backend.domain.documents", "_GROUPS", ("tests/unit/test_documents.py",)),
    Table("backend.domain.documents", "STATEMENT_VALIDITY", ("tests/unit/test_documents.py",)),
    Table(
        "backend.domain.documents",
        "REGISTRY_STATEMENTS",
        ("tests/unit/test_documents.py",),
        additions=lambda m: _other_services(m, "REGISTRY_STATEMENTS"),
    ),
    Table(
        "backend.domain.documents",
        "REGISTER_OF",
        ("tests/unit/test_documents.py",),
        value_changes=lambda v: [
            r for r in ("Register.TB", "Register.PSYCHIATRY", "Register.NARCOLOGY") if r != v
        ],
        additions=lambda _m: ["ServiceType.CERTIFICATE_027: Register.TB"],
    ),
    # backend.domain.latin (issue 15: the passport table)
    Table(
        "backend.domain.latin",
        "ICAO_9303_KZ",
        ("tests/unit/test_latin.py",),
        value_changes=lambda v: [r for r in ('"A"', '"Y"', '"J"', '""') if r != v],
        additions=lambda _m: ['"Ё": "YO"', '"№": "No"', '"S": "C"'],
    ),
    # otp.codes
    Table(
        "otp.codes",
        "_SEPARATORS",
        ("tests/otp/test_codes.py",),
        additions=lambda _m: [".", "_", "/", "+", "\u2014", "0", "a"],
    ),
    Table("otp.codes", "_MAX_TYPED_LENGTH", ("tests/otp/test_codes.py",)),
    # otp.policy
    Table("otp.policy", "MAX_CODE_LIFETIME", _OTP_POLICY_TESTS),
    Table("otp.policy", "MIN_CODE_DIGITS", _OTP_POLICY_TESTS),
    *(
        Table("otp.policy", "OtpPolicy", _OTP_POLICY_TESTS, attribute=attribute)
        for attribute in (
            "code_digits",
            "code_lifetime",
            "max_wrong_codes",
            "lock_waits",
            "failure_memory",
            "resend_cooldown",
            "max_sends_per_phone",
            "phone_send_window",
            "max_sends_per_iin",
            "iin_send_window",
            "max_sends_per_requester",
            "requester_send_window",
            "request_memory",
            "session_idle",
            "session_absolute",
        )
    ),
)


# Functions a module calls while it is imported (to build a table from another one). mutmut 3
# activates a mutant only when a function is called under test, after the import, so their
# mutants "survive" there; here mutmut's own instrumented module is imported with the mutant
# active (MUTANT_UNDER_TEST set before the import), and the unit tests run against it.
IMPORT_TIME: tuple[tuple[str, str], ...] = (("backend.domain.statuses", "_transitions"),)


# --- making the mutants ----------------------------------------------------------------------


class _Source:
    """Source text addressed by AST positions (columns are UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        self.data = text.encode()
        self.line_starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.line_starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = self.line_starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode()

    def replace(self, node: ast.AST, new: str) -> str:
        start, end = self.span(node)
        return (self.data[:start] + new.encode() + self.data[end:]).decode()


def _assigned_value(tree: ast.Module, table: Table) -> ast.expr:
    body: list[ast.stmt] = tree.body
    if table.attribute is not None:
        cls = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == table.name)
        body, wanted = cls.body, table.attribute
    else:
        wanted = table.name
    for node in body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == wanted for t in node.targets
        ):
            return node.value
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == wanted
            and node.value is not None
        ):
            return node.value
    raise LookupError(f"{table.label}: no assignment found")


def _collections(node: ast.expr) -> list[ast.expr]:
    """The literal collections a table is made of: `{...}`, `(...)`, `frozenset({...})`,
    `MappingProxyType({...})`, `frozenset({...}) | {...}`, `frozenset("...")`."""
    if isinstance(node, ast.Dict | ast.Set | ast.Tuple | ast.List):
        return [node]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        return _collections(node.args[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _collections(node.left) + _collections(node.right)
    return []


def _join(open_: str, items: list[str], close: str, *, tuple_: bool = False) -> str:
    body = ", ".join(items)
    if tuple_ and len(items) == 1:
        body += ","
    if open_ == "{" and not items:
        return "frozenset()"  # `{}` would be an empty dict
    return f"{open_}{body}{close}"


def _rebuild(src: _Source, coll: ast.expr, items: list[str]) -> str:
    if isinstance(coll, ast.Constant):
        return src.replace(coll, repr("".join(items)))
    if isinstance(coll, ast.Dict):
        return src.replace(coll, "{" + ", ".join(items) + "}")
    if isinstance(coll, ast.Set):
        return src.replace(coll, _join("{", items, "}"))
    if isinstance(coll, ast.List):
        return src.replace(coll, _join("[", items, "]"))
    return src.replace(coll, _join("(", items, ")", tuple_=True))


def _items(src: _Source, coll: ast.expr) -> list[str]:
    if isinstance(coll, ast.Constant):
        return list(str(coll.value))
    if isinstance(coll, ast.Dict):
        return [
            f"{src.text(k)}: {src.text(v)}"
            for k, v in zip(coll.keys, coll.values, strict=True)
            if k is not None
        ]
    if not isinstance(coll, ast.Set | ast.Tuple | ast.List):
        raise TypeError(f"not a collection: {ast.dump(coll)}")
    return [src.text(e) for e in coll.elts]


def _read(module: str) -> str:
    return (ROOT / (module.replace(".", "/") + ".py")).read_text()


def mutants(table: Table, module: ModuleType) -> Iterator[Mutant]:
    text = _read(table.module)
    src = _Source(text)
    value = _assigned_value(ast.parse(text), table)
    label = table.label

    def make(description: str, source: str) -> Mutant:
        return Mutant(label, description, source)

    for coll in _collections(value):
        items = _items(src, coll)
        if table.drop and (not isinstance(coll, ast.Constant) or table.characters):
            for i, item in enumerate(items):
                yield make(f"drop {item!r}", _rebuild(src, coll, items[:i] + items[i + 1 :]))
        if isinstance(coll, ast.Dict) and table.value_changes is not None:
            for k, v in zip(coll.keys, coll.values, strict=True):
                if k is None:  # `**other`: not an entry
                    continue
                for new in table.value_changes(src.text(v)):
                    yield make(f"{src.text(k)}: {src.text(v)} -> {new}", src.replace(v, new))
    colls = _collections(value)
    for addition in table.additions(module):
        if not colls:
            break
        coll = colls[0]
        items = _items(src, coll)
        yield make(f"add {addition!r}", _rebuild(src, coll, [*items, addition]))
    if table.numbers:
        yield from _number_mutants(src, value, make)


def _number_mutants(
    src: _Source, value: ast.expr, make: Callable[[str, str], Mutant]
) -> Iterator[Mutant]:
    """Each integer in the table ±1."""
    for node in ast.walk(value):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            for number in (node.value + 1, node.value - 1):
                where = f"{src.text(node)} -> {number} (line {node.lineno})"
                yield make(where, src.replace(node, str(number)))


# --- running the tests against one mutant ----------------------------------------------------


class _MutatedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, name: str, path: Path, source: str) -> None:
        self.name, self.path, self.source = name, path, source

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        spec = importlib.util.spec_from_loader(fullname, self, origin=str(self.path))
        if spec is not None:
            spec.has_location = True
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(compile(self.source, str(self.path), "exec"), module.__dict__)  # noqa: S102


def _forget_project_modules() -> None:
    for name in list(sys.modules):
        if name.split(".", 1)[0] in PROJECT_PACKAGES:
            del sys.modules[name]


class _Timeout(Exception):
    pass


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _Timeout


def run_tests(
    tests: Sequence[str], mutant: Mutant | None, module_name: str, path: Path | None = None
) -> bool:
    """True when the tests pass (the mutant survives)."""
    _forget_project_modules()
    finder = None
    if mutant is not None:
        path = path or ROOT / (module_name.replace(".", "/") + ".py")
        finder = _MutatedModuleFinder(module_name, path, mutant.source)
        sys.meta_path.insert(0, finder)
    args = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--noconftest"]
    args += ["-o", "addopts=", "-W", "ignore", *tests]
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(TIMEOUT_SECONDS)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = pytest.main(args)
    except _Timeout:
        return False
    finally:
        signal.alarm(0)
        if finder is not None:
            sys.meta_path.remove(finder)
    return code == pytest.ExitCode.OK


def import_time_mutants() -> Iterator[tuple[str, str, Path, str]]:
    """(module, mutmut mutant name, instrumented file, its source) from mutmut's `mutants/`."""
    for module, function in IMPORT_TIME:
        path = ROOT / "mutants" / (module.replace(".", "/") + ".py")
        if not path.exists():
            continue
        source = path.read_text()
        for match in re.finditer(rf"^def (x_{function}__mutmut_\d+)\(", source, re.MULTILINE):
            yield module, f"{module}.{match[1]}", path, source


def run_import_time(selection: Sequence[str]) -> dict[str, bool]:
    """mutmut mutant name -> killed, for the functions run at import."""
    killed: dict[str, bool] = {}
    for module, name, path, source in import_time_mutants():
        first = [t for t in _tests_of(module) if t in selection] or list(selection)
        rest = [t for t in selection if t not in first]
        os.environ["MUTANT_UNDER_TEST"] = name
        try:
            mutant = Mutant(module, name, source)
            survived = run_tests(first, mutant, module, path) and run_tests(
                rest, mutant, module, path
            )
        finally:
            del os.environ["MUTANT_UNDER_TEST"]
        killed[name] = not survived
    return killed


def _tests_of(module: str) -> list[str]:
    return [t for table in TABLES if table.module == module for t in table.tests]


_MUTMUT_LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x[_ǁ]\S*__mutmut_\d+: (?P<status>.+)$")


def mutmut_results(mutmut: str) -> dict[str, tuple[str, str]]:
    """mutant name -> (module, status) from `mutmut results --all true` ({} without a run)."""
    if not (ROOT / "mutants").exists():
        return {}
    out = subprocess.run(  # noqa: S603 - our own venv's mutmut, no shell
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    results: dict[str, tuple[str, str]] = {}
    for line in out.splitlines():
        match = _MUTMUT_LINE.match(line)
        if match:
            name = line.split(":", 1)[0].strip()
            results[name] = (match["module"], match["status"].strip())
    return results


def _selection() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"])


@dataclass
class Score:
    total: int = 0
    killed: int = 0
    survivors: list[str] = field(default_factory=list)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", help="a module or table label prefix, e.g. otp.codes")
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    parser.add_argument("--mutmut", default="mutmut", help="mutmut to read its results with")
    options = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    selection = _selection()
    if not options.list and not run_tests(selection, None, ""):
        sys.stderr.write("the unit tests fail without any mutant: fix them first\n")
        return 1
    per_table: dict[str, Score] = {}
    started = time.monotonic()
    for table in TABLES:
        if options.only and not table.label.startswith(options.only):
            continue
        _forget_project_modules()
        module = importlib.import_module(table.module)
        rest = [t for t in selection if t not in table.tests]
        if not options.list and not run_tests(
            table.tests, Mutant(table.label, "none", _read(table.module)), table.module
        ):
            raise SystemExit(f"{table.label}: the unmutated module fails its tests in this runner")
        score = per_table.setdefault(table.label, Score())
        for mutant in mutants(table, module):
            if options.list:
                sys.stdout.write(f"{table.label}: {mutant.description}\n")
                continue
            try:
                compile(mutant.source, table.module, "exec")
            except SyntaxError as error:  # a defect of this script, not a killed mutant
                raise SystemExit(f"{table.label}: {mutant.description}: {error}") from None
            score.total += 1
            # The table's own tests first (one small collection); the rest only if they pass.
            if run_tests(table.tests, mutant, table.module) and run_tests(
                rest, mutant, table.module
            ):
                score.survivors.append(mutant.description)
            else:
                score.killed += 1
        if not options.list:
            sys.stderr.write(f"{table.label}: {score.killed}/{score.total} killed\n")
    if options.list:
        return 0
    import_time = {
        name: killed
        for name, killed in run_import_time(selection).items()
        if not options.only or name.startswith(options.only)
    }
    _print(per_table, import_time, mutmut_results(options.mutmut), options)
    sys.stdout.write(f"({time.monotonic() - started:.0f} s)\n")
    return 0


def _function_scores(
    mutmut: dict[str, tuple[str, str]], import_time: dict[str, bool], only: str | None
) -> dict[str, Score]:
    """Per module: mutmut's mutants, with the import-time ones as found by this script."""
    functions: dict[str, Score] = {}
    for name, (module, status) in mutmut.items():
        if only and not name.startswith(only):
            continue
        agg = functions.setdefault(module, Score())
        agg.total += 1
        if import_time.get(name, status in {"killed", "timeout"}):
            agg.killed += 1
        else:
            agg.survivors.append(f"{name}: {status}")
    return functions


def _pct(killed: int, total: int) -> str:
    return f"{100 * killed / total:6.1f}%" if total else "      -"


def _print(
    per_table: dict[str, Score],
    import_time: dict[str, bool],
    mutmut: dict[str, tuple[str, str]],
    options: argparse.Namespace,
) -> None:
    out = sys.stdout
    out.write(f"{'table':56} {'mutants':>7} {'killed':>7} {'score':>7}\n")
    tables: dict[str, Score] = {}
    for label, score in per_table.items():
        if not score.total:
            continue
        out.write(
            f"{label:56} {score.total:7} {score.killed:7} {_pct(score.killed, score.total)}\n"
        )
        module = next(t.module for t in TABLES if t.label == label)
        agg = tables.setdefault(module, Score())
        agg.total += score.total
        agg.killed += score.killed
    if import_time:
        out.write("\nmutmut mutants of code run at import, activated before the import:\n")
        for name, dead in import_time.items():
            out.write(f"  {name}: {'killed' if dead else 'survived'}\n")
    functions = _function_scores(mutmut, import_time, options.only)
    accepted = accepted_survivors()
    equivalent: dict[str, int] = {}
    for module, f in functions.items():
        equivalent[module] = sum(line.split(":", 1)[0] in accepted for line in f.survivors)
    for label, t in per_table.items():
        module = next(table.module for table in TABLES if table.label == label)
        equivalent[module] = equivalent.get(module, 0) + sum(
            f"{label}: {d}" in accepted for d in t.survivors
        )
    head = ("module", "functions", "killed", "tables", "killed", "score", "equiv.", "of the rest")
    out.write("\n{:26} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>11}\n".format(*head))
    for module in sorted(set(tables) | set(functions)):
        f, t = functions.get(module, Score()), tables.get(module, Score())
        total, killed = f.total + t.total, f.killed + t.killed
        same = equivalent.get(module, 0)
        out.write(
            f"{module:26} {f.total:9} {f.killed:7} {t.total:7} {t.killed:7}"
            f" {_pct(killed, total)} {same:7}     {_pct(killed, total - same)}\n"
        )
    if options.survivors:
        for label, score in per_table.items():
            for description in score.survivors:
                name = f"{label}: {description}"
                out.write(f"survived (table{_verdict(name, accepted)}): {name}\n")
        for module in sorted(functions):
            for line in functions[module].survivors:
                verdict = _verdict(line.split(":", 1)[0], accepted)
                out.write(f"survived (mutmut{verdict}): {line}\n")


def _verdict(name: str, accepted: set[str]) -> str:
    return ", accepted as equivalent" if name in accepted else ", NOT EXPLAINED: kill or explain"


_ACCEPTED_LINE = re.compile(r"^- `(?P<name>[^`]+)`")


def accepted_survivors() -> set[str]:
    """The equivalent mutants explained in docs/testing.md ("Accepted survivors"), by name:
    a mutmut mutant's name, or `table: description` for a table mutant."""
    path = ROOT / "docs" / "testing.md"
    names: set[str] = set()
    inside = False
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            inside = line.lstrip("#").strip().lower().startswith("accepted survivors")
        elif inside and (match := _ACCEPTED_LINE.match(line)):
            names.add(match["name"])
    return names


if __name__ == "__main__":
    raise SystemExit(main())

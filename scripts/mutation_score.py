"""Print the mutation score per module from `mutmut results --all true` (make mutation).

A mutant counts as killed when a test failed or it timed out; survivors and mutants no test
reaches count against the score. Exit status 0: this reports, it does not gate.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

# `backend.domain.iin.x_check_digit__mutmut_9: survived`; methods: `...xǁClassǁname__mutmut_3`
_LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x[_ǁ]\S*__mutmut_\d+: (?P<status>.+)$")
_KILLED = {"killed", "timeout"}


def main() -> int:
    mutmut = sys.argv[1] if len(sys.argv) > 1 else "mutmut"
    out = subprocess.run(  # noqa: S603 - our own venv's mutmut, no shell
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in out.splitlines():
        match = _LINE.match(line)
        if match:
            per_module[match["module"]][match["status"].strip()] += 1
    head = ("module", "mutants", "killed", "survived", "no tests", "score")
    sys.stdout.write("{:32} {:>7} {:>7} {:>8} {:>8} {:>7}\n".format(*head))
    for module, counts in sorted(per_module.items()):
        total = sum(counts.values())
        killed = sum(counts[s] for s in _KILLED)
        sys.stdout.write(
            f"{module:32} {total:7} {killed:7} {counts['survived']:8} {counts['no tests']:8}"
            f" {100 * killed / total:6.1f}%\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run hostile cases, each in a child process with an address-space limit and a timeout, and judge them.

``python tests/hostile/runner.py [-k SUBSTRING] [--show]`` prints one row per case: its time, exit code and
verdict (``--show`` adds each case's output). tests/test_hostile.py runs the same judgement per case.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from hostile import ADDRESS_SPACE, FAST_S, FAST_SMALL_S, MARKER, TIME_LIMIT_S, Case, all_cases  # noqa: E402

# what must never reach a terminal from a file: C0 and C1 controls but tab and newline, DEL, bidi controls
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# the child times its own work past start-up (Python and nnspec's imports, the same ~1 s for every file) in CPU
# seconds, which other processes on a loaded machine do not stretch as they do the wall clock, and leaves the
# figure in WORK_FILE as it exits. A child killed leaves none and is judged on its whole wall time; a hang is
# killed at TIME_LIMIT_S of wall time whatever it spends it on
WORK_FILE = ".nnspec-hostile-work"
COMMAND = ("import atexit, sys, time; from nnspec_cli import main; start = time.process_time(); "
           f"atexit.register(lambda: open({WORK_FILE!r}, 'w').write(str(time.process_time() - start))); "
           "sys.argv[0] = 'nnspec'; main()")


@dataclass
class Result:
    case: Case
    seconds: float  # CPU seconds of work past start-up (the whole run's wall time where the child left no figure)
    returncode: int | None  # None: killed at the time limit
    output: str
    size: int  # bytes of the case's files
    marker: bool
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(case: Case, folder: Path | None = None) -> Result:
    """Write the case's files into a fresh folder, run its command there, and judge what it did."""
    with tempfile.TemporaryDirectory(prefix="nnspec-hostile-") as tmp:
        d = Path(folder or tmp)
        for name, content in case.files.items():
            if callable(content):
                content(d / name)
            else:
                (d / name).write_bytes(content)
        size = sum((d / name).stat().st_size for name in case.files)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "NNSPEC_DEBUG")}
        env.update({"PYTHONPATH": str(ROOT), "COLUMNS": "200", "OPENBLAS_NUM_THREADS": "1", **case.env})
        start = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-c", COMMAND, *case.args], cwd=d, env=env, capture_output=True,
                                  timeout=TIME_LIMIT_S, preexec_fn=_limits, stdin=subprocess.DEVNULL)
            code, raw = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as e:
            code, raw = None, (e.stdout or b"") + (e.stderr or b"")
        seconds = time.perf_counter() - start
        try:
            seconds = float((d / WORK_FILE).read_text())
        except (OSError, ValueError):
            pass
        marker = (d / MARKER).exists()
    output = raw.decode("utf-8", "replace")
    return Result(case, seconds, code, output, size, marker, judge(case, code, output, seconds, size, marker))


def judge(case: Case, code: int | None, output: str, seconds: float, size: int, marker: bool) -> list[str]:
    problems = []
    if code is None:
        problems.append(f"hung: killed after {TIME_LIMIT_S} s")
    elif code < 0:
        problems.append(f"killed by signal {-code} (memory?)")
    elif code not in case.exit_codes:
        problems.append(f"exit code {code}, expected {' or '.join(map(str, case.exit_codes))}")
    if marker:
        problems.append(f"the payload ran: {MARKER} was written")
    if "Traceback" in output or "internal error" in output:
        problems.append("a traceback or an internal error")
    if UNSAFE.search(output):
        problems.append(f"raw control character in the output: {UNSAFE.search(output).group()!r}")
    if not re.search(case.phrase, output, re.S):
        problems.append(f"the message does not say {case.phrase!r}")
    first = next((line for line in output.splitlines() if line.strip()), "")
    place = re.escape(case.place) + (r":\d+(:\d+)?: " if case.line else r"(:\d+(:\d+)?)?: ")
    if code is not None and not re.match(place, first):
        problems.append(f"not placed at {case.place}{':line' if case.line else ''}: {first[:120]!r}")
    limit = FAST_SMALL_S if size < 1 << 20 else FAST_S
    if seconds > limit:
        problems.append(f"took {seconds:.1f} s, over {limit:.0f} s")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only the cases whose id contains this")
    parser.add_argument("--show", action="store_true", help="print each case's output")
    a = parser.parse_args()
    cases = [c for c in all_cases() if a.k in c.id]
    bad = 0
    for case in cases:
        r = run(case)
        bad += not r.ok
        code = "hang" if r.returncode is None else r.returncode
        verdict = "ok" if r.ok else "FAIL: " + "; ".join(r.problems)
        print(f"{case.id:48s} {case.kind:9s} {r.size:>11,} B {r.seconds:6.2f} s  exit {code!s:4}  {verdict}", flush=True)
        if a.show or not r.ok:
            for line in r.output.strip().splitlines()[:6]:
                print(f"    | {line[:200]}")
    print(f"{len(cases)} cases, {len(cases) - bad} ok, {bad} failing")


if __name__ == "__main__":
    main()

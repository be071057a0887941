#!/usr/bin/python3
"""Build netjes with sanitizers and run every test suite.

Suites, in order:
  unit    the cmocka executables under tests/unit, each test case counted
          (TAP output), built with AddressSanitizer + UBSan;
  fuzz    every libFuzzer target under tests/fuzz, built with clang, run
          for a bounded time on its seed corpus: a crash or leak fails;
  pytest  the interop and end-to-end suites (tests/interop, tests/e2e)
          against the sanitizer build of the netjes binary.

The last line is "N passed, N failed" over all suites; the exit status is
non-zero when anything failed, including a build.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_ASAN = ROOT / "build" / "asan"
BUILD_FUZZ = ROOT / "build" / "fuzz"

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:strict_string_checks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "LSAN_OPTIONS": "",
}


class Tally:
    def __init__(self):
        self.suites = []  # (name, passed, failed, skipped)

    def add(self, name, passed, failed, skipped=0):
        self.suites.append((name, passed, failed, skipped))
        line = f"== {name}: {passed} passed, {failed} failed"
        if skipped:
            line += f", {skipped} skipped"
        print(line, flush=True)

    def total(self):
        p = sum(s[1] for s in self.suites)
        f = sum(s[2] for s in self.suites)
        s = sum(s[3] for s in self.suites)
        return p, f, s


def run(cmd, **kw):
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, **kw)


def meson_build(builddir, setup_args, env=None):
    """Configure (once) and build; True on success."""
    if not (builddir / "build.ninja").exists():
        r = run(["meson", "setup", str(builddir), *setup_args], cwd=ROOT,
                env=env)
        if r.returncode != 0:
            return False
    return run(["ninja", "-C", str(builddir)], cwd=ROOT, env=env).returncode == 0


def parse_tap(text):
    passed = failed = skipped = 0
    for line in text.splitlines():
        s = line.strip()
        if not (s.startswith("ok") or s.startswith("not ok")):
            continue
        if "# SKIP" in s:
            skipped += 1
        elif s.startswith("not ok"):
            failed += 1
        else:
            passed += 1
    return passed, failed, skipped


def suite_unit(tally):
    exes = sorted(p for p in (BUILD_ASAN / "tests" / "unit").glob("test_*")
                  if p.is_file() and os.access(p, os.X_OK))
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP", **SAN_ENV)
    passed = failed = skipped = 0
    for exe in exes:
        r = subprocess.run([str(exe)], cwd=ROOT, env=env,
                           capture_output=True, text=True, errors="replace")
        p, f, s = parse_tap(r.stdout)
        if r.returncode != 0 and f == 0:
            f = 1  # crashed, sanitizer report or leak after the cases ran
        if f:
            print(f"-- {exe.name} FAILED (exit {r.returncode})")
            print(r.stdout[-4000:])
            print(r.stderr[-8000:])
        else:
            print(f"-- {exe.name}: {p} ok")
        passed, failed, skipped = passed + p, failed + f, skipped + s
    if not exes:
        failed += 1
        print("-- no unit test executables found")
    tally.add("unit", passed, failed, skipped)


def suite_fuzz(tally, seconds):
    env = dict(os.environ, CC="clang")
    if not meson_build(BUILD_FUZZ, ["-Dfuzz=true", "-Db_sanitize=address",
                                    "-Db_lundef=false",
                                    "--buildtype=debugoptimized"], env=env):
        tally.add("fuzz (build)", 0, 1)
        return
    targets = sorted(p for p in (BUILD_FUZZ / "tests" / "fuzz").glob("fuzz_*")
                     if p.is_file() and os.access(p, os.X_OK))
    passed = failed = 0
    for t in targets:
        seeds = ROOT / "tests" / "fuzz" / "corpus" / t.name
        with tempfile.TemporaryDirectory(prefix=t.name + ".") as work:
            corpus = Path(work) / "corpus"
            if seeds.is_dir():
                shutil.copytree(seeds, corpus)
            else:
                corpus.mkdir()
            r = subprocess.run(
                [str(t), f"-max_total_time={seconds}", "-timeout=10",
                 "-rss_limit_mb=2048", f"-artifact_prefix={work}/",
                 "-print_final_stats=1", str(corpus)],
                cwd=ROOT, env=dict(os.environ, **SAN_ENV),
                capture_output=True, text=True, errors="replace")
            runs = [l for l in r.stderr.splitlines()
                    if l.startswith("stat::number_of_executed_units")]
            if r.returncode == 0:
                passed += 1
                print(f"-- {t.name}: no finding in {seconds}s "
                      f"({runs[0].split(':')[-1].strip() if runs else '?'} runs)")
            else:
                failed += 1
                print(f"-- {t.name} FAILED (exit {r.returncode})")
                print(r.stderr[-8000:])
                for a in Path(work).glob("crash-*"):
                    keep = ROOT / "build" / a.name
                    shutil.copy(a, keep)
                    print(f"   reproducer kept in {keep}")
    if not targets:
        failed += 1
    tally.add("fuzz", passed, failed)


def suite_pytest(tally, extra):
    xml = BUILD_ASAN / "pytest-results.xml"
    env = dict(os.environ, NETJES_BIN=str(BUILD_ASAN / "src" / "netjes"),
               **SAN_ENV)
    dirs = [str(ROOT / "tests" / d) for d in ("interop", "e2e")
            if (ROOT / "tests" / d).is_dir()]
    r = run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"--junitxml={xml}", *extra, *dirs], cwd=ROOT, env=env)
    if not xml.exists():
        tally.add("pytest", 0, 1)
        return
    tests = failures = errors = skipped = 0
    root = ET.parse(xml).getroot()
    for ts in root.iter("testsuite"):
        tests += int(ts.get("tests", 0))
        failures += int(ts.get("failures", 0))
        errors += int(ts.get("errors", 0))
        skipped += int(ts.get("skipped", 0))
    failed = failures + errors
    if r.returncode not in (0, 1) and failed == 0:
        failed = 1  # pytest itself broke (collection, usage, internal)
    if tests == 0:
        failed += 1  # no test ran: that is not a pass
    tally.add("pytest", tests - failures - errors - skipped, failed, skipped)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fuzz-seconds", type=int,
                    default=int(os.environ.get("FUZZ_SECONDS", "10")))
    ap.add_argument("--only", choices=["unit", "fuzz", "pytest"],
                    action="append")
    ap.add_argument("pytest_args", nargs="*")
    a = ap.parse_args()
    only = set(a.only or ["unit", "fuzz", "pytest"])

    tally = Tally()
    if only & {"unit", "pytest"}:
        if not meson_build(BUILD_ASAN, ["-Db_sanitize=address,undefined",
                                        "-Db_lundef=false",
                                        "--buildtype=debugoptimized"]):
            tally.add("build", 0, 1)
            only -= {"unit", "pytest"}
    if "unit" in only:
        suite_unit(tally)
    if "fuzz" in only:
        suite_fuzz(tally, a.fuzz_seconds)
    if "pytest" in only:
        suite_pytest(tally, a.pytest_args)

    p, f, s = tally.total()
    print()
    for name, sp, sf, ss in tally.suites:
        print(f"   {name:14} {sp:5} passed {sf:5} failed {ss:5} skipped")
    print(f"{p} passed, {f} failed" + (f", {s} skipped" if s else ""))
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())

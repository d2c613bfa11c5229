"""pytest configuration of the benchmarks: the binding-floor fixture, machine info, a summary.

Sizes, rounds and the measuring helper are in harness.py.

Not part of the default test run (``testpaths = tests/python``). Run explicitly:

    python -m pytest bench/ --benchmark-only                       # full suite
    HERMES_BENCH_SMOKE=1 python -m pytest bench/ -q --benchmark-disable   # CI smoke, < 60 s

Smoke mode (``HERMES_BENCH_SMOKE=1``) uses 1/10 of every size and one round, so it checks that
every benchmark runs and produces correct output, not how fast it is.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ modules, whatever the rootdir

import floor_build
import machine
from harness import (
    BULK_BYTES,
    PEER_PROBLEMS,
    RERUN_EVERY,
    RERUN_SIZE,
    RESULTS,
    SIZES,
    SMOKE,
)


# ----------------------------------------------------------------------------- the floor
@pytest.fixture(scope="session")
def floor() -> Any:
    """The compiled binding floor module (built on first use into build/bench-floor/).

    Skips when pybind11 or a compiler is missing (pip install pybind11); fails if it does not
    compile."""
    try:
        return floor_build.load()
    except floor_build.FloorUnavailable as exc:  # environment: skip, and report.py says so
        pytest.skip(f"binding floor not available: {exc}")
    except floor_build.FloorBuildError as exc:  # a real build failure
        pytest.fail(f"cannot build the binding floor: {exc}", pytrace=False)


# ----------------------------------------------------------------------------- hooks
def pytest_report_header(config: pytest.Config) -> list[str]:
    mode = "SMOKE (HERMES_BENCH_SMOKE=1)" if SMOKE else "full"
    return [
        f"hermes_stream bench: {mode}; stream sizes {SIZES} reasoning tokens; "
        f"bulk {BULK_BYTES / 1e6:g} MB; re-run baseline on {RERUN_SIZE} every {RERUN_EVERY}th delta"
    ]


def pytest_benchmark_update_machine_info(
    config: pytest.Config, machine_info: dict[str, Any]
) -> None:
    floor_cc = None
    if floor_build.MODULE_NAME in sys.modules:
        floor_cc = floor_build.compiler_version()
    machine_info["hermes_bench"] = {
        **machine.collect(floor_cc),
        "smoke": SMOKE,
        "sizes": list(SIZES),
        "bulk_bytes": BULK_BYTES,
        "rerun_size": RERUN_SIZE,
        "rerun_every": RERUN_EVERY,
    }


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    tr = terminalreporter
    if PEER_PROBLEMS:
        tr.section("optional peers whose output was wrong (xfailed, not timed)")
        for key, problems in sorted(PEER_PROBLEMS.items()):
            tr.write_line(f"{key}: " + "; ".join(problems))
    if not RESULTS:
        return
    tr.section("hermes_stream: cost per unit (min and median over rounds)")
    tr.write_line(
        f"{'benchmark':<34} {'unit':<7} {'units':>9} {'rounds':>6} "
        f"{'min µs/unit':>12} {'median':>12}"
    )
    for key in sorted(RESULTS, key=lambda k: (RESULTS[k]["group"], k)):
        r = RESULTS[key]
        line = (
            f"{key:<34} {r['unit']:<7} {r['n_units']:>9,.0f} {r['rounds']:>6} "
            f"{r['min_us']:>12.4f} {r['median_us']:>12.4f}"
        )
        if r["unit"] == "MB":
            line += f"   = {1e6 / r['min_us']:,.0f} MB/s"
        tr.write_line(line)
    tr.write_line("Ratios and targets: python bench/report.py --json <file from --benchmark-json>")

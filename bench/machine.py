"""Machine and version facts recorded with every benchmark run (and printed by report.py)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _cpuinfo() -> tuple[str, int | None, str]:
    """(model name, physical cores, max MHz if known) from /proc/cpuinfo (Linux)."""
    model = platform.processor() or platform.machine()
    physical: int | None = None
    mhz = ""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return model, physical, mhz
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    if m:
        model = m.group(1).strip()
    cores = set()
    phys = core = None
    for line in text.splitlines():
        if line.startswith("physical id"):
            phys = line.split(":", 1)[1].strip()
        elif line.startswith("core id"):
            core = line.split(":", 1)[1].strip()
        elif not line.strip():
            if core is not None:
                cores.add((phys, core))
            phys = core = None
    if core is not None:
        cores.add((phys, core))
    physical = len(cores) or None
    m = re.search(r"^cpu MHz\s*:\s*([\d.]+)$", text, re.M)
    if m:
        mhz = f"{float(m.group(1)):.0f} MHz"
    return model, physical, mhz


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _elf_compiler(path: str) -> str:
    """The compiler named in an ELF file's .comment section (e.g. 'GCC: (Debian 12.2.0) 12.2.0')."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return "unknown"
    found = re.findall(rb"(GCC: \([^)]*\) [\w.\-]+|clang version [\w.\-]+)", data)
    return found[-1].decode("ascii", "replace") if found else "unknown"


def _mtime(path: str) -> str:
    """When the installed file was written (the installed build may predate the repo's HEAD)."""
    import datetime

    try:
        ts = Path(path).stat().st_mtime
    except OSError:
        return "unknown"
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _git() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("-dirty" if dirty else "")


def collect(floor_compiler: str | None = None) -> dict[str, object]:
    import hermes_stream
    from hermes_stream import _core

    model, physical, mhz = _cpuinfo()
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 0
    return {
        "cpu_model": model,
        "cpu_mhz": mhz,
        "cores_logical": os.cpu_count(),
        "cores_physical": physical,
        "cores_usable": affinity,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "hermes_stream": getattr(hermes_stream, "__version__", "?"),
        "hermes_stream_git": _git(),
        "extension": Path(_core.__file__).name,
        "extension_built": _mtime(_core.__file__),
        "extension_compiler": _elf_compiler(_core.__file__),
        "floor_compiler": floor_compiler or "not built",
        "pybind11": _version("pybind11"),
        "pytest": _version("pytest"),
        "pytest-benchmark": _version("pytest-benchmark"),
        "python_executable": sys.executable,
    }

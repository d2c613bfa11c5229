"""Build and import the binding floor (bench/floor/floor.cc) on first use.

Needs only a C++17 compiler and the ``pybind11`` pip package (for its headers): no CMake, no
install step. The module is compiled with the flags the real extension gets in a Release build
(``-O3 -DNDEBUG -fvisibility=hidden``) into ``build/bench-floor/<key>/``, where ``key`` hashes the
source, the flags, the compiler and the Python/pybind11 versions, so a stale build is never reused.

    python bench/floor_build.py          # build (or find) it and print the path

``CXX`` picks the compiler (default: ``c++``, then ``g++``, then ``clang++``);
``HERMES_BENCH_FLOOR_DIR`` moves the cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "floor" / "floor.cc"
MODULE_NAME = "_hermes_bench_floor"
CXXFLAGS = ["-O3", "-DNDEBUG", "-std=c++17", "-fPIC", "-fvisibility=hidden", "-shared"]


class FloorBuildError(RuntimeError):
    """The floor failed to compile or import."""


class FloorUnavailable(FloorBuildError):
    """No way to build it here: no pybind11 headers, no compiler, or an unsupported platform."""


def cache_root() -> Path:
    env = os.environ.get("HERMES_BENCH_FLOOR_DIR")
    return Path(env) if env else HERE.parent / "build" / "bench-floor"


def compiler() -> list[str]:
    env = os.environ.get("CXX")
    if env:
        return shlex.split(env)
    for name in ("c++", "g++", "clang++"):
        path = shutil.which(name)
        if path:
            return [path]
    raise FloorUnavailable("no C++ compiler found (set CXX)")


def compiler_version(cxx: list[str] | None = None) -> str:
    try:
        out = subprocess.run(
            [*(cxx or compiler()), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError, FloorBuildError) as exc:
        return f"unknown ({exc})"
    return out.splitlines()[0].strip() if out else "unknown"


def _command(cxx: list[str], out: Path) -> list[str]:
    import pybind11

    includes = [pybind11.get_include(), sysconfig.get_paths()["include"]]
    flags = [*CXXFLAGS, *(f"-I{i}" for i in dict.fromkeys(includes))]
    cmd = [*cxx, *flags, str(SOURCE), "-o", str(out)]
    if sys.platform == "darwin":
        cmd[len(cxx) : len(cxx)] = ["-undefined", "dynamic_lookup"]
    return cmd


def build() -> Path:
    """Compile the floor if no matching build is cached; return the extension's path."""
    if sys.platform == "win32":
        raise FloorUnavailable("the floor build helper supports Linux and macOS only")
    try:
        import pybind11
    except ImportError as exc:
        raise FloorUnavailable("pip install pybind11 (the floor needs its headers)") from exc
    cxx = compiler()
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    key_src = "\n".join(
        [
            SOURCE.read_text(encoding="utf-8"),
            " ".join(cxx),
            compiler_version(cxx),
            " ".join(CXXFLAGS),
            sys.version,
            suffix,
            pybind11.__version__,
        ]
    )
    key = hashlib.sha256(key_src.encode("utf-8")).hexdigest()[:16]
    target_dir = cache_root() / key
    target = target_dir / f"{MODULE_NAME}{suffix}"
    if target.exists():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, suffix=suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = _command(cxx, tmp)
    try:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise FloorUnavailable(f"cannot run the compiler {cxx[0]!r}: {exc}") from exc
        if proc.returncode != 0:
            raise FloorBuildError(
                f"building the floor failed:\n$ {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}"
            )
        (target_dir / "build-command.txt").write_text(
            shlex.join(_command(cxx, target)) + "\n", encoding="utf-8"
        )
        os.replace(tmp, target)  # atomic: concurrent builders cannot see a half-written file
    finally:
        tmp.unlink(missing_ok=True)
    return target


def load() -> ModuleType:
    """Build if needed, then import the floor extension from the cache."""
    if MODULE_NAME in sys.modules:
        return sys.modules[MODULE_NAME]
    path = build()
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise FloorBuildError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[MODULE_NAME] = module
    return module


if __name__ == "__main__":
    print(build())

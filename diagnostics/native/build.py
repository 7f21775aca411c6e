"""Build the RowDigest TensorFlow op (`row_digest.cc`) next to this file.

    python diagnostics/native/build.py

`make venv` runs it after installing the requirements. It needs a C++17 compiler
(g++ or clang++; the `CXX` environment variable picks one). Where the build is not
possible it says why and exits 0: fitprobe then hashes rows with `tf.fingerprint`
and checks NaN/Inf in a separate pass, which is slower, not less exact.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "row_digest.cc"
XXHASH = HERE / "xxhash"
LIBRARY = HERE / "_row_digest.so"
VERSION = HERE / "_row_digest.tf-version"  # the TensorFlow it was built for


TIMEOUT_S = 600  # for each compiler or TensorFlow run
X86 = platform.machine() in ("x86_64", "AMD64")  # xxHash's dispatcher (C) is built too


def _compiler(variable: str, *names: str) -> list[str] | None:
    """The command of a compiler: `$variable` (which may hold a wrapper, "ccache g++")
    or the first of `names` on PATH; None if it is not there."""
    command = (
        shlex.split(os.environ.get(variable, ""))
        or [found for found in map(shutil.which, names) if found][:1]
    )
    return command if command and shutil.which(command[0]) else None


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)


def build() -> str | None:
    """Compile the op into `LIBRARY`; -> None, or why it was not built."""
    if sys.platform != "linux":
        return f"the op is built on Linux only (this is {sys.platform})"
    cc, cxx = _compiler("CC", "gcc", "clang"), _compiler("CXX", "g++", "clang++")
    if cxx is None or (cc is None and X86):
        return "no C/C++ compiler (gcc and g++, or clang and clang++, or $CC and $CXX)"
    # TensorFlow's flags, asked of a Python of its own (its import logs to stderr).
    ask = (
        "import json, tensorflow as tf; s = tf.sysconfig;"
        "print(json.dumps(s.get_compile_flags() + s.get_link_flags()))"
    )
    done = _run([sys.executable, "-c", ask])
    if done.returncode != 0:
        return f"TensorFlow did not give its build flags:\n{done.stderr[-2000:]}"
    tf_flags = json.loads(done.stdout.strip().splitlines()[-1])
    flags = ["-O3", "-fPIC", "-w", f"-I{XXHASH}"]
    with tempfile.TemporaryDirectory() as scratch:
        objects = []
        if X86:
            # xxHash's dispatcher picks SSE2, AVX2 or AVX-512 on the machine it runs on.
            dispatch = Path(scratch) / "xxh_x86dispatch.o"
            done = _run([*cc, *flags, "-c", str(XXHASH / "xxh_x86dispatch.c"), "-o", str(dispatch)])
            if done.returncode != 0:
                return f"compiling xxHash failed:\n{done.stderr[-2000:]}"
            objects.append(str(dispatch))
            flags.append("-DROW_DIGEST_X86_DISPATCH")
        built = Path(scratch) / LIBRARY.name
        cmd = [
            *cxx, "-shared", *flags, str(SOURCE), *objects, "-o", str(built),
            *tf_flags,
        ]  # fmt: skip
        done = _run(cmd)
        if done.returncode != 0:
            return f"compiling the op failed:\n{done.stderr[-2000:]}"
        # Check it loads (and runs) in a fresh TensorFlow before it is put in place.
        check = (
            "import sys, tensorflow as tf;"
            "h, f = tf.load_op_library(sys.argv[1]).fitprobe_row_digest(tf.ones([2, 3]));"
            "assert h.shape == (2,) and bool(f); print(tf.__version__)"
        )
        done = _run([sys.executable, "-c", check, str(built)])
        if done.returncode != 0:
            return f"the built op does not load:\n{done.stderr[-2000:]}"
        version = done.stdout.strip().splitlines()[-1]
        # In place at once: a worker starting now loads the old file or the new one.
        staged = LIBRARY.with_name(LIBRARY.name + ".new")
        shutil.copyfile(built, staged)
        os.replace(staged, LIBRARY)
        VERSION.write_text(version + "\n")
    return None


def main() -> int:
    try:
        VERSION.unlink(missing_ok=True)  # never leave one built for another TensorFlow
        LIBRARY.unlink(missing_ok=True)
        why = build()
    except (OSError, subprocess.SubprocessError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    if why is None:
        print(f"built {LIBRARY.relative_to(HERE.parent.parent)}")
    else:
        print(f"note: the RowDigest op was not built ({why}).")
        print("      Probes still work; describing each batch takes more CPU without it.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Values of C constants (macros and enumerators) as the headers of one
architecture define them, for scripts/gen_syscall_catalogue.py.

The compiler does the evaluating: for every group of names that share a list
of headers, a small C file holds ``const unsigned long long tl_values[] =
{(unsigned long long)(NAME), ...}``; clang compiles it for the target
(``--target=x86_64-linux-gnu`` / ``--target=aarch64-linux-gnu``, only that
architecture's include directory, ``-nostdinc``) to assembly, and the
``.quad`` / ``.xword`` / ``.zero`` directives of the array are the values.
Nothing is run, so no emulator is needed for aarch64, and enumerators
(``enum bpf_cmd``, ``PER_LINUX``) work as well as macros.

Names a header set does not declare (newer than the installed headers) are
reported back, not guessed.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

# Target triple and the header directories of each architecture: Debian's
# linux-libc-dev / libc6-dev for the host (x86_64), linux-libc-dev-arm64-cross
# / libc6-dev-arm64-cross for aarch64.
TARGETS = {
    "x86_64": ("x86_64-linux-gnu", ["/usr/include/x86_64-linux-gnu", "/usr/include"]),
    "aarch64": ("aarch64-linux-gnu", ["/usr/aarch64-linux-gnu/include"]),
}
# A check for the packages: one header only that architecture's uapi has.
ARCH_MARKER = {
    "x86_64": "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    "aarch64": "/usr/aarch64-linux-gnu/include/asm/sve_context.h",
}

UNDECLARED_RE = re.compile(r"use of undeclared identifier '(\w+)'")
DATA_RE = re.compile(r"^\s*\.(quad|xword|8byte|zero)\s+([-0-9a-fA-Fx]+)\s*(?:(?://|#).*)?$")


class ValueError_(Exception):
    pass


def headers_installed(arch: str) -> bool:
    return Path(ARCH_MARKER[arch]).exists()


def _resource_include() -> str:
    out = subprocess.run(["clang", "-print-resource-dir"], check=True,
                         capture_output=True, text=True).stdout.strip()
    return str(Path(out) / "include")


def _source(headers: list[str], exprs: list[str]) -> str:
    lines = ["#define _GNU_SOURCE 1"]
    lines += [f"#include <{h}>" for h in headers]
    lines.append("const unsigned long long tl_values[] = {")
    lines += [f"  (unsigned long long)({e})," for e in exprs]
    # A last, non-zero entry keeps the compiler from folding trailing zeros
    # into a shorter array.
    lines.append("  0x544c454e44ull,\n};")
    return "\n".join(lines) + "\n"


def _compile(arch: str, source: str, resource: str) -> tuple[int, str, str]:
    triple, includes = TARGETS[arch]
    cmd = ["clang", f"--target={triple}", "-nostdinc", "-isystem", resource]
    for inc in includes:
        cmd += ["-isystem", inc]
    with tempfile.NamedTemporaryFile("w", suffix=".c") as f:
        f.write(source)
        f.flush()
        r = subprocess.run(cmd + ["-S", "-O0", "-w", "-o", "-", f.name],
                           capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def _parse(asm: str, count: int) -> list[int]:
    values: list[int] = []
    inside = False
    for line in asm.splitlines():
        if line.startswith("tl_values:"):
            inside = True
            continue
        if not inside:
            continue
        m = DATA_RE.match(line)
        if not m:
            if values and not line.strip().startswith((".", "//", "#", ";")):
                break
            continue
        kind, arg = m.groups()
        if kind == "zero":
            values += [0] * (int(arg, 0) // 8)
        else:
            values.append(int(arg, 0) & 0xFFFFFFFFFFFFFFFF)
        if len(values) >= count + 1:
            break
    if len(values) != count + 1 or values[-1] != 0x544C454E44:
        raise ValueError_(f"could not read {count} values from the compiler's assembly")
    return values[:count]


def evaluate(arch: str, headers: list[str], names: list[str],
             resource: str | None = None) -> tuple[dict[str, int], list[str]]:
    """(value by name, names the headers do not declare)."""
    resource = resource or _resource_include()
    wanted = list(dict.fromkeys(names))
    missing: list[str] = []
    for _ in range(len(wanted) + 1):
        present = [n for n in wanted if n not in missing]
        if not present:
            return {}, missing
        rc, asm, err = _compile(arch, _source(headers, present), resource)
        if rc == 0:
            return dict(zip(present, _parse(asm, len(present)))), missing
        undeclared = set(UNDECLARED_RE.findall(err)) & set(present)
        if not undeclared:
            raise ValueError_(f"{arch}: compiling <{'>, <'.join(headers)}> failed:\n"
                              + "\n".join(err.splitlines()[:12]))
        missing += sorted(undeclared)
    raise ValueError_(f"{arch}: could not evaluate {names}")


def evaluate_exprs(arch: str, prelude: str, exprs: list[str],
                   resource: str | None = None) -> list[int]:
    """The values of C constant expressions after `prelude` (#includes and
    declarations), compiled for `arch`: ``offsetof``/``sizeof`` of a
    structure as that architecture lays it out. Raises ValueError_ with the
    compiler's first lines when the prelude does not declare what they use."""
    resource = resource or _resource_include()
    lines = ["#define _GNU_SOURCE 1", prelude.rstrip("\n"),
             "const unsigned long long tl_values[] = {"]
    lines += [f"  (unsigned long long)({e})," for e in exprs]
    lines.append("  0x544c454e44ull,\n};")
    rc, asm, err = _compile(arch, "\n".join(lines) + "\n", resource)
    if rc != 0:
        raise ValueError_("\n".join(err.splitlines()[:6]))
    return _parse(asm, len(exprs))

#!/usr/bin/env python3
"""scripts/gen_syscall_catalogue.py and `arg ... when ...` annotation lines:
the values and masks it writes per architecture, and the mistakes it refuses.

Run from the source root, as root (tracefs); exits 77 (skipped) where an
architecture's headers are not installed, as the generator does."""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "scripts/gen_syscall_catalogue.py"
ANNOTATIONS = (ROOT / "format/syscalls/annotations.txt").read_text()


def generate(extra: str, out: Path) -> subprocess.CompletedProcess:
    ann = out / "annotations.txt"
    ann.write_text(ANNOTATIONS + "\n" + extra + "\n")
    return subprocess.run([sys.executable, str(GEN), "--annotations", str(ann), "--out-dir", str(out),
                           "--skip-without-headers"], capture_output=True, text=True)


def variants_of(inc: str, syscall: str, param: str) -> list[str]:
    lines = inc.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(f'TL_SYSCALL(') and f'"{syscall}",' in l)
    out, inside = [], False
    for line in lines[start + 1:]:
        if line.startswith("TL_SYSCALL("):
            break
        if line.strip().startswith("TL_PARAM("):
            inside = f'TL_PARAM("{param}",' in line
        elif inside and "TL_VARIANT(" in line:
            out.append(line.strip())
    return out


def main() -> int:
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        # A mask, from a name the headers give: futex's command is op & FUTEX_CMD_MASK,
        # compared on the 32 bits of the C int.
        r = generate("arg futex utime struct_in struct=timespec when op&FUTEX_CMD_MASK=FUTEX_WAIT", out)
        if r.returncode == 77:
            print(r.stderr, end="")
            return 77
        if r.returncode != 0:
            failures.append(f"a valid `when` line failed: {r.stderr}")
        else:
            for arch in ("x86_64", "aarch64"):
                got = variants_of((out / f"{arch}.inc").read_text(), "futex", "utime")
                want = ["TL_VARIANT(1, 0xfffffe7full, struct_in, -2, \"\", \"timespec\", 16, 0x0ull)"]
                if got != want:
                    failures.append(f"{arch}: futex utime variants {got}, want {want}")
        # The checked-in tables: prctl's arg2 per option, values from the headers.
        for arch in ("x86_64", "aarch64"):
            got = variants_of((ROOT / f"format/syscalls/{arch}.inc").read_text(), "prctl", "arg2")
            want = ['TL_VARIANT(0, 0xffffffffull, string, -2, "", "", 0, 0xfull)',
                    'TL_VARIANT(0, 0xffffffffull, signal, -2, "", "", 0, 0x1ull)']
            if got != want:
                failures.append(f"{arch}: prctl arg2 variants {got}, want {want}")
        refused = {
            "arg prctl arg3 string when opt=PR_SET_NAME": r"prctl has no parameter opt",
            "arg prctl arg3 string when option=PR_NO_SUCH_OPTION": r"`when` names no set .*PR_NO_SUCH_OPTION",
            "arg prctl arg3 string when option&NO_SUCH_MASK=PR_SET_NAME": r"NO_SUCH_MASK",
            "arg prctl arg2 integer when option=PR_SET_NAME": r"PR_SET_NAME already selects another variant",
            "arg prctl arg2 integer when arg3=PR_SET_NAME": r"depend on different arguments or masks",
            "arg prctl option integer when option=PR_SET_NAME": r"cannot depend on itself",
            "arg prctl arg3 buffer_in when option=PR_SET_NAME": r"buffer_in needs len=",
            "arg prctl arg3 flags set=no_such_set when option=PR_SET_NAME": r"set no_such_set is not declared",
            "arg prctl arg3 string when option=": r"bad condition",
            "arg prctl arg3 string when option=PR_SET_NAME extra": r"ends the line",
            "arg no_such_call arg3 string when option=PR_SET_NAME": r"unknown syscall parameters: no_such_call.arg3",
        }
        for line, error in refused.items():
            r = generate(line, out)
            if r.returncode != 2 or not re.search(error, r.stderr):
                failures.append(f"{line!r}: status {r.returncode}, stderr {r.stderr.strip()!r}; want 2 and /{error}/")
    for f in failures:
        print("FAIL:", f)
    print(f"{len(refused) + 2 - len(failures)} checks passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

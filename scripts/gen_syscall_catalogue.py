#!/usr/bin/env python3
"""Generate the built-in syscall catalogue tables (format/syscalls/*.inc).

Sources of truth, all read on the build machine:

* Parameter names and C types: the kernel's tracefs syscall events,
  ``/sys/kernel/tracing/events/syscalls/sys_enter_<name>/format``. The fields
  after ``__syscall_nr`` are the parameters. tracefs names events after the
  kernel function, so a few names need fix-ups (``fstat`` is the event
  ``newfstat``, ``uname`` is ``newuname`` ...); see ``tracefs`` lines in the
  annotation file.
* x86_64 numbers: ``/usr/include/x86_64-linux-gnu/asm/unistd_64.h``.
* aarch64 numbers: the generic ``asm-generic/unistd.h`` preprocessed with
  ``cpp -dM`` and the defines arm64's uapi ``asm/unistd.h`` sets
  (``__ARCH_WANT_RENAMEAT``, ``__ARCH_WANT_NEW_STAT``, ...); the
  ``__NR3264_*`` chains resolve to the 64-bit names (``newfstatat``,
  ``fstat``, ``lseek``, ``mmap`` ...).
* Everything the kernel cannot tell us (which ``int`` is a flag set, which
  buffer is read at exit and how long it is, which uapi type a structure
  is, return kinds, prototypes of syscalls this kernel has no
  tracefs event for, numbers of syscalls newer than the installed uapi
  headers, arch-specific argument orders): the reviewed annotation file
  ``format/syscalls/annotations.txt``. Its header documents the syntax.

The same run writes the decoders' value tables (format/syscalls/
``flag_sets.inc``, ``errno.inc``, ``uapi_constants.h``, ``checkval.inc``):
the annotations list flag, enum, errno and constant NAMES; their VALUES come
from the uapi headers of each architecture (Debian's ``linux-libc-dev`` for
x86_64, ``linux-libc-dev-arm64-cross`` for aarch64; libc's headers for the few
names the uapi does not export), evaluated by compiling them for that target
(see scripts/uapi_values.py). A set whose values agree on both architectures
is emitted once; one that differs (open flags, mmap bits) per architecture,
and the decoder picks by the trace's architecture. Structure layouts
(``struct_layouts.h``, and ``layout_checkval.inc`` for the checkval test) are
made the same way: the annotations' ``layout`` lines name a type and fields,
the compiler gives sizeof and offsetof per architecture, and a layout's size
is the catalogue's size of that structure. ``--values-only`` makes just these
(no tracefs needed).

Run it on an x86_64 machine (Debian's x86_64 uapi headers, the x86_64
kernel's tracefs). The aarch64 table borrows those tracefs prototypes by name:
parameter names and types are the same on both, except where the annotation
file gives a ``proto@aarch64`` override (``clone`` with CLONE_BACKWARDS
argument order, ``fadvise64``). Structure sizes per arch come from
compiling each architecture's headers, so nothing here depends on the build
host's ABI.

Re-run (as root; tracefs is mounted if it is not)::

    python3 scripts/gen_syscall_catalogue.py          # rewrite the .inc files
    python3 scripts/gen_syscall_catalogue.py --check  # exit 1 if they differ

Output is deterministic: the same kernel, headers and annotations give the
same bytes. The build itself never runs this script.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import uapi_values  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARCHES = ("x86_64", "aarch64")

# Names as spelled in annotations.txt and by arg_kind_name() in C++; the
# second column is the C++ enumerator.
ARG_KINDS = {
    "integer": "integer", "unsigned": "unsigned_int", "hex": "hex", "fd": "fd",
    "dirfd": "dirfd", "pointer": "pointer", "path": "path", "string": "string",
    "buffer_in": "buffer_in", "buffer_out": "buffer_out",
    "struct_in": "struct_in", "struct_out": "struct_out",
    "string_array": "string_array", "sockaddr_in": "sockaddr_in",
    "sockaddr_out": "sockaddr_out", "flags": "flags", "enum_value": "enum_value",
    "signal": "signal", "mode": "mode", "pid": "pid", "uid": "uid", "gid": "gid",
    "struct_array_in": "struct_array_in", "struct_array_out": "struct_array_out",
}
RETURN_KINDS = {"integer": "integer", "fd": "fd", "hex": "hex", "pid": "pid",
                "unsigned": "unsigned_int", "none": "none"}
NEEDS_LEN = {"buffer_in", "buffer_out", "sockaddr_in", "sockaddr_out",
             "struct_array_in", "struct_array_out"}
NEEDS_STRUCT = {"struct_in", "struct_out", "struct_array_in", "struct_array_out"}
NEEDS_SET = {"flags", "enum_value"}
LEN_FROM_RETURN = -1
NO_LEN_ARG = -2

# Heuristics for what the annotation file does not say.
FD_NAMES = {"fd", "ufd", "fildes", "oldfd", "newfd", "epfd", "fd_in", "fd_out",
            "fdin", "fdout", "out_fd", "in_fd", "pidfd", "fanotify_fd", "fs_fd",
            "ruleset_fd", "mountdirfd", "group_fd", "mqdes", "kernel_fd",
            "initrd_fd"}
DIRFD_NAMES = {"dfd", "olddfd", "newdfd", "from_dfd", "to_dfd"}
PATH_NAMES = {"filename", "pathname", "path", "oldname", "newname",
              "specialfile", "new_root", "put_old", "from_pathname",
              "to_pathname", "dir_name"}
PID_NAMES = {"pid", "upid", "tgid", "pgid"}
HEX_NAMES = {"addr", "start", "brk", "new_addr", "newsp", "tls", "arg", "arg2",
             "arg3", "arg4", "arg5", "data", "ctx_id", "ctx", "init_val"}
INTEGER_TYPES = {"int", "long", "unsigned int", "unsigned long", "unsigned",
                 "u32", "u64", "__u32", "__u64", "__s32", "size_t", "loff_t",
                 "off_t", "key_t", "key_serial_t", "qid_t", "timer_t", "mqd_t",
                 "aio_context_t", "rwf_t", "clockid_t", "pid_t", "uid_t",
                 "gid_t", "umode_t"}
UNSIGNED_TYPES = {"unsigned int", "unsigned long", "unsigned", "u32", "u64",
                  "__u32", "__u64", "size_t", "qid_t"}


class GenError(Exception):
    pass


@dataclasses.dataclass
class Variant:
    """Another shape of a parameter, for some values of another argument."""
    selector: int           # index of the argument whose value chooses
    mask: int               # that value AND mask is compared
    values: list[int]
    kind: str
    len_arg: int = NO_LEN_ARG
    flag_set: str = ""
    struct_type: str = ""
    struct_size: int = 0


@dataclasses.dataclass
class Param:
    name: str
    c_type: str
    kind: str = "integer"
    len_arg: int = NO_LEN_ARG
    flag_set: str = ""
    struct_type: str = ""
    struct_size: int = 0
    variants: list[Variant] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Syscall:
    nr: int
    name: str
    params: list[Param]
    returns: str = "integer"
    never_returns: bool = False
    note: str = ""
    classes: list[str] = dataclasses.field(default_factory=list)


# strace's syscall classes, as `-e trace=` spells them, and the bit of
# format/syscall_set.h each one is.
SYSCALL_CLASSES = {
    "%desc": "kClassDesc", "%file": "kClassFile", "%ipc": "kClassIpc", "%network": "kClassNetwork",
    "%process": "kClassProcess", "%signal": "kClassSignal", "%memory": "kClassMemory",
    "%creds": "kClassCreds", "%clock": "kClassClock", "%stat": "kClassStat", "%lstat": "kClassLstat",
    "%fstat": "kClassFstat", "%%stat": "kClassStatLike", "%statfs": "kClassStatfs",
    "%fstatfs": "kClassFstatfs", "%%statfs": "kClassStatfsLike", "%pure": "kClassPure",
}


# ------------------------------------------------------------- sources ----

def find_tracefs(explicit: str | None) -> Path:
    candidates = [Path(explicit)] if explicit else [
        Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing")]
    for c in candidates:
        if (c / "events" / "syscalls").is_dir():
            return c
    if not explicit and os.geteuid() == 0:
        # tracefs is often simply not mounted; we are root, so mount it.
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       check=False, stderr=subprocess.DEVNULL)
        if Path("/sys/kernel/tracing/events/syscalls").is_dir():
            return Path("/sys/kernel/tracing")
    raise GenError("tracefs syscall events not found; run as root or "
                   "`mount -t tracefs nodev /sys/kernel/tracing`")


FIELD_RE = re.compile(r"^\s*field:(?P<decl>[^;]+);")


def read_tracefs(root: Path) -> dict[str, list[tuple[str, str]]]:
    """Event name (without sys_enter_) -> [(c type, parameter name)]."""
    events: dict[str, list[tuple[str, str]]] = {}
    for d in sorted((root / "events" / "syscalls").glob("sys_enter_*")):
        params: list[tuple[str, str]] = []
        seen_nr = False
        for line in (d / "format").read_text().splitlines():
            m = FIELD_RE.match(line)
            if not m:
                continue
            decl = m.group("decl").strip()
            ctype, name = split_decl(decl)
            if name == "__syscall_nr":
                seen_nr = True
            elif seen_nr:
                params.append((ctype, name))
        events[d.name[len("sys_enter_"):]] = params
    if len(events) < 100:
        raise GenError(f"only {len(events)} syscall events under {root}")
    return events


def split_decl(decl: str) -> tuple[str, str]:
    m = re.match(r"^(?P<type>.*?[\s*])(?P<name>[A-Za-z_][A-Za-z0-9_]*)$", decl.strip())
    if not m:
        raise GenError(f"cannot parse declaration {decl!r}")
    return normalize_type(m.group("type")), m.group("name")


def normalize_type(t: str) -> str:
    t = re.sub(r"\s+", " ", t.strip())
    t = re.sub(r"\s*\*", " *", t)          # "char*" / "char *" -> "char *"
    t = t.replace("* *", "**").replace("**", "* *")
    return t.strip()


def read_x86_numbers(header: Path) -> dict[str, int]:
    numbers = {}
    for line in header.read_text().splitlines():
        m = re.match(r"#define __NR_(\w+)\s+(\d+)\s*$", line)
        if m:
            numbers[m.group(1)] = int(m.group(2))
    if len(numbers) < 300:
        raise GenError(f"{header}: only {len(numbers)} syscall numbers")
    return numbers


# arm64's uapi <asm/unistd.h> sets these before including the generic table.
ARM64_DEFINES = ("__ARCH_WANT_RENAMEAT", "__ARCH_WANT_NEW_STAT",
                 "__ARCH_WANT_SET_GET_RLIMIT", "__ARCH_WANT_TIME32_SYSCALLS",
                 "__ARCH_WANT_SYS_CLONE3", "__ARCH_WANT_MEMFD_SECRET")


def read_generic_numbers(include_dir: Path) -> dict[str, int]:
    src = "".join(f"#define {d}\n" for d in ARM64_DEFINES)
    src += "#include <asm-generic/unistd.h>\n"
    with tempfile.NamedTemporaryFile("w", suffix=".c") as f:
        f.write(src)
        f.flush()
        out = subprocess.run(["cpp", "-dM", "-nostdinc", "-I", str(include_dir),
                              "-I", str(include_dir / "x86_64-linux-gnu"), f.name],
                             check=True, capture_output=True, text=True).stdout
    macros = {}
    for line in out.splitlines():
        m = re.match(r"#define (\w+) (.*)$", line)
        if m:
            macros[m.group(1)] = m.group(2).strip()
    if macros.get("__BITS_PER_LONG") != "64":
        raise GenError("asm-generic/unistd.h did not see __BITS_PER_LONG 64")

    def resolve(value: str, depth: int = 0) -> int | None:
        value = value.strip()
        if value.startswith("(") and value.endswith(")"):
            value = value[1:-1].strip()
        if re.fullmatch(r"\d+", value):
            return int(value)
        m = re.fullmatch(r"(\w+)\s*\+\s*(\d+)", value)
        if m and depth < 10:
            base = resolve(macros.get(m.group(1), ""), depth + 1)
            return None if base is None else base + int(m.group(2))
        if value in macros and depth < 10:
            return resolve(macros[value], depth + 1)
        return None

    numbers = {}
    for macro, value in macros.items():
        if not macro.startswith("__NR_") or macro.startswith("__NR3264_"):
            continue
        name = macro[len("__NR_"):]
        if name in ("syscalls", "arch_specific_syscall"):
            continue
        nr = resolve(value)
        if nr is not None:
            numbers[name] = nr
    if len(numbers) < 280:
        raise GenError(f"asm-generic/unistd.h: only {len(numbers)} syscall numbers")
    return numbers


# --------------------------------------------------------- annotations ----

@dataclasses.dataclass
class ArgNote:
    kind: str
    len_ref: str = ""       # parameter name or "ret"
    flag_set: str = ""
    struct_type: str = ""
    line: int = 0
    # `when` (a variant): the selecting parameter, the name of its mask ("":
    # the whole value, as wide as its C type) and the names that select.
    selector: str = ""
    mask_name: str = ""
    names: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Annotations:
    sets: dict[str, "SetDef"] = dataclasses.field(default_factory=dict)
    fallback_values: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    constants: list[tuple[list[str], list[tuple[str, str]]]] = dataclasses.field(default_factory=list)
    # `constants` by the name written there: (headers, C expression of the value)
    constant_names: dict[str, tuple[list[str], str]] = dataclasses.field(default_factory=dict)
    errnos: list[str] = dataclasses.field(default_factory=list)
    internal_errnos: list[tuple[str, int, str]] = dataclasses.field(default_factory=list)
    structs: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    args: dict[tuple[str, str], ArgNote] = dataclasses.field(default_factory=dict)
    # (syscall, parameter) -> its `when` lines, in file order
    variants: dict[tuple[str, str], list[ArgNote]] = dataclasses.field(default_factory=dict)
    returns: dict[str, str] = dataclasses.field(default_factory=dict)
    noreturn: set[str] = dataclasses.field(default_factory=set)
    # strace's class (%file, ...) -> the syscalls in it
    classes: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    protos: dict[tuple[str, str], list[tuple[str, str]]] = dataclasses.field(default_factory=dict)
    numbers: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    tracefs: dict[str, str] = dataclasses.field(default_factory=dict)
    used_args: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    layouts: dict[str, "LayoutDef"] = dataclasses.field(default_factory=dict)


def cxx_constant_name(macro: str) -> str:
    """O_CREAT -> kOCreat: C++ names no C library macro can clobber."""
    return "k" + "".join(w[:1].upper() + w[1:].lower() for w in macro.strip("_").split("_") if w)


@dataclasses.dataclass
class SetDef:
    name: str
    kind: str                       # flags | enum
    line: int
    headers: list[str] = dataclasses.field(default_factory=list)
    mask: str = ""                  # C expression of the enumerated part (flags)
    zero: str = ""                  # name printed for 0
    decimal: bool = True            # unknown enum values in decimal
    signal: bool = False            # exit signal in the low byte (clone)
    suffix: tuple[str, str] = ("", "")  # (flag name, text appended to the value's name)
    like: str = ""                  # names, headers and options of another set
    nomask: bool = False            # with like=: without the enumerated part
    nosignal: bool = False          # with like=: without the signal byte
    decoder: bool = False           # used by the decoders, not by an argument
    u32: bool = False               # values of a C int: negative ones as 32-bit
    arch: str = ""                  # only this architecture has the set
    # (printed name, C expression of its value, arch or "")
    values: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    bits: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)


def parse_set(rest: str, lineno: int) -> SetDef:
    fields = rest.split()
    if len(fields) < 2 or fields[1] not in ("flags", "enum"):
        raise GenError("set NAME flags|enum [OPTION ...]")
    d = SetDef(name=fields[0], kind=fields[1], line=lineno)
    for opt in fields[2:]:
        key, eq, value = opt.partition("=")
        if key == "headers" and eq:
            d.headers = [h for h in value.split(",") if h]
        elif key == "mask" and value:
            d.mask = value
        elif key == "zero" and value:
            d.zero = value
        elif key == "suffix" and ":" in value:
            flag, _, text = value.partition(":")
            d.suffix = (flag, text)
        elif key == "like" and value:
            d.like = value
        elif key == "arch" and value in ARCHES:
            d.arch = value
        elif not eq and key in ("hex", "signal", "nomask", "nosignal", "decoder", "u32"):
            if key == "hex":
                d.decimal = False
            else:
                setattr(d, key, True)
        else:
            raise GenError(f"unknown set option {opt}")
    if d.mask and d.kind != "flags":
        raise GenError("mask= goes with flags sets")
    return d


def parse_annotations(path: Path) -> Annotations:
    ann = Annotations()
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path.name}:{lineno}"
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if word in LAYOUT_WORDS:
                parse_layout_line(ann, word, rest, lineno)
            elif word == "set":
                d = parse_set(rest, lineno)
                if d.name in ann.sets:
                    raise GenError(f"set {d.name} declared twice")
                ann.sets[d.name] = d
            elif word in ("values", "bits"):
                name, *names = rest.split()
                if name not in ann.sets:
                    raise GenError(f"set {name} is not declared (yet) with `set`")
                d = ann.sets[name]
                if d.like:
                    raise GenError(f"set {name} takes its names from {d.like}")
                if word == "values" and d.kind == "flags" and not d.mask:
                    raise GenError(f"flags set {name} has no mask= for enumerated values")
                if word == "bits" and d.kind == "enum":
                    raise GenError(f"enum set {name} has no bits")
                for n in names:
                    n, _, arch = n.partition("@")
                    ident, _, expr = n.partition("=")
                    if not re.fullmatch(r"[A-Za-z_]\w*", ident) or (arch and arch not in ARCHES):
                        raise GenError(f"bad name {n}")
                    (d.values if word == "values" else d.bits).append((ident, expr or ident, arch))
            elif word == "value":
                name, value = rest.split()
                ann.fallback_values[name] = (int(value, 0), lineno)
            elif word == "constants":
                fields = rest.split()
                if not fields or not fields[0].startswith("headers="):
                    raise GenError("constants headers=H,... NAME[=EXPR] ...")
                headers = [h for h in fields[0][len("headers="):].split(",") if h]
                pairs = []
                for f in fields[1:]:
                    macro, _, expr = f.partition("=")
                    pairs.append((cxx_constant_name(macro), expr or macro))
                    ann.constant_names[macro] = (headers, expr or macro)
                ann.constants.append((headers, pairs))
            elif word == "errno":
                ann.errnos += rest.split()
            elif word == "errno_internal":
                name, value, message = rest.split(None, 2)
                ann.internal_errnos.append((name, int(value), message))
            elif word == "struct":
                fields = rest.split()
                sizes = {}
                for f in fields[1:]:
                    if "=" in f:
                        arch, size = f.split("=")
                        if arch not in ARCHES:
                            raise GenError(f"unknown arch {arch}")
                        sizes[arch] = int(size)
                    else:
                        sizes = {a: int(f) for a in ARCHES}
                if set(sizes) != set(ARCHES):
                    raise GenError("struct needs a size for every arch")
                ann.structs[fields[0]] = sizes
            elif word == "arg":
                fields = rest.split()
                condition = ""
                if "when" in fields:
                    at = fields.index("when")
                    if len(fields) != at + 2:
                        raise GenError("when PARAM[&MASK]=NAME[,NAME...] ends the line")
                    condition = fields[at + 1]
                    fields = fields[:at]
                syscalls, params, kind = fields[0], fields[1], fields[2]
                if kind not in ARG_KINDS:
                    raise GenError(f"unknown kind {kind}")
                note = ArgNote(kind=kind, line=lineno)
                if condition:
                    m = re.fullmatch(r"([A-Za-z_]\w*)(?:&([A-Za-z_]\w*))?=([A-Za-z_]\w*(?:,[A-Za-z_]\w*)*)",
                                     condition)
                    if not m:
                        raise GenError(f"bad condition {condition} (PARAM[&MASK]=NAME[,NAME...])")
                    note.selector, note.mask_name = m.group(1), m.group(2) or ""
                    note.names = m.group(3).split(",")
                    if len(set(note.names)) != len(note.names):
                        raise GenError(f"a name twice in {condition}")
                for opt in fields[3:]:
                    key, _, value = opt.partition("=")
                    if key == "len":
                        note.len_ref = value
                    elif key == "set":
                        note.flag_set = value
                    elif key == "struct":
                        note.struct_type = value
                    else:
                        raise GenError(f"unknown option {opt}")
                for sc in syscalls.split(","):
                    for p in params.split(","):
                        if condition:
                            if p == note.selector:
                                raise GenError(f"{sc} {p} cannot depend on itself")
                            ann.variants.setdefault((sc, p), []).append(note)
                            continue
                        if (sc, p) in ann.args:
                            raise GenError(f"duplicate arg {sc} {p}")
                        ann.args[(sc, p)] = note
            elif word == "ret":
                syscalls, kind = rest.split()
                if kind not in RETURN_KINDS:
                    raise GenError(f"unknown return kind {kind}")
                for sc in syscalls.split(","):
                    ann.returns[sc] = kind
            elif word == "noreturn":
                ann.noreturn.update(rest.split(","))
            elif word == "class":
                cls, names = rest.split()
                if cls not in SYSCALL_CLASSES:
                    raise GenError(f"unknown class {cls} (known: {', '.join(SYSCALL_CLASSES)})")
                ann.classes.setdefault(cls, set()).update(names.split(","))
            elif word.startswith("proto"):
                arch = word.partition("@")[2] or "*"
                if arch != "*" and arch not in ARCHES:
                    raise GenError(f"unknown arch {arch}")
                m = re.fullmatch(r"(\w+)\s*\((.*)\)", rest)
                if not m:
                    raise GenError("proto NAME (TYPE NAME, ...)")
                decls = [d.strip() for d in m.group(2).split(",") if d.strip()]
                ann.protos[(m.group(1), arch)] = [split_decl(d) for d in decls]
            elif word == "number":
                fields = rest.split()
                ann.numbers[fields[0]] = {}
                for f in fields[1:]:
                    arch, nr = f.split("=")
                    if arch not in ARCHES:
                        raise GenError(f"unknown arch {arch}")
                    ann.numbers[fields[0]][arch] = int(nr)
            elif word == "tracefs":
                name, event = rest.split()
                ann.tracefs[name] = event
            else:
                raise GenError(f"unknown directive {word}")
        except (GenError, ValueError, IndexError) as e:
            raise GenError(f"{where}: {e}: {raw.strip()}") from None
    declare_layout_structs(ann, path.name)
    for d in ann.sets.values():
        if d.like:
            base = ann.sets.get(d.like)
            if base is None or base.like:
                raise GenError(f"{path.name}:{d.line}: like={d.like} is not a set with names")
        elif not d.values and not d.bits:
            raise GenError(f"{path.name}:{d.line}: set {d.name} lists no names")
    notes = list(ann.args.items()) + [(k, n) for k, ns in ann.variants.items() for n in ns]
    for (sc, p), note in notes:
        where = f"{path.name}:{note.line}"
        if note.flag_set and note.flag_set not in ann.sets:
            raise GenError(f"{where}: set {note.flag_set} is not declared with `set`")
        if note.struct_type and note.struct_type not in ann.structs:
            raise GenError(f"{where}: struct {note.struct_type} is not declared with `struct`")
        if (note.kind in NEEDS_SET) != bool(note.flag_set):
            raise GenError(f"{where}: set= goes with flags/enum_value only")
        if note.kind in NEEDS_STRUCT and not note.struct_type:
            raise GenError(f"{where}: {note.kind} needs struct=")
        if note.kind in NEEDS_LEN and not note.len_ref:
            raise GenError(f"{where}: {note.kind} needs len=")
    for (sc, p), vs in ann.variants.items():
        # One selecting argument per parameter: the recorder tests one
        # argument to decide a capture (see recorder/capture_plan.cpp).
        if len({(v.selector, v.mask_name) for v in vs}) != 1:
            raise GenError(f"{path.name}:{vs[-1].line}: the variants of {sc} {p} depend on "
                           "different arguments or masks")
        seen: set[str] = set()
        for v in vs:
            twice = seen.intersection(v.names)
            if twice:
                raise GenError(f"{path.name}:{v.line}: {sc} {p}: {', '.join(sorted(twice))} "
                               "already selects another variant")
            seen.update(v.names)
    return ann


# ------------------------------------------------------------ building ----

def guess_kind(ctype: str, name: str) -> str:
    base = ctype.replace("const ", "").strip()
    if "*" in base or base in ("cap_user_header_t", "cap_user_data_t"):
        if base == "char *" and name in PATH_NAMES:
            return "path"
        if base == "char *" and ctype.startswith("const"):
            return "path" if name in PATH_NAMES else "string"
        return "pointer"
    if base == "umode_t":
        return "mode"
    if base == "pid_t" or (base in INTEGER_TYPES and name in PID_NAMES):
        return "pid"
    if base == "uid_t":
        return "uid"
    if base == "gid_t":
        return "gid"
    if name in DIRFD_NAMES:
        return "dirfd"
    if name in FD_NAMES:
        return "fd"
    if name == "sig" and base == "int":  # rseq's u32 sig is a signature
        return "signal"
    if name in HEX_NAMES or name == "flags" or name.endswith("_flags") or base in (
            "aio_context_t", "rwf_t"):
        return "hex"
    if base in UNSIGNED_TYPES:
        return "unsigned"
    return "integer"


# C types of 32 bits: the kernel compares only these bits of such an argument.
INT32_TYPES = {"int", "unsigned int", "unsigned", "u32", "__u32", "__s32", "s32",
               "pid_t", "uid_t", "gid_t", "clockid_t", "key_t", "mqd_t", "timer_t",
               "key_serial_t", "qid_t", "rwf_t"}


def condition_value(arch: str, name: str, table: "ValueTable") -> int | None:
    """The value on this architecture of a name a `when` condition uses, from
    the sets that list it and its `constants` line; they must agree (None:
    the name does not exist on this architecture)."""
    ann = table.ann
    found: list[tuple[tuple[str, ...], str]] = []
    for set_name in sorted(ann.sets):
        e = effective_set(ann.sets[set_name], ann)
        if e.arch not in ("", arch):
            continue
        for n, expr, a in e.values + e.bits:
            if n == name and a in ("", arch):
                found.append((tuple(e.headers), expr))
        for n in (e.mask, e.zero, e.suffix[0]):
            if n == name:
                found.append((tuple(e.headers), n))
    if name in ann.constant_names:
        headers, expr = ann.constant_names[name]
        found.append((tuple(headers), expr))
    if not found:
        return None
    values = {table.get(arch, list(headers), expr) for headers, expr in found}
    if len(values) != 1:
        raise GenError(f"{name} has different values on {arch} in the sets that list it")
    return values.pop()


def known_condition_name(name: str, ann: Annotations) -> bool:
    for d in ann.sets.values():
        e = effective_set(d, ann)
        if name in [n for n, _, _ in e.values + e.bits] or name in (e.mask, e.zero, e.suffix[0]):
            return True
    return name in ann.constant_names


def build_variants(arch: str, syscall: str, pname: str, proto: list[tuple[str, str]],
                   ann: Annotations, table: "ValueTable") -> list[Variant]:
    out = []
    names = [p[1] for p in proto]
    for v in ann.variants.get((syscall, pname), []):
        where = f"annotations.txt:{v.line}"
        if v.selector not in names:
            raise GenError(f"{where}: {syscall} has no parameter {v.selector} "
                           f"(has {', '.join(names)})")
        selector = names.index(v.selector)
        sel_type = proto[selector][0]
        width = 0xFFFFFFFF if sel_type in INT32_TYPES else 2**64 - 1
        mask = width
        if v.mask_name:
            m = condition_value(arch, v.mask_name, table)
            if m is None:
                raise GenError(f"{where}: mask {v.mask_name} has no value on {arch}")
            mask &= m
        values = []
        for n in v.names:
            x = condition_value(arch, n, table)
            if x is not None and (x & mask) not in values:
                values.append(x & mask)
        if not values:
            raise GenError(f"{where}: no name of {','.join(v.names)} exists on {arch}")
        variant = Variant(selector=selector, mask=mask, values=values, kind=v.kind,
                          flag_set=v.flag_set)
        if v.struct_type:
            variant.struct_type = v.struct_type
            variant.struct_size = ann.structs[v.struct_type][arch]
        if v.len_ref == "ret":
            variant.len_arg = LEN_FROM_RETURN
        elif v.len_ref:
            if v.len_ref not in names:
                raise GenError(f"{where}: {syscall} has no parameter {v.len_ref}")
            variant.len_arg = names.index(v.len_ref)
        out.append(variant)
    taken: dict[int, int] = {}
    for i, variant in enumerate(out):
        for x in variant.values:
            if x in taken and taken[x] != i:
                raise GenError(f"{syscall} {pname}: two variants select the value {x:#x} on {arch}")
            taken[x] = i
    return out


def build_table(arch: str, numbers: dict[str, int], events: dict[str, list[tuple[str, str]]],
                ann: Annotations, table: "ValueTable") -> list[Syscall]:
    syscalls = []
    for name, nr in sorted(numbers.items(), key=lambda kv: (kv[1], kv[0])):
        note = ""
        if (name, arch) in ann.protos:
            proto = ann.protos[(name, arch)]
            note = f"prototype from annotations ({arch})"
        elif ann.tracefs.get(name, name) in events:
            proto = events[ann.tracefs.get(name, name)]
        elif (name, "*") in ann.protos:
            proto = ann.protos[(name, "*")]
            note = "no tracefs event on the generating kernel; prototype from annotations"
        else:
            raise GenError(f"{arch}: {name} ({nr}) has no tracefs event and no "
                           "`proto` line in the annotation file")
        params = []
        names = [p[1] for p in proto]
        for ctype, pname in proto:
            p = Param(name=pname, c_type=ctype, kind=guess_kind(ctype, pname))
            a = ann.args.get((name, pname))
            if a:
                ann.used_args.add((name, pname))
                p.kind = a.kind
                p.flag_set = a.flag_set
                if a.struct_type:
                    p.struct_type = a.struct_type
                    p.struct_size = ann.structs[a.struct_type][arch]
                if a.len_ref == "ret":
                    p.len_arg = LEN_FROM_RETURN
                elif a.len_ref:
                    if a.len_ref not in names:
                        raise GenError(f"annotations.txt:{a.line}: {name} has no "
                                       f"parameter {a.len_ref} (has {', '.join(names)})")
                    p.len_arg = names.index(a.len_ref)
            elif p.kind in ("flags", "enum_value"):
                p.kind = "hex"
            if (name, pname) in ann.variants:
                ann.used_args.add((name, pname))
                p.variants = build_variants(arch, name, pname, proto, ann, table)
            params.append(p)
        syscalls.append(Syscall(nr=nr, name=name, params=params,
                                returns=ann.returns.get(name, "integer"),
                                never_returns=name in ann.noreturn, note=note,
                                classes=[c for c in SYSCALL_CLASSES if name in ann.classes.get(c, ())]))
    return syscalls


def numbers_for(arch: str, base: dict[str, int], ann: Annotations) -> dict[str, int]:
    numbers = dict(base)
    for name, per_arch in ann.numbers.items():
        if arch not in per_arch:
            continue
        if name in numbers and numbers[name] != per_arch[arch]:
            raise GenError(f"{arch}: annotation says {name}={per_arch[arch]}, "
                           f"header says {numbers[name]}")
        numbers[name] = per_arch[arch]
    by_nr: dict[int, str] = {}
    for name, nr in numbers.items():
        if nr in by_nr:
            raise GenError(f"{arch}: {name} and {by_nr[nr]} share number {nr}")
        by_nr[nr] = name
    return numbers


# ----------------------------------------------------------- rendering ----

def c_string(s: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_ *,.()\[\]-]*", s):
        raise GenError(f"unexpected characters in {s!r}")
    return f'"{s}"'


def render(arch: str, table: list[Syscall]) -> str:
    out = [
        f"// GENERATED by scripts/gen_syscall_catalogue.py -- do not edit; re-run it.",
        f"// Syscall catalogue for {arch}: numbers from "
        + ("asm/unistd_64.h" if arch == "x86_64" else "asm-generic/unistd.h (arm64 defines)")
        + ", parameters from tracefs,",
        "// kinds from format/syscalls/annotations.txt.",
        "// TL_SYSCALL(nr, name, return kind, never returns, parameter count)",
        "// TL_PARAM(name, C type, kind, len arg (-1 return value, -2 none), flag set, struct type, struct size,",
        "//          variant count)",
        "// TL_VARIANT(selecting arg, mask, kind, len arg, flag set, struct type, struct size, values...):",
        "//          the parameter's shape when (selecting arg & mask) is one of the values; the",
        "//          parameter's variants follow it, the first that matches wins.",
        "// TL_CLASSES(nr, classes): strace's classes of the syscall (-e trace=%file, ...), from `class` lines.",
    ]
    for sc in table:
        if sc.note:
            out.append(f"// {sc.name}: {sc.note}")
        out.append(f"TL_SYSCALL({sc.nr}, {c_string(sc.name)}, {RETURN_KINDS[sc.returns]}, "
                   f"{'true' if sc.never_returns else 'false'}, {len(sc.params)})")
        for p in sc.params:
            out.append(f"  TL_PARAM({c_string(p.name)}, {c_string(p.c_type)}, {ARG_KINDS[p.kind]}, "
                       f"{p.len_arg}, {c_string(p.flag_set)}, {c_string(p.struct_type)}, "
                       f"{p.struct_size}, {len(p.variants)})")
            for v in p.variants:
                values = ", ".join(f"{x:#x}ull" for x in v.values)
                out.append(f"    TL_VARIANT({v.selector}, {v.mask:#x}ull, {ARG_KINDS[v.kind]}, {v.len_arg}, "
                           f"{c_string(v.flag_set)}, {c_string(v.struct_type)}, {v.struct_size}, "
                           f"{values})")
        if sc.classes:
            out.append(f"TL_CLASSES({sc.nr}, {' | '.join(SYSCALL_CLASSES[c] for c in sc.classes)})")
    return "\n".join(out) + "\n"


# ------------------------------------------------- flag and enum values ----

def effective_set(d: SetDef, ann: Annotations) -> SetDef:
    """The set with like= resolved: names, headers and options of the base."""
    if not d.like:
        return d
    base = ann.sets[d.like]
    e = dataclasses.replace(base, name=d.name, line=d.line, like="", decoder=d.decoder,
                            values=list(base.values), bits=list(base.bits))
    if d.nomask:
        e.mask, e.values, e.suffix = "", [], ("", "")
    if d.nosignal:
        e.signal = False
    return e


def set_exprs(d: SetDef, arch: str) -> list[str]:
    exprs = [x for _, x, a in d.values + d.bits if a in ("", arch)]
    exprs += [x for x in (d.mask, d.zero, d.suffix[0]) if x]
    return exprs


class ValueTable:
    """Values of every name the annotations list, per architecture, from the
    headers; names the headers lack from `value` lines (checked otherwise)."""

    def __init__(self, ann: Annotations):
        self.ann = ann
        self.values: dict[str, dict[tuple[tuple[str, ...], str], int]] = {a: {} for a in ARCHES}
        self.from_annotations: dict[str, set[str]] = {a: set() for a in ARCHES}
        self.used_fallbacks: set[str] = set()

    def load(self, groups: dict[str, dict[tuple[str, ...], set[str]]]) -> None:
        for arch in ARCHES:
            if not uapi_values.headers_installed(arch):
                raise GenError(f"{arch} headers missing ({uapi_values.ARCH_MARKER[arch]}); "
                               "install linux-libc-dev-arm64-cross libc6-dev-arm64-cross "
                               "(scripts/setup.sh does)")
        resource = uapi_values._resource_include()
        problems = []
        jobs = [(arch, headers, sorted(names)) for arch in ARCHES
                for headers, names in sorted(groups[arch].items())]
        # One compiler run per header list and architecture; they are independent.
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = list(pool.map(
                lambda job: ({}, job[2]) if not job[1] else uapi_values.evaluate(
                    job[0], list(job[1]), job[2], resource), jobs))
        for (arch, headers, names), (got, missing) in zip(jobs, results):
            for n, v in got.items():
                fb = self.ann.fallback_values.get(n)
                if fb and fb[0] != v:
                    raise GenError(f"annotations.txt:{fb[1]}: value {n} {fb[0]}, but the "
                                   f"{arch} headers say {v}")
                self.values[arch][(headers, n)] = v
            unknown = [n for n in missing if n not in self.ann.fallback_values]
            if unknown:
                problems.append(f"{arch}: <{'>, <'.join(headers) or 'no headers'}> do not "
                                f"declare {', '.join(unknown)}")
            for n in (m for m in missing if m not in unknown):
                self.values[arch][(headers, n)] = self.ann.fallback_values[n][0] & (2**64 - 1)
                self.from_annotations[arch].add(n)
                self.used_fallbacks.add(n)
        if problems:
            raise GenError("\n  ".join(["names no header declares (fix the name, or add a `value` "
                                         "line for names newer than the headers):"] + problems))

    def get(self, arch: str, headers: list[str], name: str) -> int:
        return self.values[arch][(tuple(headers), name)]


@dataclasses.dataclass
class SetValues:
    enum_mask: int
    values: list[tuple[int, str]]
    bits: list[tuple[int, str]]
    suffix_bit: int


def resolve_set(d: SetDef, arch: str, table: ValueTable) -> SetValues:
    def val(name: str) -> int:
        v = table.get(arch, d.headers, name)
        return v & 0xFFFFFFFF if d.u32 else v
    if d.zero and val(d.zero) != 0:
        raise GenError(f"set {d.name}: zero={d.zero} is {val(d.zero)} on {arch}")
    mask = (2**64 - 1) if d.kind == "enum" else (val(d.mask) if d.mask else 0)
    return SetValues(
        enum_mask=mask,
        values=[(val(x), n) for n, x, a in d.values if a in ("", arch)],
        bits=[(val(x), n) for n, x, a in d.bits if a in ("", arch)],
        suffix_bit=val(d.suffix[0]) if d.suffix[0] else 0)


def value_groups(ann: Annotations) -> dict[str, dict[tuple[str, ...], set[str]]]:
    """Per architecture: the names to evaluate, by the headers that declare them."""
    groups: dict[str, dict[tuple[str, ...], set[str]]] = {a: {} for a in ARCHES}
    for arch in ARCHES:
        g = groups[arch]
        for d in ann.sets.values():
            e = effective_set(d, ann)
            if e.arch in ("", arch):
                g.setdefault(tuple(e.headers), set()).update(set_exprs(e, arch))
        for headers, pairs in ann.constants:
            g.setdefault(tuple(headers), set()).update(expr for _, expr in pairs)
        if ann.errnos:
            g.setdefault(ERRNO_HEADERS, set()).update(ann.errnos)
    return groups


ERRNO_HEADERS = ("linux/errno.h",)
GENERATED = "// GENERATED by scripts/gen_syscall_catalogue.py -- do not edit; re-run it."


def flag_entries(entries: list[tuple[int, str]], decimal: bool) -> str:
    return "".join(f"\n    {{{v if decimal else hex(v)}, {c_string(n)}}}," for v, n in entries)


def render_flag_sets(ann: Annotations, table: ValueTable) -> str:
    out = [GENERATED,
           "// Flag and enum sets: names from format/syscalls/annotations.txt, values from",
           "// each architecture's uapi headers (libc's where the uapi has none), compiled",
           "// per architecture. Included inside the decoder's namespace (tools/lib/decoder/flag_sets.cpp).",
           "// kGenericSets: the same on x86_64 and aarch64; the others hold what differs.",
           ""]
    sets = {a: [] for a in ("generic",) + ARCHES}
    for name in sorted(ann.sets):
        d = effective_set(ann.sets[name], ann)
        per_arch = {a: resolve_set(d, a, table) for a in ARCHES if d.arch in ("", a)}
        if len(per_arch) == len(ARCHES) and per_arch["x86_64"] == per_arch["aarch64"]:
            per_arch = {"generic": per_arch["x86_64"]}
        for where, sv in per_arch.items():
            ident = f"k_{name}" + ("" if where == "generic" else f"_{where}")
            decimal = d.kind == "enum" and d.decimal
            fields = [f".name = {c_string(name)}",
                      ".enum_mask = " + ("~0ull" if sv.enum_mask == 2**64 - 1 else hex(sv.enum_mask))]
            for part in ("values", "bits"):
                entries = getattr(sv, part)
                if entries:
                    out.append(f"constexpr FlagName {ident}_{part}[] = {{"
                               f"{flag_entries(entries, decimal)}\n}};")
                    fields.append(f".{part} = {ident}_{part}")
                else:
                    fields.append(f".{part} = {{}}")
            fields += [f".zero_name = {c_string(d.zero)}",
                       f".enum_in_decimal = {'true' if d.decimal else 'false'}",
                       f".signal_in_low_byte = {'true' if d.signal else 'false'}",
                       f".suffix_bit = {hex(sv.suffix_bit)}",
                       f".suffix = {c_string(d.suffix[1])}"]
            sets[where].append("    {" + ", ".join(fields) + "},")
    for where, title in (("generic", "kGenericSets"), ("x86_64", "kX86_64Sets"),
                         ("aarch64", "kAarch64Sets")):
        out.append(f"constexpr FlagSet {title}[] = {{")
        out += sets[where]
        out.append("};")
    return "\n".join(out) + "\n"


def render_constants(ann: Annotations, table: ValueTable) -> str:
    out = [GENERATED,
           "// Constants the decoders name, from the uapi headers: the same on x86_64 and",
           "// aarch64 (the generator refuses one that differs). Named kCamelCase after",
           "// the macro (F_SETFD -> kFSetfd) so that no libc macro expands inside them.",
           "#pragma once", "", "#include <cstdint>", "", "namespace traceloop::uapi {", ""]
    seen = set()
    for headers, pairs in ann.constants:
        for cxx, expr in pairs:
            if cxx in seen:
                raise GenError(f"constant {cxx} listed twice")
            seen.add(cxx)
            vals = {table.get(a, headers, expr) for a in ARCHES}
            if len(vals) != 1:
                raise GenError(f"constant {cxx} differs between architectures")
            v = vals.pop()
            if v >= 2**63:
                out.append(f"inline constexpr int64_t {cxx} = {v - 2**64};")
            else:
                out.append(f"inline constexpr uint64_t {cxx} = {hex(v)};")
    out += ["", "}  // namespace traceloop::uapi"]
    return "\n".join(out) + "\n"


def render_errno(ann: Annotations, table: ValueTable) -> str:
    import ctypes
    import locale
    locale.setlocale(locale.LC_MESSAGES, "C")
    entries = []
    for name in ann.errnos:
        vals = {table.get(a, list(ERRNO_HEADERS), name) for a in ARCHES}
        if len(vals) != 1:
            raise GenError(f"errno {name} differs between architectures")
        v = vals.pop()
        message = os.strerror(v)
        if message.startswith("Unknown error"):
            raise GenError(f"the C library has no message for {name} ({v})")
        entries.append((v, name, message))
    for name, v, message in ann.internal_errnos:
        entries.append((v, name, message))
    entries.sort()
    numbers = [e[0] for e in entries]
    if len(set(numbers)) != len(numbers):
        raise GenError("two errno names share a number")
    out = [GENERATED,
           "// errno numbers from <linux/errno.h> (the same on x86_64 and aarch64), messages",
           "// from the generating host's C library; the kernel-internal ones (512..) and",
           "// their texts from format/syscalls/annotations.txt. Sorted by number.",
           "// ErrnoEntry{number, name, message}"]
    for v, name, message in entries:
        if '"' in message or "\\" in message:
            raise GenError(f"unexpected characters in the message of {name}")
        out.append(f"ErrnoEntry{{{v}, {c_string(name)}, \"{message}\"}},")
    return "\n".join(out) + "\n"


def render_checkval(ann: Annotations, table: ValueTable) -> str:
    out = [GENERATED,
           "// For tests/tools/uapi_checkval_test.cpp: the headers that define each set's",
           "// names, and the names no header of the generating host declares (their",
           "// values come from `value` lines of the annotations).",
           "// TL_SET_HEADERS(set, \"header,header\")  TL_NAME_EXPR(set, printed name, C expression)",
           "// TL_FROM_ANNOTATIONS(name)"]
    for name in sorted(ann.sets):
        d = effective_set(ann.sets[name], ann)
        out.append(f"TL_SET_HEADERS({c_string(name)}, \"{','.join(d.headers)}\")")
    for name in sorted(ann.sets):
        d = effective_set(ann.sets[name], ann)
        for n, x, _ in d.values + d.bits:
            if x != n:
                out.append(f"TL_NAME_EXPR({c_string(name)}, {c_string(n)}, {c_string(x)})")
    for n in sorted(set().union(*table.from_annotations.values())):
        out.append(f"TL_FROM_ANNOTATIONS({c_string(n)})")
    return "\n".join(out) + "\n"


def load_values(ann: Annotations) -> "ValueTable":
    table = ValueTable(ann)
    table.load(value_groups(ann))
    return table


def value_outputs(ann: Annotations, table: ValueTable) -> dict[str, str]:
    unused = sorted(set(ann.fallback_values) - table.used_fallbacks)
    if unused:
        raise GenError("`value` lines for names every header declares (drop them): "
                       + ", ".join(unused))
    return {
        "flag_sets.inc": render_flag_sets(ann, table),
        "uapi_constants.h": render_constants(ann, table),
        "errno.inc": render_errno(ann, table),
        "checkval.inc": render_checkval(ann, table),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the checked-in files differ")
    ap.add_argument("--tracefs", help="tracefs mount point (default: find it)")
    ap.add_argument("--include-dir", default="/usr/include",
                    help="uapi headers root (default /usr/include)")
    ap.add_argument("--annotations", default=str(ROOT / "format/syscalls/annotations.txt"))
    ap.add_argument("--out-dir", default=str(ROOT / "format/syscalls"))
    ap.add_argument("--stats", action="store_true", help="print counts to stderr")
    ap.add_argument("--skip-without-headers", action="store_true",
                    help="exit 77 (a skipped test) when an architecture's headers are missing")
    ap.add_argument("--values-only", action="store_true",
                    help="only the flag/enum/errno tables (no tracefs needed)")
    args = ap.parse_args()

    if args.skip_without_headers and not all(uapi_values.headers_installed(a) for a in ARCHES):
        print("gen_syscall_catalogue: the aarch64 or x86_64 headers are not installed; skipped",
              file=sys.stderr)
        return 77
    outputs: dict[str, str] = {}
    try:
        ann = parse_annotations(Path(args.annotations))
        layouts = evaluate_layouts(ann)  # before build_table: catalogue sizes come from them
        outputs.update(layout_outputs(ann, layouts))
        unknown = sorted({n for vs in ann.variants.values() for v in vs
                          for n in v.names + ([v.mask_name] if v.mask_name else [])
                          if not known_condition_name(n, ann)})
        if unknown:
            raise GenError("`when` names no set or `constants` line lists: " + ", ".join(unknown))
        values = load_values(ann)
        if not args.values_only:
            events = read_tracefs(find_tracefs(args.tracefs))
            include = Path(args.include_dir)
            bases = {
                "x86_64": read_x86_numbers(include / "x86_64-linux-gnu/asm/unistd_64.h"),
                "aarch64": read_generic_numbers(include),
            }
            for arch in ARCHES:
                table = build_table(arch, numbers_for(arch, bases[arch], ann), events, ann, values)
                outputs[f"{arch}.inc"] = render(arch, table)
                if args.stats:
                    annotated = sum(1 for sc in table for p in sc.params
                                    if (sc.name, p.name) in ann.args)
                    print(f"{arch}: {len(table)} syscalls, "
                          f"{sum(len(sc.params) for sc in table)} parameters, "
                          f"{annotated} with annotated kinds", file=sys.stderr)
            known = {sc for arch in ARCHES for sc in numbers_for(arch, bases[arch], ann)}
            unknown_classed = sorted({n for names in ann.classes.values() for n in names} - known)
            if unknown_classed:
                raise GenError("`class` lines name unknown syscalls: " + ", ".join(unknown_classed))
            unused = sorted((set(ann.args) | set(ann.variants)) - ann.used_args)
            if unused:
                raise GenError("annotations for unknown syscall parameters: "
                               + ", ".join(f"{s}.{p}" for s, p in unused))
        used_sets = {n.flag_set for n in ann.args.values()}
        used_sets |= {v.flag_set for vs in ann.variants.values() for v in vs}
        unused_sets = sorted(n for n, d in ann.sets.items() if n not in used_sets and not d.decoder)
        if unused_sets:
            raise GenError("declared sets never used (mark the decoders' own with `decoder`): "
                           + ", ".join(unused_sets))
        both = sorted(n for n, d in ann.sets.items() if n in used_sets and d.decoder)
        if both:
            raise GenError("sets marked `decoder` but used by arguments: " + ", ".join(both))
        outputs.update(value_outputs(ann, values))
    except (GenError, uapi_values.ValueError_, OSError, subprocess.CalledProcessError) as e:
        print(f"gen_syscall_catalogue: {e}", file=sys.stderr)
        return 2

    status = 0
    for name, text in outputs.items():
        path = Path(args.out_dir) / name
        old = path.read_text() if path.exists() else None
        if args.check:
            if old != text:
                print(f"{path} is out of date; re-run {Path(__file__).name}", file=sys.stderr)
                status = 1
        elif old != text:
            path.write_text(text)
            print(f"wrote {path}", file=sys.stderr)
    return status


# ---------------------------------------------------- structure layouts ----
# `layout` lines name the structures the decoders read and the fields they
# use; the compiler lays each one out for every architecture (offsetof and
# sizeof, evaluated like the flag values above), and struct_layouts.h holds
# the result. A layout's size is also the catalogue's size of that structure
# type (what the recorder captures), so no size is typed twice.

LAYOUT_WORDS = ("layout", "layout_decl")
LAYOUT_HEADER = "struct_layouts.h"
LAYOUT_CHECKS = "layout_checkval.inc"
# Declarations of layout_decl lines see the kernel's fixed-width types.
DECL_PRELUDE = "#include <linux/types.h>\n"


@dataclasses.dataclass
class LayoutField:
    name: str           # the C++ member of the generated layout
    designator: str     # the member as offsetof takes it (f_fsid.val[1])
    flexible: bool      # a flexible array member: only its offset


@dataclasses.dataclass
class LayoutDef:
    name: str
    c_type: str
    headers: list[str]
    record: bool        # variable-size records: the catalogue size is 0
    fields: list[LayoutField]
    line: int
    decl: str = ""
    decl_line: int = 0


@dataclasses.dataclass
class LayoutValues:
    size: int
    fields: list[tuple[int, int]]   # (offset, size) in LayoutDef.fields order
    from_decl: bool                 # the layout_decl line, not a header, declared it


def parse_layout_line(ann: Annotations, word: str, rest: str, lineno: int) -> None:
    if word == "layout_decl":
        name, _, decl = rest.partition(" ")
        d = ann.layouts.get(name)
        if d is None:
            raise GenError(f"layout {name} is not declared (yet) with `layout`")
        if d.decl:
            raise GenError(f"layout {name} has a declaration already")
        if not re.fullmatch(r"[\w\s{}\[\];*,()]+", decl):
            raise GenError("unexpected characters in the declaration")
        d.decl, d.decl_line = decl.strip(), lineno
        return
    fields = rest.split()
    if len(fields) < 3 or not fields[2].startswith("headers="):
        raise GenError("layout NAME TYPE headers=H,H [record] FIELD[=DESIGNATOR]...")
    name, ctype = fields[0], fields[1]
    if not re.fullmatch(r"[A-Za-z_]\w*", name) or name in ann.layouts:
        raise GenError(f"bad or repeated layout name {name}")
    if not re.fullmatch(r"(struct:)?[A-Za-z_]\w*(\[\d+\])?", ctype):
        raise GenError(f"bad type {ctype} (NAME, struct:TAG, either with [N])")
    d = LayoutDef(name=name, c_type=ctype.replace("struct:", "struct "),
                  headers=[h for h in fields[2][len("headers="):].split(",") if h],
                  record=False, fields=[], line=lineno)
    seen = set()
    for f in fields[3:]:
        if f == "record":
            d.record = True
            continue
        member, _, designator = f.partition("=")
        flexible = member.endswith("[]")
        member = member.removesuffix("[]")
        designator = designator or member
        if (not re.fullmatch(r"[A-Za-z_]\w*", member) or member in seen or member == "size"
                or not re.fullmatch(r"[A-Za-z_][\w.\[\]]*", designator)):
            raise GenError(f"bad or repeated field {f}")
        seen.add(member)
        d.fields.append(LayoutField(member, designator, flexible))
    if d.fields and "[" in d.c_type:
        raise GenError("an array type has no fields")
    ann.layouts[name] = d


def declare_layout_structs(ann: Annotations, where: str) -> None:
    """Every layout is a structure type of the catalogue; its sizes are filled
    in by apply_layout_sizes once the compiler has laid it out."""
    for name, d in ann.layouts.items():
        if name in ann.structs:
            raise GenError(f"{where}:{d.line}: struct {name} has a `layout`, which gives its "
                           "size: drop the `struct` line")
        ann.structs[name] = {a: 0 for a in ARCHES}


def layout_exprs(d: LayoutDef) -> list[str]:
    exprs = [f"sizeof({d.c_type})"]
    for f in d.fields:
        exprs.append(f"__builtin_offsetof({d.c_type}, {f.designator})")
        exprs.append("0" if f.flexible else f"sizeof((({d.c_type} *)0)->{f.designator})")
    return exprs


def probe_layout(d: LayoutDef, arch: str, resource: str) -> LayoutValues:
    exprs = layout_exprs(d)
    where = f"annotations.txt:{d.line}: layout {d.name} ({arch})"
    includes = "".join(f"#include <{h}>\n" for h in d.headers)
    try:
        got = uapi_values.evaluate_exprs(arch, includes, exprs, resource)
    except uapi_values.ValueError_ as e:
        if not d.decl:
            raise GenError(f"{where}: the headers do not lay it out (add a `layout_decl` "
                           f"line if no header exports it):\n{e}") from None
        got = None
    if d.decl:
        try:
            declared = uapi_values.evaluate_exprs(arch, DECL_PRELUDE + d.decl + "\n", exprs, resource)
        except uapi_values.ValueError_ as e:
            raise GenError(f"annotations.txt:{d.decl_line}: layout_decl {d.name} ({arch}):\n{e}") from None
        if got is not None and got != declared:
            raise GenError(f"annotations.txt:{d.decl_line}: layout_decl {d.name} lays it out as "
                           f"{declared}, the {arch} headers as {got}")
    values = got if got is not None else declared
    pairs = [(values[i], values[i + 1]) for i in range(1, len(values), 2)]
    return LayoutValues(size=values[0], fields=pairs, from_decl=got is None)


def evaluate_layouts(ann: Annotations) -> dict[str, dict[str, LayoutValues]]:
    """Per layout and architecture: its size and fields; sets the catalogue's
    structure sizes."""
    for arch in ARCHES:
        if not uapi_values.headers_installed(arch):
            raise GenError(f"{arch} headers missing ({uapi_values.ARCH_MARKER[arch]})")
    resource = uapi_values._resource_include()
    jobs = [(d, arch) for d in ann.layouts.values() for arch in ARCHES]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda job: probe_layout(job[0], job[1], resource), jobs))
    layouts: dict[str, dict[str, LayoutValues]] = {}
    for (d, arch), v in zip(jobs, results):
        layouts.setdefault(d.name, {})[arch] = v
        ann.structs[d.name][arch] = 0 if d.record else v.size
    for d in ann.layouts.values():
        if d.decl and not any(v.from_decl for v in layouts[d.name].values()):
            raise GenError(f"annotations.txt:{d.decl_line}: every architecture's headers declare "
                           f"{d.c_type} now (and agree): drop the `layout_decl` line")
    return layouts


def layout_cxx_name(name: str) -> str:
    """stat -> StatLayout, clone_args -> CloneArgsLayout."""
    return "".join(w[:1].upper() + w[1:] for w in name.split("_") if w) + "Layout"


def c_text(s: str) -> str:
    if not re.fullmatch(r"[\w\s{}\[\];*,()./<>-]*", s):
        raise GenError(f"unexpected characters in {s!r}")
    return '"' + s + '"'


def render_layouts(ann: Annotations, layouts: dict[str, dict[str, LayoutValues]]) -> str:
    out = [GENERATED,
           "// Layouts of the structures the decoders read (tools/lib/decoder/struct_decode.cpp):",
           "// each one's sizeof and its fields' offsetof and sizeof, compiled against every",
           "// architecture's headers (format/syscalls/annotations.txt names the types and",
           "// fields; a `layout_decl` there declares one no installed header exports, as the",
           "// kernel's source does). Each k...Layout array holds one entry per architecture,",
           "// in kLayoutArchs order.",
           "#pragma once", "", "#include <cstdint>", "", "namespace traceloop::uapi {", "",
           "struct LayoutField {",
           "  uint32_t offset;",
           "  uint32_t size;  // 0: a flexible array member (only its offset is fixed)",
           "};", "",
           "inline constexpr const char* kLayoutArchs[] = {"
           + ", ".join(f'"{a}"' for a in ARCHES) + "};"]
    for name in sorted(ann.layouts):
        d = ann.layouts[name]
        ident = layout_cxx_name(name)
        source = f"<{'>, <'.join(d.headers)}>" if d.headers else "no header"
        if d.decl:
            source += "; else annotations.txt's layout_decl"
        out += ["", f"// {name}: {d.c_type} ({source})" + (", variable-size records" if d.record else ""),
                f"struct {ident} {{", "  uint32_t size;"]
        out += [f"  LayoutField {f.name};" for f in d.fields]
        out += ["};", f"inline constexpr {ident} k{ident}[] = {{"]
        for arch in ARCHES:
            v = layouts[name][arch]
            inits = [f".size = {v.size}"] + [f".{f.name} = {{{o}, {sz}}}"
                                             for f, (o, sz) in zip(d.fields, v.fields)]
            out.append(f"    {{{', '.join(inits)}}},  // {arch}")
        out.append("};")
    out += ["", "}  // namespace traceloop::uapi"]
    return "\n".join(out) + "\n"


def render_layout_checks(ann: Annotations, layouts: dict[str, dict[str, LayoutValues]]) -> str:
    out = [GENERATED,
           "// For tests/tools/uapi_checkval_test.cpp: every generated layout, to compile as",
           "// assertions against each architecture's headers (or the layout_decl), and to",
           "// compare with struct_layouts.h, whose array and member each line names.",
           "// TL_LAYOUT(arch index, arch, name, layout array, C type, \"header,header\",",
           "//           declaration or \"\", size)",
           "// TL_LAYOUT_FIELD(arch index, arch, name, layout array, member, designator, offset,",
           "//                 size or 0 for a flexible array)"]
    for index, arch in enumerate(ARCHES):
        for name in sorted(ann.layouts):
            d, v = ann.layouts[name], layouts[name][arch]
            ident = "k" + layout_cxx_name(name)
            decl = d.decl if v.from_decl else ""
            out.append(f"TL_LAYOUT({index}, {c_string(arch)}, {c_string(name)}, {ident}, {c_text(d.c_type)}, "
                       f"{c_text(','.join(d.headers))}, {c_text(decl)}, {v.size})")
            for f, (o, sz) in zip(d.fields, v.fields):
                out.append(f"TL_LAYOUT_FIELD({index}, {c_string(arch)}, {c_string(name)}, {ident}, {f.name}, "
                           f"{c_text(f.designator)}, {o}, {sz})")
    return "\n".join(out) + "\n"


def layout_outputs(ann: Annotations, layouts: dict[str, dict[str, LayoutValues]]) -> dict[str, str]:
    return {LAYOUT_HEADER: render_layouts(ann, layouts),
            LAYOUT_CHECKS: render_layout_checks(ann, layouts)}


if __name__ == "__main__":
    sys.exit(main())

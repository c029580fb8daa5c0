#!/usr/bin/env python3
"""The bash and zsh completions of a binary complete what its parser takes.

bash: the script the binary prints (`BINARY --completion bash`, what the
build installs) is sourced in a real bash; for `BINARY [SUB...] --<TAB>` the
completion function must offer exactly the long options that
`BINARY [SUB...] --help` lists, for `BINARY <TAB>` its subcommands, and for
`--opt <TAB>` of an option whose values are checked, exactly those values.
zsh: the script is syntax-checked, then loaded by compinit in a real
interactive zsh on a pseudo-terminal, where `BINARY [SUB...] --<TAB>` must
list exactly the long options of --help, `BINARY <TAB>` every subcommand and
`--opt <TAB>` every value of a checked option.

    completion_test.py bash|zsh BINARY [BUILT_SCRIPT]
"""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_help import commands, help_text, option_choices, parse_help  # noqa: E402


def script_of(binary, shell):
    run = subprocess.run([binary, "--completion", shell], capture_output=True, text=True, timeout=60)
    if run.returncode != 0 or not run.stdout:
        raise SystemExit(f"{binary} --completion {shell}: status {run.returncode}, {run.stderr}")
    return run.stdout


def bash_complete(script_path, function, words, cword):
    """COMPREPLY of `function` for COMP_WORDS=words, COMP_CWORD=cword."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (f"source '{script_path}'\nCOMP_WORDS=({quoted})\nCOMP_CWORD={cword}\n"
               f"COMP_LINE=\"${{COMP_WORDS[*]}}\"\n{function}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    run = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True,
                         timeout=60)
    if run.returncode != 0:
        raise SystemExit(f"bash failed ({run.returncode}) completing {words}: {run.stderr}")
    return sorted(line for line in run.stdout.splitlines() if line)


def test_bash(binary, script, name):
    failures = []
    function = "_" + "".join(c if c.isalnum() else "_" for c in name)
    with tempfile.TemporaryDirectory() as tmp:
        script_path = os.path.join(tmp, name)
        with open(script_path, "w") as f:
            f.write(script)
        checked = 0
        for path in commands(binary):
            text = help_text(binary, path)
            options, subcommands = parse_help(text)
            words = [name, *path]
            want = sorted(o for o in options if o.startswith("--"))
            got = bash_complete(script_path, function, words + ["--"], len(words))
            checked += 1
            if got != want:
                failures.append(f"{' '.join(words)} --<TAB>: got {got}, want {want}")
            if subcommands:
                got = bash_complete(script_path, function, words + [""], len(words))
                if got != sorted(subcommands):
                    failures.append(f"{' '.join(words)} <TAB>: got {got}, want {sorted(subcommands)}")
            for option, values in option_choices(text).items():
                got = bash_complete(script_path, function, words + [option, ""], len(words) + 1)
                checked += 1
                if got != sorted(values):
                    failures.append(f"{' '.join(words)} {option} <TAB>: got {got}, want {sorted(values)}")
                if option.startswith("--"):
                    # bash splits "--format=" at '=' (COMP_WORDBREAKS)
                    got = bash_complete(script_path, function, words + [option, "=", ""], len(words) + 2)
                    if got != sorted(values):
                        failures.append(f"{' '.join(words)} {option}=<TAB>: got {got}, want {sorted(values)}")
    return failures, checked


class InteractiveZsh:
    """A real interactive zsh on a pseudo-terminal, completion loaded from `fpath_dir`."""

    def __init__(self, zsh, fpath_dir, home):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(TERM="dumb", HOME=home)
            os.execv(zsh, [zsh, "-f", "-i"])
        self.type(f"PS1='> '; fpath=('{fpath_dir}' $fpath); autoload -Uz compinit; "
                  f"compinit -u -d '{home}/zcompdump'; unsetopt beep; LISTMAX=100000; COLUMNS=200\n")
        self.read()

    def type(self, text):
        os.write(self.fd, text.encode())

    def read(self, quiet=0.7, limit=15.0):
        """What the terminal shows until it stays quiet for `quiet` seconds, control sequences removed."""
        out, end = b"", time.time() + limit
        while time.time() < end:
            ready, _, _ = select.select([self.fd], [], [], quiet)
            if not ready:
                break
            try:
                out += os.read(self.fd, 65536)
            except OSError:
                break
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace"))

    def complete(self, line):
        """The screen after typing `line` and TAB (then the line is abandoned with Ctrl-C)."""
        self.type(line + "\t")
        # Done once zsh has drawn the line again below its listing (and stays
        # quiet): a busy machine may take seconds to list.
        shown = ""
        deadline = time.time() + 30
        while time.time() < deadline:
            shown += self.read(quiet=0.5, limit=5)
            if shown.count(line) >= 2 or (shown.count(line) == 1 and not shown.rstrip().endswith(line.rstrip())):
                shown += self.read(quiet=0.3)
                break
        self.type("\x03")
        self.read(quiet=0.3)
        return shown

    def close(self):
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def listed_options(screen):
    """Option names of a completion listing ("--format  -f  -- description")."""
    names = set()
    for line in screen.splitlines():
        for word in line.split(" -- ")[0].split():
            if word.startswith("-") and word not in ("-", "--") and not word.startswith("---"):
                names.add(word)
    return names


def test_zsh(binary, script, name):
    zsh = shutil.which("zsh")
    if zsh is None:
        print("zsh is not installed (scripts/setup.sh installs it)")
        return ["zsh missing"], 0
    failures = []
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "_" + name)
        with open(path, "w") as f:
            f.write(script)
        check = subprocess.run([zsh, "-n", path], capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            failures.append(f"zsh -n: {check.stderr}")
        shell = InteractiveZsh(zsh, tmp, tmp)
        try:
            for command in commands(binary):
                text = help_text(binary, command)
                options, subcommands = parse_help(text)
                line = " ".join((name, *command))
                want = {o for o in options if o.startswith("--")}
                got = {o for o in listed_options(shell.complete(line + " --")) if o.startswith("--")}
                checked += 1
                if got != want:
                    failures.append(f"zsh: {line} --<TAB>: missing {sorted(want - got)}, extra {sorted(got - want)}")
                if subcommands:
                    screen = shell.complete(line + " ")
                    missing = [s for s in subcommands if not re.search(r"(^|\s)" + re.escape(s) + r"(\s|$)", screen)]
                    checked += 1
                    if missing:
                        failures.append(f"zsh: {line} <TAB>: missing subcommands {missing}: {screen!r}")
                for option, values in option_choices(text).items():
                    if not option.startswith("--"):
                        continue
                    screen = shell.complete(f"{line} {option} ")
                    missing = [v for v in values if v not in screen]
                    checked += 1
                    if missing:
                        failures.append(f"zsh: {line} {option} <TAB>: missing {missing}: {screen!r}")
        finally:
            shell.close()
    return failures, checked


def main():
    shell, binary = sys.argv[1], sys.argv[2]
    name = os.path.basename(binary)
    script = script_of(binary, shell)
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            if f.read() != script:
                print(f"{sys.argv[3]} is not what {name} --completion {shell} prints now (rebuild)")
                return 1
    failures, checked = (test_bash if shell == "bash" else test_zsh)(binary, script, name)
    if failures:
        print(*failures, sep="\n")
        return 1
    print(f"{name}: {shell} completion: {checked} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

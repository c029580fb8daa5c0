#!/usr/bin/env python3
"""`cmake --install` puts each binary's manual page and completions where
man, bash-completion and zsh look, in the package (component) of the binary.

    install_test.py CMAKE BUILD_DIR COMPONENT BINARY...
"""
import gzip
import os
import subprocess
import sys
import tempfile


def main():
    cmake, build, component, binaries = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    failures = []
    with tempfile.TemporaryDirectory() as prefix:
        run = subprocess.run([cmake, "--install", build, "--prefix", prefix, "--component", component],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            print(run.stdout, run.stderr)
            return 1
        for binary in binaries:
            page = os.path.join(prefix, "share/man/man1", binary + ".1.gz")
            if not os.path.isfile(page):
                failures.append(f"no {page}")
            else:
                with gzip.open(page, "rt") as f:
                    text = f.read()
                if not text.startswith(".\\\"") and ".TH" not in text:
                    failures.append(f"{page} is not a man page")
                elif binary.upper() not in text:
                    failures.append(f"{page} does not name {binary}")
            bash = os.path.join(prefix, "share/bash-completion/completions", binary)
            zsh = os.path.join(prefix, "share/zsh/vendor-completions", "_" + binary)
            for path, marker in ((bash, "complete -F"), (zsh, "#compdef " + binary)):
                if not os.path.isfile(path):
                    failures.append(f"no {path}")
                elif marker not in open(path).read():
                    failures.append(f"{path} lacks {marker!r}")
    if failures:
        print(*failures, sep="\n")
        return 1
    print(f"component {component}: pages and completions of {' '.join(binaries)} installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

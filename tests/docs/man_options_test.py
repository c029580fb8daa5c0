#!/usr/bin/env python3
"""Every option a binary's --help prints, for the binary and each of its
subcommands, and every subcommand, appears in its manual page's source: a
new option without documentation fails here.

    man_options_test.py BINARY PAGE.md
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_help import commands, help_text, parse_help  # noqa: E402


def mentioned(page, name):
    # The Markdown writes "--x" as "\--x" (pandoc would make "–x" of "--x" in places).
    plain = page.replace("\\-", "-")
    return re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", plain) is not None


def main():
    binary, page_path = sys.argv[1], sys.argv[2]
    with open(page_path, encoding="utf-8") as f:
        page = f.read()
    missing = []
    paths = commands(binary)
    for path in paths:
        options, _ = parse_help(help_text(binary, path))
        if not options:
            missing.append(f"{' '.join(path) or '(top)'}: --help lists no option (cannot parse it?)")
        for option in options:
            if not mentioned(page, option):
                missing.append(f"{' '.join((os.path.basename(binary),) + path)} {option}")
        if path and not re.search(r"^#+ .*\b" + re.escape(path[-1]) + r"\b", page, re.MULTILINE):
            missing.append(f"subcommand {' '.join(path)} has no section")
    if missing:
        print(f"{page_path} does not document:", *missing, sep="\n  ")
        return 1
    print(f"{page_path}: {len(paths)} command(s), every option documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())

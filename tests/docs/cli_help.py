"""What a traceloop binary's --help says: its options and subcommands.

CLI11 prints sections headed by a line ending in ':' at column 0
("Options:", "Subcommands:", "Positionals:"); an option's line starts with
two spaces and its names, comma-separated ("  -f,--format TEXT:{...}").
"""
import re
import subprocess


def help_text(binary, path=()):
    run = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise RuntimeError(f"{binary} {' '.join(path)} --help exited {run.returncode}: {run.stderr}")
    return run.stdout


def parse_help(text):
    """(options, subcommands): every option name ('--format', '-f') and subcommand name."""
    options, subcommands = [], []
    section = None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            section = line.rstrip()[:-1]
            continue
        if not line.startswith("  ") or line.startswith("   "):
            continue  # a description's continuation
        first = line.split()[0] if line.split() else ""
        if section == "Options" and first.startswith("-"):
            options.extend(name for name in first.split(",") if name)
        elif section == "Subcommands" and first:
            subcommands.append(first)
    return options, subcommands


def option_choices(text):
    """{option name: [values]} for the options whose type lists its values ("TEXT:{a,b}")."""
    choices = {}
    section = None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            section = line.rstrip()[:-1]
            continue
        words = line.split()
        if section != "Options" or not line.startswith("  -") or len(words) < 2:
            continue
        match = re.search(r"\{([^}]*)\}", words[1])
        values = match.group(1).split(",") if match else None
        if values is None and re.fullmatch(r"[\w-]+(\|[\w-]+)+", words[1]):
            values = words[1].split("|")  # a type name listing the values: ns|us|ms
        if values:
            for name in words[0].split(","):
                choices[name] = values
    return choices


def commands(binary):
    """Every command path of `binary`: () and each subcommand's (name,) (recursively)."""
    found = []

    def walk(path):
        found.append(path)
        _, subs = parse_help(help_text(binary, path))
        for sub in subs:
            walk(path + (sub,))

    walk(())
    return found

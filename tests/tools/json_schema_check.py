#!/usr/bin/env python3
"""Every line tl-show --format json writes for every trace under testdata/
validates against schemas/tl-show.schema.json, and jq reads it back.

Usage: json_schema_check.py TL_SHOW SCHEMA TESTDATA_DIR
Exit 0 when all lines validate, 1 otherwise (each failure printed).
"""
import json
import multiprocessing
import os
import pathlib
import subprocess
import sys

import jsonschema


def check_one(job):
    """Renders one trace (with or without -yy) and validates each line.
    Returns (lines, kinds, fd paths seen, failure messages)."""
    tl_show, schema, trace, fd_option = job
    validator = jsonschema.Draft202012Validator(schema)
    run = subprocess.run([tl_show, "--format", "json", "--setup", *fd_option, str(trace)], capture_output=True)
    # 2 with output: a trace cut on purpose (the reader says how far it got).
    if not run.stdout:
        return 0, set(), 0, []
    lines, kinds, fd_paths, failures = 0, set(), 0, []
    for number, line in enumerate(run.stdout.decode("utf-8").splitlines(), 1):
        lines += 1
        fd_paths += line.count('"path":')
        document = json.loads(line)
        kinds.add(document.get("type"))
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        for error in errors[:3]:
            failures.append(f"{trace}:{number}: {error.message} at {list(error.path)}\n  {line[:400]}")
    # jq reads every line back: the errors, by syscall.
    jq = subprocess.run(["jq", "-c", 'select(.type == "event" and .return.errno != null) | [.syscall, .return.errno]'],
                        input=run.stdout, capture_output=True)
    if jq.returncode != 0:
        failures.append(f"{trace}: jq failed: {jq.stderr.decode()}")
    return lines, kinds, fd_paths, failures


def main():
    tl_show, schema_path, testdata = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    traces = sorted(p for p in testdata.rglob("*.tl") if p.is_file())
    if not traces:
        print(f"no trace under {testdata}", file=sys.stderr)
        return 1
    # Plain, and with fds annotated (-yy: {"fd":3,"path":...} values); one
    # process per core, since validating tens of thousands of lines in Python
    # is what takes the time.
    jobs = [(tl_show, schema, t, o) for t in traces for o in ([], ["-yy"])]
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        results = pool.map(check_one, jobs, chunksize=1)
    lines_checked = sum(r[0] for r in results)
    kinds = set().union(*(r[1] for r in results))
    fd_paths_seen = sum(r[2] for r in results)
    failures = [message for r in results for message in r[3]]
    for message in failures:
        print(message, file=sys.stderr)
    print(f"{len(traces)} traces, {lines_checked} lines ({', '.join(sorted(k for k in kinds if k))}), "
          f"{len(failures)} schema failures")
    if lines_checked == 0 or fd_paths_seen == 0:
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

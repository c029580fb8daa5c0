#!/usr/bin/env python3
"""Times two commands as whole processes (start-up and finish included), in
turn A B A B ... so that a drift of the machine's speed hits both alike.
Prints min/median/max wall seconds of each and the median of the paired
ratios A/B, then one line for scripts: "a_median=… b_median=… ratio=…".

  paired_times.py ROUNDS 'COMMAND A' 'COMMAND B'

Each command is split as a shell splits words and run with no shell; its
output is discarded. One round of each is run first and not counted (caches).
"""
import shlex
import statistics
import subprocess
import sys
import time


def wall(argv):
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    a, b = shlex.split(sys.argv[2]), shlex.split(sys.argv[3])
    wall(a)
    wall(b)
    times_a, times_b = [], []
    for _ in range(rounds):
        times_a.append(wall(a))
        times_b.append(wall(b))
    ratios = [x / y for x, y in zip(times_a, times_b)]
    for name, t in (("A", times_a), ("B", times_b)):
        print(f"  {name}: min {min(t):.3f} s  median {statistics.median(t):.3f} s  max {max(t):.3f} s")
    print(f"  A/B paired: min {min(ratios):.2f}  median {statistics.median(ratios):.2f}  max {max(ratios):.2f}")
    print(f"a_median={statistics.median(times_a):.4f} b_median={statistics.median(times_b):.4f} "
          f"ratio={statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()

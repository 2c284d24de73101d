#!/usr/bin/env python3
"""Driver of bench/render: generates the trees, times both tools, prints figures and ratios."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate_render_tree  # noqa: E402

stackc = sys.argv[1]
work = tempfile.mkdtemp(prefix="stackc-bench-render-")


def time_stackc(root, runs=7):
    """(in-process seconds as STACKC_TIMING reports them, whole-process wall seconds), medians."""
    inside, wall = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([stackc, "render", f"{root}/stackc/main.yaml", "--format", "json"], check=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ, STACKC_TIMING="1"))
        wall.append(time.perf_counter() - start)
        inside.append(float(out.stderr.split("stackc: ")[-1].split()[0]) / 1000)
    return statistics.median(inside), statistics.median(wall)


def time_buildout(root, runs=3):
    """(in-process loader seconds, whole-process wall seconds), medians."""
    loader, wall = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, f"{HERE}/buildout_load.py", "buildout.cfg"], cwd=f"{root}/buildout",
                             check=True, capture_output=True, text=True).stdout.split()
        wall.append(time.perf_counter() - start)
        loader.append(float(out[-2]))
    return statistics.median(loader), statistics.median(wall)


def tree(files, count):
    root = f"{work}/{files}-{count}"
    generate_render_tree.main(root, files, count)
    return root


rows = []
small = tree(100, 1000)
big = tree(100, 10000)
twenty = tree(20, 3)
(s_small, s_small_wall), (b_small, b_small_wall) = time_stackc(small, runs=11), time_buildout(small)
s_big, s_big_wall = time_stackc(big, runs=3)
s_twenty, s_twenty_wall = time_stackc(twenty, runs=11)

print(f"{'case':<52} {'stackc':>10} {'buildout':>10} {'ratio':>8}")
print(f"{'100 files, replicate count 1000 (1999 instances)':<52} {s_small * 1000:>8.1f}ms {b_small * 1000:>8.1f}ms "
      f"{b_small / s_small:>7.1f}x   (target >= 50x faster; both in-process)")
print(f"{'  same, both as whole processes':<52} {s_small_wall * 1000:>8.1f}ms {b_small_wall * 1000:>8.1f}ms "
      f"{b_small_wall / s_small_wall:>7.1f}x")
print(f"{'  stackc whole process vs buildout in-process':<52} {s_small_wall * 1000:>8.1f}ms {b_small * 1000:>8.1f}ms "
      f"{b_small / s_small_wall:>7.1f}x   (the most conservative reading)")
print(f"{'100 files, replicate count 10000 (19999 instances)':<52} {s_big_wall * 1000:>8.1f}ms {'':>10} "
      f"{s_big_wall / s_small_wall:>7.1f}x   (whole process, vs 10x fewer instances; target <= 12x)")
print(f"{'20 files, replicate count 3 (5 instances)':<52} {s_twenty_wall * 1000:>8.1f}ms {'':>10} {'':>8}   (whole process; target < 50 ms wall)")
print("in-process: stackc from main() to exit (STACKC_TIMING), buildout Buildout() + reading every option, interpreter "
      "start and imports excluded; whole process: wall time of the command. Medians. Trees in " + work)

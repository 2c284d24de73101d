#!/usr/bin/env python3
"""Two stackc builds on the same work, run alternately (A B A B …), so a restructuring can be shown
to be within noise of the build before it: render of a large tree, and the archive's first backup,
1 % re-run and restore of generated data. Usage: bench/compare_builds.py STACKC_A STACKC_B [rounds]"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate_render_tree  # noqa: E402

builds = {"A": sys.argv[1], "B": sys.argv[2]}
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
work = tempfile.mkdtemp(prefix="stackc-bench-builds-", dir=os.environ.get("BENCH_DIR", "/tmp"))


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def sync():
    subprocess.run(["sync"], check=True)


tree = f"{work}/render"
generate_render_tree.main(tree, 100, 1000)
data = f"{work}/data"
os.makedirs(data)
subprocess.run(["awk", "BEGIN { srand(7); for (i = 0; i < 4000000; i++) printf \"INSERT INTO t VALUES (%d, %d);\\n\", i, int(rand()*1e6) }"],
               stdout=open(f"{data}/dump.sql", "w"), check=True)
with open("/dev/urandom", "rb") as source, open(f"{data}/blob.bin", "wb") as blob:
    blob.write(source.read(150 << 20))


def change():
    with open(f"{data}/dump.sql", "r+b") as f:
        for offset in range(0, os.path.getsize(f"{data}/dump.sql"), 1 << 20):
            f.seek(offset)
            f.write(b"-- changed --")


figures = {name: {"render": [], "first backup": [], "re-run": [], "restore": []} for name in builds}
for round_ in range(rounds):
    for name, stackc in builds.items():
        figures[name]["render"].append(min(timed([stackc, "render", f"{tree}/stackc/main.yaml", "--format", "json"]) for _ in range(3)))
        repo, out = f"{work}/repo-{name}", f"{work}/out-{name}"
        shutil.rmtree(repo, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([stackc, "archive", "init", repo], check=True, stdout=subprocess.DEVNULL)
        sync()
        figures[name]["first backup"].append(timed([stackc, "archive", "backup", repo, data, "--source", "bench", "--quiet"]))
        change()
        sync()
        figures[name]["re-run"].append(timed([stackc, "archive", "backup", repo, data, "--source", "bench", "--quiet"]))
        sync()
        figures[name]["restore"].append(timed([stackc, "archive", "restore", repo, "latest", out, "--quiet"]))
        shutil.rmtree(repo)
        shutil.rmtree(out)

print(f"{rounds} alternating rounds; medians in seconds (all runs)")
print(f"{'':<14} {'A':>8} {'B':>8} {'B/A':>6}   runs A | runs B")
for step in figures["A"]:
    a, b = statistics.median(figures["A"][step]), statistics.median(figures["B"][step])
    runs = lambda name: " ".join(f"{x:.3f}" for x in figures[name][step])  # noqa: E731
    print(f"{step:<14} {a:>8.3f} {b:>8.3f} {b / a:>6.2f}   {runs('A')} | {runs('B')}")
shutil.rmtree(work)

"""Benchmark: full validation against the physical limit, simply parsing the file.

    python benchmarks/run.py                       # 1,000, 10,000 and 50,000 children, 3 runs each
    python benchmarks/run.py --sizes 1000 --runs 1 # the quick run CI makes

For each size it generates (or reuses, in benchmarks/data/) a synthetic 2025-26 return, and a
50,000-child return with a high error rate (thousands of schema breaches), then measures in fresh
processes, each several times:

* parse     a bare `lxml.etree.parse` of the file;
* xsd       a bare lxml parse and XSD validation of the file;
* full      `cin-validate FILE --format json` (schema, every rule and the indicators).

Wall time and peak memory are the medians over the runs; memory is the largest resident set of
the command's whole process tree at once (sampled from /proc every 10 ms), so a worker process
counts. The ratios compare full validation with the bare parse.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
YEAR = "2025-26"
SCHEMA = HERE.parent / "schemas" / f"cin-{YEAR}.xsd"

PARSE = "import sys; from lxml import etree; etree.parse(sys.argv[1])"
XSD = ("import sys; from lxml import etree; schema = etree.XMLSchema(etree.parse(sys.argv[2])); "
       "schema.validate(etree.parse(sys.argv[1]))")


def _tree_rss(root: int) -> int:
    """Resident memory, in bytes, of a process and all its descendants."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/statm") as stream:
                total += int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as stream:
                    pending += [int(child) for child in stream.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(command: list[str]) -> tuple[float, int]:
    """(seconds, peak bytes of the whole process tree) for one run of a command."""
    peak = 0
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {errors.decode()[-500:]}")
    return elapsed, peak


def returns(sizes: list[int], with_errors: bool) -> list[tuple[str, Path]]:
    from validator.synth import write

    DATA.mkdir(exist_ok=True)
    wanted = [(f"{size:,} children", DATA / f"cin-{YEAR}-{size}.xml", size, 0.0) for size in sizes]
    if with_errors:
        biggest = max(sizes)
        wanted.append((f"{biggest:,} children, 30% with a breach", DATA / f"cin-{YEAR}-{biggest}-errors.xml",
                       biggest, 0.3))
    for _, path, size, rate in wanted:
        if not path.exists():
            write(path, children=size, seed=2026, year=YEAR, error_rate=rate)
    return [(label, path) for label, path, _, _ in wanted]


def run(sizes: list[int], runs: int, with_errors: bool) -> str:
    python = sys.executable
    cli = [python, "-m", "validator"]
    rows, full_times = [], {}
    for label, path in returns(sizes, with_errors):
        commands = {"parse": [python, "-c", PARSE, str(path)],
                    "xsd": [python, "-c", XSD, str(path), str(SCHEMA)],
                    "full": [*cli, str(path), "--format", "json", "--output", os.devnull]}
        samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
        # Interleaved (parse, xsd, full, parse, ...) so that a machine that speeds up or slows
        # down during the run does not favour one measurement over another.
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(measure(command))
        results = {name: (statistics.median(s[0] for s in taken), statistics.median(s[1] for s in taken))
                   for name, taken in samples.items()}
        size_mb = path.stat().st_size / 1e6
        (pt, pm), (xt, xm), (ft, fm) = results["parse"], results["xsd"], results["full"]
        if "breach" not in label:
            full_times[int(label.split()[0].replace(",", ""))] = ft
        rows.append(f"| {label} | {size_mb:.1f} MB | {pt:.2f} s / {pm / 1e6:.0f} MB | {xt:.2f} s / {xm / 1e6:.0f} MB "
                    f"| {ft:.2f} s / {fm / 1e6:.0f} MB | {ft / pt:.2f}x | {fm / pm:.2f}x |")
    header = ("| return | file | bare lxml parse | bare lxml XSD validation | cin-validate (full) "
              "| time vs parse | memory vs parse |\n|---|---|---|---|---|---|---|")
    # Linear growth: what each further 1,000 children costs between one size and the next.
    steps = sorted(full_times)
    growth = [f"{a:,} to {b:,} children: {(full_times[b] - full_times[a]) / ((b - a) / 1000) * 1000:.0f} ms"
              for a, b in zip(steps, steps[1:])]
    lines = [header, *rows]
    if growth:
        lines += ["", "Full validation, added time per 1,000 children: " + "; ".join(growth) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="children per return, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is shown)")
    parser.add_argument("--no-errors", action="store_true", help="leave out the return with many breaches")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"cin-validate benchmark, {os.cpu_count()} cores, median of {args.runs} run(s)")
    print(run(sizes, args.runs, not args.no_errors))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())

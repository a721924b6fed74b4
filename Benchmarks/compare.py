#!/usr/bin/env python3
"""Side-by-side comparison: the same workloads in MetaPool, R metafor and Python statsmodels.

    python3 Benchmarks/compare.py            # from the repository root

Builds MetaPool's side (Benchmarks/Benchmarks/Comparison, release) and the metapool CLI
(release), runs R (Rscript with metafor) and statsmodels when they are installed, and prints one
Markdown table of times and ratios with the machine it ran on. All three fit the same data: the
Swift side writes the datasets that R and Python read.

Workloads (seconds per fit unless said otherwise):
  k14_full   k = 14: REML, Knapp-Hartung (HKSJ) test, prediction interval, Q-profile CI for tau^2
             (metafor: rma(test = "knha") + confint() + predict(); statsmodels: combine_effects
             with the iterated (Paule-Mandel) tau^2 and its summary_frame()).
  k1e4_dl    k = 10^4, DerSimonian-Laird.
  reml       REML at k = 10^5 and 10^6 (MetaPool only): linear growth and cost per iteration
             against one plain summing pass over the same arrays.
  batch      10^5 analyses of k = 10 (REML, HKSJ) on one task and on every processor.
  cli        `metapool pool` on a shipped dataset, process start to exit, against Rscript doing
             the same with metafor.
"""

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit("compare.py: %s failed with status %d" % (" ".join(cmd), result.returncode))
    return result


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = "%.0f GiB" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return "%s, %d cores, %s, %s" % (model or "unknown CPU", os.cpu_count() or 1, mem, platform.platform())


def metapool_side(data_dir):
    run(["swift", "build", "-c", "release", "--package-path", "Benchmarks", "--product", "Comparison"], cwd=ROOT)
    binary = run(["swift", "build", "-c", "release", "--package-path", "Benchmarks", "--show-bin-path"], cwd=ROOT).stdout.strip()
    out = run([os.path.join(binary, "Comparison"), data_dir], cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
d14 <- read.csv(file.path(Sys.getenv("DATA"), "k14.csv"))
d4 <- read.csv(file.path(Sys.getenv("DATA"), "k1e4.csv"))
full <- function() { f <- rma(d14$yi, d14$vi, method = "REML", test = "knha"); confint(f); predict(f) }
full()
n <- 200
t14 <- system.time(for (i in 1:n) full())[["elapsed"]] / n
tdl <- system.time(rma(d4$yi, d4$vi, method = "DL"))[["elapsed"]]
cat(sprintf('{"k14_full": %.10g, "k1e4_dl": %.10g}\n', t14, tdl))
"""

CLI_R = r"""
suppressPackageStartupMessages(library(metafor))
d <- read.csv("Datasets/her2-bm-intracranial-response.csv")
d <- d[tolower(trimws(d$regimen)) == "trastuzumab deruxtecan" & tolower(trimws(d$population)) == "active", ]
es <- escalc("PLO", xi = d$events, ni = d$total)
f <- rma(es$yi, es$vi, method = "REML")
print(f); print(confint(f)); print(predict(f, transf = transf.ilogit))
"""


def r_side(data_dir):
    if not shutil.which("Rscript"):
        return None
    probe = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True)
    if probe.returncode != 0:
        return None
    out = run(["Rscript", "-e", R_SCRIPT], env=dict(os.environ, DATA=data_dir)).stdout
    return json.loads(out.strip().splitlines()[-1])


def statsmodels_side(data_dir):
    try:
        import warnings
        import numpy as np
        from statsmodels.stats.meta_analysis import combine_effects
        warnings.simplefilter("ignore")  # statsmodels warns on every use_t call without nobs
    except ImportError:
        return None

    def load(name):
        data = np.loadtxt(os.path.join(data_dir, name), delimiter=",", skiprows=1)
        return data[:, 0].copy(), data[:, 1].copy()

    y14, v14 = load("k14.csv")
    y4, v4 = load("k1e4.csv")

    def full():
        res = combine_effects(y14, v14, method_re="iterated", use_t=True)
        res.summary_frame()
        res.conf_int(use_t=True)

    full()
    n = 200
    start = time.perf_counter()
    for _ in range(n):
        full()
    t14 = (time.perf_counter() - start) / n
    n = 20
    start = time.perf_counter()
    for _ in range(n):
        combine_effects(y4, v4, method_re="chi2")
    tdl = (time.perf_counter() - start) / n
    return {"k14_full": t14, "k1e4_dl": tdl}


def cli_side():
    run(["swift", "build", "-c", "release", "--product", "metapool"], cwd=ROOT)
    binary = os.path.join(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).stdout.strip(), "metapool")
    args = [binary, "pool", "Datasets/her2-bm-intracranial-response.csv",
            "--where", "regimen=trastuzumab deruxtecan", "--where", "population=active"]

    def median_time(cmd, n):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    result = {"metapool": median_time(args, 21)}
    if shutil.which("Rscript"):
        result["rscript"] = median_time(["Rscript", "-e", CLI_R], 5)
    return result


def fmt(seconds):
    if seconds is None:
        return "–"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return "%.3g %s" % (seconds / scale, unit)
    return "%.3g ns" % (seconds / 1e-9)


def ratio(a, b):
    return "–" if a is None or b is None or b == 0 else "%.0f×" % (a / b) if a / b >= 10 else "%.1f×" % (a / b)


def main():
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as data_dir:
        print("machine: " + machine(), file=sys.stderr)
        print("building and running MetaPool's side…", file=sys.stderr)
        mp = metapool_side(data_dir)
        print("running R metafor…", file=sys.stderr)
        r = r_side(data_dir)
        print("running statsmodels…", file=sys.stderr)
        sm = statsmodels_side(data_dir)
        print("timing the CLI against Rscript…", file=sys.stderr)
        cli = cli_side()

    def get(d, key):
        return None if d is None else d.get(key)

    rows = []
    rows.append(("k = 14, REML + HKSJ + PI + Q-profile CI, per fit", mp["k14_full"], get(r, "k14_full"), get(sm, "k14_full"),
                 "≥ 1000× metafor, ≥ 100× statsmodels",
                 (get(r, "k14_full") or 0) / mp["k14_full"] >= 1000 and (get(sm, "k14_full") or 0) / mp["k14_full"] >= 100))
    rows.append(("k = 10⁴, DL, per fit", mp["k1e4_dl"], get(r, "k1e4_dl"), get(sm, "k1e4_dl"), "≥ 10,000× metafor",
                 (get(r, "k1e4_dl") or 0) / mp["k1e4_dl"] >= 10_000))
    print("Machine: " + machine())
    print()
    print("| workload | MetaPool | metafor | ratio | statsmodels | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, m, rr, s, target, met in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (name, fmt(m), fmt(rr), ratio(rr, m), fmt(s), ratio(s, m), target, "yes" if met else "no"))
    growth = mp["reml_1e6"] / mp["reml_1e5"]
    per_iter = mp["reml_1e6"] / mp["reml_1e6_iterations"]
    print("| REML k = 10⁵ → 10⁶ | %s → %s | | %.1f× | | | ≤ 12× (linear) | %s |" % (fmt(mp["reml_1e5"]), fmt(mp["reml_1e6"]), growth, "yes" if growth <= 12 else "no"))
    print("| REML k = 10⁶, per iteration vs one plain pass | %s (%d iterations) vs %s | | %.2f× | | | ≤ 2× | %s |" % (
        fmt(per_iter), mp["reml_1e6_iterations"], fmt(mp["floor_1e6"]), per_iter / mp["floor_1e6"], "yes" if per_iter / mp["floor_1e6"] <= 2 else "no"))
    speedup = mp["batch_1task"] / mp["batch_all"]
    print("| batch 10⁵ × k = 10, 1 task → %d tasks | %s → %s | | %.2f× | | | ≥ 1.8× on 2 cores | %s |" % (
        mp["batch_tasks"], fmt(mp["batch_1task"]), fmt(mp["batch_all"]), speedup, "yes" if speedup >= 1.8 else "no"))
    print("| `metapool pool` on a shipped dataset vs Rscript + metafor, process start to exit | %s | %s | %s | | | ≥ 20× | %s |" % (
        fmt(cli["metapool"]), fmt(cli.get("rscript")), ratio(cli.get("rscript"), cli["metapool"]),
        "yes" if (cli.get("rscript") or 0) / cli["metapool"] >= 20 else "no"))


if __name__ == "__main__":
    main()

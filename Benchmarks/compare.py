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
  batch      10^5 analyses of k = 10 (REML, HKSJ) on one task and on every processor (in-process).
  batch_cli  `metapool pool --batch` on 20,000 analyses of k = 14 (REML + HKSJ + PI), the whole
             process on one core (--jobs 1) and on two, per analysis, against a loop in one R
             process (rma(test = "knha") + predict()) and one Python process (combine_effects with
             the iterated tau^2 + summary_frame()); the file is written once and read by all three
             (R and Python fit its first 2,000 analyses: their time per analysis is the same).
  million    `metapool pool` on a 10^6-row file (table and --format json): time and peak RSS.
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
d <- d[tolower(trimws(d$regimen)) == "trastuzumab deruxtecan" & tolower(trimws(d$population)) == "active" &
       toupper(trimws(d$endpoint)) %in% c("IC-ORR", "CNS-ORR"), ]
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
    # Built as scripts/install.sh builds it: on Linux with the Swift runtime linked in.
    flags = ["-c", "release"] + (["--static-swift-stdlib"] if platform.system() == "Linux" else [])
    run(["swift", "build"] + flags + ["--product", "metapool"], cwd=ROOT)
    binary = os.path.join(run(["swift", "build"] + flags + ["--show-bin-path"], cwd=ROOT).stdout.strip(), "metapool")
    args = [binary, "pool", "Datasets/her2-bm-intracranial-response.csv",
            "--where", "regimen=trastuzumab deruxtecan", "--where", "population=active",
            "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"]

    def median_time(cmd, n):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    result = {"metapool": median_time(args, 51), "binary": binary}
    if shutil.which("Rscript"):
        result["rscript"] = median_time(["Rscript", "-e", CLI_R], 5)
    return result


def batch_file(path, analyses=20_000, k=14, seed=20261207):
    """Writes the batch workload: `analyses` analyses of k studies (yi around 0.2, tau^2 in [0, 0.3])."""
    import random
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("analysis,yi,vi\n")
        for a in range(analyses):
            tau2 = rng.uniform(0, 0.3)
            for _ in range(k):
                v = rng.uniform(0.01, 0.2)
                f.write("a%d,%.6f,%.6f\n" % (a, rng.gauss(0.2, (tau2 + v) ** 0.5), v))


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def timed(cmd, stdout=subprocess.DEVNULL):
    """Runs `cmd`; its wall time (s) and peak resident set (bytes). The peak comes from GNU time
    where it is installed: Linux carries a process's peak across exec, so wait4's figure for a
    child forked from this script starts at the script's own resident set (statsmodels' data made
    the 10^6-row runs read 243 MB where the program peaked at 163 MB)."""
    wrapped = [GNU_TIME, "-f", "%M"] + cmd if GNU_TIME else cmd
    start = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode()
    if status != 0:
        raise SystemExit("compare.py: %s failed: %s" % (" ".join(cmd), err[-2000:]))
    if GNU_TIME:
        return elapsed, int(err.strip().splitlines()[-1]) * 1024
    return elapsed, usage.ru_maxrss * 1024


BATCH_R = r"""
suppressPackageStartupMessages(library(metafor))
d <- read.csv(file.path(Sys.getenv("DATA"), "batch.csv"))
groups <- split(d, factor(d$analysis, levels = unique(d$analysis)))[1:2000]
# metafor's remedy when Fisher scoring does not converge (help(rma)): halve the steps.
one <- function(g) {
  f <- tryCatch(rma(g$yi, g$vi, method = "REML", test = "knha"),
                error = function(e) rma(g$yi, g$vi, method = "REML", test = "knha", control = list(stepadj = 0.5, maxiter = 1000)))
  predict(f)
}
t <- system.time(for (g in groups) one(g))[["elapsed"]] / length(groups)
cat(sprintf('{"batch": %.10g}\n', t))
"""


def batch_side(data_dir, binary):
    path = os.path.join(data_dir, "batch.csv")
    batch_file(path)
    result = {}
    args = [binary, "pool", "--batch", path, "--method", "REML", "--ci", "hksj", "--format", "json"]
    for jobs in (1, 2):
        times = [timed(args + ["--jobs", str(jobs)])[0] for _ in range(5)]
        result["metapool_jobs%d" % jobs] = statistics.median(times) / 20_000
    if shutil.which("Rscript"):
        out = run(["Rscript", "-e", BATCH_R], env=dict(os.environ, DATA=data_dir)).stdout
        result["metafor"] = json.loads(out.strip().splitlines()[-1])["batch"]
    try:
        import warnings
        import numpy as np
        from statsmodels.stats.meta_analysis import combine_effects
        warnings.simplefilter("ignore")
        data = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=None, encoding="ascii")
        groups = {}
        for name, y, v in data:
            groups.setdefault(name, ([], []))
            groups[name][0].append(y)
            groups[name][1].append(v)
        arrays = [(np.array(y), np.array(v)) for y, v in list(groups.values())[:2000]]
        start = time.perf_counter()
        for y, v in arrays:
            combine_effects(y, v, method_re="iterated", use_t=True).summary_frame()
        result["statsmodels"] = (time.perf_counter() - start) / len(arrays)
    except ImportError:
        pass
    return result


def million_side(data_dir, binary):
    path = os.path.join(data_dir, "million.csv")
    effects = ["%.1f" % (0.1 * i - 0.3) for i in range(7)]
    variances = ["%.2f" % (0.01 * (1 + i)) for i in range(5)]
    with open(path, "w") as f:
        f.write("study,yi,vi\n")
        for i in range(1, 1_000_001):
            f.write("S%d,%s,%s\n" % (i, effects[i % 7], variances[i % 5]))
    result = {}
    for name, extra in (("table", []), ("json", ["--format", "json"])):
        runs = [timed([binary, "pool", path] + extra) for _ in range(3)]
        result[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
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
        print("the batch through the CLI against loops in R and Python…", file=sys.stderr)
        batch_cli = batch_side(data_dir, cli["binary"])
        print("the 10^6-row file…", file=sys.stderr)
        million = million_side(data_dir, cli["binary"])

    def get(d, key):
        return None if d is None else d.get(key)

    rows = []
    per = batch_cli["metapool_jobs1"]
    rows.append(("`pool --batch`, 20,000 analyses of k = 14, REML + HKSJ + PI, whole process, one core, per analysis", per,
                 batch_cli.get("metafor"), batch_cli.get("statsmodels"), "≥ 1000× metafor, ≥ 100× statsmodels",
                 (batch_cli.get("metafor") or 0) / per >= 1000 and (batch_cli.get("statsmodels") or 0) / per >= 100))
    rows.append(("in-process k = 14, REML + HKSJ + PI + Q-profile CI, per fit", mp["k14_full"], get(r, "k14_full"), get(sm, "k14_full"),
                 "≤ 3 µs (≥ 2000× metafor, ≥ 150× statsmodels)",
                 mp["k14_full"] <= 3e-6 and (get(r, "k14_full") or 0) / mp["k14_full"] >= 2000 and (get(sm, "k14_full") or 0) / mp["k14_full"] >= 150))
    floor4 = mp.get("floor_1e4")
    rows.append(("in-process k = 10⁴, DL, per fit%s" % (" (one summing pass: %s, %.1f×)" % (fmt(floor4), mp["k1e4_dl"] / floor4) if floor4 else ""),
                 mp["k1e4_dl"], get(r, "k1e4_dl"), get(sm, "k1e4_dl"), "within 3× of one summing pass",
                 bool(floor4) and mp["k1e4_dl"] <= 3 * floor4))
    print("Machine: " + machine())
    print()
    print("| workload | MetaPool | metafor | ratio | statsmodels | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, m, rr, s, target, met in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (name, fmt(m), fmt(rr), ratio(rr, m), fmt(s), ratio(s, m), target, "yes" if met else "no"))
    for name, limit_s, limit_mb in (("json", 3, 400), ("table", 1.5, 200)):
        t, rss = million[name]
        what = "`pool --format json`" if name == "json" else "`pool` (table)"
        print("| %s on a 10⁶-row file | %s, %.0f MB peak | | | | | ≤ %g s, ≤ %d MB | %s |" % (
            what, fmt(t), rss / 1e6, limit_s, limit_mb, "yes" if t <= limit_s and rss / 1e6 <= limit_mb else "no"))
    print("| `pool` on a shipped dataset vs Rscript + metafor, process start to exit | %s | %s | %s | | | ≤ 4 ms (≥ 200×) | %s |" % (
        fmt(cli["metapool"]), fmt(cli.get("rscript")), ratio(cli.get("rscript"), cli["metapool"]),
        "yes" if cli["metapool"] <= 4e-3 and (cli.get("rscript") or 0) / cli["metapool"] >= 200 else "no"))
    growth = mp["reml_1e6"] / mp["reml_1e5"]
    per_iter = mp["reml_1e6"] / mp["reml_1e6_iterations"]
    print("| REML k = 10⁵ → 10⁶ | %s → %s | | %.1f× | | | ≤ 12× (linear) | %s |" % (fmt(mp["reml_1e5"]), fmt(mp["reml_1e6"]), growth, "yes" if growth <= 12 else "no"))
    print("| REML k = 10⁶, per iteration vs one plain pass | %s (%d iterations) vs %s | | %.2f× | | | ≤ 2× | %s |" % (
        fmt(per_iter), mp["reml_1e6_iterations"], fmt(mp["floor_1e6"]), per_iter / mp["floor_1e6"], "yes" if per_iter / mp["floor_1e6"] <= 2 else "no"))
    speedup = mp["batch_1task"] / mp["batch_all"]
    print("| batch engine in-process, 10⁵ × k = 10, 1 task → %d tasks | %s → %s | | %.2f× | | | ≥ 1.8× on 2 cores | %s |" % (
        mp["batch_tasks"], fmt(mp["batch_1task"]), fmt(mp["batch_all"]), speedup, "yes" if speedup >= 1.8 else "no"))
    cli_speedup = batch_cli["metapool_jobs1"] / batch_cli["metapool_jobs2"]
    print("| `pool --batch` end to end, --jobs 1 → 2, per analysis | %s → %s | | %.2f× | | | ≥ 1.8× on 2 cores | %s |" % (
        fmt(batch_cli["metapool_jobs1"]), fmt(batch_cli["metapool_jobs2"]), cli_speedup, "yes" if cli_speedup >= 1.8 else "no"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""An adversarial run of `metapool`: fresh inputs of the kinds that once gave a wrong number with
exit 0, a hang or unsafe output (issue 18), drawn at random from a seed, run through every command
they reach, each checked against what must hold.

Every run, whatever the input:
- ends within its time limit and not by a signal; its exit status is a documented one;
- exit 0 prints something, and no `inf`, `nan` or number of more than 40 digits, no raw control
  character (but newline and tab), and SVG that parses as XML;
- a non-zero exit prints nothing on stdout and a message on stderr; stderr holds no raw control
  character either.
Each kind adds its own expectations (the status it must give, the k it must report, the Q it must
match exactly).

Usage: scripts/adversarial.py [--binary PATH] [--seed N] [--rounds N]
Exit 0 when every run held; otherwise each failure is printed with the command to repeat it.
"""
import argparse
import json
import math
import os
import random
import resource
import re
import subprocess
import sys
import tempfile
import time
import xml.dom.minidom
from fractions import Fraction

DOCUMENTED = {0, 1, 64, 65, 66, 70, 73, 74}
COMMANDS = ["pool", "forest", "funnel", "report", "sensitivity", "bias", "regress"]
PLOTS = {"forest": "out.svg", "funnel": "out.svg", "report": "out.html"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
NONFINITE = re.compile(r"(?<![A-Za-z_])(-?inf(inity)?|nan)(?![A-Za-z_])", re.IGNORECASE)
LONG_NUMBER = re.compile(r"\d{41,}")


def limit_memory():
    """A run that reads without end must fail, not take the machine: 4 GiB of address space."""
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


class Run:
    def __init__(self, argv, status, stdout, stderr, seconds, timed_out, output):
        self.argv, self.status, self.stdout, self.stderr = argv, status, stdout, stderr
        self.seconds, self.timed_out, self.output = seconds, timed_out, output


class Adversary:
    def __init__(self, binary, folder, rng, root):
        self.binary, self.folder, self.rng, self.root = binary, folder, rng, root
        self.failures, self.runs, self.counter = [], 0, 0
        self.verbose = bool(os.environ.get("ADVERSARIAL_VERBOSE"))

    # -- files and runs --------------------------------------------------------------------

    def file(self, suffix, text, binary=False):
        self.counter += 1
        path = os.path.join(self.folder, f"case{self.counter}{suffix}")
        with open(path, "wb") as f:
            f.write(text if binary else text.encode("utf-8"))
        return path

    def run(self, args, timeout=60, stdout_path=None, output=None, cwd=None):
        argv = [self.binary] + args
        if self.verbose:
            print("run", " ".join(args)[:200], file=sys.stderr, flush=True)
        if output:
            argv += ["-o", output]
        self.runs += 1
        start = time.monotonic()
        out_file = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
        try:
            p = subprocess.run(argv, stdout=out_file, stderr=subprocess.PIPE, timeout=timeout,
                               cwd=cwd or self.folder, preexec_fn=limit_memory)
            status, stdout, stderr, timed_out = p.returncode, p.stdout or b"", p.stderr, False
        except subprocess.TimeoutExpired as e:
            status, stdout, stderr, timed_out = None, e.stdout or b"", e.stderr or b"", True
        finally:
            if stdout_path:
                out_file.close()
        written = None
        if output and output.startswith(self.folder + os.sep) and os.path.isfile(output):
            with open(output, "rb") as f:
                written = f.read().decode("utf-8", "replace")
            os.remove(output)
        return Run(argv, status, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
                   time.monotonic() - start, timed_out, written)

    def fail(self, run, why):
        shown = " ".join(a if re.fullmatch(r"[\w@%+=:,./-]+", a) else repr(a) for a in run.argv)
        self.failures.append(f"{why}\n    $ {shown}\n    exit {run.status}, stderr: {run.stderr.strip()[:300]!r}")

    def general(self, run):
        """What every run must satisfy; False when it already failed."""
        if run.timed_out:
            self.fail(run, "did not finish in time")
            return False
        if run.status < 0:
            self.fail(run, f"killed by signal {-run.status}")
            return False
        ok = True
        if run.status not in DOCUMENTED:
            self.fail(run, f"undocumented exit status {run.status}")
            ok = False
        if CONTROL.search(run.stderr):
            self.fail(run, "raw control character on stderr")
            ok = False
        if run.status == 0:
            text = run.stdout + (run.output or "")
            if not text.strip():
                self.fail(run, "exit 0 with no output")
                ok = False
            if NONFINITE.search(text):
                self.fail(run, f"non-finite number in the output: {NONFINITE.search(text).group(0)}")
                ok = False
            if LONG_NUMBER.search(text):
                self.fail(run, "a number of more than 40 digits in the output")
                ok = False
            if CONTROL.search(text.replace("\r\n", "\n")):
                self.fail(run, "raw control character in the output")
                ok = False
            if run.output is not None and run.argv[-1].endswith(".svg"):
                try:
                    xml.dom.minidom.parseString(run.output.encode("utf-8"))
                except Exception as e:  # noqa: BLE001 - any parser error is the finding
                    self.fail(run, f"SVG/HTML is not well-formed XML: {e}")
                    ok = False
        elif run.status != 1:
            if run.stdout.strip() and run.argv[1] != "check":
                self.fail(run, "printed on stdout although it failed")
                ok = False
            if not run.stderr.strip():
                self.fail(run, "failed without a message")
                ok = False
        return ok

    def every_command(self, path, extra=(), mods="x", expect=None, commands=COMMANDS):
        """Runs PATH through each command; returns {command: Run}."""
        results = {}
        for command in commands:
            args = [command, path] + list(extra)
            if command == "regress":
                args += ["--mods", mods]
            output = os.path.join(self.folder, PLOTS[command]) if command in PLOTS else None
            r = self.run(args, output=output)
            if self.general(r) and expect is not None:
                want = expect(command)
                if want is not None and r.status not in want:
                    self.fail(r, f"exit {r.status}, expected one of {sorted(want)}")
            results[command] = r
        return results

    # -- the kinds -------------------------------------------------------------------------

    def jsonl_batch_where(self):
        """1, 11: JSON Lines batches apply --where as CSV batches do, with LF or CRLF endings."""
        n = self.rng.randint(3, 8)
        keep = [self.rng.random() < 0.6 for _ in range(n)]
        keep[0] = keep[1] = True
        yi = [round(self.rng.gauss(0.3, 0.4), 4) for _ in range(n)]
        vi = [round(self.rng.uniform(0.01, 0.2), 4) for _ in range(n)]
        arm = ["x" if k else "y" for k in keep]
        line = json.dumps({"analysis": "a", "yi": yi, "vi": vi, "arm": arm})
        eol = self.rng.choice(["\n", "\r\n"])
        path = self.file(".jsonl", line + eol + json.dumps({"analysis": "b", "yi": yi, "vi": vi, "arm": arm}) + eol)
        r = self.run(["pool", "--batch", path, "--where", "arm=x", "--format", "json"])
        if self.general(r):
            if r.status != 0:
                self.fail(r, "JSON Lines batch refused")
            else:
                ks = [json.loads(l).get("k") for l in r.stdout.splitlines() if l.strip()]
                if ks != [sum(keep)] * 2:
                    self.fail(r, f"--where not applied: k = {ks}, expected {sum(keep)}")
        r = self.run(["pool", "--batch", path, "--where", "nosuchcolumn=x", "--format", "json"])
        if self.general(r) and r.status == 0:
            self.fail(r, "--where on an unknown column accepted")

    def tampered_baseline(self, baseline):
        """2: a baseline number replaced by an overflowing literal or a near-integer never agrees."""
        with open(baseline) as f:
            text = f.read()
        keys = re.findall(r'"(estimate|se|ci_lower|ci_upper|tau2|q)": (-?[0-9.e+-]+)', text)
        key, value = self.rng.choice(keys)
        replacement = self.rng.choice(["1e999", "-1e999", "1E400", "-2e308"])
        bad = text.replace(f'"{key}": {value}', f'"{key}": {replacement}', 1)
        if self.rng.random() < 0.3:
            bad = re.sub(r'"k": (\d+)', lambda m: f'"k": {m.group(1)}.0000000001', text, count=1)
        path = self.file(".json", bad)
        r = self.run(["check", path, "--rtol", "0"], cwd=self.root)
        if self.general(r) and r.status == 0:
            self.fail(r, "a tampered baseline passed check")

    def nonfinite_moderator(self):
        """3: one nan/inf/hex cell in a numeric moderator is a data error, never a factor level."""
        n = self.rng.randint(4, 9)
        cells = [str(round(self.rng.uniform(0, 50), 2)) for _ in range(n)]
        cells[self.rng.randrange(n)] = self.rng.choice(["nan", "NaN", "inf", "-inf", "1e999", "0x10", "Infinity"])
        rows = [f"s{i},{round(self.rng.gauss(0, 0.5), 3)},{round(self.rng.uniform(0.01, 0.3), 3)},{c}"
                for i, c in enumerate(cells)]
        path = self.file(".csv", "study,yi,vi,x\n" + "\n".join(rows) + "\n")
        r = self.run(["regress", path, "--mods", "x"])
        if self.general(r) and r.status != 65:
            self.fail(r, f"exit {r.status}, expected 65 for a non-finite moderator cell")

    def huge_log_hr(self):
        """4: back-transforms that overflow are an error or in scientific notation, never inf."""
        big = self.rng.choice([709.5, 710, 800, 1000, -800, 705])
        n = self.rng.randint(3, 6)
        rows = [f"s{i},{big + self.rng.uniform(-0.5, 0.5):.4f},{self.rng.uniform(0.05, 0.3):.4f}" for i in range(n)]
        path = self.file(".csv", "study,log_hr,se\n" + "\n".join(rows) + "\n")
        fmt = self.rng.choice(["table", "json", "csv"])
        self.every_command(path, extra=[], mods="study", expect=lambda c: None,
                           commands=["pool", "forest", "bias", "sensitivity"])
        r = self.run(["pool", path, "--format", fmt])
        self.general(r)

    def full_disk(self, dataset):
        """5: output that cannot be written fails."""
        fmt = self.rng.choice(["table", "json", "csv"])
        r = self.run(["pool", dataset, "--format", fmt], stdout_path="/dev/full")
        if r.status == 0:
            self.fail(r, "writing to /dev/full exited 0")
        r = self.run(["forest", dataset], output="/dev/full")
        if r.status == 0:
            self.fail(r, "forest -o /dev/full exited 0")

    def extreme_variances(self):
        """6: Q on variances spanning hundreds of orders of magnitude is exact or refused."""
        n = self.rng.randint(3, 6)
        yi = [round(self.rng.uniform(-1, 1), 2) for _ in range(n)]
        vi = [float(f"1e{self.rng.randint(-250, 250)}") for _ in range(n)]
        path = self.file(".csv", "study,yi,vi\n" + "\n".join(f"s{i},{y},{v!r}" for i, (y, v) in enumerate(zip(yi, vi))) + "\n")
        r = self.run(["pool", path, "--method", "FE", "--format", "json"])
        if not self.general(r) or r.status != 0:
            return
        w = [1 / Fraction(v) for v in vi]
        mu = sum(wi * Fraction(y) for wi, y in zip(w, yi)) / sum(w)
        q = float(sum(wi * (Fraction(y) - mu) ** 2 for wi, y in zip(w, yi)))
        got = json.loads(r.stdout).get("q")
        if got is None or not math.isclose(got, q, rel_tol=1e-9, abs_tol=1e-300):
            self.fail(r, f"Q = {got}, exact {q!r}")

    def endless_bytes(self):
        """8: /dev/zero and /dev/urandom as input or baseline stop at once."""
        device = self.rng.choice(["/dev/zero", "/dev/urandom"])
        command = self.rng.choice(["pool", "check", "forest"])
        r = self.run([command, device], timeout=10, output=os.path.join(self.folder, "out.svg") if command == "forest" else None)
        if self.general(r) and r.status == 0:
            self.fail(r, f"{device} accepted")

    def boundary_fits(self):
        """9: random small analyses where the likelihood peaks at tau^2 = 0 fit (as metafor)."""
        lines = []
        for a in range(2000):
            k = self.rng.randint(3, 5)
            yi = [round(self.rng.gauss(0, 0.3), 4) for _ in range(k)]
            vi = [round(self.rng.uniform(0.005, 0.1), 4) for _ in range(k)]
            lines.append(json.dumps({"analysis": f"r{a}", "yi": yi, "vi": vi}))
        path = self.file(".jsonl", "\n".join(lines) + "\n")
        method = self.rng.choice(["REML", "ML", "PM", "EB", "SJ", "DL", "HE"])
        r = self.run(["pool", "--batch", path, "--method", method, "--format", "json"], timeout=120)
        if self.general(r):
            bad = [l for l in r.stdout.splitlines() if '"error"' in l]
            if r.status != 0 or bad:
                self.fail(r, f"{method}: {len(bad)} of 2000 random analyses failed, first: {bad[:1]}")

    def known(self):
        """The inputs issue 18 reported, exactly."""
        trio = self.file(".csv", "study,yi,vi\na,0.1759,0.0126\nb,0.1832,0.0232\nc,-0.3523,0.0672\n")
        r = self.run(["pool", trio, "--method", "REML"])
        if self.general(r) and r.status != 0:
            self.fail(r, "REML refused data metafor fits (tau^2 = 0 is the maximum)")
        glmm = self.file(".csv", "study,events,total\n" + "".join(f"s{i},{e},5\n" for i, e in enumerate([3, 1, 2, 0, 2, 2, 0, 1, 1, 3])))
        r = self.run(["pool", glmm, "--method", "GLMM", "--quadrature-points", "1", "--format", "json"])
        if self.general(r):
            if r.status != 0:
                self.fail(r, "GLMM Laplace refused data metafor fits")
            elif not math.isclose(json.loads(r.stdout)["estimate"], -0.847, abs_tol=5e-4):
                self.fail(r, "GLMM Laplace estimate differs from metafor's -0.847")
        hr = self.file(".csv", "study,log_hr,se\na,800,0.1\nb,800.2,0.2\nc,799.9,0.15\n")
        self.every_command(hr, commands=["pool", "forest", "bias"])
        q = self.file(".csv", "study,yi,vi\na,0.1,1e-200\nb,0.2,1e200\nc,0.3,1\nd,0.5,1e-100\n")
        r = self.run(["pool", q, "--method", "FE", "--format", "json"])
        if self.general(r) and r.status == 0 and not math.isclose(json.loads(r.stdout)["q"], 1.6e99, rel_tol=1e-9):
            self.fail(r, f"Q = {json.loads(r.stdout)['q']}, exact 1.6e99")

    def glmm_laplace_boundary(self):
        events = [self.rng.randint(0, 3) for _ in range(10)]
        path = self.file(".csv", "study,events,total\n" + "\n".join(f"s{i},{e},5" for i, e in enumerate(events)) + "\n")
        r = self.run(["pool", path, "--method", "GLMM", "--quadrature-points", self.rng.choice(["1", "7"])])
        if self.general(r) and r.status != 0:
            self.fail(r, "GLMM refused small binomial data")

    def huge_moderator(self):
        """10: a moderator at +-1e300 is a data error (65), not a usage error."""
        n = self.rng.randint(4, 8)
        x = [self.rng.choice(["1e300", "-1e300", "2e299", "1"]) for _ in range(n)]
        rows = [f"s{i},{round(self.rng.gauss(0, 0.5), 3)},{round(self.rng.uniform(0.01, 0.3), 3)},{c}" for i, c in enumerate(x)]
        path = self.file(".csv", "study,yi,vi,x\n" + "\n".join(rows) + "\n")
        r = self.run(["regress", path, "--mods", "x"])
        if self.general(r) and r.status == 64:
            self.fail(r, "a data problem reported as a usage error")

    def long_runs(self):
        """12: absurd permutation counts are refused at once; large leave-one-out is bounded."""
        count = self.rng.choice(["9223372036854775807", "1000000000000", "1"])
        path = self.file(".csv", "study,yi,vi,x\n" + "\n".join(f"s{i},{self.rng.gauss(0, .5):.3f},{self.rng.uniform(.01, .3):.3f},{i}" for i in range(8)) + "\n")
        r = self.run(["regress", path, "--mods", "x", "--permutations", count], timeout=30)
        if self.general(r) and r.status == 0:
            self.fail(r, f"--permutations {count} accepted")
        k = 20000
        path = self.file(".csv", "study,yi,vi\n" + "\n".join(f"s{i},{self.rng.gauss(0, .5):.4f},{self.rng.uniform(.01, .3):.4f}" for i in range(k)) + "\n")
        r = self.run(["sensitivity", path, "--format", "json"], timeout=60)
        self.general(r)

    def hostile_labels(self):
        """13, 14: labels with control codes, bidi overrides, XML-invalid characters, formulas."""
        hostile = ["\x1b[2J\x1b[31mred", "line\nbreak", "\x1b]0;title\x07", "bell\x07", "rtl\u202eevil",
                   "bad\ufffechar", "bad\uffffchar", "=HYPERLINK(\"x\")", "+1+2", "-cmd", "@SUM(A1)", "tab\there"]
        n = self.rng.randint(3, 6)
        labels = [self.rng.choice(hostile) for _ in range(n)]
        def cell(s):
            return '"' + s.replace('"', '""') + '"'
        rows = [f"{cell(l)},{self.rng.randint(1, 20)},{self.rng.randint(21, 40)},{i}" for i, l in enumerate(labels)]
        path = self.file(".csv", "study,events,total,x\n" + "\n".join(rows) + "\n")
        self.every_command(path, expect=lambda c: {0})
        r = self.run(["pool", path, "--format", "csv"])
        if self.general(r) and r.status == 0:
            for line in r.stdout.splitlines()[1:]:
                first = line.split(",")[0].strip('"')
                if first[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"-?[0-9.eE+-]+", first):
                    self.fail(r, f"CSV cell open to formula injection: {first!r}")
                    break


    def small_cohorts(self):
        """Issue 14: tiny single-arm cohorts (0/n and n/n included) through every command with the
        GLMM or REML, a random --study-ci, --pi and --threshold. Study intervals lie in [0, 1]
        and hold the observed rate (but escalc's, which is around the continuity-corrected rate, as
        metafor's forest() draws it); probabilities lie in [0, 1]; the PI names its method."""
        k = self.rng.randint(2, 7)
        totals = [self.rng.choice([1, 2, 4, 9, 15, 37, 126]) for _ in range(k)]
        events = [self.rng.choice([0, n, self.rng.randint(0, n)]) for n in totals]
        rows = [f"c{i},{e},{n},{self.rng.choice(['a', 'b'])},{i}" for i, (e, n) in enumerate(zip(events, totals))]
        path = self.file(".csv", "study,events,total,g,x\n" + "\n".join(rows) + "\n")
        extra = ["--method", self.rng.choice(["GLMM", "REML", "DL"]),
                 "--study-ci", self.rng.choice(["cp", "wilson", "wilson-cc", "agresti-coull", "jeffreys", "wald", "escalc"]),
                 "--pi", self.rng.choice(["t", "riley", "z", "metafor"])]
        self.every_command(path, extra=extra, commands=["forest", "funnel", "report", "sensitivity", "regress"])
        threshold = self.rng.choice(["0.3", "0.5", "0.05", "0.999"])
        r = self.run(["pool", path, "--format", "json", "--threshold", threshold] + extra)
        if not self.general(r) or r.status != 0:
            return
        d = json.loads(r.stdout)
        for i, st in enumerate(d.get("studies", [])):
            lo, hi = st.get("study_ci_lower"), st.get("study_ci_upper")
            p = events[i] / totals[i]
            holds = extra[3] == "escalc" or (lo <= p + 1e-12 and p - 1e-12 <= hi)
            if lo is None or hi is None or not (0 <= lo <= hi <= 1 and holds):
                self.fail(r, f"study {i}: interval [{lo}, {hi}] does not hold {events[i]}/{totals[i]} within [0, 1]")
                break
        for key in ("p_new_study_exceeds", "p_mean_exceeds"):
            v = d.get(key)
            if v is not None and not 0 <= v <= 1:
                self.fail(r, f"{key} = {v} outside [0, 1]")
        if d.get("pi_lower") is not None and not d.get("pi_method"):
            self.fail(r, "a prediction interval without its method")
        if "--by" not in extra:
            r = self.run(["pool", path, "--by", "g"] + extra)
            self.general(r)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    a = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.path.abspath(a.binary or os.path.join(root, ".build", "debug", "metapool"))
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    dataset = os.path.join(root, "Datasets", "pritz1997-hyperdynamic-therapy.csv")
    baselines = sorted(os.path.join(root, "Baselines", f) for f in os.listdir(os.path.join(root, "Baselines")))
    with tempfile.TemporaryDirectory() as folder:
        adv = Adversary(binary, folder, rng, root)
        for _ in range(a.rounds):
            adv.jsonl_batch_where()
            adv.tampered_baseline(rng.choice(baselines))
            adv.nonfinite_moderator()
            adv.huge_log_hr()
            adv.full_disk(dataset)
            adv.extreme_variances()
            adv.endless_bytes()
            adv.boundary_fits()
            adv.glmm_laplace_boundary()
            adv.huge_moderator()
            adv.hostile_labels()
            adv.small_cohorts()
        adv.known()
        adv.long_runs()
    print(f"adversarial run, seed {seed}: {adv.runs} runs, {len(adv.failures)} failures")
    for f in adv.failures:
        print("FAIL " + f)
    sys.exit(1 if adv.failures else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference values for MetaPool's distributions, computed with mpmath at 50 digits.

Writes Tests/MetaPoolTests/Fixtures/distributions/reference.json. Each case evaluates a
function at an exact binary64 argument (mpmath.mpf(float) is exact), so the reference is
the correctly rounded value of the true function at the same input the Swift test uses.
Quantile references are roots found by secant steps at 50 digits and rounded once.

    python3 Tests/Reference/distributions.py        # mpmath >= 1.3 (pip install mpmath)
"""
import json
import os
import sys

import mpmath as mp

mp.mp.dps = 50
MAXTERMS = 10**7

def betainc(a, b, x):
    """I_x(a, b) by DLMF 8.17.8, x^a (1-x)^b / (a B(a, b)) 2F1(a+b, 1; a+1; x), a series of
    positive terms, on the side of the mean where it converges; the other side by symmetry."""
    a, b, x = mp.mpf(a), mp.mpf(b), mp.mpf(x)
    if x <= 0:
        return mp.mpf(0)
    if x >= 1:
        return mp.mpf(1)
    if x > a / (a + b):
        return 1 - betainc(b, a, 1 - x)
    pre = mp.exp(a * mp.log(x) + b * mp.log1p(-x) - mp.log(a) - mp.log(mp.beta(a, b)))
    if 1 - x < mp.mpf("0.001"):
        try:
            return pre * mp.hyp2f1(a + b, 1, a + 1, x, maxterms=MAXTERMS)
        except (ValueError, mp.libmp.libhyper.NoConvergence):
            pass
    # Direct summation; mpmath's hyp2f1 fails when c - a - b is an integer and x is near 1.
    term, total, n = mp.mpf(1), mp.mpf(1), 0
    eps = mp.mpf(10) ** (-mp.mp.dps - 5)
    while True:
        term *= (a + b + n) * x / (a + 1 + n)
        total += term
        n += 1
        if term < eps * total:
            return pre * total


def norm_sf(x):
    return mp.erfc(x / mp.sqrt(2)) / 2

def norm_cdf(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2

def t_sf(nu, t):
    nu = mp.mpf(nu)
    t = mp.mpf(t)
    if t == 0:
        return mp.mpf(1) / 2
    x = nu / (nu + t * t)
    tail = betainc(nu / 2, mp.mpf(1) / 2, x) / 2
    return tail if t > 0 else 1 - tail

def t_cdf(nu, t):
    return t_sf(nu, -t)

def gamma_p_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a+1) 1F1(1; a+1; x) (DLMF 8.5.1, 8.11.4), positive terms."""
    return mp.exp(a * mp.log(x) - x - mp.loggamma(a + 1)) * mp.hyp1f1(1, a + 1, x, maxterms=MAXTERMS)

def chi2_cdf(k, x):
    a, y = mp.mpf(k) / 2, mp.mpf(x) / 2
    if y <= a:
        return gamma_p_series(a, y)
    return 1 - chi2_sf(k, x)

def chi2_sf(k, x):
    a, y = mp.mpf(k) / 2, mp.mpf(x) / 2
    if y <= a:
        return 1 - gamma_p_series(a, y)
    try:
        return mp.gammainc(a, y, mp.inf, regularized=True)
    except mp.libmp.libhyper.NoConvergence:
        with mp.workdps(int(y / 2.3) + 60):
            return +(1 - gamma_p_series(a, y))

def f_cdf(d1, d2, x):
    d1, d2, x = mp.mpf(d1), mp.mpf(d2), mp.mpf(x)
    u = d1 * x / (d1 * x + d2)
    return betainc(d1 / 2, d2 / 2, u)

def f_sf(d1, d2, x):
    d1, d2, x = mp.mpf(d1), mp.mpf(d2), mp.mpf(x)
    v = d2 / (d1 * x + d2)
    return betainc(d2 / 2, d1 / 2, v)

def positive_root(fn, target, start):
    """The s > 0 with fn(s) = target for a monotone probability fn: secant steps on
    log fn against log s, from a double-precision starting value, to 1e-35 relative."""
    target = mp.mpf(target)
    lt = mp.log(target)
    z0 = mp.log(mp.mpf(start))
    z1 = z0 + mp.mpf(10) ** -6
    g0 = mp.log(fn(mp.exp(z0))) - lt
    g1 = mp.log(fn(mp.exp(z1))) - lt
    for _ in range(200):
        if g1 == g0:
            break
        z2 = z1 - g1 * (z1 - z0) / (g1 - g0)
        z0, g0 = z1, g1
        z1 = z2
        g1 = mp.log(fn(mp.exp(z1))) - lt
        if abs(z1 - z0) < mp.mpf(10) ** -35:
            return mp.exp(z1)
    raise RuntimeError("no convergence")


def symmetric_quantile(sf, cdf, p, upper, start):
    """Quantile of a distribution symmetric about 0, from the positive root of the smaller tail."""
    p = mp.mpf(p)
    if p == mp.mpf(1) / 2:
        return mp.mpf(0)
    half = mp.mpf(1) / 2
    if upper:
        return positive_root(sf, p, abs(start)) if p < half else -positive_root(sf, 1 - p, abs(start))
    return -positive_root(sf, p, abs(start)) if p < half else positive_root(sf, 1 - p, abs(start))


TAIL_PS = [1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-10, 1e-6, 1e-3, 0.01, 0.025, 0.05, 0.1,
           0.2, 0.3, 0.4, 0.45, 0.499, 0.5, 0.6, 0.75, 0.9, 0.975, 0.99, 0.999999]

def scipy_start(kind, params, p, upper):
    from scipy import stats
    dist = {"normal": lambda: stats.norm(),
            "t": lambda: stats.t(params[0]),
            "chi2": lambda: stats.chi2(params[0]),
            "f": lambda: stats.f(params[0], params[1])}[kind]()
    return float(dist.isf(p) if upper else dist.ppf(p))

def main():
    cases = []

    def add(function, params, x, value):
        if os.environ.get("VERBOSE"):
            print(function, params, x, file=sys.stderr, flush=True)
        v = float(value)
        cases.append({"function": function, "parameters": params, "x": x, "expected": v})

    # Normal
    for x in [-37.5, -30, -20, -10, -5, -3, -1.959963984540054, -1, -0.5, -1e-3, -1e-10,
              0, 1e-10, 1e-3, 0.5, 1, 1.959963984540054, 3, 5, 10, 20, 30, 37.5]:
        add("normal.cdf", [], x, norm_cdf(mp.mpf(x)))
        add("normal.survival", [], x, norm_sf(mp.mpf(x)))
    for p in TAIL_PS:
        for upper in (False, True):
            if p in (0.5,):
                continue
            start = scipy_start("normal", [], p, upper)
            root = symmetric_quantile(norm_sf, norm_cdf, p, upper, start)
            add("normal.survivalQuantile" if upper else "normal.quantile", [], p, root)

    # Student t
    for nu in [1, 2, 3, 4.5, 10, 30, 100, 1e3, 1e4, 1e5, 1e6]:
        for t in [-1e10, -100, -10, -3, -2, -1e-3, 0, 1e-8, 0.5, 1, 2, 2.5, 4, 10, 37, 100, 1e3, 1e10, 1e100]:
            if abs(t) >= 100 and nu >= 1e3:
                continue
            add("t.cdf", [nu], t, t_cdf(nu, t))
            add("t.survival", [nu], t, t_sf(nu, t))
        for p in TAIL_PS:
            if p < 1e-200 and nu < 2:
                pass
            for upper in (False, True):
                if p == 0.5:
                    continue
                start = scipy_start("t", [nu], p, upper)
                if start == 0 or not mp.isfinite(start):
                    continue
                r = symmetric_quantile(lambda x, nu=nu: t_sf(nu, x), None, p, upper, start)
                add("t.survivalQuantile" if upper else "t.quantile", [nu], p, r)

    # Chi-squared
    for k in [1, 2, 3, 7.5, 10, 100, 1e3, 1e4, 1e5, 1e6]:
        xs = [1e-300, 1e-20, 1e-5, 0.1, 0.5, 1, 2, 5, 10, 50, 100, 500, 1300]
        xs += [k * f for f in (0.5, 0.9, 0.99, 1, 1.01, 1.1, 1.5, 2)]
        for x in sorted(set(xs)):
            lo, hi = chi2_cdf(k, x), chi2_sf(k, x)
            if lo > 1e-305:
                add("chi2.cdf", [k], x, lo)
            if hi > 1e-305:
                add("chi2.survival", [k], x, hi)
        for p in TAIL_PS:
            for upper in (False, True):
                start = scipy_start("chi2", [k], p, upper)
                if not (start > 0) or not mp.isfinite(start):
                    continue
                fn = (lambda x, k=k: chi2_sf(k, x)) if upper else (lambda x, k=k: chi2_cdf(k, x))
                add("chi2.survivalQuantile" if upper else "chi2.quantile", [k], p, positive_root(fn, p, start))

    # F
    for d1, d2 in [(1, 1), (1, 10), (2, 5), (3, 30), (5, 1000), (10, 1e6), (1, 1e6), (4, 1e5), (1000, 1000), (30, 3)]:
        for x in [1e-10, 0.01, 0.1, 0.5, 1, 1.5, 2, 3, 5, 10, 100, 1e4, 1e10]:
            lo, hi = f_cdf(d1, d2, x), f_sf(d1, d2, x)
            if lo > 1e-305:
                add("f.cdf", [d1, d2], x, lo)
            if hi > 1e-305:
                add("f.survival", [d1, d2], x, hi)
        for p in [1e-100, 1e-20, 1e-8, 1e-3, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.975, 0.99]:
            for upper in (False, True):
                start = scipy_start("f", [d1, d2], p, upper)
                if not (start > 0) or not mp.isfinite(start):
                    continue
                fn = (lambda x, a=d1, b=d2: f_sf(a, b, x)) if upper else (lambda x, a=d1, b=d2: f_cdf(a, b, x))
                add("f.survivalQuantile" if upper else "f.quantile", [d1, d2], p, positive_root(fn, p, start))

    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "MetaPoolTests", "Fixtures", "distributions", "reference.json")
    with open(out, "w") as fh:
        json.dump({"generated_by": "Tests/Reference/distributions.py",
                   "mpmath_version": mp.__version__, "digits": mp.mp.dps, "cases": cases},
                  fh, indent=0)
        fh.write("\n")
    print(f"{len(cases)} cases -> {os.path.normpath(out)}", file=sys.stderr)

if __name__ == "__main__":
    main()

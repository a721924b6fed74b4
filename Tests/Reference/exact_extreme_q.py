#!/usr/bin/env python3
"""Exact reference values for Cochran's Q and the DerSimonian-Laird fit at variance ratios of
1e400 and more, where double-precision sums lose every digit (issue 18, item 6).

    cd <package root> && python3 Tests/Reference/exact_extreme_q.py

R's Rmpfr is not installed here and metafor itself computes in doubles, so the values are
computed in exact rational arithmetic (fractions.Fraction) from the exact binary values of the
doubles yi and vi, and rounded to the nearest double at the end (square roots, for the standard
errors, are taken of the exactly rounded variance). Formulas:

    w_i = 1/v_i, S = sum w_i, mu = sum w_i y_i / S, Q = sum w_i (y_i - mu)^2      (Cochran 1954)
    FE: SE = sqrt(1/S), I2 = max(0, 100 (Q - df)/Q), H2 = Q/df                     (Higgins & Thompson 2002)
    DL: tau2 = max(0, (Q - df)/(S - sum w_i^2/S))                                  (DerSimonian & Laird 1986)
        typical variance vt = df/(S - sum w_i^2/S), I2 = 100 tau2/(tau2 + vt), H2 = (tau2 + vt)/vt
        estimate and SE with w_i* = 1/(v_i + tau2)

Writes Tests/MetaPoolTests/Fixtures/extreme/exact_q.json, read by ExtremeVarianceTests.swift.
"""
import json
import math
import os
from fractions import Fraction as F

DATASETS = {
    # The case: weights 1e200, 1e-200, 1, 1e100 (ratio 1e400).
    "issue18_ratio_1e400": ([0.1, 0.2, 0.3, 0.5], [1e-200, 1e200, 1.0, 1e-100]),
    # The same studies in another order (the largest weight last).
    "issue18_reordered": ([0.5, 0.3, 0.2, 0.1], [1e-100, 1.0, 1e200, 1e-200]),
    # Effects far from 0 (a shift of 1000) with a ratio of 1e300 among five studies.
    "shifted_ratio_1e300": ([1000.1, 1000.25, 999.7, 1000.0, 1000.4], [1e-150, 1e150, 0.5, 1e-30, 2.0]),
    # Two dominant studies of equal weight that disagree, and tiny ones.
    "two_dominant": ([0.3, -0.2, 0.1, 0.05], [1e-160, 1e-160, 1e100, 3.0]),
}


def to_double(x):
    return float(x)  # Fraction -> nearest double (correctly rounded)


def analyse(y, v):
    yf = [F(a) for a in y]
    vf = [F(a) for a in v]
    k = len(y)
    df = k - 1
    w = [1 / a for a in vf]
    S = sum(w)
    mu = sum(wi * yi for wi, yi in zip(w, yf)) / S
    Q = sum(wi * (yi - mu) ** 2 for wi, yi in zip(w, yf))
    fe = {
        "estimate": to_double(mu),
        "se": math.sqrt(to_double(1 / S)),
        "q": to_double(Q),
        "i2": to_double(max(F(0), 100 * (Q - df) / Q)),
        "h2": to_double(Q / df),
    }
    trP = S - sum(wi * wi for wi in w) / S
    tau2 = max(F(0), (Q - df) / trP)
    vt = df / trP
    ws = [1 / (a + tau2) for a in vf]
    Ss = sum(ws)
    mus = sum(wi * yi for wi, yi in zip(ws, yf)) / Ss
    dl = {
        "estimate": to_double(mus),
        "se": math.sqrt(to_double(1 / Ss)),
        "tau2": to_double(tau2),
        "q": to_double(Q),
        "i2": to_double(100 * tau2 / (tau2 + vt)),
        "h2": to_double((tau2 + vt) / vt),
    }
    return {"yi": y, "vi": v, "FE": fe, "DL": dl}


def main():
    out = {name: analyse(y, v) for name, (y, v) in DATASETS.items()}
    path = os.path.join("Tests", "MetaPoolTests", "Fixtures", "extreme", "exact_q.json")
    with open(path, "w") as f:
        json.dump({"description": "Exact (rational-arithmetic) FE and DL values at variance ratios of 1e300 and more; "
                                  "written by Tests/Reference/exact_extreme_q.py",
                   "datasets": out}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

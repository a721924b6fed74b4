#!/usr/bin/env Rscript
# Reference values from R's metafor (3.8-1) for MetaPool's numerical edge cases.
#
#   cd <package root> && Rscript Tests/Reference/generate_edge_cases.R
#
# Writes one Tests/MetaPoolTests/Fixtures/edge/NAME.json per dataset: the data (yi/vi, or
# events/total with the measures to compute from them), and one case per measure x method x CI
# method with either metafor's values ("expected", the keys of the JSON output, JSONOutput.md) or, where MetaPool
# refuses the analysis by design, "metapool_error" (the MetaPoolError kind) together with what
# metafor did instead ("metafor"). EdgeCaseTests.swift reads them; the tests never need R.
#
# Fits: rma(yi, vi, method, test, level) with a tight control (threshold 1e-14, maxiter 10000),
# so that metafor's Fisher scoring stops well inside the tests' 1e-6; if that does not converge,
# metafor's documented remedy stepadj = 0.5 is tried, then threshold 1e-10. Each case also records
# what metafor does with its default control ("metafor_default": tau2, iterations, converged or
# the warning/error), which is what the README and the test comments quote for the datasets
# where the iterations struggle.
#
# Numbers are written with 17 significant digits (round-trip doubles). Input data are chosen
# with few digits so the CSV-free fixtures carry exactly the values both sides compute from.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

script_path <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f) == 1L) normalizePath(f) else normalizePath("Tests/Reference/generate_edge_cases.R")
})
root <- normalizePath(file.path(dirname(script_path), "..", ".."))
out_dir <- file.path(root, "Tests", "MetaPoolTests", "Fixtures", "edge")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

METHODS <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "HS", "EB")
CI_TEST <- c("wald" = "z", "t" = "t", "hksj" = "knha", "hksj-adhoc" = "adhoc")
TIGHT <- list(threshold = 1e-14, tol = 1e-12, maxiter = 10000)

# ---------------------------------------------------------------------------------------------
# Fitting with warnings and errors captured

capture_fit <- function(yi, vi, method, test, level, control) {
  warns <- character()
  out <- NULL
  fit <- withCallingHandlers(
    tryCatch({
      out <- capture.output(f <- rma(yi, vi, method = method, test = test, level = level, control = control, verbose = TRUE))
      f
    }, error = function(e) e),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  iterations <- if (is.null(out)) NA_integer_ else length(grep("^Iteration", out))
  list(fit = fit, warns = warns, iterations = iterations)
}

failed <- function(a) inherits(a$fit, "error") || any(grepl("converge|stuck|local maximum", a$warns))
reason <- function(a) {
  msg <- if (inherits(a$fit, "error")) conditionMessage(a$fit) else grep("converge|stuck|local maximum", a$warns, value = TRUE)[1]
  gsub("\\s+", " ", msg)
}

# metafor's default control: what a user of rma() gets.
default_summary <- function(yi, vi, method, test, level) {
  a <- capture_fit(yi, vi, method, test, level, list())
  if (failed(a)) return(list(converged = FALSE, message = reason(a)))
  r <- list(converged = TRUE, tau2 = a$fit$tau2, estimate = as.numeric(a$fit$beta))
  if (method %in% c("REML", "ML", "EB")) r$iterations <- a$iterations
  if (length(a$warns)) r$warnings <- unique(gsub("\\s+", " ", a$warns))
  r
}

# The reference fit: tight control, then stepadj = 0.5, then a looser threshold.
reference_fit <- function(yi, vi, method, test, level) {
  tries <- list(list(control = TIGHT, note = NULL),
                list(control = modifyList(TIGHT, list(stepadj = 0.5)), note = "tight control did not converge; fitted with stepadj = 0.5"),
                list(control = modifyList(TIGHT, list(threshold = 1e-10, stepadj = 0.5)), note = "fitted with stepadj = 0.5 and threshold 1e-10"))
  first <- NULL
  for (t in tries) {
    a <- capture_fit(yi, vi, method, test, level, t$control)
    if (is.null(first)) first <- a
    if (!failed(a)) return(list(fit = a$fit, note = t$note, iterations = a$iterations, warns = a$warns))
    if (!(method %in% c("REML", "ML", "EB"))) break
  }
  list(skip = reason(first))
}

back_transform <- function(measure, x, ni) {
  switch(measure,
    PLO = transf.ilogit(x),
    PAS = transf.iarcsin(x),
    PFT = pmin(pmax(transf.ipft.hm(x, targs = list(ni = ni)), 0), 1),
    PLN = , OR = , RR = , HR = exp(x),
    PR = , RD = , GEN = x)
}

expected_values <- function(fit, es, measure, method, level) {
  random <- method != "FE"
  pred <- predict(fit)
  e <- list(estimate = as.numeric(fit$beta), se = fit$se, ci_lower = fit$ci.lb, ci_upper = fit$ci.ub,
            statistic = fit$zval, p_value = fit$pval, q = fit$QE, q_df = fit$k - 1, q_p_value = fit$QEp)
  bt <- list(estimate = back_transform(measure, as.numeric(fit$beta), es$ni),
             ci_lower = back_transform(measure, fit$ci.lb, es$ni),
             ci_upper = back_transform(measure, fit$ci.ub, es$ni))
  if (random) {
    e$pi_lower <- pred$pi.lb
    e$pi_upper <- pred$pi.ub
    e$tau2 <- fit$tau2
    e$i2 <- fit$I2
    e$h2 <- fit$H2
    bt$pi_lower <- back_transform(measure, pred$pi.lb, es$ni)
    bt$pi_upper <- back_transform(measure, pred$pi.ub, es$ni)
  }
  e$back_transformed <- bt
  z <- qnorm(1 - (1 - level) / 2)
  w <- as.numeric(weights(fit))
  e$studies <- lapply(seq_along(es$yi), function(i) list(
    yi = es$yi[i], vi = es$vi[i], ci_lower = es$yi[i] - z * sqrt(es$vi[i]),
    ci_upper = es$yi[i] + z * sqrt(es$vi[i]), weight = w[i]))
  e
}

# Where MetaPool refuses by design (documented in the README and MetaAnalysis): the MetaPoolError kind.
metapool_refuses <- function(es, method, ci) {
  k <- length(es$yi)
  if (k < 2 && (method != "FE" || ci != "wald")) return("insufficientData")
  if (ci == "hksj" && length(unique(es$yi)) == 1L) return("insufficientData")
  NULL
}

run_case <- function(es, measure, method, ci, level = 0.95) {
  test <- CI_TEST[[ci]]
  case <- list(measure = measure, method = method, ci_method = ci, level = level)
  case$metafor_default <- default_summary(es$yi, es$vi, method, test, level)
  refuses <- metapool_refuses(es, method, ci)
  r <- reference_fit(es$yi, es$vi, method, test, level)
  if (!is.null(refuses)) {
    case$metapool_error <- refuses
    if (!is.null(r$skip)) {
      case$metafor <- paste("error:", r$skip)
    } else {
      f <- r$fit
      case$metafor <- sprintf("fits: method %s, test %s, tau2 = %.17g, estimate = %.17g, se = %.17g, ci = [%.17g, %.17g]%s",
                              f$method, f$test, f$tau2, as.numeric(f$beta), f$se, f$ci.lb, f$ci.ub,
                              if (length(r$warns)) paste0("; warning: ", paste(unique(r$warns), collapse = "; ")) else "")
    }
    return(case)
  }
  if (!is.null(r$skip)) {
    case$metafor_error <- r$skip
    return(case)
  }
  if (!is.null(r$note)) case$note <- r$note
  if (method %in% c("REML", "ML", "EB")) case$metafor_iterations <- r$iterations
  case$expected <- expected_values(r$fit, es, measure, method, level)
  case
}

# ---------------------------------------------------------------------------------------------
# Datasets

generic <- function(yi, vi) list(yi = yi, vi = vi, ni = NULL)

proportion <- function(events, total, measure) {
  e <- escalc(measure = measure, xi = events, ni = total)
  list(yi = as.numeric(e$yi), vi = as.numeric(e$vi), ni = total)
}

all_cases <- function(es, measure, cis = names(CI_TEST), methods = METHODS) {
  out <- list()
  for (m in methods) for (ci in cis) out[[length(out) + 1L]] <- run_case(es, measure, m, ci)
  out
}

datasets <- list()
add <- function(name, description, data, cases) {
  # I(): arrays stay arrays in the JSON even with one element (k = 1).
  datasets[[length(datasets) + 1L]] <<- list(name = name, description = description, data = lapply(data, I), cases = cases)
}

# k = 1: metafor fits FE; for a random-effects method it reports tau2 = 0 ("Fixed-Effects Model
# (k = 1)"), and it replaces a t-based test by z with a warning. MetaPool fits FE with Wald and
# refuses the rest (too few studies), as its README documents.
es <- generic(0.5, 0.04)
add("k1", "one study (yi = 0.5, vi = 0.04)", list(yi = es$yi, vi = es$vi), all_cases(es, "GEN"))

# k = 2, heterogeneous and homogeneous.
es <- generic(c(0.2, 0.9), c(0.05, 0.1))
add("k2", "two studies, heterogeneous (Q = 2.45 on 1 df)", list(yi = es$yi, vi = es$vi), all_cases(es, "GEN"))
es <- generic(c(0.2, 0.25), c(0.05, 0.1))
add("k2_homogeneous", "two studies, homogeneous (tau2 = 0 for every estimator but SJ)", list(yi = es$yi, vi = es$vi), all_cases(es, "GEN"))

# Identical effects: tau2 on its zero boundary. metafor gives exactly 0 for every estimator here
# (the starting value, Hedges', is already 0 and the score there is negative); the hksj SE is 0.
es <- generic(rep(0.4, 5), c(0.1, 0.2, 0.05, 0.4, 0.3))
add("identical_effects", "five identical effects 0.4 with different variances", list(yi = es$yi, vi = es$vi), all_cases(es, "GEN"))

# tau2 on the boundary reached from above: Hedges' start is positive, the REML solution is 0.
# metafor's step-halving approaches 0 and stops below its threshold with a tiny positive tau2
# (default control: 3.8e-6); with the tight control the remainder is below 1e-14.
es <- generic(c(0.427, -0.484, -0.368, -0.173), c(0.1759, 0.3057, 0.115, 0.0534))
add("boundary_from_above", "REML solution on the boundary, reached by step-halving from a positive start",
    list(yi = es$yi, vi = es$vi), all_cases(es, "GEN", cis = c("wald", "hksj")))

# Proportions with no responders, and with all responders, in every arm.
zero_events <- list(events = c(0, 0, 0, 0, 0), total = c(10, 25, 40, 8, 60))
all_events <- list(events = c(10, 25, 40, 8, 60), total = c(10, 25, 40, 8, 60))
for (d in list(list(name = "zero_events", data = zero_events, what = "no responders in any arm"),
               list(name = "all_events", data = all_events, what = "all patients responded in every arm"))) {
  cases <- list()
  for (measure in c("PLO", "PR", "PAS", "PFT", "PLN")) {
    es <- proportion(d$data$events, d$data$total, measure)
    cases <- c(cases, all_cases(es, measure, cis = c("wald", "hksj")))
  }
  add(d$name, paste0(d$what, " (escalc's 1/2 correction for PLO, PR, PLN; none for PAS, PFT)"),
      list(events = d$data$events, total = d$data$total), cases)
}

# Variances from 1e-12 to 1e6 in one dataset.
vi <- signif(10^seq(-12, 6, length.out = 10), 3)
yi <- c(0.31, -0.12, 0.55, 0.08, -0.47, 1.2, 0.9, -2.1, 3.5, -6.0)
es <- generic(yi, vi)
add("variance_span", "ten studies with variances from 1e-12 to 1e6", list(yi = es$yi, vi = es$vi),
    all_cases(es, "GEN", cis = c("wald", "hksj")))

# One study with a huge weight (vi = 1e-10 among vi ~ 0.1).
es <- generic(c(0.05, 0.4, -0.2, 0.6, 0.3, 0.1), c(1e-10, 0.1, 0.2, 0.15, 0.3, 0.12))
add("huge_weight", "one study with vi = 1e-10 among variances near 0.1", list(yi = es$yi, vi = es$vi),
    all_cases(es, "GEN", cis = c("wald", "hksj")))

# Where REML's and PM's iterations struggle: few studies with wildly different variances (found by
# a search over random datasets with variances 10^U(-6, 4)). With its default control metafor
# needs 50 Fisher-scoring iterations for REML on the first, and its EB does not converge in 100;
# on the second REML needs 63 and with a threshold of 1e-14 does not converge at all (stepadj = 0.5 does).
es <- generic(c(-0.150892, -3.93439, -1.51181, 0.922298, 0.290213, -4.88462),
              c(15.5418, 0.00062122, 27.4049, 509.899, 0.00636358, 15.6486))
add("reml_struggle_a", "six studies, variances from 6e-4 to 510", list(yi = es$yi, vi = es$vi),
    all_cases(es, "GEN", cis = c("wald", "hksj")))
es <- generic(c(-1.85153, 3.18723, -2.83193, -4.29694, -0.36994),
              c(23.4123, 0.000624286, 3.65459, 62.6991, 16.6159))
add("reml_struggle_b", "five studies, variances from 6e-4 to 63", list(yi = es$yi, vi = es$vi),
    all_cases(es, "GEN", cis = c("wald", "hksj")))

# ---------------------------------------------------------------------------------------------
# Write

for (d in datasets) {
  fixture <- list(
    dataset = d$name,
    description = d$description,
    metafor_version = as.character(packageVersion("metafor")),
    r_version = paste(R.version$major, R.version$minor, sep = "."),
    generated_by = "Tests/Reference/generate_edge_cases.R",
    rma_control = TIGHT,
    data = d$data,
    cases = d$cases
  )
  json <- toJSON(fixture, auto_unbox = TRUE, digits = I(17), null = "null", na = "null", pretty = TRUE)
  writeLines(json, file.path(out_dir, paste0(d$name, ".json")), useBytes = TRUE)
  n_exp <- sum(vapply(d$cases, function(c) !is.null(c$expected), logical(1)))
  n_err <- sum(vapply(d$cases, function(c) !is.null(c$metapool_error), logical(1)))
  n_mf <- sum(vapply(d$cases, function(c) !is.null(c$metafor_error), logical(1)))
  cat(sprintf("%-22s cases %3d: compared %3d, MetaPool refuses %2d, metafor fails %2d\n", d$name, length(d$cases), n_exp, n_err, n_mf))
}

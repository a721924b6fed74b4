#!/usr/bin/env Rscript
# Reference values from R's metafor for data with extreme ratios of sampling variances, on the
# meta-analysis, meta-regression, common-tau^2 subgroup and Egger paths.
#
#   cd <package root> && Rscript Tests/Reference/generate_extreme_variance.R
#
# Generated with R 4.2.2 and metafor 3.8-1 (metadat 1.2-0, jsonlite) from Debian bookworm's
# r-base-core, r-cran-metafor, r-cran-metadat. Writes Tests/MetaPoolTests/Fixtures/extreme/NAME.json,
# read by Tests/MetaPoolTests/ExtremeVarianceTests.swift (the tests never need R).
#
# Datasets (each fixture carries its yi, vi and moderators x and g):
#   d1_vi_1e200     k = 8, one vi = 1e200 among 0.01..0.03; x = 1..8, g = a/b
#   d2_vi_1e200_k4  its first 4 studies (intercept only)
#   d3_vi_1e-10     one vi = 1e-10 among 0.07..0.12; x = 1..8, g = a/b
#   d4_vi_span      vi from 1e-6 to 1e6; x = 1..10, g = a/b alternating
#   d5_bcg_scaled   dat.bcg log risk ratios, study 1's vi * 1e12, study 8's vi / 1e6; x = ablat, g = alloc
#
# For every tau^2 method (FE DL REML ML PM HE SJ HS EB) and test (z, t, knha), one case each of
#   single       rma(yi, vi, method, test): the intercept-only model (k, p = 1, QM tests the intercept)
#   regression   rma(yi, vi, mods = ~ x)
#   subgroups    rma(yi, vi, mods = ~ g) and the cell-means form rma(yi, vi, mods = ~ g - 1), g the
#                factor with levels in order of first appearance (as MetaPool orders subgroups);
#                "subgroups" are the cell-means coefficients with predict() intervals
#   egger        regtest(rma(yi, vi, method, test), model = "rma", predictor = "sei")
# and, once per dataset, regtest(..., model = "lm", predictor = "sei") (independent of method and test).
# d2 has the single cases only.
#
# Every fit uses control = list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4) (regtest refits with
# the model's control). If a fit fails to converge, it is retried with stepadj = 0.5, then 0.25, and
# the case gets a "note" naming the control used (d4's EB with moderators needs stepadj = 0.5). A fit
# that still fails is kept as "error": metafor's message. metafor's warnings (e.g. the ratio of
# largest to smallest sampling variance) are kept as "warnings". Further annotations, each explained
# where it is made below:
#   "error" "metafor did not return ..."  metafor 3.8-1 loops forever (d1's Egger REML and ML); every
#                fit runs under a time limit. For REML/ML/EB failures, "expected_with_retry_control"
#                holds metafor's values from tau2.init = 0 (the tests compare with these).
#   "metafor_unreliable"   metafor's value is rounding noise (d1's Egger HE, tau2 = 3.7e183); not compared.
#   "expected_accurate", "metafor_inaccurate"   metafor's QE, I2, H2 (and DL, HS, HE tau2) lose
#                accuracy to cancellation; the same values computed stably (the tests compare with these).
#   "better_optimum"   an ML fit left on the tau2 = 0 boundary although the likelihood is higher
#                elsewhere (d4, d5); metafor's value stays the reference.
#
# Numbers are written as the shortest of %.15g/%.16g/%.17g that reads back as the same double
# (jsonlite itself rounds to 15 significant digits), so yi and vi are exactly the values metafor used.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "extreme")
dir.create(out, showWarnings = FALSE, recursive = TRUE)

CTL <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)
methods <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "HS", "EB")
tests <- c(wald = "z", t = "t", hksj = "knha")   # MetaPool's ci_method = metafor's test

# ---------------------------------------------------------------------------------------------
# Writing doubles exactly

roundtrip <- function(x) {
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(s) == x) return(s)
  }
  s
}
# A scalar as verbatim JSON, or NULL (written as null) when absent or not finite.
num <- function(x) {
  if (is.null(x) || length(x) != 1 || !is.finite(x)) return(NULL)
  structure(roundtrip(as.numeric(x)), class = "json")
}
vec <- function(x) structure(paste0("[", paste(vapply(as.numeric(x), roundtrip, ""), collapse = ", "), "]"), class = "json")
int <- function(x) if (is.null(x) || length(x) != 1 || is.na(x)) NULL else as.integer(x)

# ---------------------------------------------------------------------------------------------
# Fitting with warnings and errors captured, stepadj only when needed

# metafor can loop forever: when the start of REML/ML/EB is so large that every w_i^2 underflows,
# tr(PP) (or sum w_i^2) is 0, the Fisher step is -Inf and `while (tau2 + adj < tau2.min) adj <- adj/2`
# never ends. Each fit therefore runs under an elapsed-time limit (a normal fit here takes < 0.1 s).
LIMIT <- 20

capture <- function(f) {
  warns <- character()
  run <- function() {
    setTimeLimit(elapsed = LIMIT, transient = TRUE)
    on.exit(setTimeLimit(elapsed = Inf))
    f()
  }
  value <- withCallingHandlers(tryCatch(run(), error = function(e) e),
                               warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  error <- if (inherits(value, "error")) gsub("\\s+", " ", conditionMessage(value)) else NULL
  if (!is.null(error) && grepl("elapsed time limit", error))
    error <- sprintf("metafor did not return within %d s (an endless loop: reached elapsed time limit)", LIMIT)
  list(value = value, warnings = unique(gsub("\\s+", " ", warns)), error = error)
}

# f(control) fits; retried with smaller steps only if the failure is one of convergence. If the fit
# still fails and the method iterates from metafor's start (REML, ML, EB: the Hedges-type estimate),
# it is also tried from tau2.init = 0 ("retry_control", "expected_with_retry_control"; the case stays
# an error). On d1's Egger REML and ML these values equal a 450-digit evaluation of the optimum.
with_fallback <- function(f, method) {
  tries <- list(list(control = CTL, note = NULL),
                list(control = modifyList(CTL, list(stepadj = 0.5)), note = "did not converge with the control given; fitted with stepadj = 0.5"),
                list(control = modifyList(CTL, list(stepadj = 0.25)), note = "did not converge with the control given or stepadj = 0.5; fitted with stepadj = 0.25"))
  first <- NULL
  for (t in tries) {
    a <- capture(function() f(t$control))
    if (is.null(first)) first <- a
    if (is.null(a$error)) { a$note <- t$note; return(a) }
    if (!grepl("converge", a$error)) break
  }
  if (method %in% c("REML", "ML", "EB")) {
    control <- modifyList(CTL, list(tau2.init = 0))
    first$retry <- capture(function() f(control))
    first$retry$control <- lapply(control, num)
  }
  first
}

# ---------------------------------------------------------------------------------------------
# What is recorded

coefficients_of <- function(fit) {
  lapply(seq_along(fit$beta), function(j) list(
    name = rownames(fit$beta)[j], estimate = num(fit$beta[j]), se = num(fit$se[j]), statistic = num(fit$zval[j]),
    p_value = num(fit$pval[j]), ci_lower = num(fit$ci.lb[j]), ci_upper = num(fit$ci.ub[j])))
}

model_values <- function(fit) {
  fe <- fit$method %in% c("FE", "EE", "CE")
  list(k = fit$k, p = fit$p, tau2 = num(fit$tau2), coefficients = coefficients_of(fit),
       df = if (fit$test %in% c("t", "knha", "adhoc")) int(fit$ddf[1]) else NULL,
       qe = num(fit$QE), qe_df = fit$k - fit$p, qe_p_value = num(fit$QEp),
       qm = num(fit$QM), qm_df = int(fit$QMdf[1]), qm_df2 = int(fit$QMdf[2]), qm_p_value = num(fit$QMp),
       i2 = num(fit$I2), h2 = num(fit$H2))
}

# The (restricted) log-likelihood of an ML or REML fit against refits of the same model from other
# starting values: metafor's Fisher scoring starts at the Hedges-type estimate, and when that is 0
# and the score there is negative it stays on the boundary, which need not be the maximum (one study
# with a tiny variance makes the score at 0 very negative). A better optimum is recorded as
# "better_optimum" (the case keeps metafor's reported value as "expected").
STARTS <- c(0.001, 0.01, 0.1, 1, 10)
better_optimum <- function(fit) {
  if (!(fit$method %in% c("ML", "REML"))) return(NULL)
  reported <- as.numeric(logLik(fit))
  best <- NULL
  for (t in STARTS) {
    a <- capture(function() rma(fit$yi, fit$vi, mods = fit$X, intercept = FALSE, method = fit$method,
                                control = modifyList(CTL, list(tau2.init = t))))
    if (!is.null(a$error)) next
    ll <- as.numeric(logLik(a$value))
    if (ll > reported + 1e-6 && (is.null(best) || ll > best$loglik))
      best <- list(tau2_init = t, tau2 = a$value$tau2, loglik = ll)
  }
  if (is.null(best)) return(NULL)
  list(reported_tau2 = num(fit$tau2), reported_loglik = num(reported), tau2_init = num(best$tau2_init),
       tau2 = num(best$tau2), loglik = num(best$loglik))
}

# Values that are rounding noise in metafor, flagged so that the tests do not hold MetaPool to them:
# a tau^2 above 1e100 (from HE on a design with a predictor of 1e100: tr(P V) = sum v_i (1 - h_ii)
# with 1 - h_ii rounded for the study with v_i = 1e200, times 1e200).
unreliable <- function(e) {
  tau2 <- if (is.null(e$tau2)) NA else as.numeric(unclass(e$tau2))
  if (!is.na(tau2) && tau2 > 1e100)
    return(sprintf("tau2 = %s is rounding noise (HE's tr(P V) = sum v_i (1 - h_ii) loses 1 - h_ii for the study with vi = 1e200 and a leverage that rounds to 1); not a reference", roundtrip(tau2)))
  NULL
}

# Where metafor's own numbers lose accuracy. metafor forms QE = Y'PY, and tr(P) (the DL denominator
# and the typical variance vt = (k - p)/tr(P) behind I2 and H2), through P = W - W X (X'WX)^-1 X'W,
# which cancels when one weight is ~1e9 or more: on d3, QE of ~ x is 5.2720 against the exact 5.3222
# (4.5e-9 relative for the intercept-only model; d5's DL and HS tau2 of ~ x are 5.5e-5 and 6.8e-5 off).
# The same quantities from a complete QR of W^1/2 X (QE the squared residual, 1 - h_ii from the
# orthogonal complement), and HE's tr(P V) from a QR of X, agreed with a 450-digit evaluation of these
# data (mpmath, outside this script) wherever metafor's values are reliable at all. When they differ
# from metafor's by more than 1e-9 relative, the case also gets "expected_accurate": the same values
# with QE, its p-value, I2 and H2 from the stable route and, where the tau2 estimate itself changes
# (DL, HS, HE), everything refitted by metafor at the accurate tau2 (rma(..., tau2 = value));
# "metafor_inaccurate" lists what changed. The tests compare with "expected_accurate" when present.
stable_parts <- function(y, v, X) {
  k <- nrow(X); p <- ncol(X)
  sw <- sqrt(1 / v)
  q <- qr(sw * X)
  rest <- qr.Q(q, complete = TRUE)[, (p + 1):k, drop = FALSE]
  q1 <- qr(X)
  rest1 <- qr.Q(q1, complete = TRUE)[, (p + 1):k, drop = FALSE]
  list(QE = sum(qr.resid(q, sw * y)^2), trP0 = sum(rowSums(rest^2) / v),
       RSS = sum(qr.resid(q1, y)^2), trPV = sum(v * rowSums(rest1^2)))
}

differs <- function(a, b) !isTRUE(abs(a - b) <= max(1e-12, 1e-9 * abs(b)))

# The fit with QE, QEp, I2, H2 (and tau2, refitted) from the stable route, and what changed; NULL if nothing.
accurate_fit <- function(fit) {
  y <- c(fit$yi); v <- fit$vi; X <- fit$X; k <- fit$k; p <- fit$p
  s <- stable_parts(y, v, X)
  tau2 <- switch(fit$method,
                 DL = max(0, (s$QE - (k - p)) / s$trP0),
                 HS = max(0, (s$QE - k) / sum(1 / v)),
                 HE = max(0, (s$RSS - s$trPV) / (k - p)),
                 fit$tau2)
  acc <- fit
  if (differs(tau2, fit$tau2))
    acc <- rma(y, v, mods = X, intercept = FALSE, btt = fit$btt, method = fit$method, test = fit$test,
               tau2 = tau2, control = CTL)
  acc$QE <- s$QE
  acc$QEp <- pchisq(s$QE, df = k - p, lower.tail = FALSE)
  if (!(fit$method %in% c("FE", "EE", "CE"))) {
    vt <- (k - p) / s$trP0
    acc$I2 <- 100 * acc$tau2 / (vt + acc$tau2)
    acc$H2 <- acc$tau2 / vt + 1
  } else {
    # The common-effect model's Q-based I2 and H2, as metafor computes them from QE.
    acc$I2 <- max(0, 100 * (s$QE - (k - p)) / s$QE)
    acc$H2 <- s$QE / (k - p)
  }
  keys <- c("tau2", "QE", "I2", "H2")
  changes <- list()
  for (key in keys) if (differs(acc[[key]], fit[[key]]))
    changes[[length(changes) + 1]] <- list(key = key, metafor = num(fit[[key]]), accurate = num(acc[[key]]))
  if (length(changes) == 0) return(NULL)
  list(value = acc, changes = changes)
}

# Per analysis: the accurate counterpart of what expected_fun takes, or NULL.
accurate_single <- function(fit) accurate_fit(fit)
accurate_subgroups <- function(fits) {
  a <- accurate_fit(fits$model); b <- accurate_fit(fits$means)
  if (is.null(a) && is.null(b)) return(NULL)
  label <- function(x, what) lapply(x$changes, function(ch) c(list(fit = what), ch))
  list(value = list(model = if (is.null(a)) fits$model else a$value, means = if (is.null(b)) fits$means else b$value),
       changes = c(if (!is.null(a)) label(a, "~ factor(g)"), if (!is.null(b)) label(b, "~ factor(g) - 1")))
}
accurate_egger <- function(r) {
  if (r$model != "rma") return(NULL)
  a <- accurate_fit(r$fit)
  if (is.null(a)) return(NULL)
  f <- a$value
  # regtest(model = "rma")'s fields from the refitted model, as regtest forms them
  r2 <- list(model = "rma", fit = f, zval = f$zval[2], pval = f$pval[2], dfs = r$dfs, est = coef(f)[1],
             ci.lb = f$ci.lb[1], ci.ub = f$ci.ub[1])
  list(value = r2, changes = a$changes)
}

case_of <- function(analysis, method, ci, attempt, expected_fun, extra = list(), fit_of = identity, accurate = function(value) NULL) {
  case <- c(list(analysis = analysis, method = method, ci_method = ci, test = tests[[ci]]), extra)
  if (!is.null(attempt$note)) case$note <- attempt$note
  if (length(attempt$warnings)) case$warnings <- I(attempt$warnings)
  if (!is.null(attempt$error)) {
    case$error <- attempt$error
    if (!is.null(attempt$retry)) {
      # What metafor gives when started at tau2 = 0.
      r <- attempt$retry
      case$retry_control <- r$control
      if (!is.null(r$error)) case$retry_error <- r$error
      else {
        e <- capture(function() expected_fun(r$value))
        if (is.null(e$error)) case$expected_with_retry_control <- e$value
      }
    }
    return(case)
  }
  e <- capture(function() expected_fun(attempt$value))
  if (!is.null(e$error)) {
    case$error <- paste("after the fit:", e$error)
    return(case)
  }
  case$expected <- e$value
  case$metafor_unreliable <- unreliable(e$value)
  case$better_optimum <- better_optimum(fit_of(attempt$value))
  if (is.null(case$metafor_unreliable)) {
    a <- capture(function() {
      acc <- accurate(attempt$value)
      if (is.null(acc)) NULL else list(changes = acc$changes, expected = expected_fun(acc$value))
    })
    if (!is.null(a$error)) case$accuracy_check_error <- a$error
    else if (!is.null(a$value)) {
      case$metafor_inaccurate <- a$value$changes
      case$expected_accurate <- a$value$expected
    }
  }
  case
}

single_case <- function(d, method, ci) {
  a <- with_fallback(function(ctl) rma(d$yi, d$vi, method = method, test = tests[[ci]], control = ctl), method)
  case_of("single", method, ci, a, function(fit) {
    e <- model_values(fit)
    if (method != "FE") {
      pred <- predict(fit)
      e$pi_lower <- num(pred$pi.lb)
      e$pi_upper <- num(pred$pi.ub)
    }
    e
  }, list(mods = "~ 1"), accurate = accurate_single)
}

regression_case <- function(d, method, ci) {
  x <- d$x
  a <- with_fallback(function(ctl) rma(d$yi, d$vi, mods = ~ x, method = method, test = tests[[ci]], control = ctl), method)
  case_of("regression", method, ci, a, model_values, list(mods = "~ x"), accurate = accurate_single)
}

subgroups_case <- function(d, method, ci) {
  g <- factor(d$g, levels = unique(d$g))
  test <- tests[[ci]]
  a <- with_fallback(function(ctl) {
    model <- rma(d$yi, d$vi, mods = ~ g, method = method, test = test, control = ctl)
    means <- rma(d$yi, d$vi, mods = ~ g - 1, method = method, test = test, control = ctl)
    list(model = model, means = means)
  }, method)
  case_of("subgroups", method, ci, a, function(fits) {
    means <- fits$means
    G <- nlevels(g)
    pred <- predict(means, newmods = diag(G))
    e <- model_values(fits$model)
    e$subgroups <- lapply(seq_len(G), function(j) list(
      subgroup = levels(g)[j], k = sum(g == levels(g)[j]), estimate = num(means$beta[j]), se = num(means$se[j]),
      ci_lower = num(means$ci.lb[j]), ci_upper = num(means$ci.ub[j]), statistic = num(means$zval[j]),
      p_value = num(means$pval[j]),
      pi_lower = if (method == "FE") NULL else num(pred$pi.lb[j]),
      pi_upper = if (method == "FE") NULL else num(pred$pi.ub[j])))
    e$tau2_means <- num(means$tau2)
    e$means <- model_values(means)
    e
  }, list(mods = "~ factor(g)", means_mods = "~ factor(g) - 1"), fit_of = function(fits) fits$model,
          accurate = accurate_subgroups)
}

egger_values <- function(r, model) {
  fit <- r$fit
  slope <- if (model == "lm") summary(fit)$coefficients[2, 1:2] else c(fit$beta[2], fit$se[2])
  limit_se <- if (model == "lm") summary(fit)$coefficients[1, 2] else fit$se[1]
  e <- list(k = if (model == "lm") length(fit$residuals) else fit$k, statistic = num(r$zval), df = int(r$dfs), p_value = num(r$pval),
            slope = num(slope[1]), slope_se = num(slope[2]),
            limit_estimate = num(r$est), limit_se = num(limit_se), limit_ci_lower = num(r$ci.lb), limit_ci_upper = num(r$ci.ub))
  if (model == "rma") {
    e$tau2 <- if (fit$method == "FE") NULL else num(fit$tau2)
    e$fit <- model_values(fit)
  }
  e
}

egger_case <- function(d, method, ci, model) {
  a <- with_fallback(function(ctl) {
    fit <- rma(d$yi, d$vi, method = method, test = tests[[ci]], control = ctl)
    regtest(fit, model = model, predictor = "sei")
  }, method)
  case_of("egger", method, ci, a, function(r) egger_values(r, model), list(model = model, predictor = "sei"),
          fit_of = function(r) if (model == "rma") r$fit else list(method = "lm"), accurate = accurate_egger)
}

# ---------------------------------------------------------------------------------------------
# Datasets

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg_vi <- as.numeric(bcg$vi)
bcg_vi[1] <- bcg_vi[1] * 1e12
bcg_vi[8] <- bcg_vi[8] / 1e6

datasets <- list(
  d1_vi_1e200 = list(
    description = "k = 8, study 3 with vi = 1e200 among vi 0.01..0.03",
    yi = c(0.1, 0.5, -0.3, 0.9, 0.2, 0.4, -0.1, 0.7), vi = c(0.01, 0.02, 1e200, 0.015, 0.03, 0.02, 0.012, 0.025),
    x = 1:8, g = c("a", "a", "a", "b", "b", "b", "a", "b")),
  d2_vi_1e200_k4 = list(
    description = "k = 4, study 3 with vi = 1e200 (intercept only)",
    yi = c(0.1, 0.5, -0.3, 0.9), vi = c(0.01, 0.02, 1e200, 0.015)),
  `d3_vi_1e-10` = list(
    description = "k = 8, study 1 with vi = 1e-10 among vi 0.07..0.12",
    yi = c(0.12, 0.35, -0.2, 0.41, 0.05, 0.28, 0.6, -0.05), vi = c(1e-10, 0.1, 0.08, 0.12, 0.09, 0.11, 0.1, 0.07),
    x = 1:8, g = c("a", "a", "a", "b", "b", "b", "a", "b")),
  d4_vi_span = list(
    description = "k = 10, vi from 1e-6 to 1e6",
    yi = c(0.3, -0.1, 0.8, 0.25, 0.5, 0.05, 0.4, 0.15, -0.2, 0.6), vi = c(1e-6, 1e-3, 1e6, 0.02, 0.05, 1e2, 0.01, 0.5, 3, 1e-4),
    x = 1:10, g = rep(c("a", "b"), 5)),
  d5_bcg_scaled = list(
    description = "metadat::dat.bcg log risk ratios (escalc RR), study 1's vi multiplied by 1e12 and study 8's divided by 1e6; x = ablat, g = alloc",
    yi = as.numeric(bcg$yi), vi = bcg_vi, x = dat.bcg$ablat, g = as.character(dat.bcg$alloc),
    study = paste(dat.bcg$author, dat.bcg$year))
)

for (name in names(datasets)) {
  d <- datasets[[name]]
  has_mods <- !is.null(d$x)
  cases <- list()
  add <- function(x) cases[[length(cases) + 1]] <<- x
  for (method in methods) for (ci in names(tests)) {
    add(single_case(d, method, ci))
    if (has_mods) {
      add(regression_case(d, method, ci))
      add(subgroups_case(d, method, ci))
      add(egger_case(d, method, ci, "rma"))
    }
  }
  if (has_mods) add(egger_case(d, "FE", "wald", "lm"))

  data <- list(yi = vec(d$yi), vi = vec(d$vi))
  if (has_mods) {
    data$x <- vec(d$x)
    data$g <- I(d$g)
    data$levels <- I(unique(d$g))
  }
  if (!is.null(d$study)) data$study <- I(d$study)
  doc <- list(dataset = name, description = d$description,
              metafor_version = as.character(packageVersion("metafor")), r_version = paste(R.version$major, R.version$minor, sep = "."),
              generated_by = "Tests/Reference/generate_extreme_variance.R",
              rma_control = list(threshold = num(CTL$threshold), tol = num(CTL$tol), maxiter = CTL$maxiter),
              data = data, cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, null = "null"),
             file.path(out, paste0(name, ".json")))
  errors <- sum(vapply(cases, function(c) !is.null(c$error), TRUE))
  notes <- sum(vapply(cases, function(c) !is.null(c$note), TRUE))
  cat(sprintf("%-16s %3d cases, %d errors, %d with stepadj\n", name, length(cases), errors, notes))
}

#!/usr/bin/env Rscript
# Reference values for the small-study-effect / publication-bias diagnostics from R's metafor:
# regtest() (Egger's regression test and its variants, Peters' test), ranktest() (Begg &
# Mazumdar) and trimfill() (Duval & Tweedie).
#
#   cd <package root> && Rscript Tests/Reference/generate_bias.R
#
# For each dataset: the input as a CSV in the documented input columns (read back before any fit, so R and Swift
# use the same numbers) and NAME.expected.json with one entry per case:
#   regtest:  regtest(rma(yi, vi, method, test), model, predictor) for model "lm" (weighted
#             regression with multiplicative dispersion, weights 1/vi) and "rma" (meta-regression
#             with the model's method and test); every predictor for data with sample sizes
#             (escalc's "ni" attribute, or the ni column), "sei" and "vi" otherwise.
#   ranktest: ranktest(yi, vi): Kendall's tau and its p-value (exact without ties, whatever k: metafor
#             passes exact = TRUE to cor.test), and with exact = FALSE (the normal approximation).
#   trimfill: trimfill(rma(yi, vi, method, test), estimator, side) with side chosen by metafor
#             (side = NULL) and, for a few cases, given.
# Writes Tests/MetaPoolTests/Fixtures/bias/NAME.csv and NAME.expected.json.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "bias")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
ctl <- list(threshold = 1e-14, tol = 1e-12, maxiter = 10000)
tests <- c(wald = "z", hksj = "knha")

datasets <- list(
  bcg = list(
    data = with(dat.bcg, data.frame(study = paste(author, year), treat_events = tpos,
      treat_total = tpos + tneg, control_events = cpos, control_total = cpos + cneg)),
    measures = c("OR", "RR"), side = "left",
    source = "metadat::dat.bcg (Colditz et al. 1994)"),
  hackshaw1998 = list(
    data = with(dat.hackshaw1998, data.frame(study = paste(author, year), yi = yi, vi = vi)),
    measures = c("GEN"), side = "right",
    source = "metadat::dat.hackshaw1998 (Hackshaw et al. 1997), log odds ratios"),
  pritz1997 = list(
    data = with(dat.pritz1997, data.frame(study = authors, events = xi, total = ni)),
    measures = c("PLO"), side = NULL,
    source = "metadat::dat.pritz1997 (Pritz 1997), logit proportions"),
  bangertdrowns2004 = list(
    data = with(dat.bangertdrowns2004, data.frame(study = paste(author, year), yi = yi, vi = vi, ni = ni)),
    measures = c("GEN"), side = NULL,
    source = "metadat::dat.bangertdrowns2004 (Bangert-Drowns et al. 2004), standardized mean differences"),
  hine1989 = list(
    data = with(dat.hine1989, data.frame(study = source, treat_events = ai, treat_total = n1i,
      control_events = ci, control_total = n2i)),
    measures = c("OR"), side = "left",
    source = "metadat::dat.hine1989 (Hine et al. 1989), k = 6"),
  lehmann2018 = list(
    data = with(dat.lehmann2018, data.frame(study = paste0(Short_Title, " #", seq_along(yi)), yi = yi, vi = vi,
      ni = Total.SampleSize)),
    measures = c("GEN"), side = NULL,
    source = "metadat::dat.lehmann2018 (Lehmann et al. 2018), k = 81: exact rank test for k >= 50 without ties")
)

effects <- function(d, measure) {
  if (measure == "GEN") {
    es <- d[, c("yi", "vi")]
    es$ni <- if ("ni" %in% names(d)) d$ni else NA
  } else if (measure %in% c("OR", "RR")) {
    es <- escalc(measure, ai = d$treat_events, n1i = d$treat_total, ci = d$control_events, n2i = d$control_total)
    es$ni <- attr(es$yi, "ni")
  } else {
    es <- escalc(measure, xi = d$events, ni = d$total)
    es$ni <- attr(es$yi, "ni")
  }
  data.frame(yi = c(es$yi), vi = c(es$vi), ni = es$ni)
}

regtest_case <- function(es, measure, method, ci, model, predictor, level) {
  fit <- rma(yi, vi, data = es, method = method, test = tests[[ci]], level = 100 * level, control = ctl)
  r <- if (all(is.na(es$ni))) regtest(fit, model = model, predictor = predictor)
       else regtest(fit, model = model, predictor = predictor, ni = es$ni)
  list(test = "regtest", measure = measure, method = method, ci_method = ci, level = level,
       model = model, predictor = predictor,
       expected = list(statistic = num(r$zval), df = if (is.null(r$dfs) || is.na(r$dfs)) NULL else r$dfs,
         p_value = num(r$pval), limit_estimate = num(r$est), limit_ci_lower = num(r$ci.lb),
         limit_ci_upper = num(r$ci.ub),
         slope = num(coef(r$fit)[2]),
         tau2 = if (model == "rma" && method != "FE") num(r$fit$tau2) else NULL))
}

trimfill_case <- function(name, es, measure, method, ci, estimator, side) {
  fit <- rma(yi, vi, data = es, method = method, test = tests[[ci]], control = ctl)
  # control = ctl reaches the fits of the trimmed data too (by default they use rma()'s default control).
  tf <- if (is.null(side)) trimfill(fit, estimator = estimator, control = ctl)
        else trimfill(fit, estimator = estimator, side = side, control = ctl)
  # The model on observed + filled studies. metafor 3.8-1 refits it, when k0 > 0, with test = "z"
  # whatever the input model's test (with k0 = 0 it keeps the model,
  # test included). MetaPool keeps the requested test, so the expected values come from the same
  # refit with the model's test and the strict control; with test = "z" it must agree with trimfill().
  final <- rma(tf$yi, tf$vi, method = method, test = tests[[ci]], control = ctl)
  if (ci == "wald" && (!isTRUE(all.equal(c(final$beta), c(tf$beta), tolerance = 1e-6)) ||
                       !isTRUE(all.equal(final$se, tf$se, tolerance = 1e-6))))
    warning(sprintf("trimfill refit differs: %s %s %s %s", name, measure, method, estimator))
  filled <- which(tf$fill)
  list(test = "trimfill", measure = measure, method = method, ci_method = ci, estimator = estimator,
       side_given = side,
       expected = list(side = tf$side, k0 = tf$k0, se_k0 = num(tf$se.k0),
         p_k0 = if (estimator == "R0") num(tf$p.k0) else NULL,
         filled = lapply(filled, function(i) list(yi = num(tf$yi[i]), vi = num(tf$vi[i]))),
         k = final$k, estimate = num(final$beta[1]), se = num(final$se), ci_lower = num(final$ci.lb),
         ci_upper = num(final$ci.ub), statistic = num(final$zval), p_value = num(final$pval),
         df = if (ci == "wald") NULL else final$k - 1L,
         tau2 = if (method == "FE") NULL else num(final$tau2)))
}

for (name in names(datasets)) {
  spec <- datasets[[name]]
  csv <- file.path(out, paste0(name, ".csv"))
  write.csv(spec$data, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  cases <- list()
  add <- function(x) cases[[length(cases) + 1]] <<- x
  for (measure in spec$measures) {
    es <- effects(d, measure)
    has_n <- !all(is.na(es$ni))
    predictors <- if (has_n) c("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv") else c("sei", "vi")

    rk <- ranktest(es$yi, es$vi)
    # metafor calls cor.test(..., exact = TRUE): exact whenever there are no ties.
    exact <- !any(duplicated(es$vi)) && !any(duplicated((es$yi - sum(es$yi / es$vi) / sum(1 / es$vi)) /
                                                         sqrt(es$vi - 1 / sum(1 / es$vi))))
    add(list(test = "ranktest", measure = measure, exact = TRUE,
             expected = list(tau = num(rk$tau), p_value = num(rk$pval), exact = exact)))
    rk <- ranktest(es$yi, es$vi, exact = FALSE)
    add(list(test = "ranktest", measure = measure, exact = FALSE,
             expected = list(tau = num(rk$tau), p_value = num(rk$pval), exact = FALSE)))

    for (predictor in predictors) add(regtest_case(es, measure, "REML", "wald", "lm", predictor, 0.95))
    add(regtest_case(es, measure, "REML", "wald", "lm", "sei", 0.90))
    for (method in c("FE", "DL", "REML")) for (ci in names(tests)) for (predictor in predictors)
      add(regtest_case(es, measure, method, ci, "rma", predictor, 0.95))
    add(regtest_case(es, measure, "REML", "wald", "rma", "sei", 0.90))

    for (method in c("FE", "DL", "REML")) for (ci in names(tests)) for (estimator in c("L0", "R0"))
      add(trimfill_case(name, es, measure, method, ci, estimator, NULL))
    if (!is.null(spec$side)) for (method in c("FE", "REML")) for (estimator in c("L0", "R0"))
      add(trimfill_case(name, es, measure, method, "wald", estimator, spec$side))
  }
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              generated_by = "Tests/Reference/generate_bias.R", input = paste0(name, ".csv"), cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(out, paste0(name, ".expected.json")))
  cat(name, length(cases), "cases\n")
}

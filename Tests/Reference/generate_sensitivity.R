#!/usr/bin/env Rscript
# Reference values for the sensitivity analyses (LeaveOneOut, CumulativeAnalysis,
# InfluenceDiagnostics) from R's metafor 3.8-1.
#
#   cd <package root> && Rscript Tests/Reference/generate_sensitivity.R
#
# For each dataset, method (FE, DL, REML, PM) and test (z, t, knha, adhoc): the model
# rma(yi, vi, method =, test =, control = ctl), then leave1out(), cumul() in input order,
# cumul(order = KEY) (KEY a numeric column, e.g. the publication year) and influence()
# (with its dfbetas and the "*" flag). The effect sizes are stored in the fixture with 15
# significant digits (rounded before fitting), so the Swift tests start from the same yi and vi. Writes
# Tests/MetaPoolTests/Fixtures/sensitivity/NAME.expected.json.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "sensitivity")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) {
  if (is.null(x)) return(NA_real_)
  x <- as.numeric(x)
  x[!is.na(x)] <- as.numeric(sprintf("%.17g", x[!is.na(x)]))
  x
}
tests <- c(wald = "z", t = "t", hksj = "knha", "hksj-adhoc" = "adhoc")
methods <- c("FE", "DL", "REML", "PM")
ctl <- list(threshold = 1e-14, tol = 1e-12, maxiter = 10000)

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
pritz <- escalc("PLO", xi = xi, ni = ni, data = dat.pritz1997)
datasets <- list(
  bcg = list(study = paste(bcg$author, bcg$year), yi = bcg$yi, vi = bcg$vi, key = bcg$year,
    key_name = "year", source = "metadat::dat.bcg (Colditz et al. 1994), log risk ratios (escalc RR)"),
  pritz1997 = list(study = pritz$authors, yi = pritz$yi, vi = pritz$vi, key = pritz$ni,
    key_name = "ni", source = "metadat::dat.pritz1997 (Pritz 1997), logit proportions (escalc PLO)"),
  bangertdrowns2004 = list(study = paste(dat.bangertdrowns2004$author, dat.bangertdrowns2004$year),
    yi = dat.bangertdrowns2004$yi, vi = dat.bangertdrowns2004$vi, key = dat.bangertdrowns2004$year,
    key_name = "year", source = "metadat::dat.bangertdrowns2004 (Bangert-Drowns et al. 2004), yi/vi as given"),
  hackshaw1998 = list(study = paste(dat.hackshaw1998$author, dat.hackshaw1998$year),
    yi = dat.hackshaw1998$yi, vi = dat.hackshaw1998$vi, key = dat.hackshaw1998$year,
    key_name = "year", source = "metadat::dat.hackshaw1998 (Hackshaw et al. 1998), log odds ratios as given"),
  # Two studies: every leave-one-out refit has one study (tau^2 = 0, z test in metafor).
  bcg_first2 = list(study = paste(bcg$author, bcg$year)[1:2], yi = bcg$yi[1:2], vi = bcg$vi[1:2],
    key = bcg$year[1:2], key_name = "year", source = "the first 2 studies of metadat::dat.bcg, log risk ratios")
)

# One row per fit of a list.rma from leave1out() or cumul(); t tests name zval tval, cumul names pval pvals.
rows <- function(x) {
  stat <- if (!is.null(x$zval)) x$zval else x$tval
  p <- if (!is.null(x$pval)) x$pval else x$pvals
  k <- length(x$estimate)
  tau2 <- if (is.null(x$tau2)) rep(NA_real_, k) else x$tau2
  data.frame(estimate = num(x$estimate), se = num(x$se), statistic = num(stat), p_value = num(p),
             ci_lower = num(x$ci.lb), ci_upper = num(x$ci.ub), q = num(x$Q), q_p_value = num(x$Qp),
             tau2 = num(tau2), i2 = num(x$I2), h2 = num(x$H2))
}

for (name in names(datasets)) {
  d <- datasets[[name]]
  # 15 significant digits, as jsonlite writes them, so the Swift tests read the very same doubles.
  yi <- as.numeric(sprintf("%.15g", as.numeric(d$yi)))
  vi <- as.numeric(sprintf("%.15g", as.numeric(d$vi)))
  cases <- list()
  for (method in methods) for (ci in names(tests)) {
    res <- suppressWarnings(rma(yi = yi, vi = vi, method = method, test = tests[[ci]], control = ctl))
    l1 <- suppressWarnings(leave1out(res))
    cu <- suppressWarnings(cumul(res))
    co <- suppressWarnings(cumul(res, order = d$key))
    inf <- suppressWarnings(influence(res))
    I <- inf$inf
    influence_rows <- data.frame(rstudent = num(I$rstudent), dffits = num(I$dffits), cook_d = num(I$cook.d),
      cov_r = num(I$cov.r), tau2_del = num(I$tau2.del), qe_del = num(I$QE.del), hat = num(I$hat),
      weight = num(I$weight), dfbetas = num(inf$dfbs$intrcpt), influential = I$inf == "*")
    cases[[length(cases) + 1]] <- list(method = method, ci_method = ci,
      estimate = num(res$b[1]), tau2 = num(res$tau2),
      leave1out = rows(l1), cumul = rows(cu), cumul_ordered = rows(co), influence = influence_rows)
  }
  doc <- list(dataset = name, source = d$source, metafor_version = as.character(packageVersion("metafor")),
              generated_by = "Tests/Reference/generate_sensitivity.R",
              studies = data.frame(study = d$study, yi = yi, vi = vi, key = as.numeric(d$key)),
              key_name = d$key_name, order = order(d$key) - 1L, cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
             file.path(out, paste0(name, ".expected.json")))
}

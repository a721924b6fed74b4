#!/usr/bin/env Rscript
# Reference values for the Mantel-Haenszel and Peto methods from R's metafor (3.8-1).
#
#   cd <package root> && Rscript Tests/Reference/generate_mh_peto.R
#
# For each dataset: rma.mh(ai, n1i =, ci, n2i =, measure = OR | RR | RD) and rma.peto(...) with
# metafor's defaults (add = 1/2, to = "only0", drop00 = TRUE for the per-study effects that
# enter QE; no correction for the pooled estimate; correct = TRUE for the CMH test), at levels
# 95 and 90. The expected object of each case is keyed as MantelHaenszel.summary() and
# Peto.summary() print it: q_df = k.yi - 1 (studies that are not double-zero; metafor prints
# Q(df = k.yi - 1)), tarone_df = k.pos - 1 (as metafor prints X^2 df), a p-value metafor
# reports as NA is null. Writes Tests/MetaPoolTests/Fixtures/mh_peto/NAME.csv and
# NAME.expected.json.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "mh_peto")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
spec_columns <- function(study, ai, n1i, ci, n2i)
  data.frame(study = study, treat_events = ai, treat_total = n1i, control_events = ci, control_total = n2i)

yusuf <- dat.yusuf1985[dat.yusuf1985$table == "6" & !is.na(dat.yusuf1985$ai), ]
datasets <- list(
  bcg = list(
    data = with(dat.bcg, spec_columns(paste(author, year), tpos, tpos + tneg, cpos, cpos + cneg)),
    source = "metadat::dat.bcg (Colditz et al. 1994): BCG vaccine and tuberculosis, 13 trials, no zero cells"),
  yusuf1985_table6 = list(
    data = with(yusuf, spec_columns(trial, ai, n1i, ci, n2i)),
    source = "metadat::dat.yusuf1985 (Yusuf et al. 1985), table 6 without the row with missing counts: 21 trials, 3 with no events in either arm"),
  li2007 = list(
    data = with(dat.li2007, spec_columns(paste(study, year), ai, n1i, ci, n2i)),
    source = "metadat::dat.li2007 (Li et al. 2007): magnesium and mortality, 22 trials, 2 with a zero cell"),
  nielweise2007 = list(
    data = with(dat.nielweise2007, spec_columns(paste(author, year), ai, n1i, ci, n2i)),
    source = "metadat::dat.nielweise2007 (Niel-Weise et al. 2007): 18 trials, 6 with a zero cell, one (Yucel 2004) with no events in either arm"),
  hine1989 = list(
    data = with(dat.hine1989, spec_columns(trimws(source), ai, n1i, ci, n2i)),
    source = "metadat::dat.hine1989 (Hine et al. 1989): lidocaine and mortality, 6 trials"),
  sparse_synthetic = list(
    data = spec_columns(c("double zero", "all events", "zero treated", "small", "one per arm", "moderate"),
                        c(0, 5, 0, 3, 1, 4), c(10, 5, 20, 15, 1, 30), c(0, 6, 2, 1, 0, 5), c(12, 6, 20, 14, 1, 28)),
    source = "synthetic (not metadat): a double-zero study, a study with only events in both arms, zero cells and a 1-vs-1 table"),
  one_informative = list(
    data = spec_columns(c("informative", "double zero"), c(2, 0), c(25, 30), c(6, 0), c(24, 31)),
    source = "synthetic (not metadat): one informative study and one double-zero study, so Q has no degrees of freedom")
)

expected <- function(fit, measure, method, level) {
  transf <- if (measure == "RD") identity else exp
  e <- list(measure = measure, method = method, level = level, k = fit$k,
            estimate = num(fit$beta[1]), se = num(fit$se), statistic = num(fit$zval), p_value = num(fit$pval),
            ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub),
            q = num(fit$QE), q_df = max(fit$k.yi - 1, 0), q_p_value = num(fit$QEp),
            i2 = num(fit$I2), h2 = num(fit$H2))
  if (method == "MH" && measure == "OR") {
    # c(list(...)) keeps a NULL (metafor's NA, JSON null); e$x <- NULL would drop the key.
    e <- c(e, list(cmh = num(fit$MH), cmh_p_value = num(fit$MHp), tarone = num(fit$TA),
                   tarone_df = max(fit$k.pos - 1, 0), tarone_p_value = num(fit$TAp)))
  }
  c(e, list(back_transformed = list(estimate = num(transf(fit$beta[1])), ci_lower = num(transf(fit$ci.lb)),
                                    ci_upper = num(transf(fit$ci.ub)))))
}

for (name in names(datasets)) {
  spec <- datasets[[name]]
  csv <- file.path(out, paste0(name, ".csv"))
  write.csv(spec$data, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  cases <- list()
  for (level in c(0.95, 0.9)) {
    for (measure in c("OR", "RR", "RD")) {
      fit <- suppressWarnings(rma.mh(ai = treat_events, n1i = treat_total, ci = control_events, n2i = control_total,
                                     data = d, measure = measure, level = 100 * level))
      cases[[length(cases) + 1]] <- list(method = "MH", measure = measure, level = level,
                                         expected = expected(fit, measure, "MH", level))
    }
    fit <- suppressWarnings(rma.peto(ai = treat_events, n1i = treat_total, ci = control_events, n2i = control_total,
                                     data = d, level = 100 * level))
    cases[[length(cases) + 1]] <- list(method = "PETO", measure = "OR", level = level,
                                       expected = expected(fit, "OR", "PETO", level))
  }
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              generated_by = "Tests/Reference/generate_mh_peto.R", input = paste0(name, ".csv"), cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(out, paste0(name, ".expected.json")))
}

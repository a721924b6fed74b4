#!/usr/bin/env Rscript
# Reference values for the study listing of `metapool pool` (the default table): each study's
# estimate and confidence interval on the natural scale and its weight in the fitted model.
#
#   cd <package root> && Rscript Tests/Reference/generate_study_listing.R
#
# Per study: summary(escalc(...), transf = ..., level = ...) gives yi -/+ z * sqrt(vi) mapped to
# the natural scale (the intervals metafor's forest() draws); weights(rma(...)) gives the
# percentage weights of the fitted model, 100 * w_i / sum(w), w_i = 1 / (vi + tau^2).
# Three datasets: a proportion (PLO, Pritz 1997), two-group counts (OR, BCG, at level 90%) and
# hazard ratios from their 95% CIs (log HR, SE = (log upper - log lower) / (2 qnorm(0.975))).
# Each study also has the interval the listing shows (`study_ci_lower`, `study_ci_upper`): for
# events/total the Clopper-Pearson interval, binom.test(x, n, conf.level = level)$conf.int (R
# meta's default, metaprop's method.ci = "CP"); for hazard ratios given with a CI that CI as
# published (hr_lower, hr_upper); otherwise the escalc interval above.
# Writes Tests/MetaPoolTests/Fixtures/study_listing/expected.json.

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
num <- function(x) as.numeric(sprintf("%.17g", x))
ctl <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)

listing <- function(name, file, where, measure, level, es, transf, method = "REML", shown = NULL) {
  fit <- rma(yi, vi, data = es, method = method, level = level, control = ctl)
  s <- summary(es, transf = transf, level = level)
  if (is.null(shown)) shown <- cbind(s$ci.lb, s$ci.ub)
  list(name = name, file = file, where = where, measure = measure, method = method, level = level / 100,
       tau2 = num(fit$tau2),
       studies = lapply(seq_len(nrow(es)), function(i) list(
         study = es$study[i], estimate = num(s$yi[i]), ci_lower = num(s$ci.lb[i]), ci_upper = num(s$ci.ub[i]),
         weight = num(weights(fit)[i]), study_ci_lower = num(shown[i, 1]), study_ci_upper = num(shown[i, 2]))))
}

pritz <- read.csv("Datasets/pritz1997-hyperdynamic-therapy.csv", stringsAsFactors = FALSE)
es_pritz <- escalc("PLO", xi = events, ni = total, data = pritz)
cp_pritz <- t(mapply(function(x, n) as.numeric(binom.test(x, n, conf.level = 0.95)$conf.int), pritz$events, pritz$total))

bcg <- read.csv("Datasets/bcg-vaccine.csv", stringsAsFactors = FALSE)
es_bcg <- escalc("OR", ai = treat_events, n1i = treat_total, ci = control_events, n2i = control_total, data = bcg)

hazard <- read.csv("Datasets/her2-bm-hazard-ratios.csv", stringsAsFactors = FALSE)
pfs <- hazard[tolower(trimws(hazard$endpoint)) == "pfs", ]
es_hr <- escalc("GEN", yi = log(pfs$hr), sei = (log(pfs$hr_upper) - log(pfs$hr_lower)) / (2 * qnorm(0.975)))
es_hr$study <- pfs$study

doc <- list(
  source = "Tests/Reference/generate_study_listing.R",
  metafor = as.character(packageVersion("metafor")),
  analyses = list(
    listing("pritz1997", "Datasets/pritz1997-hyperdynamic-therapy.csv", list(), "PLO", 95, es_pritz, transf.ilogit,
            shown = cp_pritz),
    listing("bcg", "Datasets/bcg-vaccine.csv", list(), "OR", 90, es_bcg, exp),
    listing("her2-pfs", "Datasets/her2-bm-hazard-ratios.csv", list("endpoint=PFS"), "HR", 95, es_hr, exp,
            shown = cbind(pfs$hr_lower, pfs$hr_upper))))
write(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE), "Tests/MetaPoolTests/Fixtures/study_listing/expected.json")

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
# Writes Tests/MetaPoolTests/Fixtures/study_listing/expected.json.

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
num <- function(x) as.numeric(sprintf("%.17g", x))
ctl <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)

listing <- function(name, file, where, measure, level, es, transf, method = "REML") {
  fit <- rma(yi, vi, data = es, method = method, level = level, control = ctl)
  s <- summary(es, transf = transf, level = level)
  list(name = name, file = file, where = where, measure = measure, method = method, level = level / 100,
       tau2 = num(fit$tau2),
       studies = lapply(seq_len(nrow(es)), function(i) list(
         study = es$study[i], estimate = num(s$yi[i]), ci_lower = num(s$ci.lb[i]), ci_upper = num(s$ci.ub[i]),
         weight = num(weights(fit)[i]))))
}

pritz <- read.csv("Datasets/pritz1997-hyperdynamic-therapy.csv", stringsAsFactors = FALSE)
es_pritz <- escalc("PLO", xi = events, ni = total, data = pritz)

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
    listing("pritz1997", "Datasets/pritz1997-hyperdynamic-therapy.csv", list(), "PLO", 95, es_pritz, transf.ilogit),
    listing("bcg", "Datasets/bcg-vaccine.csv", list(), "OR", 90, es_bcg, exp),
    listing("her2-pfs", "Datasets/her2-bm-hazard-ratios.csv", list("endpoint=PFS"), "HR", 95, es_hr, exp)))
write(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE), "Tests/MetaPoolTests/Fixtures/study_listing/expected.json")

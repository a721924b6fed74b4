#!/usr/bin/env Rscript
# Reference values for what every fitted model answers (FittedModel in MetaPool) beyond the
# numbers each model's own fixtures check: the per-study weights of the Mantel-Haenszel and
# Peto fits (metafor's weights()) and the prediction interval of the binomial-normal GLMM
# (metafor's predict() of rma.glmm), from R's metafor (3.8-1).
#
#   cd <package root> && Rscript Tests/Reference/generate_fitted_models.R
#
# Reads the CSV files of Fixtures/mh_peto and Fixtures/glmm and writes
# Tests/MetaPoolTests/Fixtures/fitted/weights_and_prediction.json. The GLMM is fitted with
# glmer's tolerances tightened as in generate_glmm.R.

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

fixtures <- file.path("Tests", "MetaPoolTests", "Fixtures")
num <- function(x) as.numeric(sprintf("%.17g", x))

weights_cases <- list()
for (name in c("bcg", "li2007", "nielweise2007", "hine1989")) {
  d <- read.csv(file.path(fixtures, "mh_peto", paste0(name, ".csv")))
  # Double-zero studies (no events, or only events, in both groups) get weight 0 in metafor and
  # have no effect size (drop00); MetaPool lists the studies with an effect size, so they are left out here.
  m <- d$treat_events + d$control_events
  informative <- !(m == 0 | m == d$treat_total + d$control_total)
  for (measure in c("OR", "RR", "RD")) {
    fit <- rma.mh(measure = measure, ai = d$treat_events, n1i = d$treat_total, ci = d$control_events,
                  n2i = d$control_total)
    w <- weights(fit)
    weights_cases[[length(weights_cases) + 1]] <- list(
      dataset = name, method = "MH", measure = measure,
      weights = num(w[informative]))
  }
  fit <- rma.peto(ai = d$treat_events, n1i = d$treat_total, ci = d$control_events, n2i = d$control_total)
  w <- weights(fit)
  weights_cases[[length(weights_cases) + 1]] <- list(dataset = name, method = "PETO", measure = "OR",
                                                     weights = num(w[informative]))
}

tight <- list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))
pi_cases <- list()
for (name in c("debruin2009", "icorr_synthetic", "pritz1997")) {
  d <- read.csv(file.path(fixtures, "glmm", paste0(name, ".csv")))
  for (q in c(1, 7)) {
    fit <- rma.glmm(measure = "PLO", xi = d$events, ni = d$total, nAGQ = q, control = tight)
    p <- predict(fit)
    pi_cases[[length(pi_cases) + 1]] <- list(dataset = name, quadrature_points = q,
      estimate = num(fit$beta), se = num(fit$se), tau2 = num(fit$tau2),
      pi_lower = num(p$pi.lb), pi_upper = num(p$pi.ub))
  }
}

writeLines(toJSON(list(metafor = as.character(packageVersion("metafor")),
                       weights = weights_cases, prediction = pi_cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(fixtures, "fitted", "weights_and_prediction.json"))

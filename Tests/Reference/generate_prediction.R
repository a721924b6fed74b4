#!/usr/bin/env Rscript
# Reference values for prediction intervals by method (PredictionIntervalMethod) and the
# predictive probabilities beyond a threshold (Prediction):
#   predict(rma(yi, vi, method = "REML", test = "z" | "knha"), pi.type = "t" | "riley"), and
#   pred +- qnorm(0.975) sqrt(se^2 + tau^2) for "z" (metafor's pi.type = "z" means its default,
#   which is t under knha)
#   P(theta_new > c) = 1 - F((c - mu) / sqrt(se^2 + tau^2)) on the interval's distribution,
#   P(mu > c)        = 1 - F((c - mu) / se) on the model's z or t (formulas written here).
# Datasets: dat.bcg (log OR, k = 13), dat.pritz1997 (logit, k = 14), and from Datasets/: the
# HER2+ PFS hazard ratios (k = 4) and the T-DXd IC-ORR cohorts with active BM (k = 5).
#
#   cd <package root> && Rscript Tests/Reference/generate_prediction.R

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })
ctrl <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)

hr <- read.csv("Datasets/her2-bm-hazard-ratios.csv")
hr <- hr[hr$endpoint == "PFS", ]
orr <- read.csv("Datasets/her2-bm-intracranial-response.csv")
orr <- orr[orr$regimen == "trastuzumab deruxtecan" & orr$population == "active" &
           orr$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
data <- list(
  bcg = escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg),
  pritz1997 = escalc("PLO", xi = xi, ni = ni, data = dat.pritz1997),
  her2_pfs = data.frame(yi = log(hr$hr), vi = ((log(hr$hr_upper) - log(hr$hr_lower)) / (2 * qnorm(0.975)))^2),
  her2_tdxd_active = escalc("PLO", xi = events, ni = total, data = orr))
thresholds <- list(bcg = c(-1, 0), pritz1997 = c(qlogis(0.5), qlogis(0.8)),
                   her2_pfs = c(log(0.5), 0), her2_tdxd_active = c(qlogis(0.3), qlogis(0.5)))

cases <- list()
for (name in names(data)) for (test in c("z", "knha")) {
  d <- data[[name]]
  m <- rma(yi, vi, data = d, method = "REML", test = test, control = ctrl)
  for (type in c("z", "t", "riley")) {
    p <- predict(m, pi.type = type)
    # metafor 3.8 treats pi.type = "z" as its default (t under knha): the z interval by formula.
    if (type == "z") {
      h <- qnorm(0.975) * sqrt(p$se^2 + m$tau2)
      if (test == "z") stopifnot(abs(p$pi.lb - (p$pred - h)) < 1e-12)
      p$pi.lb <- p$pred - h
      p$pi.ub <- p$pred + h
    }
    df <- switch(type, z = Inf, t = m$k - 1, riley = m$k - 2)
    model_df <- if (test == "z") Inf else m$k - 1
    probs <- lapply(thresholds[[name]], function(c) list(
      threshold = c,
      new_study = pt((c - p$pred) / sqrt(p$se^2 + m$tau2), df, lower.tail = FALSE),
      mean = pt((c - p$pred) / p$se, model_df, lower.tail = FALSE)))
    cases[[length(cases) + 1]] <- list(dataset = name, ci = test, pi = type, yi = as.numeric(d$yi),
      vi = as.numeric(d$vi), estimate = p$pred, se = p$se, tau2 = m$tau2, pi_lower = p$pi.lb,
      pi_upper = p$pi.ub, probabilities = probs)
  }
}
writeLines(toJSON(list(generated_by = "Tests/Reference/generate_prediction.R", cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "Tests/MetaPoolTests/Fixtures/prediction/reference.json")

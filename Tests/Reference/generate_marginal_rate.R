#!/usr/bin/env Rscript
# Reference values for the population-averaged proportion of the logit-normal GLMM
# (GeneralizedLinearMixedModel.marginalProportion and .populationAveragedRate):
#   integral of plogis(mu + tau z) dnorm(z) dz, by R's integrate() (QUADPACK dqagi) with
#   rel.tol = 1e-13 on [-38.5, 38.5], split at 0 and at the expit's centre z0 = -mu/tau.
# - `grid`: the integral alone over mu in [-6, 6] and tau in [0.05, 30];
# - `fits`: each dataset of Tests/MetaPoolTests/Fixtures/glmm fitted by rma.glmm(measure = "PLO",
#   nAGQ = 7) with tight glmer control (as generate_glmm.R), and the integral at its estimate and
#   at the bounds of its CI with tau^2 at its estimate.
#
#   cd <package root> && Rscript Tests/Reference/generate_marginal_rate.R

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

marginal <- function(mu, tau2) {
  tau <- sqrt(tau2)
  if (tau == 0) return(plogis(mu))
  f <- function(z) plogis(mu + tau * z) * dnorm(z)
  # dnorm is below 1e-320 beyond |z| = 38.5: finite pieces, split at 0 and at the expit's centre.
  cuts <- sort(unique(c(-38.5, 0, min(38, max(-38, -mu / tau)), 38.5)))
  sum(sapply(seq_len(length(cuts) - 1), function(i)
    integrate(f, cuts[i], cuts[i + 1], rel.tol = 1e-13, abs.tol = 0, subdivisions = 1000L)$value))
}

grid <- list()
for (mu in c(-6, -2.5, -0.847, 0, 0.4, 1.1389, 3, 6))
  for (tau in c(0.05, 0.3, 1, 1.9, 2.1, 3, 5, 10, 30))
    grid[[length(grid) + 1]] <- list(mu = mu, tau2 = tau^2, value = marginal(mu, tau^2))

tight <- list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))
folder <- file.path("Tests", "MetaPoolTests", "Fixtures", "glmm")
fits <- list()
for (file in sort(list.files(folder, pattern = "\\.csv$"))) {
  d <- read.csv(file.path(folder, file))
  m <- rma.glmm(measure = "PLO", xi = events, ni = total, data = d, nAGQ = 7, control = tight)
  fits[[length(fits) + 1]] <- list(
    dataset = sub("\\.csv$", "", file), mu = as.numeric(m$beta), tau2 = m$tau2,
    ci_lower = m$ci.lb, ci_upper = m$ci.ub,
    marginal = marginal(as.numeric(m$beta), m$tau2),
    marginal_lower = marginal(m$ci.lb, m$tau2), marginal_upper = marginal(m$ci.ub, m$tau2))
}

writeLines(toJSON(list(generated_by = "Tests/Reference/generate_marginal_rate.R", grid = grid, fits = fits),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path("Tests", "MetaPoolTests", "Fixtures", "marginal_rate", "reference.json"))

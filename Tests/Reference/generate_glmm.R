#!/usr/bin/env Rscript
# Reference values for the GLMM for proportions (GeneralizedLinearMixedModel) from R's metafor:
# rma.glmm(measure = "PLO", xi, ni, nAGQ = Q, level), which fits
# lme4::glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), family = binomial, nAGQ = Q).
#
#   apt-get install -y r-cran-lme4   # metafor, metadat, jsonlite as for the other scripts
#   (run with metafor 3.8-1, lme4 1.1-31)
#   cd <package root> && Rscript Tests/Reference/generate_glmm.R
#
# Each case is fitted twice:
# - `expected`: with glmer's tolerances tightened through metafor's control argument
#   (control = list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa",
#   optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))). With its defaults glmer stops its penalized
#   IRLS for the conditional modes at a relative change of 1e-7 in the penalized deviance, which
#   leaves the modes ~1e-3 off; the Laplace deviance (nAGQ = 1) is then a step function with
#   steps of ~5e-4, and its optimum and finite-difference Hessian are off by up to 1e-3 (estimates)
#   and 1e-2 (SE). Its Nelder-Mead also stops at parameter changes of ~1e-5. Tightened, metafor
#   gives the maximum of the AGHQ likelihood to ~1e-7.
# - `metafor_default`: metafor with its defaults, what a user sees.
# Writes Tests/MetaPoolTests/Fixtures/glmm/NAME.csv and NAME.expected.json; the odds-ratio model
# (UM.FS) below writes Fixtures/glmm_or.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(lme4); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "glmm")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
tight <- list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))

datasets <- list(
  pritz1997 = list(
    data = with(dat.pritz1997, data.frame(study = authors, events = xi, total = ni)),
    source = "metadat::dat.pritz1997 (Pritz 1997); studies with all events (10/10, 12/12)"),
  debruin2009 = list(
    data = with(dat.debruin2009, data.frame(study = paste(author, year), events = xi, total = ni)),
    source = "metadat::dat.debruin2009 (de Bruin et al. 2009)"),
  nielweise2007 = list(
    data = with(dat.nielweise2007, data.frame(study = paste(author, year), events = ai, total = n1i)),
    source = "metadat::dat.nielweise2007 (Niel-Weise et al. 2007), treated arm (ai of n1i); six studies with 0 events"),
  icorr_synthetic = list(
    data = data.frame(study = paste("Arm", 1:6), events = c(4, 0, 11, 2, 4, 20), total = c(15, 8, 15, 4, 9, 44)),
    source = "synthetic: small-n intracranial-response-like arms made up for this test (not from any trial)"),
  homogeneous_synthetic = list(
    data = data.frame(study = paste("Study", 1:5), events = c(10, 11, 9, 10, 12), total = c(50, 50, 50, 50, 60)),
    source = "synthetic: five nearly equal proportions, for which the ML estimate of tau^2 is 0")
)

summarise <- function(res, transf = transf.ilogit) {
  pred <- predict(res, transf = transf)
  list(k = res$k, estimate = num(res$b[1]), se = num(res$se), statistic = num(res$zval), p_value = num(res$pval),
       ci_lower = num(res$ci.lb), ci_upper = num(res$ci.ub), tau2 = num(res$tau2), i2 = num(res$I2), h2 = num(res$H2),
       qe_wald = num(res$QE.Wld), qe_wald_df = res$k - res$p, qe_wald_p_value = num(res$QEp.Wld),
       qe_lrt = num(res$QE.LRT), qe_lrt_df = res$k - res$p, qe_lrt_p_value = num(res$QEp.LRT),
       log_likelihood = num(res$fit.stats["ll", "ML"]),
       back_transformed = list(estimate = num(pred$pred), ci_lower = num(pred$ci.lb), ci_upper = num(pred$ci.ub)))
}

for (name in names(datasets)) {
  spec <- datasets[[name]]
  csv <- file.path(out, paste0(name, ".csv"))
  write.csv(spec$data, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  settings <- list(list(q = 1, level = 95), list(q = 7, level = 95), list(q = 15, level = 95))
  if (name == "pritz1997") settings[[length(settings) + 1]] <- list(q = 7, level = 90)
  cases <- lapply(settings, function(s) {
    fit <- function(control) rma.glmm(measure = "PLO", xi = d$events, ni = d$total, nAGQ = s$q,
                                      level = s$level, control = control)
    list(quadrature_points = s$q, level = s$level / 100,
         expected = summarise(fit(tight)), metafor_default = summarise(fit(list())))
  })
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              lme4_version = as.character(packageVersion("lme4")),
              generated_by = "Tests/Reference/generate_glmm.R", input = paste0(name, ".csv"),
              tight_control = "glmerCtrl = list(tolPwrss = 1e-12, optimizer = \"bobyqa\", optCtrl = list(rhoend = 1e-11, maxfun = 1e5))",
              cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(out, paste0(name, ".expected.json")))
}

# Odds ratios, the unconditional model with fixed study effects:
# rma.glmm(measure = "OR", ai, n1i, ci, n2i, model = "UM.FS", nAGQ = Q), which calls
# glmer(cbind(x, n - x) ~ -1 + study + group + (group - 1 | study), group coded +1/2, -1/2.
# glmer optimises all k + 2 parameters with Nelder-Mead or bobyqa, so its results are less precise
# than for proportions (~1e-5 relative even tightened). `expected` uses
# glmerCtrl = list(tolPwrss = 1e-10, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10))
# (tolPwrss = 1e-12 makes glmer's penalized IRLS fail on dat.bcg). Writes
# Tests/MetaPoolTests/Fixtures/glmm_or/NAME.csv and NAME.expected.json.

out_or <- file.path("Tests", "MetaPoolTests", "Fixtures", "glmm_or")
dir.create(out_or, showWarnings = FALSE, recursive = TRUE)
tight_or <- list(glmerCtrl = list(tolPwrss = 1e-10, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5)))

datasets_or <- list(
  nielweise2007 = list(
    data = with(dat.nielweise2007, data.frame(study = paste(author, year), treat_events = ai, treat_total = n1i,
      control_events = ci, control_total = n2i)),
    source = "metadat::dat.nielweise2007 (Niel-Weise et al. 2007); zero cells, one study with no events in either group (left out)"),
  bcg = list(
    data = with(dat.bcg, data.frame(study = paste(author, year), treat_events = tpos, treat_total = tpos + tneg,
      control_events = cpos, control_total = cpos + cneg)),
    source = "metadat::dat.bcg (Colditz et al. 1994)"),
  homogeneous_synthetic = list(
    data = data.frame(study = paste("Trial", 1:5), treat_events = c(10, 12, 8, 15, 11), treat_total = c(50, 60, 40, 70, 55),
      control_events = c(14, 15, 12, 20, 13), control_total = c(50, 60, 40, 70, 50)),
    source = "synthetic: five trials with nearly equal odds ratios, for which the ML estimate of tau^2 is 0")
)

for (name in names(datasets_or)) {
  spec <- datasets_or[[name]]
  csv <- file.path(out_or, paste0(name, ".csv"))
  write.csv(spec$data, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  cases <- lapply(c(1, 7), function(q) {
    fit <- function(control) suppressWarnings(rma.glmm(measure = "OR", ai = d$treat_events, n1i = d$treat_total,
      ci = d$control_events, n2i = d$control_total, model = "UM.FS", nAGQ = q, control = control))
    list(quadrature_points = q, level = 0.95, expected = summarise(fit(tight_or), exp),
         metafor_default = summarise(fit(list()), exp))
  })
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              lme4_version = as.character(packageVersion("lme4")),
              generated_by = "Tests/Reference/generate_glmm.R", input = paste0(name, ".csv"),
              tight_control = "glmerCtrl = list(tolPwrss = 1e-10, optimizer = \"bobyqa\", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))",
              cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(out_or, paste0(name, ".expected.json")))
}

# An independent check of the standard error where glmer's is unreliable. glmer takes the SE from
# a finite-difference Hessian (step 1e-4) of its deviance, whose conditional modes come from a
# penalized IRLS converged only to its tolerance; with large n the deviance then carries noise of
# ~1e-9 and the Hessian errors of several percent, even with tolPwrss = 1e-12. Here the AGHQ
# log-likelihood is computed by a separate R implementation written for this project (modes by
# Newton, Gauss-Hermite rule by Golub-Welsch via eigen()), maximised by Newton's method and
# differentiated with numDeriv (Richardson extrapolation). Writes Fixtures/glmm/independent_check.json.

gh_rule <- function(q) {
  if (q == 1) return(list(z = 0, w = 1))
  jacobi <- matrix(0, q, q)
  for (i in 1:(q - 1)) jacobi[i, i + 1] <- jacobi[i + 1, i] <- sqrt(i)
  e <- eigen(jacobi, symmetric = TRUE)
  list(z = e$values, w = e$vectors[1, ]^2)
}
aghq_loglik <- function(mu, tau, x, n, rule) {
  total <- 0
  for (i in seq_along(x)) {
    h <- function(z) dbinom(x[i], n[i], plogis(mu + tau * z), log = TRUE) + dnorm(z, log = TRUE)
    z <- 0
    for (it in 1:100) {
      p <- plogis(mu + tau * z)
      z <- z + (tau * (x[i] - n[i] * p) - z) / (tau^2 * n[i] * p * (1 - p) + 1)
    }
    p <- plogis(mu + tau * z)
    s <- 1 / sqrt(tau^2 * n[i] * p * (1 - p) + 1)
    terms <- log(rule$w) + sapply(rule$z, function(zk) h(z + s * zk)) - dnorm(rule$z, log = TRUE)
    total <- total + log(s) + max(terms) + log(sum(exp(terms - max(terms))))
  }
  total
}
check_sets <- list(
  list(name = "large_n_synthetic", q = 2,
       events = c(21, 60, 41, 5, 18, 99, 30, 9, 13, 84, 129, 20, 32, 119),
       total = c(268, 268, 257, 330, 69, 215, 314, 347, 35, 345, 268, 233, 289, 318)),
  list(name = "large_n_synthetic", q = 7,
       events = c(21, 60, 41, 5, 18, 99, 30, 9, 13, 84, 129, 20, 32, 119),
       total = c(268, 268, 257, 330, 69, 215, 314, 347, 35, 345, 268, 233, 289, 318)),
  list(name = "small_tau_synthetic", q = 1, events = c(297, 267, 20, 206), total = c(315, 294, 23, 226)))
checks <- lapply(check_sets, function(s) {
  rule <- gh_rule(s$q)
  m <- rma.glmm(measure = "PLO", xi = s$events, ni = s$total, nAGQ = s$q, control = tight)
  negll <- function(p) -aghq_loglik(p[1], p[2], s$events, s$total, rule)
  # Newton's method from metafor's estimates, with numDeriv's Richardson-extrapolated derivatives.
  par <- c(m$b[1], sqrt(m$tau2))
  for (it in 1:8) par <- par - solve(numDeriv::hessian(negll, par), numDeriv::grad(negll, par))
  opt <- list(par = par, objective = negll(par))
  hess <- numDeriv::hessian(negll, opt$par)
  list(dataset = s$name, source = "synthetic (random draws), chosen because glmer's finite-difference SE is off here",
       events = s$events, total = s$total, quadrature_points = s$q,
       independent = list(estimate = num(opt$par[1]), tau2 = num(opt$par[2]^2), se = num(sqrt(solve(hess)[1, 1])),
                          marginal_log_likelihood = num(-opt$objective)),
       metafor_tight = list(estimate = num(m$b[1]), tau2 = num(m$tau2), se = num(m$se)))
})
writeLines(toJSON(list(generated_by = "Tests/Reference/generate_glmm.R", checks = checks), auto_unbox = TRUE, digits = NA,
                  pretty = TRUE, null = "null"),
           file.path(out, "independent_check.json"))

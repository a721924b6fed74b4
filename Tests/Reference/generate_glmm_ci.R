#!/usr/bin/env Rscript
# Reference values for the GLMM outputs of issue 14 (items 3 and 4), from R's metafor 3.8-1 and
# lme4 1.1-31, at nAGQ = 7 with glmer's tolerances tightened as in generate_glmm.R:
# - `marginal`: the population-averaged proportion, integral of plogis(mu + tau z) dnorm(z) dz by
#   integrate() (as generate_marginal_rate.R), at mu-hat and at the bounds of mu's CI with tau^2
#   fixed, for whole-data fits and for each subgroup of by_groups.csv fitted alone (pool --by);
# - `t_test`: rma.glmm(test = "t"): t statistic, p-value and CI on k - p df (metafor:::rma.glmm
#   sets ddf <- k - p, p = 1 here, k the studies in the model);
# - `leave_one_out`: rma.glmm refitted without each study in turn (metafor's leave1out() has no
#   method for rma.glmm objects); `cumulative`: refitted to the first j studies, j = 2..k.
#
# - `profile`: profile-likelihood intervals for mu and tau (intercept-only PLO) on the nAGQ = 7
#   deviance of lme4::glmer(cbind(x, n - x) ~ 1 + (1 | study), family = binomial, nAGQ = 7):
#   `exact` solves dev_p(theta) - dev-hat = qchisq(level, 1) with optimize() over the other
#   parameter (tol 1e-12) and uniroot() (tol 1e-12) on glmer's own deviance function
#   (update(fit, devFunOnly = TRUE)); `lme4` is confint(fit, method = "profile"), which
#   interpolates its profile by splines (agreement ~1e-4). tau's lower bound is 0 when the
#   deviance at tau = 0 is within the cut-off.
#
#   cd <package root> && Rscript Tests/Reference/generate_glmm_ci.R

suppressPackageStartupMessages({ library(metafor); library(lme4); library(jsonlite) })

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
tight <- list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))
tight_or <- list(glmerCtrl = list(tolPwrss = 1e-10, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5)))
fixtures <- file.path("Tests", "MetaPoolTests", "Fixtures")
out <- file.path(fixtures, "glmm_ci")
dir.create(out, showWarnings = FALSE, recursive = TRUE)

marginal <- function(mu, tau2) {
  tau <- sqrt(tau2)
  if (tau == 0) return(plogis(mu))
  f <- function(z) plogis(mu + tau * z) * dnorm(z)
  cuts <- sort(unique(c(-38.5, 0, min(38, max(-38, -mu / tau)), 38.5)))
  sum(sapply(seq_len(length(cuts) - 1), function(i)
    integrate(f, cuts[i], cuts[i + 1], rel.tol = 1e-13, abs.tol = 0, subdivisions = 1000L)$value))
}

plo <- function(d, test = "z") rma.glmm(measure = "PLO", xi = d$events, ni = d$total, nAGQ = 7, test = test, control = tight)
orf <- function(d, test = "z") suppressWarnings(rma.glmm(measure = "OR", ai = d$treat_events, n1i = d$treat_total,
  ci = d$control_events, n2i = d$control_total, model = "UM.FS", nAGQ = 7, test = test, control = tight_or))

fit_summary <- function(m, study = NULL) {
  c(if (is.null(study)) list() else list(study = study),
    list(k = m$k, estimate = num(m$b[1]), se = num(m$se), statistic = num(m$zval), p_value = num(m$pval),
         df = num(m$ddf), ci_lower = num(m$ci.lb), ci_upper = num(m$ci.ub), tau2 = num(m$tau2)))
}
with_marginal <- function(m) {
  mu <- as.numeric(m$b[1])
  list(estimate = num(mu), ci_lower = num(m$ci.lb), ci_upper = num(m$ci.ub), tau2 = num(m$tau2),
       marginal = num(marginal(mu, m$tau2)), marginal_lower = num(marginal(m$ci.lb, m$tau2)),
       marginal_upper = num(marginal(m$ci.ub, m$tau2)))
}

# A small two-subgroup dataset (synthetic, made up for this test; not from any trial).
by_groups <- data.frame(study = paste("Cohort", 1:9),
                        events = c(4, 2, 11, 9, 5, 14, 3, 20, 7), total = c(37, 20, 26, 14, 12, 30, 9, 44, 25),
                        setting = c("active", "active", "stable", "stable", "active", "stable", "active", "stable", "stable"))
write.csv(by_groups, file.path(out, "by_groups.csv"), row.names = FALSE)

read_fixture <- function(folder, name) read.csv(file.path(fixtures, folder, paste0(name, ".csv")), stringsAsFactors = FALSE)
plo_sets <- list(pritz1997 = read_fixture("glmm", "pritz1997"), icorr_synthetic = read_fixture("glmm", "icorr_synthetic"),
                 by_groups = by_groups)
or_sets <- list(bcg = read_fixture("glmm_or", "bcg"))

marginal_fits <- lapply(names(plo_sets), function(n) c(list(dataset = n), with_marginal(plo(plo_sets[[n]]))))
subgroups <- lapply(c("active", "stable"), function(g)
  c(list(subgroup = g), with_marginal(plo(by_groups[by_groups$setting == g, ]))))

# With the t test, predict() gives the prediction interval on t(k - p) too (analysis scale).
with_pi <- function(m) { p <- predict(m); c(fit_summary(m), list(pi_lower = num(p$pi.lb), pi_upper = num(p$pi.ub))) }
t_tests <- c(lapply(names(plo_sets), function(n) c(list(dataset = n, measure = "PLO"), with_pi(plo(plo_sets[[n]], "t")))),
             lapply(names(or_sets), function(n) c(list(dataset = n, measure = "OR"), with_pi(orf(or_sets[[n]], "t")))))

refits <- function(d, fitter, test) {
  k <- nrow(d)
  # A refit glmer cannot do ("Cannot fit ML model") is recorded as fitted = FALSE and not compared.
  one <- function(rows, study) tryCatch(c(list(fitted = TRUE), fit_summary(fitter(d[rows, ], test), study)),
                                        error = function(e) list(study = study, fitted = FALSE, error = conditionMessage(e)))
  list(leave_one_out = lapply(seq_len(k), function(i) one(-i, d$study[i])),
       cumulative = lapply(2:k, function(j) one(seq_len(j), d$study[j])))
}
sensitivity <- list(
  c(list(dataset = "icorr_synthetic", measure = "PLO", test = "z"), refits(plo_sets$icorr_synthetic, plo, "z")),
  c(list(dataset = "by_groups", measure = "PLO", test = "t"), refits(by_groups, plo, "t")),
  c(list(dataset = "bcg", measure = "OR", test = "z"), refits(or_sets$bcg, orf, "z")))

glmer_ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-11, maxfun = 1e5))
profile_ci <- function(d, level = 0.95) {
  d$id <- factor(seq_len(nrow(d)))
  m <- glmer(cbind(events, total - events) ~ 1 + (1 | id), data = d, family = binomial, nAGQ = 7, control = glmer_ctl)
  dev0 <- update(m, devFunOnly = TRUE)
  # Far from the data glmer's penalized IRLS can fail: such points are outside any interval.
  dev <- function(p) tryCatch(dev0(p), error = function(e) 1e10)
  cut <- qchisq(level, 1)
  # The joint minimum, refined from glmer's.
  best <- optim(c(getME(m, "theta"), fixef(m)), dev, method = "L-BFGS-B", lower = c(0, -Inf),
                control = list(factr = 1, pgtol = 0))
  dhat <- min(best$value, dev(c(getME(m, "theta"), fixef(m))))
  that <- best$par[1]; mhat <- best$par[2]
  pmu <- function(mu) optimize(function(t) dev(c(t, mu)), c(0, 8), tol = 1e-12)$objective - dhat - cut
  ptau <- function(t) optimize(function(b) dev(c(t, b)), mhat + c(-8, 8), tol = 1e-12)$objective - dhat - cut
  mu_lo <- uniroot(pmu, c(mhat - 6, mhat), tol = 1e-12)$root
  mu_hi <- uniroot(pmu, c(mhat, mhat + 6), tol = 1e-12)$root
  tau_lo <- if (ptau(0) <= 0) 0 else uniroot(ptau, c(0, that), tol = 1e-12)$root
  tau_hi <- uniroot(ptau, c(that, 6), tol = 1e-12)$root
  ci <- suppressWarnings(confint(m, method = "profile", level = level))
  list(level = level, mu = num(mhat), tau = num(that),
       exact = list(mu_lower = num(mu_lo), mu_upper = num(mu_hi), tau_lower = num(tau_lo), tau_upper = num(tau_hi)),
       lme4 = list(mu_lower = num(ci[2, 1]), mu_upper = num(ci[2, 2]), tau_lower = num(ci[1, 1]), tau_upper = num(ci[1, 2])))
}
profiles <- lapply(c("pritz1997", "icorr_synthetic", "by_groups"), function(n)
  c(list(dataset = n), profile_ci(plo_sets[[n]])))
profiles[[4]] <- c(list(dataset = "pritz1997"), profile_ci(plo_sets$pritz1997, 0.9))

writeLines(toJSON(list(generated_by = "Tests/Reference/generate_glmm_ci.R",
                       metafor_version = as.character(packageVersion("metafor")),
                       lme4_version = as.character(packageVersion("lme4")),
                       marginal = list(fits = marginal_fits, by_groups_subgroups = subgroups),
                       t_test = t_tests, sensitivity = sensitivity, profile = profiles),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           file.path(out, "reference.json"))

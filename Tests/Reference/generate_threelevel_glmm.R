#!/usr/bin/env Rscript
# Reference values for the three-level binomial GLMM (ThreeLevelBinomialModel) from R's lme4:
#
#   glmer(cbind(events, total - events) ~ 1 + (1 | cluster/cohort), family = binomial, nAGQ = 1)
#
# the binomial-normal model with a random intercept per cluster and per cohort within cluster on the
# logit scale, fitted by maximising the Laplace approximation of the marginal likelihood jointly over
# (theta, beta) (Bates et al. 2015, JSS 67(1); lme4's glmer documentation, nAGQ).
#
#   apt-get install -y r-cran-lme4   # metafor, metadat, jsonlite, numDeriv as for the other scripts
#   cd <package root> && Rscript Tests/Reference/generate_threelevel_glmm.R
#
# Made with R 4.2.2, lme4 1.1-31, metafor 3.8-1, metadat 1.2-0, numDeriv 2016.8-1.1, jsonlite 1.8.4.
#
# Writes Tests/MetaPoolTests/Fixtures/threelevel_glmm/NAME.expected.json, one file per dataset.
#
# Datasets:
#   her2_cohorts   Datasets/her2-bm-intracranial-response.csv, experimental IC-ORR/CNS-ORR rows;
#                  cluster = trial, cohort = study label (population appended where a label repeats
#                  within a trial), as in generate_threelevel.R.
#   hasselblad1998 metadat::dat.hasselblad1998 (smoking cessation): quit rates of the arms (xi of ni),
#                  cluster = study, cohort = arm. Treatments are ignored: the fixture is a test of the
#                  nested binomial structure (24 studies with 2 or 3 arms, two 0-event arms), not an
#                  analysis of the treatments.
#   simulated40    simulated from a fixed seed: 40 clusters of 1 to 5 cohorts, n from 5 to 80,
#                  logit p = -2 + u_i + w_ij, sd(u) = 0.6, sd(w) = 0.4; several 0-event rows.
#   boundary_cluster, boundary_cohort  small simulated sets on which sigma2_cluster, resp. sigma2_cohort,
#                  is estimated as 0 (see boundary_set below).
#
# Fitting. glmer with glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend =
# 1e-12, maxfun = 1e5)). Its answer is then polished by Newton's method (numDeriv's Richardson gradient
# and Hessian) on the Laplace log-likelihood written out below (laplace_ll, dense per cluster): the
# function lme4's deviance function evaluates as -2 ll, but without the noise glmer's PIRLS leaves
# (it stops at a relative change of tolPwrss in the penalized deviance: ~1e-9 in ll, up to 2e-7 away
# from the optimum on her2_cohorts; tolPwrss = 1e-15 makes PIRLS fail with maxstephalfit). On the run that made the
# fixtures: polished - glmer max |(theta, beta)| 5.2e-7 (her2_cohorts), 7.7e-8, 3.8e-8; logLik
# polished - glmer 9.5e-10, 2.3e-10, 1.7e-9; |gradient| at the polished optimum < 4e-8.
# Standard error: the inverse of the full observed information -d2 ll / d(theta, beta)2 (numDeriv
# Hessian of laplace_ll), which is what lme4 1.1-31's vcov() computes by default for a GLMM
# (use.hessian = TRUE: the beta block of 2 solve(deviance Hessian)) - except that lme4 takes the
# Hessian by deriv12's plain central differences (step 1e-4) of its noisy deviance: on her2_cohorts
# its SE is 0.24749 against 0.24764 here (6e-4 relative), on the other two within 3e-8. Both are in
# the fixture (se, lme4.se_vcov_hessian), with the RX-based vcov(use.hessian = FALSE) (the
# information for beta at fixed theta; 1e-3 to 2e-3 lower here). The Swift model matches `se`.
#
# The other outputs, for which lme4 has no function, are computed here from the fitted values:
#   z and t (k - 1 df) tests and intervals for mu; the prediction interval mu +- c sqrt(se^2 +
#   sigma2_1 + sigma2_2) with c from the normal or t (k - 1 df); the typical within-study variance
#   (k - 1)/tr(P) of the escalc PLO variances (1/2 added to 0/n rows; Higgins & Thompson 2002, eq. 9)
#   and I^2 per level and total (Cheung 2014); the population-averaged rate
#   integral expit(mu + s z) phi(z) dz with s^2 = sigma2_1 + sigma2_2 (integrate(), rel.tol 1e-13),
#   also at the bounds of mu's z interval; the likelihood-ratio test 2 (ll3 - ll2) against the
#   two-level Laplace fit glmer(cbind(events, total - events) ~ 1 + (1 | cohort), nAGQ = 1), polished
#   the same way, with the chi^2 p-value on 1 df, not halved, as anova() gives it (anova() on the two
#   glmer fits is in lme4.anova_chisq and lme4.anova_pval; checked within 2e-6); the
#   profile-likelihood CIs of sigma2_cluster and sigma2_cohort (sigma2_ci) and of mu (mu_profile_ci),
#   on laplace_ll (see profile_ci and profile_mu_ci below; most of the script's run time); the
#   binomial log-likelihood at the conditional modes (conditional_logLik), the log-likelihood metafor
#   prints for a GLMM, beside lme4's Laplace logLik.
#
# JSON layout: dataset, source, formula, generated_by, lme4_version, level (0.95), k, n_clusters,
# data {events, total, cluster, cohort}, and (polished values): estimate se zval pval ci_lb ci_ub
# tval t_df t_pval t_ci_lb t_ci_ub sigma2 [cluster, cohort] theta [cluster, cohort] logLik deviance
# pi_lb pi_ub t_pi_lb t_pi_ub typical_vi I2_cluster I2_cohort I2_total marginal_rate
# marginal_rate_ci [lb, ub] two_level {estimate se tau2 logLik} sigma2_ci [[lb, ub] cluster, [lb, ub] cohort]
# mu_profile_ci [lb, ub] conditional_logLik lrt lrt_df lrt_pval;
# lme4 {glmer's own: estimate sigma2 logLik se_vcov_hessian se_vcov_rx two_level_estimate
# two_level_tau2 two_level_logLik two_level_se_vcov_hessian anova_chisq anova_pval};
# convergence {glmer_vs_polished polished_gradient two_level_glmer_vs_polished two_level_polished_gradient}.

suppressPackageStartupMessages({ library(lme4); library(metafor); library(metadat); library(jsonlite); library(numDeriv) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "threelevel_glmm")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
# Numbers are written with sprintf("%.17g") and passed to toJSON verbatim.
num <- function(x) structure(sprintf("%.17g", x), class = "json")
vec <- function(x) structure(paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]"), class = "json")
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))

# ---- datasets ---------------------------------------------------------------------------------

her2 <- read.csv(file.path("Datasets", "her2-bm-intracranial-response.csv"), stringsAsFactors = FALSE)
her2 <- her2[her2$role == "experimental" & her2$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
dup <- duplicated(her2$study) | duplicated(her2$study, fromLast = TRUE)
her2$cohort <- ifelse(dup, sprintf("%s (%s)", her2$study, her2$population), her2$study)

has <- dat.hasselblad1998

set.seed(20261207)
sizes <- sample(1:5, 40, replace = TRUE)
sim_cluster <- rep(sprintf("C%02d", 1:40), sizes)
sim_cohort <- unlist(lapply(sizes, function(m) sprintf("c%d", seq_len(m))))
u <- rnorm(40, 0, 0.6)[rep(1:40, sizes)]
w <- rnorm(length(sim_cluster), 0, 0.4)
sim_total <- sample(5:80, length(sim_cluster), replace = TRUE)
sim_events <- rbinom(length(sim_cluster), sim_total, plogis(-2 + u + w))

# Two small simulated sets on which the ML estimate of one variance component is 0 (glmer reports a
# singular fit): 8 clusters of 2 or 3 cohorts, total 20-60, logit p = -1 + e_ij, sd(e) = 0.5; seed 6
# gives sigma2_cluster = 0, seed 7 sigma2_cohort = 0.
boundary_set <- function(seed) {
  set.seed(seed)
  sizes <- sample(2:3, 8, replace = TRUE); cl <- rep(1:8, sizes); k <- length(cl)
  n <- sample(20:60, k, replace = TRUE); x <- rbinom(k, n, plogis(-1 + rnorm(k, 0, 0.5)))
  data.frame(events = x, total = n, cluster = sprintf("B%d", cl), cohort = sprintf("b%d", seq_len(k)))
}

datasets <- list(
  her2_cohorts = list(
    data = data.frame(events = her2$events, total = her2$total, cluster = her2$trial, cohort = her2$cohort),
    source = "Datasets/her2-bm-intracranial-response.csv, role = experimental and endpoint IC-ORR or CNS-ORR; cluster = trial, cohort = study (population appended where a trial has two rows of one study label)"),
  hasselblad1998 = list(
    data = data.frame(events = has$xi, total = has$ni, cluster = as.character(has$study), cohort = has$trt),
    source = "metadat::dat.hasselblad1998 (Hasselblad 1998), quit rates of the arms; cluster = study, cohort = arm (treatment ignored: a test of the nested structure)"),
  simulated40 = list(
    data = data.frame(events = sim_events, total = sim_total, cluster = sim_cluster, cohort = sim_cohort),
    source = "simulated, set.seed(20261207): 40 clusters of 1-5 cohorts, total 5-80, logit p = -2 + u + w, sd(u) = 0.6, sd(w) = 0.4"),
  boundary_cluster = list(data = boundary_set(6),
    source = "simulated, boundary_set(6): 8 clusters of 2-3 cohorts, logit p = -1 + e, sd(e) = 0.5; sigma2_cluster estimated as 0"),
  boundary_cohort = list(data = boundary_set(7),
    source = "simulated, boundary_set(7): 8 clusters of 2-3 cohorts, logit p = -1 + e, sd(e) = 0.5; sigma2_cohort estimated as 0")
)

# ---- the Laplace log-likelihood, written out, and fitting with polish -------------------------------

# The Laplace approximation of the marginal log-likelihood, cluster by cluster, in lme4's spherical
# random effects z = (a, b_1..b_m) ~ N(0, I), eta = mu + theta_cluster a + theta_cohort b_j (dense
# (1 + m) x (1 + m) Newton for the mode; Bates et al. 2015, eqs. 21-23): the function lme4's deviance
# function evaluates as -2 ll. Written out because glmer's PIRLS stops at a relative change of
# tolPwrss in the penalized deviance, which leaves its deviance noisy at ~1e-9 (on her2_cohorts up to
# 2e-7 off this function 0.3 from the optimum), too noisy for a finite-difference Hessian: lme4's own
# vcov(use.hessian = TRUE) (deriv12, steps 1e-4) is off by up to 6e-4 relative on her2_cohorts.
# par = c(theta_cohort, theta_cluster, mu), lme4's order.
# With conditional = TRUE it returns instead sum log Binom(x | n, expit(mu + theta_cluster a^ +
# theta_cohort b^_j)) at the modes: the binomial log-likelihood conditional on the modes of the random
# effects, the log-likelihood metafor prints for its (two-level) GLMMs.
laplace_ll <- function(par, d, conditional = FALSE) {
  t2 <- par[1]; t1 <- par[2]; mu <- par[3]; tot <- 0; cond <- 0
  for (cl in unique(d$cluster)) {
    s <- d[d$cluster == cl, ]; m <- nrow(s)
    Z <- cbind(t1, diag(t2, m)); z <- numeric(m + 1)
    h <- function(z) sum(dbinom(s$events, s$total, plogis(mu + drop(Z %*% z)), log = TRUE)) - sum(z^2) / 2
    for (it in 1:200) {   # Newton with step halving on the concave h
      p <- plogis(mu + drop(Z %*% z)); w <- s$total * p * (1 - p)
      g <- drop(crossprod(Z, s$events - s$total * p)) - z
      st <- solve(crossprod(Z, w * Z) + diag(m + 1), g)
      t <- 1; h0 <- h(z)
      while (h(z + t * st) < h0 - 1e-12 && t > 1e-10) t <- t / 2
      z <- z + t * st
      if (max(abs(t * st)) < 1e-13) break
    }
    p <- plogis(mu + drop(Z %*% z)); w <- s$total * p * (1 - p)
    cond <- cond + sum(dbinom(s$events, s$total, p, log = TRUE))
    tot <- tot + sum(dbinom(s$events, s$total, p, log = TRUE)) - sum(z^2) / 2 -
      0.5 * as.numeric(determinant(crossprod(Z, w * Z) + diag(m + 1))$modulus)
  }
  if (conditional) cond else tot
}

# Newton on f (to be maximised) over the free components, numDeriv's Richardson gradient and Hessian;
# theta components stay non-negative (f is even in each).
newton <- function(f, x, free = rep(TRUE, length(x))) {
  for (it in 1:50) {
    g <- numDeriv::grad(f, x)[free]
    H <- numDeriv::hessian(f, x)[free, free, drop = FALSE]
    step <- -solve(H, g)
    t <- 1; f0 <- f(x)
    repeat {
      y <- x; y[free] <- x[free] + t * step
      if (f(y) >= f0 - 1e-12 || t < 1e-6) break
      t <- t / 2
    }
    x <- y
    if (max(abs(t * step)) < 1e-12) break
  }
  x[-length(x)] <- abs(x[-length(x)])
  x
}

# glmer, then its optimum polished on laplace_ll; SE from the inverse of the full observed information
# -d2 ll/d(theta, beta)2 (numDeriv), the definition of lme4's vcov(use.hessian = TRUE).
fit_glmer <- function(formula, d, free) {
  fit <- suppressMessages(glmer(formula, data = d, family = binomial, nAGQ = 1, control = ctl))  # singular fits: message
  nt <- length(getME(fit, "theta"))
  x0 <- c(getME(fit, "theta"), fixef(fit))
  full <- if (nt == 2) x0 else c(x0[1], 0, x0[2])             # (theta_cohort, theta_cluster, mu)
  f <- function(x) laplace_ll(x, d)
  par <- newton(f, full, free)
  H <- numDeriv::hessian(f, par)[free, free]
  se <- sqrt(solve(-H)[sum(free), sum(free)])
  list(fit = fit, par = par, ll = f(par), se = se, gradient = max(abs(numDeriv::grad(f, par)[free])),
       lme4_par = x0, lme4_ll = as.numeric(logLik(fit)),
       lme4_se_hessian = sqrt(vcov(fit, use.hessian = TRUE)[1, 1]),
       lme4_se_rx = sqrt(suppressWarnings(vcov(fit, use.hessian = FALSE))[1, 1]),
       moved = max(abs(par[free] - full[free])))
}

# Profile-likelihood CI of sigma2 of component j (1 = cluster, 2 = cohort): the sigma2 where the
# Laplace log-likelihood maximised over mu and the other theta falls qchisq(0.95, 1)/2 below the
# maximum; uniroot to 1e-12; a lower bound of 0 where the profile at 0 is above that level. The inner
# maximisation uses lme4's deviance function (fast; its PIRLS noise of ~1e-9 in ll moves a bound by
# ~1e-9 / slope) with minqa's bobyqa (rhoend 1e-10, other theta >= 0 started at max(estimate, 0.1));
# the profile's value is laplace_ll at bobyqa's answer (an error there enters only to second order).
# On her2_cohorts this gave the same interval of sigma2_cluster to 15 digits as a Newton polish of
# (other theta, mu) on laplace_ll at every point, 50 times slower.
profile_ci <- function(j, par, ll_hat, d) {
  dev <- glmer(cbind(events, total - events) ~ 1 + (1 | cluster/cohort), data = d, family = binomial,
               nAGQ = 1, control = ctl, devFunOnly = TRUE)
  pos <- if (j == 1) 2 else 1                         # position in (theta_cohort, theta_cluster, mu)
  oth <- if (j == 1) 1 else 2
  free <- replace(rep(TRUE, 3), pos, FALSE)
  prof <- function(x) {
    start <- par; start[pos] <- sqrt(x); start[oth] <- max(start[oth], 0.1)
    fn <- function(y) { z <- start; z[free] <- y; dev(z) }
    opt <- minqa::bobyqa(start[free], fn, lower = c(0, -Inf), control = list(rhobeg = 0.05, rhoend = 1e-10, maxfun = 1e5))
    z <- start; z[free] <- opt$par
    laplace_ll(z, d)
  }
  g <- function(x) prof(x) - (ll_hat - qchisq(0.95, 1) / 2)
  est <- par[pos]^2
  lo <- if (est < 1e-12 || g(0) > 0) 0 else uniroot(g, c(0, est), tol = 1e-12)$root
  hi <- max(2 * est, 0.05); while (g(hi) > 0) hi <- 2 * hi
  c(lo, uniroot(g, c(est, hi), tol = 1e-12)$root)
}

# Profile-likelihood CI of mu: the mu where the Laplace log-likelihood maximised over both theta (bobyqa
# on lme4's deviance function, theta >= 0, started at max(estimate, 0.1); its value laplace_ll at
# bobyqa's answer, as in profile_ci) falls qchisq(0.95, 1)/2 below the maximum (the likelihood-ratio
# interval lme4's confint(method = "profile") gives for the fixed effect, without its spline
# interpolation); uniroot to 1e-12 on brackets found by doubling steps of se from the estimate.
profile_mu_ci <- function(par, ll_hat, se, d) {
  dev <- glmer(cbind(events, total - events) ~ 1 + (1 | cluster/cohort), data = d, family = binomial,
               nAGQ = 1, control = ctl, devFunOnly = TRUE)
  prof <- function(m) {
    start <- c(max(par[1], 0.1), max(par[2], 0.1), m)
    fn <- function(y) dev(c(y, m))
    opt <- minqa::bobyqa(start[1:2], fn, lower = c(0, 0), control = list(rhobeg = 0.05, rhoend = 1e-10, maxfun = 1e5))
    laplace_ll(c(opt$par, m), d)
  }
  g <- function(m) prof(m) - (ll_hat - qchisq(0.95, 1) / 2)
  side <- function(dir) {
    h <- se; while (g(par[3] + dir * h) > 0) h <- 2 * h
    uniroot(g, sort(c(par[3], par[3] + dir * h)), tol = 1e-12)$root
  }
  c(side(-1), side(1))
}

marginal_rate <- function(mu, s2) integrate(function(z) plogis(mu + sqrt(s2) * z) * dnorm(z), -Inf, Inf, rel.tol = 1e-13)$value

diag_rows <- list()
for (name in names(datasets)) {
  spec <- datasets[[name]]
  d <- spec$data
  d$cc <- paste(d$cluster, d$cohort, sep = ":")
  stopifnot(!anyDuplicated(d$cc))   # one row per cohort, as ThreeLevelBinomialModel assumes
  three <- fit_glmer(cbind(events, total - events) ~ 1 + (1 | cluster/cohort), d, c(TRUE, TRUE, TRUE))
  # the two-level model (theta_cluster = 0): laplace_ll with the cluster effect held at 0 is it exactly
  two <- fit_glmer(cbind(events, total - events) ~ 1 + (1 | cc), d, c(TRUE, FALSE, TRUE))
  # lme4 orders theta as cohort:cluster first, then cluster
  stopifnot(names(getME(three$fit, "theta"))[1] == "cohort:cluster.(Intercept)")
  theta <- c(cluster = three$par[2], cohort = three$par[1])
  s2 <- theta^2
  ll3 <- three$ll; ll2 <- two$ll
  # lme4's logLik and anova() at its own optimum agree with the polished values to the PIRLS noise
  lrt <- anova(three$fit, two$fit)
  stopifnot(abs(ll3 - three$lme4_ll) < 1e-6, abs(ll2 - two$lme4_ll) < 1e-6, lrt$Df[2] == 1,
            abs(lrt$Chisq[2] - 2 * (ll3 - ll2)) < 2e-6, three$moved < 1e-4, two$moved < 1e-4)
  lrt_stat <- max(0, 2 * (ll3 - ll2))
  k <- nrow(d); mu <- three$par[3]; se <- three$se
  zc <- qnorm(0.975); tc <- qt(0.975, k - 1)
  es <- escalc("PLO", xi = d$events, ni = d$total)
  wv <- 1 / es$vi
  typical <- (k - 1) / (sum(wv) - sum(wv^2) / sum(wv))
  i2 <- 100 * c(s2, sum(s2)) / (sum(s2) + typical)
  pis <- sqrt(se^2 + sum(s2))
  res <- list(
    dataset = name, source = spec$source,
    formula = "glmer(cbind(events, total - events) ~ 1 + (1 | cluster/cohort), family = binomial, nAGQ = 1)",
    generated_by = "Tests/Reference/generate_threelevel_glmm.R",
    lme4_version = as.character(packageVersion("lme4")), level = 0.95, k = k, n_clusters = length(unique(d$cluster)),
    data = list(events = vec(d$events), total = vec(d$total), cluster = I(d$cluster), cohort = I(d$cohort)),
    estimate = num(mu), se = num(se),
    zval = num(mu / se), pval = num(2 * pnorm(-abs(mu / se))), ci_lb = num(mu - zc * se), ci_ub = num(mu + zc * se),
    tval = num(mu / se), t_df = k - 1, t_pval = num(2 * pt(-abs(mu / se), k - 1)),
    t_ci_lb = num(mu - tc * se), t_ci_ub = num(mu + tc * se),
    sigma2 = vec(s2), theta = vec(theta), logLik = num(ll3), deviance = num(-2 * ll3),
    pi_lb = num(mu - zc * pis), pi_ub = num(mu + zc * pis), t_pi_lb = num(mu - tc * pis), t_pi_ub = num(mu + tc * pis),
    typical_vi = num(typical), I2_cluster = num(i2[1]), I2_cohort = num(i2[2]), I2_total = num(i2[3]),
    marginal_rate = num(marginal_rate(mu, sum(s2))),
    marginal_rate_ci = vec(c(marginal_rate(mu - zc * se, sum(s2)), marginal_rate(mu + zc * se, sum(s2)))),
    two_level = list(estimate = num(two$par[3]), se = num(two$se), tau2 = num(two$par[1]^2), logLik = num(ll2)),
    sigma2_ci = list(vec(profile_ci(1, three$par, ll3, d)), vec(profile_ci(2, three$par, ll3, d))),
    mu_profile_ci = vec(profile_mu_ci(three$par, ll3, se, d)),
    conditional_logLik = num(laplace_ll(three$par, d, conditional = TRUE)),
    lrt = num(lrt_stat), lrt_df = 1, lrt_pval = num(pchisq(lrt_stat, 1, lower.tail = FALSE)),
    lme4 = list(estimate = num(three$lme4_par[3]), sigma2 = vec(three$lme4_par[2:1]^2), logLik = num(three$lme4_ll),
                se_vcov_hessian = num(three$lme4_se_hessian), se_vcov_rx = num(three$lme4_se_rx),
                two_level_estimate = num(two$lme4_par[2]), two_level_tau2 = num(two$lme4_par[1]^2),
                two_level_logLik = num(two$lme4_ll), two_level_se_vcov_hessian = num(two$lme4_se_hessian),
                anova_chisq = num(lrt$Chisq[2]), anova_pval = num(lrt[["Pr(>Chisq)"]][2])),
    convergence = list(glmer_vs_polished = num(three$moved), polished_gradient = num(three$gradient),
                       two_level_glmer_vs_polished = num(two$moved), two_level_polished_gradient = num(two$gradient)))
  writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE, null = "null", json_verbatim = TRUE),
             file.path(out, paste0(name, ".expected.json")))
  diag_rows[[name]] <- data.frame(dataset = name, k = k, mu = mu, se = se, se_lme4_hessian = three$lme4_se_hessian,
    se_lme4_rx = three$lme4_se_rx, sigma2_cluster = s2[1], sigma2_cohort = s2[2], logLik = ll3,
    logLik_minus_lme4 = ll3 - three$lme4_ll, ll2 = ll2, lrt = lrt_stat, glmer_moved = three$moved,
    gradient = three$gradient, two_moved = two$moved)
}
print(do.call(rbind, diag_rows), digits = 10, row.names = FALSE)

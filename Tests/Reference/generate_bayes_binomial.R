#!/usr/bin/env Rscript
# Reference values for the Bayesian binomial-normal random-effects model for proportions
# (BinomialBayesianMetaAnalysis):
#
#   x_i ~ Binomial(n_i, expit(theta_i)), theta_i ~ N(mu, tau^2), tau ~ p(tau), mu ~ N(m, s^2) or flat,
#
# with the exact binomial likelihood, computed here from the formulas, independently of the Swift code
# (which uses a trapezoidal rule for L_i and Clenshaw-Curtis/Chebyshev panels for mu and tau):
#   L_i(mu, tau) = int Binom(x_i | n_i, expit(theta)) N(theta; mu, tau^2) dtheta by the double-exponential
#     (sinh-sinh) rule theta = thetahat + sigmahat sinh(pi/2 sinh u), step 1/32 on |u| <= 3.2, centred at
#     the mode of the integrand (Takahasi & Mori 1974); checked against step 1/64 below;
#   F(mu, tau) = log p(mu) + sum_i log L_i(mu, tau) tabulated, for each tau of a grid, on 241 points of mu
#     spanning the range where F is within 46 of its maximum, and interpolated by cubic splines;
#   every integral over mu by integrate() (QUADPACK, rel.tol 1e-11) of exp(spline) times what is
#     integrated; the conditional CDF of mu a spline through its integrals between the grid points;
#     convolutions with N(0, tau^2) (theta_new, theta_i) written as integrals over z with mu = c - tau z,
#     so that no narrow kernel is left for integrate() to miss; integrals over tau by integrate() (rel.tol 1e-10) of cubic splines through the values at
#     101 points tau = tau_hi w^2 (w uniform in [0, 1]; tau_hi where log p(tau | x) is 40 below its
#     maximum or the prior's upper bound) times the prior (exact) and exp(l(tau)), l the spline of
#     log int p(mu) prod L_i dmu;
#   quantiles by uniroot() (tol 1e-13) on those CDFs, shortest intervals [q(p), q(p + level)] with equal
#     densities, p by uniroot().
# The result is accurate to about 1e-8 (the spline interpolation dominates); the Swift tests compare at 1e-6.
#
#   cd <package root> && Rscript Tests/Reference/generate_bayes_binomial.R
#
# Made with R 4.2.2, metafor 3.8-1, metadat 1.2-0, jsonlite 1.8.4. About 11 minutes (4.5, 4.5 and 2 for the three
# datasets; ONLY=name runs one).
#
# Outputs, as BayesianMetaAnalysisSummary names them:
#   tau, mu, prediction (theta_new = mu + tau z): mean, sd, median, central [lb, ub], shortest [lb, ub]
#   p_mu_above, p_prediction_above (threshold 0 on the logit scale)
#   theta (study-specific posteriors p(theta_i | x) = Binom(x_i | theta_i) int int p(mu, tau | x)
#     N(theta_i; mu, tau^2) / L_i(mu, tau)): mean and sd of every study; median and central interval of the
#     studies listed in theta_quantiles$index (1-based), from the density tabulated on 241 points
#     over the mean +- 12 sd
#   rates: conditional expit(mu) (mean, sd, median, central) and the population-averaged rate
#     R(mu, tau) = int expit(mu + tau z) phi(z) dz (mean, sd, median, central; its CDF at c is
#     int p(tau | x) P(mu <= R^-1(c; tau) | tau, x) dtau, R increasing in mu)
#   log_marginal_likelihood (proper priors on both), bf_tau0 = p(tau = 0 | x) / p(tau = 0),
#   bf_mu0 = p(mu = 0 | x) / p(mu = 0) (normal mu prior).
#
# Datasets (Tests/MetaPoolTests/Fixtures/bayes_binomial/NAME.expected.json):
#   her2_tdxd  Datasets/her2-bm-intracranial-response.csv, antibody-drug conjugate (trastuzumab
#              deruxtecan) experimental rows with endpoint IC-ORR or CNS-ORR (as generate_bayes.R), events/total
#   pritz1997  metadat::dat.pritz1997 (14 studies, two with x = n: the mirror image of zero-event studies)
#   her2_two   DEBBRAH cohorts 2 and 3 of her2_tdxd alone (k = 2)

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })
invisible(Sys.setlocale("LC_COLLATE", "C"))

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "bayes_binomial")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || length(x) == 0 || any(is.na(x))) NULL else
  structure(if (length(x) > 1) vec(x) else sprintf("%.17g", x), class = "json")
vec <- function(x) structure(paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]"), class = "json")
LEVEL <- 0.95
THRESHOLD <- 0
# (GMU, GTAU and ONLY, a dataset name, may be set in the environment for a quick trial run.)
GMU <- as.integer(Sys.getenv("GMU", "241"))
GTAU <- as.integer(Sys.getenv("GTAU", "161"))

# ---- L_i by the double-exponential rule --------------------------------------------------------

log1pexp <- function(t) pmax(t, 0) + log1p(exp(-abs(t)))
de_rule <- function(h) {
  u <- seq(-3.2, 3.2, by = h)
  list(h = h, s = sinh(pi / 2 * sinh(u)), ds = pi / 2 * cosh(u) * cosh(pi / 2 * sinh(u)))
}
DE <- de_rule(1 / 32)

# The mode of psi(theta) = x theta - n log(1 + e^theta) - (theta - mu)^2 / (2 tau^2), vectorised over mu.
mode_theta <- function(mu, tau, x, n) {
  t2 <- tau^2
  lo <- mu + t2 * (x - n); hi <- mu + t2 * x
  th <- pmin(pmax(mu, lo), hi)
  for (it in 1:300) {
    p <- plogis(th)
    g <- x - n * p - (th - mu) / t2
    lo <- ifelse(g > 0, th, lo); hi <- ifelse(g < 0, th, hi)
    nx <- th + g / (n * p * (1 - p) + 1 / t2)
    bad <- !(nx > lo & nx < hi)
    nx[bad] <- (lo[bad] + hi[bad]) / 2
    done <- max(abs(nx - th)) < 1e-12
    th <- nx
    if (done) break
  }
  th
}

# log L(mu, tau) for a vector mu, and E[theta | mu, tau, x], Var[theta | ...] with `moments`.
logL <- function(mu, tau, x, n, rule = DE, moments = FALSE) {
  lc <- lchoose(n, x)
  if (tau == 0) {
    v <- lc + x * mu - n * log1pexp(mu)
    return(if (moments) list(log = v, mean = mu, var = 0 * mu) else v)
  }
  th <- mode_theta(mu, tau, x, n)
  p <- plogis(th)
  sig <- 1 / sqrt(n * p * (1 - p) + 1 / tau^2)
  D <- outer(sig, rule$s)
  TH <- th + D
  psi <- function(t, m) x * t - n * log1pexp(t) - (t - m)^2 / (2 * tau^2)
  p0 <- psi(th, mu)
  rule_sum(exp(psi(TH, mu) - p0), D, th, lc + p0, sig, tau, rule, moments)
}

# The double-exponential rule's sum for L = exp(lc) int exp(psi(theta)) N(theta; mu, tau^2) dtheta at the nodes
# theta = th + D (rows: the mus), given E = exp(psi - psi(th)) and `offset` = lc + psi(th): log L, and the
# conditional mean and variance of theta with `moments`.
rule_sum <- function(E, D, th, offset, sig, tau, rule, moments) {
  E <- E * rep(rule$ds, each = nrow(E))
  E[!is.finite(E)] <- 0
  s0 <- rowSums(E)
  v <- offset + log(sig * rule$h * s0) - log(tau * sqrt(2 * pi))
  if (!moments) return(v)
  m1 <- rowSums(E * D) / s0
  m2 <- rowSums(E * D^2) / s0
  list(log = v, mean = th + m1, var = m2 - m1^2)
}

# ---- the model ------------------------------------------------------------------------------------

# (generate_bayes_or.R passes its own log L(mu, tau, x_i, n_i) as `loglik`, a start for mu and
# with_rates = FALSE.)
posterior <- function(x, n, tp, mp, theta_index = integer(0), shortest_prediction = TRUE, loglik = logL,
                      start = qlogis((sum(x) + 0.5) / (sum(n) + 1)), with_rates = TRUE) {
  k <- length(x)
  logprior_mu <- function(m) if (mp$type == "normal") dnorm(m, mp$mean, mp$sd, log = TRUE) else 0 * m
  logprior_tau <- function(t) switch(tp$type,
    halfNormal = log(2) + dnorm(t, 0, tp$scale, log = TRUE),
    halfCauchy = log(2) + dcauchy(t, 0, tp$scale, log = TRUE),
    logNormal = ifelse(t > 0, dlnorm(t, tp$mu, tp$sigma, log = TRUE), -Inf),
    uniform = ifelse(t <= tp$upper, -log(tp$upper), -Inf),
    flat = 0 * t)
  upper <- if (tp$type == "uniform") tp$upper else Inf
  Fmu <- function(m, tau) { s <- logprior_mu(m); for (i in 1:k) s <- s + loglik(m, tau, x[i], n[i]); s }
  # The conditional table at one tau: mu grid, F values, spline, mode, log mass.
  table_at <- function(tau) {
    o <- optimize(function(m) Fmu(m, tau), c(start - 15, start + 15), maximum = TRUE, tol = 1e-10)
    Fmax <- o$objective; m0 <- o$maximum
    f <- function(m) Fmu(m, tau) - Fmax + 46
    step <- 1
    lo <- m0 - step; while (f(lo) > 0) { step <- 2 * step; lo <- m0 - step }
    lo <- uniroot(f, c(lo, m0), tol = 1e-6)$root
    step <- 1
    hi <- m0 + step; while (f(hi) > 0) { step <- 2 * step; hi <- m0 + step }
    hi <- uniroot(f, c(m0, hi), tol = 1e-6)$root
    grid <- seq(lo, hi, length.out = GMU)
    per <- sapply(1:k, function(i) loglik(grid, tau, x[i], n[i]))
    Fv <- rowSums(per) + logprior_mu(grid) - Fmax
    sp <- splinefun(grid, Fv, method = "fmm")
    dens <- function(m) ifelse(m < lo | m > hi, 0, exp(sp(m)))
    I <- function(g, a = lo, b = hi) integrate(function(m) dens(m) * g(m), a, b, rel.tol = 1e-11,
                                                 subdivisions = 1000L, stop.on.error = FALSE)$value
    mass <- I(function(m) 1)
    cum <- cumsum(c(0, sapply(2:GMU, function(j) I(function(m) 1, grid[j - 1], grid[j])))) / mass
    cs <- splinefun(grid, cum, method = "fmm")
    cdf <- function(m) ifelse(m <= lo, 0, ifelse(m >= hi, 1, pmin(1, pmax(0, cs(m)))))
    list(tau = tau, lo = lo, hi = hi, grid = grid, per = per, dens = dens, I = I, mass = mass, cdf = cdf,
         lmass = Fmax + log(mass))
  }
  # tau_hi: scan log p(tau | x) up to 40 below its maximum.
  scan <- c(0, 0.01 * 1.3^(0:45))
  scan <- scan[scan <= upper]
  lp <- sapply(scan, function(t) { if (logprior_tau(t) == -Inf) return(-Inf); table_at(t)$lmass + logprior_tau(t) })
  imax <- which.max(lp)
  beyond <- which(seq_along(lp) > imax & lp < max(lp) - 40)
  tau_hi <- if (length(beyond)) scan[min(beyond)] else if (is.finite(upper)) upper else max(scan)
  if (is.finite(upper)) tau_hi <- min(tau_hi, upper)
  # tau = c (w / (1 - w))^2, c where p(tau | x) tau is largest (the mode of log tau): points dense where
  # the mass is, for light and heavy tails alike.
  cs <- max(scan[which.max(lp + log(pmax(scan, 1e-300)))], 0.05)
  rmax <- sqrt(tau_hi / cs)
  wmax <- rmax / (1 + rmax)
  tau_of <- function(ww) cs * (ww / (1 - ww))^2
  w_of <- function(t) { r <- sqrt(t / cs); r / (1 + r) }
  w <- seq(0, wmax, length.out = GTAU)
  taus <- tau_of(w)
  tabs <- lapply(taus, table_at)
  lmass <- sapply(tabs, `[[`, "lmass")
  lshift <- max(lmass)
  l_spline <- splinefun(w, lmass - lshift, method = "fmm")
  # p(tau(w) | x) dtau/dw, unnormalised
  pw <- function(ww) { t <- tau_of(ww); ifelse(ww <= 0, 0, exp(l_spline(ww) + logprior_tau(t)) * 2 * cs * ww / (1 - ww)^3) }
  Itau <- function(vals, a = 0, b = wmax) {
    s <- splinefun(w, vals, method = "fmm")
    integrate(function(ww) pw(ww) * s(ww), a, b, rel.tol = 1e-10, subdivisions = 2000L, stop.on.error = FALSE)$value
  }
  Z <- integrate(pw, 0, wmax, rel.tol = 1e-10, subdivisions = 2000L, stop.on.error = FALSE)$value
  ones <- rep(1, GTAU)
  tau_cdf <- function(t) if (t <= 0) 0 else if (t >= tau_hi) 1 else
    integrate(pw, 0, w_of(t), rel.tol = 1e-10, subdivisions = 2000L, stop.on.error = FALSE)$value / Z
  tau_density <- function(t) exp(l_spline(w_of(t)) + logprior_tau(t)) / Z
  quant <- function(cdf, p, lo, hi) {
    while (cdf(lo) > p) lo <- lo - (hi - lo)
    while (cdf(hi) < p) hi <- hi + (hi - lo)
    uniroot(function(q) cdf(q) - p, c(lo, hi), tol = 1e-13)$root
  }
  shortest <- function(qf, df) {
    h <- function(p) df(qf(p)) - df(qf(p + LEVEL))
    if (h(0) >= 0) return(c(qf(0), qf(LEVEL)))
    p <- uniroot(h, c(0, 1 - LEVEL), tol = 1e-12)$root
    c(qf(p), qf(p + LEVEL))
  }
  summ <- function(mean, sd, qf, df, lo, hi, with_shortest = TRUE) {
    list(mean = num(mean), sd = num(sd), median = num(qf(0.5)), central = vec(c(qf((1 - LEVEL) / 2), qf(1 - (1 - LEVEL) / 2))),
         shortest = if (with_shortest) vec(shortest(qf, df)) else NULL)
  }
  # tau
  tm <- Itau(taus) / Z; t2 <- Itau(taus^2) / Z
  tau_q <- function(p) if (p <= 0) 0 else quant(tau_cdf, p, 0, tau_hi)
  tau_s <- summ(tm, sqrt(t2 - tm^2), tau_q, tau_density)
  # mu: conditional moments and CDFs
  cm <- sapply(tabs, function(tb) tb$I(identity) / tb$mass)
  cm2 <- sapply(tabs, function(tb) tb$I(function(m) m^2) / tb$mass)
  mum <- Itau(cm) / Z; mu2 <- Itau(cm2) / Z
  mu_cdf <- function(c) Itau(sapply(tabs, function(tb) tb$cdf(c))) / Z
  mu_density <- function(c) Itau(sapply(tabs, function(tb) tb$dens(c) / tb$mass)) / Z
  mu_q <- function(p) quant(mu_cdf, p, mum - 3 * sqrt(mu2 - mum^2), mum + 3 * sqrt(mu2 - mum^2))
  mu_s <- summ(mum, sqrt(mu2 - mum^2), mu_q, mu_density)
  # theta_new
  # theta_new | tau: with m = c - tau z, P(theta_new <= c | tau) = Phi((c - hi)/tau) + int phi(z) C(c - tau z) dz
  # over the z where c - tau z is in [lo, hi] (C the conditional CDF of mu, a spline through its values on
  # the grid); the density int phi(z) p(c - tau z | tau) dz. No narrow kernel is left for integrate() to miss.
  pred_cond <- function(tb, c, cdf) {
    if (tb$tau == 0) return(if (cdf) tb$cdf(c) else tb$dens(c) / tb$mass)
    za <- (c - tb$hi) / tb$tau; zb <- (c - tb$lo) / tb$tau
    a <- max(za, -40); b <- min(zb, 40)
    inner <- if (a < b) integrate(function(z) dnorm(z) * (if (cdf) tb$cdf(c - tb$tau * z) else tb$dens(c - tb$tau * z) / tb$mass),
                                  a, b, rel.tol = 1e-11, subdivisions = 1000L, stop.on.error = FALSE)$value else 0
    if (cdf) pnorm(za) + inner else inner
  }
  pred_cdf <- function(c) Itau(sapply(tabs, pred_cond, c = c, cdf = TRUE)) / Z
  pred_density <- function(c) Itau(sapply(tabs, pred_cond, c = c, cdf = FALSE)) / Z
  psd <- sqrt(mu2 + t2 - mum^2)
  pred_q <- function(p) quant(pred_cdf, p, mum - 3 * psd, mum + 3 * psd)
  pred_s <- summ(mum, psd, pred_q, pred_density, with_shortest = shortest_prediction)
  # studies: moments
  theta_mean <- theta_sd <- numeric(k)
  for (i in 1:k) {
    e1 <- sapply(tabs, function(tb) { mo <- loglik(tb$grid, tb$tau, x[i], n[i], moments = TRUE)
      s1 <- splinefun(tb$grid, mo$mean); tb$I(s1) / tb$mass })
    e2 <- sapply(tabs, function(tb) { mo <- loglik(tb$grid, tb$tau, x[i], n[i], moments = TRUE)
      s2 <- splinefun(tb$grid, mo$var + mo$mean^2); tb$I(s2) / tb$mass })
    theta_mean[i] <- Itau(e1) / Z
    theta_sd[i] <- sqrt(Itau(e2) / Z - theta_mean[i]^2)
  }
  # studies: quantiles from the density on a grid
  tq <- NULL
  if (length(theta_index)) {
    med <- lb <- ub <- numeric(0)
    for (i in theta_index) {
      lsp <- lapply(seq_along(tabs), function(g) splinefun(tabs[[g]]$grid, tabs[[g]]$per[, i], method = "fmm"))
      dth <- function(t) {
        lb_t <- loglik(t, 0, x[i], n[i])
        Itau(sapply(seq_along(tabs), function(g) { tb <- tabs[[g]]
          if (tb$tau == 0) return(tb$dens(t) / tb$mass)
          a <- max((t - tb$hi) / tb$tau, -40); b <- min((t - tb$lo) / tb$tau, 40)
          if (a >= b) return(0)
          integrate(function(z) { m <- t - tb$tau * z; tb$dens(m) * exp(lb_t - lsp[[g]](m)) * dnorm(z) }, a, b,
                    rel.tol = 1e-11, subdivisions = 1000L, stop.on.error = FALSE)$value / tb$mass })) / Z
      }
      grid <- seq(theta_mean[i] - 12 * theta_sd[i], theta_mean[i] + 12 * theta_sd[i], length.out = 241)
      dv <- sapply(grid, dth)
      ds <- splinefun(grid, log(dv), method = "fmm")
      tot <- integrate(function(t) exp(ds(t)), grid[1], grid[241], rel.tol = 1e-11, subdivisions = 1000L, stop.on.error = FALSE)$value
      cdf <- function(c) integrate(function(t) exp(ds(t)), grid[1], c, rel.tol = 1e-11, subdivisions = 1000L, stop.on.error = FALSE)$value / tot
      qf <- function(p) uniroot(function(c) cdf(c) - p, c(grid[2], grid[240]), tol = 1e-13)$root
      med <- c(med, qf(0.5)); lb <- c(lb, qf((1 - LEVEL) / 2)); ub <- c(ub, qf(1 - (1 - LEVEL) / 2))
    }
    tq <- list(index = vec(theta_index), median = vec(med), central_lb = vec(lb), central_ub = vec(ub))
  }
  rates <- NULL
  if (with_rates) {
  # rates
  ce1 <- sapply(tabs, function(tb) tb$I(plogis) / tb$mass)
  ce2 <- sapply(tabs, function(tb) tb$I(function(m) plogis(m)^2) / tb$mass)
  c_mean <- Itau(ce1) / Z; c_sd <- sqrt(Itau(ce2) / Z - c_mean^2)
  R1 <- function(m, tau) if (tau == 0) plogis(m) else
    integrate(function(z) plogis(m + tau * z) * dnorm(z), -Inf, Inf, rel.tol = 1e-12, stop.on.error = FALSE)$value
  rtab <- lapply(tabs, function(tb) { r <- sapply(tb$grid, R1, tau = tb$tau); list(r = r, s = splinefun(tb$grid, r, method = "fmm")) })
  re1 <- sapply(seq_along(tabs), function(g) tabs[[g]]$I(rtab[[g]]$s) / tabs[[g]]$mass)
  re2 <- sapply(seq_along(tabs), function(g) tabs[[g]]$I(function(m) rtab[[g]]$s(m)^2) / tabs[[g]]$mass)
  r_mean <- Itau(re1) / Z; r_sd <- sqrt(Itau(re2) / Z - r_mean^2)
  r_cdf <- function(c) Itau(sapply(seq_along(tabs), function(g) { tb <- tabs[[g]]
    f <- function(m) R1(m, tb$tau) - c
    if (f(tb$lo) >= 0) return(0)
    if (f(tb$hi) <= 0) return(1)
    ms <- uniroot(f, c(tb$lo, tb$hi), tol = 1e-13)$root
    tb$I(function(m) 1, tb$lo, ms) / tb$mass })) / Z
  r_q <- function(p) uniroot(function(c) r_cdf(c) - p, c(1e-6, 1 - 1e-6), tol = 1e-13)$root
  rates <- list(conditional = list(mean = num(c_mean), sd = num(c_sd), median = num(plogis(mu_q(0.5))),
                                   central = vec(plogis(c(mu_q((1 - LEVEL) / 2), mu_q(1 - (1 - LEVEL) / 2))))),
                population = list(mean = num(r_mean), sd = num(r_sd), median = num(r_q(0.5)),
                                  central = vec(c(r_q((1 - LEVEL) / 2), r_q(1 - (1 - LEVEL) / 2)))))
  }
  proper <- tp$type != "flat" && mp$type == "normal"
  bf_tau <- if (tp$type %in% c("halfNormal", "halfCauchy", "uniform")) tau_density(0) / exp(logprior_tau(0)) else NULL
  bf_mu <- if (mp$type == "normal") mu_density(0) / dnorm(0, mp$mean, mp$sd) else NULL
  list(tau = tau_s, mu = mu_s, prediction = pred_s,
       p_mu_above = num(1 - mu_cdf(THRESHOLD)), p_prediction_above = num(1 - pred_cdf(THRESHOLD)),
       theta = list(mean = vec(theta_mean), sd = vec(theta_sd)), theta_quantiles = tq, rates = rates,
       log_marginal_likelihood = if (proper) num(lshift + log(Z)) else NULL,
       bf_tau0 = num(bf_tau), bf_mu0 = num(bf_mu), tau_hi = num(tau_hi))
}

# ---- the inner rule's accuracy -------------------------------------------------------------------

local({
  worst <- 0
  for (xn in list(c(0, 5), c(1, 10), c(61, 77), c(10, 10), c(2, 4), c(0, 200))) for (tau in c(1e-3, 0.1, 0.5, 2, 8))
    for (mu in c(-3, 0, 1.5)) {
      a <- logL(mu, tau, xn[1], xn[2]); b <- logL(mu, tau, xn[1], xn[2], rule = de_rule(1 / 64))
      worst <- max(worst, abs(a - b))
    }
  cat(sprintf("DE rule, step 1/32 against 1/64: largest |difference| of log L %.3g\n", worst))
})

# ---- datasets ----------------------------------------------------------------------------------

her2 <- read.csv(file.path("Datasets", "her2-bm-intracranial-response.csv"), stringsAsFactors = FALSE)
her2 <- her2[her2$drug_class == "antibody-drug conjugate" & her2$role == "experimental" &
             her2$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
pritz <- dat.pritz1997

datasets <- list(
  her2_tdxd = list(x = her2$events, n = her2$total, labels = paste0(her2$study, " (", her2$population, ")"),
                   source = "Datasets/her2-bm-intracranial-response.csv, drug_class = antibody-drug conjugate, role = experimental, endpoint IC-ORR or CNS-ORR (as generate_bayes.R), events and total",
                   cases = list(
                     list(name = "halfnormal_flat", tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "flat"), theta = 1:7),
                     list(name = "halfcauchy_normal", tau = list(type = "halfCauchy", scale = 0.5), mu = list(type = "normal", mean = 0, sd = 4), theta = integer(0)),
                     list(name = "lognormal_normal", tau = list(type = "logNormal", mu = -1.5, sigma = 1), mu = list(type = "normal", mean = 0, sd = 4), theta = integer(0)))),
  pritz1997 = list(x = pritz$xi, n = pritz$ni, labels = as.character(pritz$authors),
                   source = "metadat::dat.pritz1997, xi of ni",
                   cases = list(
                     list(name = "halfnormal_normal", tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "normal", mean = 0, sd = 4), theta = c(3L, 5L)),
                     list(name = "halfcauchy_flat", tau = list(type = "halfCauchy", scale = 1), mu = list(type = "flat"), theta = integer(0)))),
  her2_two = list(x = her2$events[3:4], n = her2$total[3:4], labels = paste0(her2$study, " (", her2$population, ")")[3:4],
                  source = "DEBBRAH cohorts 2 and 3 of her2_tdxd",
                  cases = list(
                    list(name = "halfnormal_normal", tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "normal", mean = 0, sd = 2), theta = 1:2),
                    list(name = "uniform_flat", tau = list(type = "uniform", upper = 2), mu = list(type = "flat"), theta = integer(0))))
)

prior_json <- function(p) lapply(p, function(v) if (is.numeric(v)) num(v) else v)
only <- Sys.getenv("ONLY", "")
for (name in names(datasets)) {
  if (nzchar(only) && name != only) next
  d <- datasets[[name]]
  t0 <- Sys.time()
  cases <- lapply(d$cases, function(cs) {
    r <- posterior(d$x, d$n, cs$tau, cs$mu, theta_index = cs$theta)
    c(list(name = cs$name, tau_prior = prior_json(cs$tau), mu_prior = prior_json(cs$mu)), r)
  })
  doc <- list(dataset = name, source = d$source, generated_by = "Tests/Reference/generate_bayes_binomial.R",
              r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
              level = num(LEVEL), threshold = num(THRESHOLD), k = length(d$x),
              data = list(events = vec(d$x), totals = vec(d$n), labels = d$labels), cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, null = "null", json_verbatim = TRUE, digits = NA), file.path(out, paste0(name, ".expected.json")))
  cat(sprintf("%s: %d cases, %.0f s\n", name, length(cases), as.numeric(difftime(Sys.time(), t0, units = "secs"))))
}

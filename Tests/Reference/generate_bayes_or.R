#!/usr/bin/env Rscript
# Reference values for the Bayesian random-effects model of log odds ratios with the exact conditional
# likelihood (OddsRatioBayesianMetaAnalysis): given m_i = a_i + c_i, a_i ~ noncentral hypergeometric,
#
#   P(a | m, theta) = C(n1, a) C(n2, m - a) e^(theta a) / sum_u C(n1, u) C(n2, m - u) e^(theta u),
#   u = max(0, m - n2) .. min(n1, m)   (Van Houwelingen, Zwinderman & Stijnen 1993, Stat Med 12:2273),
#   theta_i ~ N(mu, tau^2), tau ~ p(tau), mu ~ N(m, s^2) or flat,
#
# computed from the formulas, independently of the Swift code: the pmf with lchoose() and log-sum-exp
# over u (the terms within 80 of the largest, for the thetas of a call), L_i(mu, tau) by the same
# double-exponential rule as generate_bayes_binomial.R, and the integrals over mu and tau, densities,
# quantiles and intervals by that script's posterior() (sourced with ONLY=-, so that it computes nothing).
#
#   cd <package root> && Rscript Tests/Reference/generate_bayes_or.R
#
# Output: Tests/MetaPoolTests/Fixtures/bayes_or/NAME.expected.json, as generate_bayes_binomial.R writes
# (without rates; theta on the log odds ratio scale). GMU and GTAU (grid sizes) as there. nielweise6 at the
# default grids: 24 minutes (on a shared machine); hine1989: 13 minutes.

Sys.setenv(ONLY = "-")
source(file.path("Tests", "Reference", "generate_bayes_binomial.R"))
out <- file.path("Tests", "MetaPoolTests", "Fixtures", "bayes_or")
dir.create(out, showWarnings = FALSE, recursive = TRUE)

# One study: log weights lw_u = lchoose(n1, u) + lchoose(n2, m - u) on u shifted to 0..D, a shifted.
or_study <- function(a, n1, c, n2) {
  m <- a + c
  low <- max(0, m - n2); high <- min(n1, m)
  u <- low:high
  list(lw = lchoose(n1, u) + lchoose(n2, m - u), a = a - low, D = high - low)
}

# K(t) = log sum_u exp(lw_u + t u), K'(t), K''(t) for a vector t.
cumulant <- function(st, t) {
  u <- 0:st$D
  # the u within 80 of the largest term at the smallest or largest t (the window moves with t)
  keep <- function(tt) { e <- st$lw + tt * u; which(e >= max(e) - 80) }
  idx <- range(c(keep(min(t)), keep(max(t))))
  uu <- u[idx[1]:idx[2]]; lw <- st$lw[idx[1]:idx[2]]
  E <- outer(t, uu) + rep(lw, each = length(t))
  mx <- apply(E, 1, max)
  W <- exp(E - mx)
  s0 <- rowSums(W)
  m1 <- as.vector(W %*% uu) / s0
  m2 <- as.vector(W %*% (uu^2)) / s0
  list(K = mx + log(s0), K1 = m1, K2 = pmax(0, m2 - m1^2))
}

ORS <- NULL
logL_or <- function(mu, tau, i, dummy, rule = DE, moments = FALSE) {
  st <- ORS[[i]]
  a <- st$a
  lc <- st$lw[a + 1]
  if (st$D == 0) {
    v <- 0 * mu
    return(if (moments) list(log = v, mean = mu, var = 0 * mu + tau^2) else v)
  }
  if (tau == 0) {
    v <- lc + a * mu - cumulant(st, mu)$K
    return(if (moments) list(log = v, mean = mu, var = 0 * mu) else v)
  }
  t2 <- tau^2
  lo <- mu + t2 * (a - st$D); hi <- mu + t2 * a
  th <- pmin(pmax(mu, lo), hi)
  for (it in 1:300) {
    k <- cumulant(st, th)
    g <- a - k$K1 - (th - mu) / t2
    lo <- ifelse(g > 0, th, lo); hi <- ifelse(g < 0, th, hi)
    nx <- th + g / (k$K2 + 1 / t2)
    bad <- !(nx > lo & nx < hi)
    nx[bad] <- (lo[bad] + hi[bad]) / 2
    done <- max(abs(nx - th)) < 1e-12
    th <- nx
    if (done) break
  }
  sig <- 1 / sqrt(cumulant(st, th)$K2 + 1 / t2)
  D <- outer(sig, rule$s)
  TH <- th + D
  psi <- function(t, m) a * t - cumulant(st, t)$K - (t - m)^2 / (2 * t2)
  p0 <- psi(th, mu)
  E <- matrix(exp(psi(as.vector(TH), rep(mu, times = ncol(TH))) - p0), nrow(TH))
  rule_sum(E, D, th, lc + p0, sig, tau, rule, moments)
}

hine <- dat.hine1989
niel <- dat.nielweise2007[1:6, ]
datasets <- list(
  hine1989 = list(a = hine$ai, n1 = hine$n1i, c = hine$ci, n2 = hine$n2i, labels = as.character(hine$source),
                  source = "metadat::dat.hine1989 (prophylactic lidocaine, deaths): ai of n1i (lidocaine), ci of n2i (control)",
                  cases = list(list(name = "halfnormal_normal", tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "normal", mean = 0, sd = 4), theta = c(1L, 6L)),
                               list(name = "halfcauchy_flat", tau = list(type = "halfCauchy", scale = 0.5), mu = list(type = "flat"), theta = c(2L)))),
  nielweise6 = list(a = niel$ai, n1 = niel$n1i, c = niel$ci, n2 = niel$n2i, labels = paste(niel$author, niel$year),
                    source = "metadat::dat.nielweise2007 studies 1-6 (two with no treatment events), ai of n1i, ci of n2i",
                    cases = list(list(name = "halfnormal_normal", tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "normal", mean = 0, sd = 4), theta = c(1L, 5L)),
                                 list(name = "halfnormal_flat", tau = list(type = "halfNormal", scale = 1), mu = list(type = "flat"), theta = integer(0))))
)

only <- Sys.getenv("ONLY_OR", "")
for (name in names(datasets)) {
  if (nzchar(only) && name != only) next
  d <- datasets[[name]]
  ORS <- lapply(seq_along(d$a), function(i) or_study(d$a[i], d$n1[i], d$c[i], d$n2[i]))
  start <- log((sum(d$a) + 0.5) * (sum(d$n2 - d$c) + 0.5) / ((sum(d$n1 - d$a) + 0.5) * (sum(d$c) + 0.5)))
  t0 <- Sys.time()
  cases <- lapply(d$cases, function(cs) {
    r <- posterior(seq_along(d$a), rep(0, length(d$a)), cs$tau, cs$mu, theta_index = cs$theta, loglik = logL_or,
                   start = start, with_rates = FALSE)
    c(list(name = cs$name, tau_prior = prior_json(cs$tau), mu_prior = prior_json(cs$mu)), r)
  })
  doc <- list(dataset = name, source = d$source, generated_by = "Tests/Reference/generate_bayes_or.R",
              r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
              level = num(LEVEL), threshold = num(THRESHOLD), k = length(d$a),
              data = list(treat_events = vec(d$a), treat_totals = vec(d$n1), control_events = vec(d$c),
                          control_totals = vec(d$n2), labels = d$labels), cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, null = "null", json_verbatim = TRUE, digits = NA), file.path(out, paste0(name, ".expected.json")))
  cat(sprintf("%s: %d cases, %.0f s\n", name, length(cases), as.numeric(difftime(Sys.time(), t0, units = "secs"))))
}

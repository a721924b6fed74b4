#!/usr/bin/env Rscript
# An MCMC check of the Bayesian hypergeometric-normal model of log odds ratios (OddsRatioBayesianMetaAnalysis),
# independent of both quadratures (the Swift one and generate_bayes_or.R):
#
#   a_i | m_i ~ noncentral hypergeometric: log P = lw_i(a_i) + theta_i a_i - log sum_u exp(lw_i(u) + theta_i u),
#   lw_i(u) = lchoose(n1_i, u) + lchoose(n2_i, m_i - u), u = max(0, m_i - n2_i) .. min(n1_i, m_i)
#   (Van Houwelingen, Zwinderman & Stijnen 1993), theta_i = mu + tau z_i, z_i ~ N(0, 1) (non-centred),
#   tau ~ half-normal(scale), mu ~ N(m, s^2) or flat,
#
# sampled by Stan's NUTS (rstan), 4 chains of 300000 draws after 2000 of warm-up, adapt_delta 0.995 (0.95 left
# 14 divergent transitions in nielweise6 with its flat prior on mu), as
# generate_bayes_binomial_mcmc.R samples the binomial-normal model. For tau, mu, theta_new = mu + tau z and
# each theta_i the file stores the posterior mean and the 2.5%, 50% and 97.5% quantiles with their Monte
# Carlo standard errors by batch means (each chain cut into 50 batches; MCSE = sd of the 200 batch
# estimates / sqrt(200)). A study with a single possible a_i (no events, or only events, in both groups)
# contributes nothing to the likelihood; its theta_i is then the predictive.
#
#   cd <package root> && Rscript Tests/Reference/generate_bayes_or_mcmc.R
#
# Writes Tests/MetaPoolTests/Fixtures/bayes_or/NAME.mcmc.json: dataset, case (the case of NAME.expected.json
# with the same priors), priors, draws, seed, divergent, quantities {tau, mu, prediction, theta_1 ... theta_k:
# {mean, mean_mcse, q025, q025_mcse, q50, q50_mcse, q975, q975_mcse}}.

source(file.path("Tests", "Reference", "mcmc_common.R"))

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "bayes_or")
code <- "
data {
  int<lower=1> k;
  int<lower=1> width;            // 1 + the largest D_i
  int<lower=0> D[k];             // a_i ranges over 0 .. D_i (shifted by its lower bound)
  int<lower=0> a[k];
  matrix[k, width] lw;           // log weights, 0 beyond D_i (unused)
  int<lower=0, upper=1> flat_mu;
  real mu_mean;
  real<lower=0> mu_sd;
  real<lower=0> tau_scale;
}
transformed data {
  vector[width] u;
  for (j in 1:width) u[j] = j - 1;
}
parameters {
  real mu;
  real<lower=0> tau;
  vector[k] z;
}
transformed parameters {
  vector[k] theta = mu + tau * z;
}
model {
  if (flat_mu == 0) mu ~ normal(mu_mean, mu_sd);
  tau ~ normal(0, tau_scale);
  z ~ std_normal();
  for (i in 1:k) {
    if (D[i] > 0) {
      target += lw[i, a[i] + 1] + theta[i] * a[i]
                - log_sum_exp(to_vector(lw[i, 1:(D[i] + 1)]) + theta[i] * u[1:(D[i] + 1)]);
    }
  }
}
generated quantities {
  real theta_new = mu + tau * normal_rng(0, 1);
}
"
model <- stan_model(model_code = code)

# One study's support and log weights (shifted to start at 0).
weights <- function(a, n1, c, n2) {
  m <- a + c
  low <- max(0, m - n2); high <- min(n1, m)
  u <- low:high
  list(lw = lchoose(n1, u) + lchoose(n2, m - u), a = a - low, D = high - low)
}

hine <- dat.hine1989
niel <- dat.nielweise2007[1:6, ]
runs <- list(
  list(dataset = "hine1989", case = "halfnormal_normal", a = hine$ai, n1 = hine$n1i, c = hine$ci, n2 = hine$n2i,
       tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "normal", mean = 0, sd = 4), seed = 20261209),
  list(dataset = "nielweise6", case = "halfnormal_flat", a = niel$ai, n1 = niel$n1i, c = niel$ci, n2 = niel$n2i,
       tau = list(type = "halfNormal", scale = 1), mu = list(type = "flat"), seed = 20261210))

for (r in runs) {
  t0 <- Sys.time()
  st <- lapply(seq_along(r$a), function(i) weights(r$a[i], r$n1[i], r$c[i], r$n2[i]))
  width <- max(sapply(st, `[[`, "D")) + 1
  lw <- t(sapply(st, function(s) c(s$lw, rep(0, width - length(s$lw)))))
  if (width == 1) lw <- matrix(lw, ncol = 1)
  data <- list(k = length(st), width = width, D = sapply(st, `[[`, "D"), a = sapply(st, `[[`, "a"), lw = lw,
               flat_mu = as.integer(r$mu$type == "flat"),
               mu_mean = if (is.null(r$mu$mean)) 0 else r$mu$mean, mu_sd = if (is.null(r$mu$sd)) 1 else r$mu$sd,
               tau_scale = r$tau$scale)
  fit <- sampling(model, data = data, chains = CHAINS, iter = ITER + WARMUP, warmup = WARMUP, seed = r$seed,
                  control = list(adapt_delta = 0.995), refresh = 0)
  arr <- as.array(fit)  # iterations x chains x parameters
  get <- function(p) arr[, , p]
  q <- list(tau = summarise(get("tau")), mu = summarise(get("mu")), prediction = summarise(get("theta_new")))
  for (i in seq_along(st)) q[[paste0("theta_", i)]] <- summarise(get(sprintf("theta[%d]", i)))
  divergent <- sum(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(s) sum(s[, "divergent__"])))
  doc <- list(dataset = r$dataset, case = r$case, generated_by = "Tests/Reference/generate_bayes_or_mcmc.R",
              r_version = R.version.string, rstan_version = as.character(packageVersion("rstan")),
              tau_prior = r$tau, mu_prior = r$mu, chains = CHAINS, draws_per_chain = ITER, warmup = WARMUP,
              seed = r$seed, divergent = divergent, quantities = q)
  writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE, digits = NA),
             file.path(out, paste0(r$dataset, ".mcmc.json")))
  cat(sprintf("%s: %d divergent, %.0f s\n", r$dataset, divergent, as.numeric(difftime(Sys.time(), t0, units = "secs"))))
}

#!/usr/bin/env Rscript
# An MCMC check of the Bayesian binomial-normal model (BinomialBayesianMetaAnalysis), independent of both
# quadratures (the Swift one and generate_bayes_binomial.R):
#
#   x_i ~ Binomial(n_i, expit(theta_i)), theta_i = mu + tau z_i, z_i ~ N(0, 1) (non-centred),
#   tau ~ half-normal(scale), mu ~ N(m, s^2) or flat,
#
# sampled by Stan's NUTS (rstan), 4 chains of 300000 draws after 2000 of warm-up, adapt_delta 0.95.
# For each quantity (tau, mu, theta_new = mu + tau z, the conditional rate expit(mu), the population-averaged
# rate int expit(mu + tau z) phi(z) dz computed per draw by 64-point Gauss-Hermite, theta_i) the file stores
# the posterior mean and the 2.5%, 50% and 97.5% quantiles with their Monte Carlo standard errors by batch
# means (each chain cut into 50 batches of 6000 draws; MCSE = sd of the 200 batch estimates / sqrt(200)).
#
#   cd <package root> && Rscript Tests/Reference/generate_bayes_binomial_mcmc.R
#
# Made with R 4.2.2, rstan 2.21.7 (Stan 2.21), metadat 1.2-0, jsonlite 1.8.4. About 4 minutes (one compilation).
# Writes Tests/MetaPoolTests/Fixtures/bayes_binomial/NAME.mcmc.json:
# dataset, case (the name of the case in NAME.expected.json with the same priors), priors, draws, seed,
# quantities {tau, mu, prediction, conditional_rate, population_rate, theta_1 ... theta_k: {mean, mean_mcse,
# q025, q025_mcse, q50, q50_mcse, q975, q975_mcse}}.

source(file.path("Tests", "Reference", "mcmc_common.R"))

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "bayes_binomial")
code <- "
data {
  int<lower=1> k;
  int<lower=0> x[k];
  int<lower=1> n[k];
  int<lower=0, upper=1> flat_mu;
  real mu_mean;
  real<lower=0> mu_sd;
  real<lower=0> tau_scale;
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
  x ~ binomial_logit(n, theta);
}
generated quantities {
  real theta_new = mu + tau * normal_rng(0, 1);
}
"
model <- stan_model(model_code = code)

gh <- local({
  # 64-point Gauss-Hermite for the weight phi(z) (Golub-Welsch).
  q <- 64
  J <- matrix(0, q, q)
  for (j in 1:(q - 1)) J[j, j + 1] <- J[j + 1, j] <- sqrt(j)
  e <- eigen(J, symmetric = TRUE)
  list(z = e$values, w = e$vectors[1, ]^2)
})
population_rate <- function(mu, tau) as.vector(plogis(outer(mu, rep(1, 64)) + outer(tau, gh$z)) %*% gh$w)

her2 <- read.csv(file.path("Datasets", "her2-bm-intracranial-response.csv"), stringsAsFactors = FALSE)
her2 <- her2[her2$drug_class == "antibody-drug conjugate" & her2$role == "experimental" &
             her2$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
runs <- list(
  list(dataset = "her2_tdxd", case = "halfnormal_flat", x = her2$events, n = her2$total,
       tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "flat"), seed = 20261207),
  list(dataset = "pritz1997", case = "halfnormal_normal", x = dat.pritz1997$xi, n = dat.pritz1997$ni,
       tau = list(type = "halfNormal", scale = 0.5), mu = list(type = "normal", mean = 0, sd = 4), seed = 20261208))

for (r in runs) {
  t0 <- Sys.time()
  data <- list(k = length(r$x), x = r$x, n = r$n, flat_mu = as.integer(r$mu$type == "flat"),
               mu_mean = if (is.null(r$mu$mean)) 0 else r$mu$mean, mu_sd = if (is.null(r$mu$sd)) 1 else r$mu$sd,
               tau_scale = r$tau$scale)
  fit <- sampling(model, data = data, chains = CHAINS, iter = ITER + WARMUP, warmup = WARMUP, seed = r$seed,
                  control = list(adapt_delta = 0.95), refresh = 0)
  a <- as.array(fit)  # iterations x chains x parameters
  get <- function(p) a[, , p]
  mu <- get("mu"); tau <- get("tau")
  q <- list(tau = summarise(tau), mu = summarise(mu), prediction = summarise(get("theta_new")),
            conditional_rate = summarise(plogis(mu)),
            population_rate = summarise(matrix(population_rate(as.vector(mu), as.vector(tau)), nrow(mu))))
  for (i in seq_along(r$x)) q[[paste0("theta_", i)]] <- summarise(get(sprintf("theta[%d]", i)))
  divergent <- sum(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(s) sum(s[, "divergent__"])))
  doc <- list(dataset = r$dataset, case = r$case, generated_by = "Tests/Reference/generate_bayes_binomial_mcmc.R",
              r_version = R.version.string, rstan_version = as.character(packageVersion("rstan")),
              tau_prior = r$tau, mu_prior = r$mu, chains = CHAINS, draws_per_chain = ITER, warmup = WARMUP,
              seed = r$seed, divergent = divergent, quantities = q)
  writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE, digits = NA),
             file.path(out, paste0(r$dataset, ".mcmc.json")))
  cat(sprintf("%s: %d divergent, %.0f s\n", r$dataset, divergent, as.numeric(difftime(Sys.time(), t0, units = "secs"))))
}

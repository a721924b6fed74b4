# Shared by the MCMC reference scripts (generate_bayes_binomial_mcmc.R, generate_bayes_or_mcmc.R): rstan loaded
# (with Debian's BH headers worked around), the run's size, and the summaries with their Monte Carlo errors.

# Debian's r-cran-bh ships no headers (it uses the system Boost in /usr/include), but rstan looks for
# BH's include directory: give it one in a temporary library that points at the system Boost.
if (!nzchar(system.file("include", package = "BH")) && dir.exists("/usr/include/boost")) {
  lib <- file.path(tempdir(), "bh-lib")
  dir.create(lib, showWarnings = FALSE)
  file.copy(find.package("BH"), lib, recursive = TRUE)
  dir.create(file.path(lib, "BH", "include"), showWarnings = FALSE)
  file.symlink("/usr/include/boost", file.path(lib, "BH", "include", "boost"))
  .libPaths(c(lib, .libPaths()))
}
suppressPackageStartupMessages({ library(rstan); library(metadat); library(jsonlite) })
rstan_options(auto_write = FALSE)
options(mc.cores = 2)

num <- function(x) structure(sprintf("%.17g", x), class = "json")

CHAINS <- 4; ITER <- 300000; WARMUP <- 2000; BATCHES <- 50

# The posterior mean and the 2.5%, 50% and 97.5% quantiles of `draws` (iterations x chains), each with its
# Monte Carlo standard error by batch means (each chain cut into BATCHES batches; MCSE = sd of the batch
# estimates / sqrt(their number)).
summarise <- function(draws) {
  b <- nrow(draws) %/% BATCHES
  est <- function(f) {
    whole <- f(as.vector(draws))
    parts <- unlist(lapply(1:ncol(draws), function(ch) sapply(1:BATCHES, function(j) f(draws[((j - 1) * b + 1):(j * b), ch]))))
    c(whole, sd(parts) / sqrt(length(parts)))
  }
  m <- est(mean); lo <- est(function(v) quantile(v, 0.025, names = FALSE))
  md <- est(function(v) quantile(v, 0.5, names = FALSE)); hi <- est(function(v) quantile(v, 0.975, names = FALSE))
  list(mean = num(m[1]), mean_mcse = num(m[2]), q025 = num(lo[1]), q025_mcse = num(lo[2]),
       q50 = num(md[1]), q50_mcse = num(md[2]), q975 = num(hi[1]), q975_mcse = num(hi[2]))
}

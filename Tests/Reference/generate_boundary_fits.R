#!/usr/bin/env Rscript
# Reference values from R's metafor for fits that MetaPool once refused (exit 70) although metafor
# fits them (issue 18, item 9): data whose likelihood peaks at or next to tau^2 = 0.
#
#   cd <package root> && Rscript Tests/Reference/generate_boundary_fits.R
#
# Generated with R 4.2.2 and metafor 3.8-1 (jsonlite). Writes
# Tests/MetaPoolTests/Fixtures/boundary/fits.json, read by Tests/MetaPoolTests/BoundaryFitTests.swift.
#
# Cases:
#   reml_k3_boundary   (yi, vi) = (0.1759, 0.0126), (0.1832, 0.0232), (-0.3523, 0.0672): the REML
#                      likelihood is maximal at tau^2 = 0 (found by the issue's random k = 3 sweep)
#                      fitted with every tau^2 estimator.
#   sweep_*            inputs from the randomized sweep of issue 18 (10^5 random k = 3..6 analyses
#                      through REML ML PM EB SJ HE DL, the first 4000 compared with metafor), listed
#                      in Tests/Reference/boundary_sweep_cases.csv (case, yi, vi), every estimator:
#                      s3253's REML score is negative at 0 and still has a root at 0.1077.
#   glmm_plo_laplace   events 3,1,2,0,2,2,0,1,1,3 of 5 each, rma.glmm(measure = "PLO", nAGQ = 1):
#                      tau^2 about 3e-8, estimate -0.847.
#
# Every rma() fit uses control = list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4); rma.glmm
# uses lme4's glmer with nAGQ = 1 (Laplace) and metafor's defaults otherwise; its tolerances are
# looser (the optimiser stops near tau = 0), so the tests compare it at 1e-4.

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "boundary")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
CTL <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)
methods <- c("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS")

# Doubles written as the shortest of %.15g/%.16g/%.17g that reads back as the same value
# (jsonlite itself rounds to 15 significant digits).
roundtrip <- function(x) {
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(s) == x) return(s)
  }
  s
}
num <- function(x) {
  if (is.null(x) || length(x) != 1 || !is.finite(x)) return(NULL)
  structure(roundtrip(as.numeric(x)), class = "json")
}
vec <- function(x) structure(paste0("[", paste(vapply(as.numeric(x), roundtrip, ""), collapse = ", "), "]"), class = "json")

uni <- list(
  reml_k3_boundary = list(yi = c(0.1759, 0.1832, -0.3523), vi = c(0.0126, 0.0232, 0.0672))
)
extra <- "Tests/Reference/boundary_sweep_cases.csv"
if (file.exists(extra)) {
  d <- read.csv(extra, stringsAsFactors = FALSE)
  for (name in unique(d$case)) {
    s <- d[d$case == name, ]
    uni[[name]] <- list(yi = s$yi, vi = s$vi)
  }
}

cases <- list()
for (name in names(uni)) {
  u <- uni[[name]]
  for (m in methods) {
    fit <- try(rma(u$yi, u$vi, method = m, control = CTL), silent = TRUE)
    if (inherits(fit, "try-error")) {
      cases[[length(cases) + 1]] <- list(name = name, yi = vec(u$yi), vi = vec(u$vi), method = m,
                                         error = as.character(attr(fit, "condition")$message))
      next
    }
    cases[[length(cases) + 1]] <- list(name = name, yi = vec(u$yi), vi = vec(u$vi), method = m,
      tau2 = num(fit$tau2), estimate = num(fit$b), se = num(fit$se),
      ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub), q = num(fit$QE),
      i2 = num(fit$I2), h2 = num(fit$H2))
  }
}

xi <- c(3, 1, 2, 0, 2, 2, 0, 1, 1, 3); ni <- rep(5, 10)
g <- rma.glmm(measure = "PLO", xi = xi, ni = ni, nAGQ = 1)
glmm <- list(name = "glmm_plo_laplace", events = xi, totals = ni, quadrature_points = 1,
             tau2 = num(g$tau2), estimate = num(g$b), se = num(g$se),
             ci_lower = num(g$ci.lb), ci_upper = num(g$ci.ub))

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")),
                       description = "written by Tests/Reference/generate_boundary_fits.R",
                       cases = cases, glmm = list(glmm)),
                  auto_unbox = TRUE, pretty = TRUE, null = "null", json_verbatim = TRUE),
           file.path(out, "fits.json"))

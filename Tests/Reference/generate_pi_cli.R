#!/usr/bin/env Rscript
# Reference values for `metapool pool --pi z|t|riley|metafor --threshold c --format json` on the
# shipped datasets (Datasets/), from metafor fits with full control and the formulas written here:
#   PI = mu +- c sqrt(se^2 + tau^2), c = qnorm(0.975) (z), qt(0.975, k - 1) (t), qt(0.975, k - 2)
#   (riley); "metafor" is predict()'s default (z under test = "z", t on k - 1 df under knha);
#   where metafor's predict(pi.type = "t" | "riley") applies it is checked to agree (1e-12).
#   P(theta_new > c) = 1 - F((c - mu)/sqrt(se^2 + tau^2)) on the interval's distribution,
#   P(mu > c)        = 1 - F((c - mu)/se) on the model's z or t.
# The threshold is given on the natural scale and taken to the analysis scale with the measure's
# transformation (qlogis for PLO, log for HR and OR). The default (no --pi) is t for proportions and
# hazard ratios, metafor's for other measures. GLMM: rma.glmm("PLO", nAGQ = 7) with the t PI.
#
#   cd <package root> && Rscript Tests/Reference/generate_pi_cli.R

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
ctrl <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)

hr <- read.csv("Datasets/her2-bm-hazard-ratios.csv")
orr <- read.csv("Datasets/her2-bm-intracranial-response.csv")
bcg <- read.csv("Datasets/bcg-vaccine.csv")
pritz <- read.csv("Datasets/pritz1997-hyperdynamic-therapy.csv")

pfs <- hr[hr$endpoint == "PFS", ]
tdxd <- orr[orr$regimen == "trastuzumab deruxtecan" & orr$population == "active" & orr$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
analyses <- list(
  list(name = "her2_pfs", file = "Datasets/her2-bm-hazard-ratios.csv", where = list("endpoint=PFS"), threshold = 1,
       transform = log, default = "t",
       d = data.frame(yi = log(pfs$hr), vi = ((log(pfs$hr_upper) - log(pfs$hr_lower)) / (2 * qnorm(0.975)))^2)),
  list(name = "her2_tdxd_active", file = "Datasets/her2-bm-intracranial-response.csv",
       where = list("regimen=trastuzumab deruxtecan", "population=active", "endpoint=IC-ORR", "endpoint=CNS-ORR"),
       threshold = 0.3, transform = qlogis, default = "t", d = escalc("PLO", xi = events, ni = total, data = tdxd)),
  list(name = "bcg", file = "Datasets/bcg-vaccine.csv", where = list(), threshold = 0.5, transform = log, default = "metafor",
       d = escalc("OR", ai = treat_events, n1i = treat_total, ci = control_events, n2i = control_total, data = bcg)),
  list(name = "pritz1997", file = "Datasets/pritz1997-hyperdynamic-therapy.csv", where = list(), threshold = 0.8,
       transform = qlogis, default = "t", d = escalc("PLO", xi = events, ni = total, data = pritz)))

cases <- list()
for (a in analyses) for (test in c("z", "knha")) {
  m <- rma(yi, vi, data = a$d, method = "REML", test = test, control = ctrl)
  k <- m$k
  p <- predict(m)
  model_df <- if (test == "z") Inf else k - 1
  for (pi in c("default", "metafor", "z", "t", "riley")) {
    type <- if (pi == "default") a$default else pi
    df <- switch(type, metafor = model_df, z = Inf, t = k - 1, riley = k - 2)
    crit <- if (is.finite(df)) qt(0.975, df) else qnorm(0.975)
    h <- crit * sqrt(p$se^2 + m$tau2)
    lower <- p$pred - h; upper <- p$pred + h
    if (type %in% c("t", "riley")) {
      q <- predict(m, pi.type = type)
      stopifnot(abs(q$pi.lb - lower) < 1e-12, abs(q$pi.ub - upper) < 1e-12)
    }
    if (type == "metafor") stopifnot(abs(p$pi.lb - lower) < 1e-12, abs(p$pi.ub - upper) < 1e-12)
    c <- a$transform(a$threshold)
    new_study <- pt((c - p$pred) / sqrt(p$se^2 + m$tau2), df, lower.tail = FALSE)
    mean <- pt((c - p$pred) / p$se, model_df, lower.tail = FALSE)
    cases[[length(cases) + 1]] <- list(
      name = a$name, file = a$file, where = a$where, method = "REML", ci = if (test == "z") "wald" else "hksj",
      pi = pi, pi_method = if (type == "metafor") (if (test == "z") "z" else "t") else type,
      pi_df = if (is.finite(df)) df else NULL, k = k, estimate = p$pred, se = p$se, tau2 = m$tau2,
      pi_lower = lower, pi_upper = upper, threshold = a$threshold, threshold_analysis_scale = c,
      p_new_study_exceeds = new_study, p_mean_exceeds = mean)
  }
}

# The GLMM (binomial-normal, nAGQ = 7) with the t prediction interval on k - 1 df (the default for
# proportions) and the z one (--pi z, metafor's predict() for rma.glmm).
for (a in analyses[c(2, 4)]) {
  d <- a$d
  m <- rma.glmm(measure = "PLO", xi = d$events, ni = d$total, nAGQ = 7,
                control = list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5))))
  k <- m$k
  for (pi in c("default", "z", "t", "riley")) {
    type <- if (pi == "default") "t" else pi
    df <- switch(type, z = Inf, t = k - 1, riley = k - 2)
    crit <- if (is.finite(df)) qt(0.975, df) else qnorm(0.975)
    h <- crit * sqrt(m$se^2 + m$tau2)
    est <- as.numeric(m$beta)
    if (type == "z") { q <- predict(m); stopifnot(abs(q$pi.lb - (est - h)) < 1e-12) }
    c <- a$transform(a$threshold)
    cases[[length(cases) + 1]] <- list(
      name = paste0(a$name, "_glmm"), file = a$file, where = a$where, method = "GLMM", ci = "wald", pi = pi,
      pi_method = type, pi_df = if (is.finite(df)) df else NULL, k = k, estimate = est, se = m$se, tau2 = m$tau2,
      pi_lower = est - h, pi_upper = est + h, threshold = a$threshold, threshold_analysis_scale = c,
      p_new_study_exceeds = pt((c - est) / sqrt(m$se^2 + m$tau2), df, lower.tail = FALSE),
      p_mean_exceeds = pnorm((c - est) / m$se, lower.tail = FALSE))
  }
}
# Subgroups (--by drug_class, separate tau^2 each; --common-tau2: rma(mods = ~ factor(g) - 1), whose
# predict(pi.type = "t" | "riley") uses k - G (- 1) df) and the batch engine (--batch-column drug_class)
# on the intracranial response arms; riley on k - 2 = 0 df has no interval (metafor would use 1 df).
ic <- orr[orr$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
ic <- escalc("PLO", xi = events, ni = total, data = ic)
classes <- unique(ic$drug_class)
subgroups <- list()
for (pi in c("default", "z", "t", "riley")) {
  type <- if (pi == "default") "t" else pi
  groups <- list()
  for (g in classes) {
    d <- ic[ic$drug_class == g, ]
    k <- nrow(d)
    if (k < 2) { groups[[length(groups) + 1]] <- list(subgroup = g, k = k, pi_lower = NULL, pi_upper = NULL); next }
    m <- rma(yi, vi, data = d, method = "REML", control = ctrl)
    df <- switch(type, z = Inf, t = k - 1, riley = k - 2)
    entry <- list(subgroup = g, k = k, pi_method = type, pi_df = if (is.finite(df)) df else NULL)
    if (df >= 1) {
      crit <- if (is.finite(df)) qt(0.975, df) else qnorm(0.975)
      h <- crit * sqrt(m$se^2 + m$tau2)
      entry$pi_lower <- as.numeric(m$beta) - h; entry$pi_upper <- as.numeric(m$beta) + h
    }
    groups[[length(groups) + 1]] <- entry
  }
  # Common tau^2: the cell-means model; its prediction for each subgroup.
  mc <- rma(yi, vi, mods = ~ factor(drug_class, levels = classes) - 1, data = ic, method = "REML", control = ctrl)
  p <- if (type == "z") predict(mc, newmods = diag(length(classes))) else predict(mc, newmods = diag(length(classes)), pi.type = type)
  if (type == "z") stopifnot(is.null(p$pi.ddf))
  df_common <- switch(type, z = Inf, t = mc$k - mc$p, riley = mc$k - mc$p - 1)
  crit <- if (is.finite(df_common)) qt(0.975, df_common) else qnorm(0.975)
  h <- crit * sqrt(as.numeric(mc$se)^2 + mc$tau2)
  stopifnot(max(abs(p$pi.lb - (as.numeric(mc$beta) - h))) < 1e-12)
  common <- lapply(seq_along(classes), function(j) list(subgroup = classes[j], pi_lower = as.numeric(mc$beta)[j] - h[j],
                                                      pi_upper = as.numeric(mc$beta)[j] + h[j]))
  subgroups[[length(subgroups) + 1]] <- list(pi = pi, pi_method = type, groups = groups,
                                             common_pi_df = if (is.finite(df_common)) df_common else NULL, common = common)
}
writeLines(toJSON(list(generated_by = "Tests/Reference/generate_pi_cli.R", file = "Datasets/her2-bm-intracranial-response.csv",
                       where = list("endpoint=IC-ORR", "endpoint=CNS-ORR"), by = "drug_class", cases = subgroups),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           "Tests/MetaPoolTests/Fixtures/pi_cli/subgroups.json")

# Common-effect models (FE, Mantel-Haenszel, Peto) have no prediction interval: P(mu > c) only.
b <- analyses[[3]]$d
common <- lapply(list(list(method = "FE", fit = rma(yi, vi, data = b, method = "FE")),
                      list(method = "MH", fit = rma.mh(ai = treat_events, n1i = treat_total, ci = control_events, n2i = control_total, data = bcg)),
                      list(method = "PETO", fit = rma.peto(ai = treat_events, n1i = treat_total, ci = control_events, n2i = control_total, data = bcg))),
                 function(x) list(method = x$method, file = "Datasets/bcg-vaccine.csv", threshold = 0.6,
                                  p_mean_exceeds = pnorm((log(0.6) - as.numeric(x$fit$beta)) / x$fit$se, lower.tail = FALSE)))
writeLines(toJSON(list(generated_by = "Tests/Reference/generate_pi_cli.R", cases = common),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "Tests/MetaPoolTests/Fixtures/pi_cli/common_effect.json")

writeLines(toJSON(list(generated_by = "Tests/Reference/generate_pi_cli.R", cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           "Tests/MetaPoolTests/Fixtures/pi_cli/reference.json")

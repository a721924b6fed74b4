#!/usr/bin/env Rscript
# Reference values for subgroups fitted with the count-based models (SubgroupFits in MetaPool):
# each subgroup fitted alone with rma.mh(), rma.peto() or rma.glmm(), and the Wald test for
# subgroup differences, which is the Q statistic of the subgroup estimates with their standard
# errors, rma(yi = estimates, sei = ses, method = "FE")$QE (Borenstein et al. 2009, eq. 19.11;
# R's meta reports the same test for subgroups of such fits). From R's metafor (3.8-1).
#
#   cd <package root> && Rscript Tests/Reference/generate_subgroup_fits.R
#
# Writes Tests/MetaPoolTests/Fixtures/subgroup_fits/NAME.csv (the data with a group column `g`)
# and cases.json.

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "subgroup_fits")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) as.numeric(sprintf("%.17g", x))
tight <- list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))

between <- function(est, se) {
  fit <- rma(yi = est, sei = se, method = "FE")
  list(q = num(fit$QE), df = fit$k - 1, p_value = num(fit$QEp))
}

cases <- list()

# BCG by allocation (metadat::dat.bcg as shipped in Datasets/).
bcg <- read.csv(file.path("Datasets", "bcg-vaccine.csv"))
bcg$g <- bcg$allocation
write.csv(bcg[, c("study", "treat_events", "treat_total", "control_events", "control_total", "g")],
          file.path(out, "bcg.csv"), row.names = FALSE)
levels <- unique(bcg$g)
for (method in c("MH-OR", "MH-RR", "MH-RD", "PETO")) {
  groups <- lapply(levels, function(l) {
    d <- bcg[bcg$g == l, ]
    fit <- if (method == "PETO") rma.peto(ai = d$treat_events, n1i = d$treat_total, ci = d$control_events, n2i = d$control_total)
           else rma.mh(measure = sub("MH-", "", method), ai = d$treat_events, n1i = d$treat_total,
                       ci = d$control_events, n2i = d$control_total)
    list(label = l, k = fit$k, estimate = num(fit$beta), se = num(fit$se))
  })
  cases[[length(cases) + 1]] <- list(
    file = "bcg.csv", method = sub("-.*", "", method),
    measure = if (method == "PETO") "OR" else sub("MH-", "", method), quadrature_points = NULL,
    groups = groups,
    test = between(sapply(groups, `[[`, "estimate"), sapply(groups, `[[`, "se")))
}

# GLMM (binomial-normal, PLO) on two published sets split into two alternating groups.
for (name in c("debruin2009", "pritz1997")) {
  d <- read.csv(file.path("Tests", "MetaPoolTests", "Fixtures", "glmm", paste0(name, ".csv")))
  d$g <- rep(c("a", "b"), length.out = nrow(d))
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  groups <- lapply(c("a", "b"), function(l) {
    s <- d[d$g == l, ]
    fit <- rma.glmm(measure = "PLO", xi = s$events, ni = s$total, nAGQ = 7, control = tight)
    list(label = l, k = fit$k, estimate = num(fit$beta), se = num(fit$se))
  })
  cases[[length(cases) + 1]] <- list(
    file = paste0(name, ".csv"), method = "GLMM", measure = "PLO", quadrature_points = 7,
    groups = groups,
    test = between(sapply(groups, `[[`, "estimate"), sapply(groups, `[[`, "se")))
}

writeLines(toJSON(list(metafor = as.character(packageVersion("metafor")), cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           file.path(out, "cases.json"))

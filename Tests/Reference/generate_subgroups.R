#!/usr/bin/env Rscript
# Reference values for subgroup analysis (`metapool pool --by COLUMN`) from R's metafor.
#
#   cd <package root> && Rscript Tests/Reference/generate_subgroups.R
#
# For each dataset and setting: one rma() per level of the grouping column (subset =), its own
# tau^2; a level with one study is that study (method = "FE", test = "z"). The test for subgroup
# differences is the fixed-effect pooling of the subgroup estimates with their standard errors
# as fitted: rma(yi = b_g, sei = se_g, method = "FE")$QE, df = G - 1, QEp. Writes
# Tests/MetaPoolTests/Fixtures/subgroups/NAME.csv and NAME.expected.json.
#
# With one tau^2 common to all subgroups (`--common-tau2`): tau^2, QE and the omnibus test QM
# come from rma(yi, vi, mods = ~ g), the subgroup estimates (and predict() intervals) from
# rma(yi, vi, mods = ~ g - 1), g the factor of levels in order of first appearance; every
# estimator and test. Writes NAME.common.expected.json.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "subgroups")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
tests <- c(wald = "z", t = "t", hksj = "knha")
all_tests <- c(tests, "hksj-adhoc" = "adhoc")
all_methods <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "HS", "EB")
ctl <- list(threshold = 1e-14, tol = 1e-12, maxiter = 10000)

datasets <- list(
  bcg = list(
    data = with(dat.bcg, data.frame(study = paste(author, year), treat_events = tpos,
      treat_total = tpos + tneg, control_events = cpos, control_total = cpos + cneg, allocation = alloc)),
    by = "allocation", measures = c("OR", "RR"),
    source = "metadat::dat.bcg (Colditz et al. 1994)"),
  bangertdrowns2004 = list(
    data = with(dat.bangertdrowns2004, data.frame(study = paste(author, year), yi = yi, vi = vi,
      grade = paste0("grade ", grade))),
    by = "grade", measures = c("GEN"),
    source = "metadat::dat.bangertdrowns2004 (Bangert-Drowns et al. 2004)"),
  debruin2009 = list(
    data = with(dat.debruin2009, data.frame(study = paste(author, year), events = xi, total = ni,
      patients = patients)),
    by = "patients", measures = c("PLO", "PR"),
    source = "metadat::dat.debruin2009 (de Bruin et al. 2009)")
)

effects <- function(d, measure) {
  if (measure == "GEN") {
    es <- d[, c("yi", "vi")]
  } else if (measure %in% c("OR", "RR")) {
    es <- escalc(measure, ai = d$treat_events, n1i = d$treat_total, ci = d$control_events, n2i = d$control_total)
  } else {
    es <- escalc(measure, xi = d$events, ni = d$total)
  }
  es
}

fit_one <- function(d, measure, method, test) {
  es <- effects(d, measure)
  if (nrow(d) == 1) { method <- "FE"; test <- "z" }
  rma(yi = es$yi, vi = es$vi, method = method, test = test, control = ctl)
}

for (name in names(datasets)) {
  spec <- datasets[[name]]
  d <- spec$data
  csv <- file.path(out, paste0(name, ".csv"))
  write.csv(d, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  levels <- unique(trimws(d[[spec$by]]))
  cases <- list()
  for (measure in spec$measures) for (method in c("FE", "DL", "REML", "PM")) for (ci in names(tests)) {
    groups <- lapply(levels, function(l) {
      f <- fit_one(d[trimws(d[[spec$by]]) == l, ], measure, method, tests[[ci]])
      list(subgroup = l, k = f$k, estimate = num(f$b[1]), se = num(f$se), ci_lower = num(f$ci.lb),
           ci_upper = num(f$ci.ub), tau2 = if (f$method == "FE") NULL else num(f$tau2))
    })
    b <- sapply(groups, `[[`, "estimate"); se <- sapply(groups, `[[`, "se")
    between <- rma(yi = b, sei = se, method = "FE")
    overall <- fit_one(d, measure, method, tests[[ci]])
    cases[[length(cases) + 1]] <- list(measure = measure, method = method, ci_method = ci, by = spec$by,
      expected = list(subgroups = groups, overall_estimate = num(overall$b[1]),
        q = num(between$QE), df = length(levels) - 1, p_value = num(between$QEp)))
  }
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              generated_by = "Tests/Reference/generate_subgroups.R", input = paste0(name, ".csv"), cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(out, paste0(name, ".expected.json")))
}

# One tau^2 common to all subgroups.
for (name in names(datasets)) {
  spec <- datasets[[name]]
  d <- read.csv(file.path(out, paste0(name, ".csv")), stringsAsFactors = FALSE)
  levels <- unique(trimws(d[[spec$by]]))
  g <- factor(trimws(d[[spec$by]]), levels = levels)
  cases <- list()
  for (measure in spec$measures) {
    es <- effects(d, measure)
    for (method in all_methods) for (ci in names(all_tests)) {
      test <- all_tests[[ci]]
      model <- rma(yi = es$yi, vi = es$vi, mods = ~ g, method = method, test = test, control = ctl)
      means <- rma(yi = es$yi, vi = es$vi, mods = ~ g - 1, method = method, test = test, control = ctl)
      pred <- predict(means, newmods = diag(length(levels)))
      groups <- lapply(seq_along(levels), function(j) list(
        subgroup = levels[j], k = sum(g == levels[j]), estimate = num(means$b[j]), se = num(means$se[j]),
        ci_lower = num(means$ci.lb[j]), ci_upper = num(means$ci.ub[j]), statistic = num(means$zval[j]),
        p_value = num(means$pval[j]),
        pi_lower = if (method == "FE") NULL else num(pred$pi.lb[j]),
        pi_upper = if (method == "FE") NULL else num(pred$pi.ub[j])))
      cases[[length(cases) + 1]] <- list(measure = measure, method = method, ci_method = ci, by = spec$by,
        expected = list(subgroups = groups, tau2 = num(model$tau2), qm = num(model$QM), qm_df = model$QMdf[1],
          qm_df2 = if (is.na(model$QMdf[2])) NULL else model$QMdf[2], qm_p_value = num(model$QMp),
          qe = num(model$QE), qe_df = model$k - model$p, qe_p_value = num(model$QEp),
          i2 = num(model$I2), h2 = num(model$H2),
          tau2_means = num(means$tau2)))
    }
  }
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              generated_by = "Tests/Reference/generate_subgroups.R", input = paste0(name, ".csv"), cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(out, paste0(name, ".common.expected.json")))
}

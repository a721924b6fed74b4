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

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "subgroups")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
tests <- c(wald = "z", t = "t", hksj = "knha")
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

fit_one <- function(d, measure, method, test) {
  if (measure == "GEN") {
    es <- d[, c("yi", "vi")]
  } else if (measure %in% c("OR", "RR")) {
    es <- escalc(measure, ai = d$treat_events, n1i = d$treat_total, ci = d$control_events, n2i = d$control_total)
  } else {
    es <- escalc(measure, xi = d$events, ni = d$total)
  }
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

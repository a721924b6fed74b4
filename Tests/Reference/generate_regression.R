#!/usr/bin/env Rscript
# Reference values for meta-regression (`metapool regress`, MetaRegression, ModeratorDesign,
# PermutationTest) from R's metafor.
#
#   cd <package root> && Rscript Tests/Reference/generate_regression.R
#
# rma(yi, vi, mods = ~ ..., method, test) for every tau^2 estimator and test, with the
# coefficients, QE, QM, tau^2, I^2, H^2 and R^2; and permutest(exact = TRUE) on small data.
# Writes Tests/MetaPoolTests/Fixtures/regression/NAME.csv and NAME.expected.json.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })
Sys.setlocale("LC_COLLATE", "C")  # factor levels in code-point order, as MetaPool sorts them

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "regression")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
ctl <- list(threshold = 1e-14, tol = 1e-12, maxiter = 10000)
tests <- c(wald = "z", t = "t", hksj = "knha", "hksj-adhoc" = "adhoc")
methods <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "HS", "EB")

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bd <- dat.bangertdrowns2004[!is.na(dat.bangertdrowns2004$length) & !is.na(dat.bangertdrowns2004$imag), ]
datasets <- list(
  bcg = list(data = data.frame(study = paste(bcg$author, bcg$year), yi = bcg$yi, vi = bcg$vi,
                               latitude = bcg$ablat, year = bcg$year, allocation = bcg$alloc),
             models = list(c("latitude"), c("latitude", "year"), c("allocation"), c("latitude", "allocation")),
             source = "metadat::dat.bcg (Colditz et al. 1994), log risk ratios"),
  bangertdrowns2004 = list(data = data.frame(study = paste(bd$author, bd$year), yi = bd$yi, vi = bd$vi,
                                             length = bd$length, imagery = ifelse(bd$imag == 1, "yes", "no"),
                                             grade = paste0("grade ", bd$grade)),
             models = list(c("length"), c("length", "imagery"), c("grade")),
             source = "metadat::dat.bangertdrowns2004 (Bangert-Drowns et al. 2004), rows with length and imag")
)

formula_of <- function(mods, d) {
  terms <- sapply(mods, function(m) if (is.character(d[[m]])) sprintf("factor(%s)", m) else m)
  as.formula(paste("~", paste(terms, collapse = " + ")))
}

for (name in names(datasets)) {
  spec <- datasets[[name]]
  csv <- file.path(out, paste0(name, ".csv"))
  write.csv(spec$data, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  cases <- list()
  for (mods in spec$models) for (method in methods) for (ci in names(tests)) {
    f <- formula_of(mods, d)
    fit <- rma(yi, vi, mods = f, data = d, method = method, test = tests[[ci]], control = ctl)
    coefs <- lapply(seq_along(fit$b), function(j) list(estimate = num(fit$b[j]), se = num(fit$se[j]),
      statistic = num(fit$zval[j]), p_value = num(fit$pval[j]), ci_lower = num(fit$ci.lb[j]), ci_upper = num(fit$ci.ub[j])))
    cases[[length(cases) + 1]] <- list(mods = I(mods), method = method, ci_method = ci,
      expected = list(coefficients = coefs, tau2 = num(fit$tau2), qe = num(fit$QE), qe_p_value = num(fit$QEp),
        qm = num(fit$QM), qm_df = fit$QMdf[1], qm_p_value = num(fit$QMp),
        i2 = num(fit$I2), h2 = num(fit$H2),
        r2 = if (method == "FE" || is.null(fit$R2) || is.na(fit$R2)) NULL else num(fit$R2)))
  }
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              generated_by = "Tests/Reference/generate_regression.R", input = paste0(name, ".csv"), cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), file.path(out, paste0(name, ".expected.json")))
}

# Exact permutation tests on small data: 7 BCG trials with latitude (7! = 5040 permutations), and
# 9 trials with allocation (a factor: 9!/(2!4!3!) = 1260 distinct permutations).
perm_cases <- list()
for (spec in list(list(rows = 1:7, mods = c("latitude"), method = "REML", test = "z"),
                  list(rows = 1:7, mods = c("latitude"), method = "DL", test = "knha"),
                  list(rows = 1:9, mods = c("allocation"), method = "REML", test = "z"))) {
  d <- read.csv(file.path(out, "bcg.csv"), stringsAsFactors = FALSE)[spec$rows, ]
  fit <- rma(yi, vi, mods = formula_of(spec$mods, d), data = d, method = spec$method, test = spec$test, control = ctl)
  pt <- permutest(fit, exact = TRUE, progbar = FALSE)
  perm_cases[[length(perm_cases) + 1]] <- list(rows = spec$rows, mods = I(spec$mods), method = spec$method,
    ci_method = names(tests)[tests == spec$test], permutations = nrow(pt$zval.perm),
    coefficient_p_values = lapply(pt$pval, num), qm_p_value = num(pt$QMp))
}
writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")), input = "bcg.csv", cases = perm_cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), file.path(out, "permutest.expected.json"))

#!/usr/bin/env Rscript
# Reference values for the GLMM for proportions with moderators (GeneralizedLinearMixedRegression)
# from R's metafor: rma.glmm(measure = "PLO", xi, ni, mods = ~ ..., method = "ML", nAGQ = Q), which fits
# lme4::glmer(cbind(xi, ni - xi) ~ -1 + X + (1 | study), family = binomial, nAGQ = Q).
#
#   (run with metafor 3.8-1, lme4 1.1-31; metadat, jsonlite)
#   cd <package root> && Rscript Tests/Reference/generate_glmm_regression.R
#
# As in generate_glmm.R, glmer's tolerances are tightened through metafor's control argument
# (glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11,
# maxfun = 1e5))) so that the fit is the maximum of the AGHQ likelihood to ~1e-7. glm's control is
# left alone: metafor's QE.Wld comes from glm fits of the fixed-effects and saturated logistic
# models that stop at a relative deviance change of 1e-8, ~3e-6 off in QE.Wld (tightening glm
# breaks the saturated fit of studies with 0 or all events, whose coefficients then run off).
# So each case also records `qe_wald_exact`, the same Wald statistic in closed form: the
# residual Q of the equal-effects regression of logit(xi/ni) with variances ni/(xi(ni - xi)) over
# the studies with 0 < xi < ni (rma(method = "FE")$QE), which is what glm's Wald test converges to.
# Writes Tests/MetaPoolTests/Fixtures/glmm_regression/NAME.csv (the data, copied so that later
# edits of Datasets/ do not move the reference) and NAME.expected.json.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(lme4); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "glmm_regression")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
tight <- list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))

her2 <- read.csv("Datasets/her2-bm-intracranial-response.csv", stringsAsFactors = FALSE)
her2 <- data.frame(study = paste(her2$study, her2$arm), events = her2$events, total = her2$total,
                   endpoint = her2$endpoint, population = her2$population, drug_class = her2$drug_class)
pritz <- with(dat.pritz1997, data.frame(study = authors, events = xi, total = ni,
                                        order = seq_along(xi), half = ifelse(seq_along(xi) <= 7, "early", "late")))

datasets <- list(
  her2_icorr = list(data = subset(her2, endpoint == "IC-ORR"), mods = list("drug_class", "population"),
    source = "Datasets/her2-bm-intracranial-response.csv, endpoint IC-ORR (13 arms)"),
  her2_cnsorr = list(data = subset(her2, endpoint == "CNS-ORR"), mods = list("population"),
    source = "Datasets/her2-bm-intracranial-response.csv, endpoint CNS-ORR (6 arms)"),
  her2_all = list(data = her2, mods = list(c("endpoint", "population")),
    source = "Datasets/her2-bm-intracranial-response.csv, all 19 rows, two factors"),
  debruin2009 = list(
    data = with(dat.debruin2009, data.frame(study = paste(author, year), events = xi, total = ni,
                                            scq = scq, ethnicity = ethnicity, patients = patients)),
    mods = list("scq", "ethnicity", c("scq", "patients")),
    source = "metadat::dat.debruin2009 (de Bruin et al. 2009), numeric scq and factors ethnicity, patients"),
  homogeneous_synthetic = list(
    data = data.frame(study = paste("Study", 1:6), events = c(10, 11, 9, 10, 12, 10), total = c(50, 50, 50, 50, 60, 52), x = 1:6),
    mods = list("x"),
    source = "synthetic: six nearly equal proportions with a made-up numeric moderator, for which the ML estimate of tau^2 is 0"),
  pritz1997 = list(data = pritz, mods = list("order", "half"),
    source = "metadat::dat.pritz1997 (Pritz 1997); the moderators are synthetic: order = row number, half = early (rows 1-7) / late")
)

summarise <- function(res) {
  list(k = res$k, p = res$p, predictors = rownames(res$b),
       estimate = as.numeric(res$b), se = as.numeric(res$se), statistic = as.numeric(res$zval), p_value = as.numeric(res$pval),
       ci_lower = as.numeric(res$ci.lb), ci_upper = as.numeric(res$ci.ub),
       tau2 = num(res$tau2), i2 = num(res$I2), h2 = num(res$H2),
       qm = num(res$QM), qm_df = res$QMdf[1], qm_p_value = num(res$QMp),
       qe_wald = num(res$QE.Wld), qe_lrt = num(res$QE.LRT), qe_df = res$QE.df,
       qe_wald_p_value = num(res$QEp.Wld), qe_lrt_p_value = num(res$QEp.LRT),
       log_likelihood = num(res$fit.stats["ll", "ML"]), deviance = num(res$fit.stats["dev", "ML"]),
       aic = num(res$fit.stats["AIC", "ML"]), bic = num(res$fit.stats["BIC", "ML"]), aicc = num(res$fit.stats["AICc", "ML"]))
}

for (name in names(datasets)) {
  spec <- datasets[[name]]
  csv <- file.path(out, paste0(name, ".csv"))
  write.csv(spec$data, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  cases <- list()
  for (mods in spec$mods) {
    f <- as.formula(paste("~", paste(mods, collapse = " + ")))
    for (q in c(1, 7)) {
      res <- rma.glmm(measure = "PLO", xi = events, ni = total, mods = f, data = d, method = "ML", nAGQ = q, control = tight)
      inf <- d$events > 0 & d$events < d$total
      exact <- rma(yi = log(events / (total - events)), vi = total / (events * (total - events)), mods = f,
                   data = d[inf, ], method = "FE")$QE
      cases[[length(cases) + 1]] <- list(moderators = I(mods), quadrature_points = q, qe_wald_exact = num(exact), expected = summarise(res))
    }
  }
  doc <- list(dataset = name, source = spec$source, metafor_version = as.character(packageVersion("metafor")),
              lme4_version = as.character(packageVersion("lme4")),
              generated_by = "Tests/Reference/generate_glmm_regression.R", input = paste0(name, ".csv"),
              tight_control = "glmerCtrl = list(tolPwrss = 1e-12, optimizer = \"bobyqa\", optCtrl = list(rhoend = 1e-11, maxfun = 1e5))",
              cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(out, paste0(name, ".expected.json")))
}

# Subgroups under a common tau^2 (pool --by G --common-tau2 --method GLMM): QM and tau^2 from
# rma.glmm(mods = ~ factor(g)); each subgroup's estimate, SE and CI from the cell-means form
# rma.glmm(mods = ~ factor(g) - 1), its prediction interval from predict() on that fit.
subgroup_cases <- list(
  list(file = "her2_icorr.csv", by = "population"),
  list(file = "her2_icorr.csv", by = "drug_class"),
  list(file = "debruin2009.csv", by = "ethnicity"),
  list(file = "pritz1997.csv", by = "half"))
subgroups <- lapply(subgroup_cases, function(s) {
  d <- read.csv(file.path(out, s$file), stringsAsFactors = FALSE)
  d$g <- factor(d[[s$by]])
  contrasts <- rma.glmm(measure = "PLO", xi = events, ni = total, mods = ~ g, data = d, method = "ML", nAGQ = 7, control = tight)
  cells <- rma.glmm(measure = "PLO", xi = events, ni = total, mods = ~ g - 1, data = d, method = "ML", nAGQ = 7, control = tight)
  pred <- predict(cells, newmods = diag(nlevels(d$g)))
  list(file = s$file, by = s$by, tau2 = num(contrasts$tau2), qm = num(contrasts$QM), qm_df = contrasts$QMdf[1],
       qm_p_value = num(contrasts$QMp), qe_wald = num(contrasts$QE.Wld), qe_lrt = num(contrasts$QE.LRT),
       groups = lapply(seq_len(nlevels(d$g)), function(j) list(
         label = levels(d$g)[j], k = sum(d$g == levels(d$g)[j]), estimate = num(cells$b[j]), se = num(cells$se[j]),
         ci_lower = num(cells$ci.lb[j]), ci_upper = num(cells$ci.ub[j]),
         pi_lower = num(pred$pi.lb[j]), pi_upper = num(pred$pi.ub[j]))))
})
writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")),
                       generated_by = "Tests/Reference/generate_glmm_regression.R", cases = subgroups),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           file.path(out, "subgroups_common_tau2.json"))

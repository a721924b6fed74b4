#!/usr/bin/env Rscript
# Reference values for the README's headline analyses of the HER2+ brain-metastasis datasets,
# from R's metafor, so that the numbers the README prints are checked without R.
#
#   cd <package root> && Rscript Tests/Reference/generate_headline.R
#
# 1. T-DXd intracranial response in active brain metastases: rows with regimen "trastuzumab
#    deruxtecan" and population "active"; escalc("PLO"), rma(method = "REML"), confint(), predict().
# 2. Intracranial response by drug class (IC-ORR and CNS-ORR rows of the experimental arms; the
#    comparator arms are left out with --where role=experimental): one rma() per class (a class with one study is that
#    study, method = "FE"); Q_between from the fixed-effect pooling of the class estimates; and
#    with a common tau^2, rma(mods = ~ g) and rma(mods = ~ g - 1).
# 3. PFS hazard ratios: log HR with SE = (log upper - log lower) / (2 qnorm(0.975)); REML.
# 4. Beside each inverse-variance fit of response rates (1 and the classes of 2): the binomial-normal
#    GLMM, rma.glmm(measure = "PLO", nAGQ = 7) with glmer's tolerances tightened (as
#    generate_glmm.R), its population-averaged rate (integrate(), as generate_marginal_rate.R), and
#    prediction intervals on t with k - 1 df (predict(pi.type = "t") for rma(); the same formula,
#    estimate +- qt(0.975, k - 1) sqrt(se^2 + tau^2), for the GLMM).
# 5. Sensitivity analyses of the overall intracranial response (2's rows, one model for all):
#    with KAMILLA's best overall response counted as intracranial, and without the retrospective
#    radiotherapy series (Chargari 2011).
# Writes Tests/MetaPoolTests/Fixtures/headline/expected.json.

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NULL else as.numeric(sprintf("%.17g", x))
ctl <- list(threshold = 1e-14, tol = 1e-12, maxiter = 10000)
clean <- function(x) tolower(trimws(x))

tight <- list(glmerCtrl = list(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-11, maxfun = 1e5)))
marginal <- function(mu, tau2) {
  tau <- sqrt(tau2)
  if (tau == 0) return(plogis(mu))
  f <- function(z) plogis(mu + tau * z) * dnorm(z)
  cuts <- sort(unique(c(-38.5, 0, min(38, max(-38, -mu / tau)), 38.5)))
  sum(sapply(seq_len(length(cuts) - 1), function(i)
    integrate(f, cuts[i], cuts[i + 1], rel.tol = 1e-13, abs.tol = 0, subdivisions = 1000L)$value))
}
glmm <- function(rows) {
  g <- rma.glmm(measure = "PLO", xi = rows$events, ni = rows$total, nAGQ = 7, control = tight)
  half <- qt(0.975, g$k - 1) * sqrt(g$se^2 + g$tau2)
  list(k = g$k, estimate = num(g$b[1]), se = num(g$se), ci_lower = num(g$ci.lb), ci_upper = num(g$ci.ub),
       tau2 = num(g$tau2), pi_t_lower = num(g$b[1] - half), pi_t_upper = num(g$b[1] + half),
       marginal = num(marginal(g$b[1], g$tau2)), marginal_lower = num(marginal(g$ci.lb, g$tau2)),
       marginal_upper = num(marginal(g$ci.ub, g$tau2)))
}

summarise <- function(fit, transf = identity) {
  ci <- confint(fit, control = list(tol = 1e-12, maxiter = 10000))$random
  pred <- predict(fit)
  pred_t <- predict(fit, pi.type = "t")
  list(k = fit$k, estimate = num(fit$b[1]), se = num(fit$se), ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub),
       p_value = num(fit$pval), tau2 = num(fit$tau2), tau2_ci_lower = num(ci["tau^2", "ci.lb"]),
       tau2_ci_upper = num(ci["tau^2", "ci.ub"]), i2 = num(fit$I2), q = num(fit$QE), q_p_value = num(fit$QEp),
       pi_lower = num(pred$pi.lb), pi_upper = num(pred$pi.ub), pi_t_lower = num(pred_t$pi.lb), pi_t_upper = num(pred_t$pi.ub),
       back_estimate = num(transf(fit$b[1])), back_ci_lower = num(transf(fit$ci.lb)), back_ci_upper = num(transf(fit$ci.ub)))
}

response <- read.csv("Datasets/her2-bm-intracranial-response.csv", stringsAsFactors = FALSE)
hazard <- read.csv("Datasets/her2-bm-hazard-ratios.csv", stringsAsFactors = FALSE)

intracranial <- clean(response$endpoint) %in% c("ic-orr", "cns-orr")

# 1
tdxd <- response[clean(response$regimen) == "trastuzumab deruxtecan" & clean(response$population) == "active" & intracranial, ]
es <- escalc("PLO", xi = tdxd$events, ni = tdxd$total)
tdxd_fit <- rma(yi = es$yi, vi = es$vi, method = "REML", control = ctl)

all_rows <- response

# 2
response <- response[intracranial & clean(response$role) == "experimental", ]
es_all <- escalc("PLO", xi = response$events, ni = response$total)
classes <- unique(trimws(response$drug_class))
groups <- lapply(classes, function(cl) {
  rows <- trimws(response$drug_class) == cl
  single <- sum(rows) == 1
  fit <- rma(yi = es_all$yi[rows], vi = es_all$vi[rows], method = if (single) "FE" else "REML", control = ctl)
  list(subgroup = cl, k = fit$k, estimate = num(fit$b[1]), se = num(fit$se), ci_lower = num(fit$ci.lb),
       ci_upper = num(fit$ci.ub), tau2 = if (single) NULL else num(fit$tau2))
})
between <- rma(yi = sapply(groups, `[[`, "estimate"), sei = sapply(groups, `[[`, "se"), method = "FE")
g <- factor(trimws(response$drug_class), levels = classes)
common <- rma(yi = es_all$yi, vi = es_all$vi, mods = ~ g, method = "REML", control = ctl)
means <- rma(yi = es_all$yi, vi = es_all$vi, mods = ~ g - 1, method = "REML", control = ctl)
overall <- rma(yi = es_all$yi, vi = es_all$vi, method = "REML", control = ctl)

# 4
class_glmm <- lapply(c("antibody-drug conjugate", "tyrosine kinase inhibitor"), function(cl)
  c(list(subgroup = cl), glmm(response[trimws(response$drug_class) == cl, ])))

# 5
with_kamilla <- all_rows[(intracranial | clean(all_rows$study) == "kamilla") & clean(all_rows$role) == "experimental", ]
without_rt <- response[clean(response$study) != "chargari 2011", ]
sensitivity <- function(rows, where) {
  es <- escalc("PLO", xi = rows$events, ni = rows$total)
  c(list(file = "her2-bm-intracranial-response.csv", where = where),
    summarise(rma(yi = es$yi, vi = es$vi, method = "REML", control = ctl), transf.ilogit))
}

# 3
pfs <- hazard[clean(hazard$endpoint) == "pfs", ]
yi <- log(pfs$hr)
sei <- (log(pfs$hr_upper) - log(pfs$hr_lower)) / (2 * qnorm(0.975))
pfs_fit <- rma(yi = yi, sei = sei, method = "REML", control = ctl)

doc <- list(
  metafor_version = as.character(packageVersion("metafor")),
  generated_by = "Tests/Reference/generate_headline.R",
  tdxd_active = c(list(file = "her2-bm-intracranial-response.csv", where = c("regimen=trastuzumab deruxtecan", "population=active", "endpoint=IC-ORR", "endpoint=CNS-ORR")),
                  summarise(tdxd_fit, transf.ilogit)),
  by_drug_class = list(file = "her2-bm-intracranial-response.csv", by = "drug_class",
    where = c("endpoint=IC-ORR", "endpoint=CNS-ORR", "role=experimental"), subgroups = groups,
    overall_estimate = num(overall$b[1]), q = num(between$QE), df = length(classes) - 1, p_value = num(between$QEp),
    common_tau2 = num(common$tau2), common_qm = num(common$QM), common_qm_p_value = num(common$QMp),
    common_estimates = lapply(seq_along(classes), function(j) num(means$b[j])),
    common_se = lapply(seq_along(classes), function(j) num(means$se[j]))),
  pfs = c(list(file = "her2-bm-hazard-ratios.csv", where = I("endpoint=PFS")), summarise(pfs_fit, exp)),
  tdxd_active_glmm = glmm(tdxd),
  class_glmm = class_glmm,
  with_kamilla = sensitivity(with_kamilla, c("endpoint=IC-ORR", "endpoint=CNS-ORR", "endpoint=BOR", "role=experimental")),
  without_radiotherapy = sensitivity(without_rt, c("endpoint=IC-ORR", "endpoint=CNS-ORR", "role=experimental", "study!=Chargari 2011")),
  overall_glmm = glmm(response),
  with_kamilla_glmm = glmm(with_kamilla),
  without_radiotherapy_glmm = glmm(without_rt)
)
dir.create(file.path("Tests", "MetaPoolTests", "Fixtures", "headline"), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           file.path("Tests", "MetaPoolTests", "Fixtures", "headline", "expected.json"))

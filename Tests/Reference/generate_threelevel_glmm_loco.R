#!/usr/bin/env Rscript
# Reference values for `metapool sensitivity --cluster trial --method GLMM` (leave one cluster out
# with the three-level binomial GLMM) from R's lme4: for each trial of the HER2 cohorts, glmer on
# the other trials' rows,
#
#   glmer(cbind(events, total - events) ~ 1 + (1 | cluster/cohort), family = binomial, nAGQ = 1)
#
# or, where every trial left has a single cohort, the two-level glmer(... ~ 1 + (1 | cohort)).
#
#   cd <package root> && Rscript Tests/Reference/generate_threelevel_glmm_loco.R
#
# Made with R 4.2.2, lme4 1.1-31, jsonlite 1.8.4. glmer is tightened as in
# generate_threelevel_glmm.R (bobyqa, tolPwrss 1e-12, rhoend 1e-12) but not polished: its estimates
# are within ~1e-6 of the Laplace maximum (that script measured 5.2e-7 on the full HER2 set), and its
# vcov() takes the Hessian by central differences (step 1e-4) of a deviance with ~1e-9 noise, so its
# SE is good to ~1e-3 relative only (see that script's header). The tests compare accordingly.
#
# Writes Tests/MetaPoolTests/Fixtures/threelevel_glmm_loco/her2_cohorts.expected.json:
# dataset, generated_by, lme4_version, rows [{omitted, k, model, estimate, se, sigma2_cluster (null
# for a two-level refit), sigma2_cohort}].

suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
num <- function(x) if (is.null(x)) NULL else structure(sprintf("%.17g", x), class = "json")
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12, maxfun = 1e5))

her2 <- read.csv(file.path("Datasets", "her2-bm-intracranial-response.csv"), stringsAsFactors = FALSE)
her2 <- her2[her2$role == "experimental" & her2$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
dup <- duplicated(her2$study) | duplicated(her2$study, fromLast = TRUE)
her2$cohort <- ifelse(dup, sprintf("%s (%s)", her2$study, her2$population), her2$study)
d <- data.frame(events = her2$events, total = her2$total, cluster = her2$trial, cohort = her2$cohort)

rows <- lapply(unique(d$cluster), function(cl) {
  ds <- d[d$cluster != cl, ]
  three <- anyDuplicated(ds$cluster) > 0
  f <- if (three) {
    glmer(cbind(events, total - events) ~ 1 + (1 | cluster/cohort), data = ds, family = binomial, nAGQ = 1, control = ctl)
  } else {
    glmer(cbind(events, total - events) ~ 1 + (1 | cohort), data = ds, family = binomial, nAGQ = 1, control = ctl)
  }
  vc <- as.data.frame(VarCorr(f))
  list(omitted = cl, k = nrow(ds), model = if (three) "three-level" else "two-level",
       estimate = num(unname(fixef(f)[1])), se = num(sqrt(vcov(f)[1, 1])),
       sigma2_cluster = if (three) num(vc$vcov[vc$grp == "cluster"]) else NULL,
       sigma2_cohort = num(vc$vcov[vc$grp == if (three) "cohort:cluster" else "cohort"]))
})
doc <- list(dataset = "her2_cohorts", generated_by = "Tests/Reference/generate_threelevel_glmm_loco.R",
            lme4_version = as.character(packageVersion("lme4")), rows = rows)
writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, null = "null", json_verbatim = TRUE),
           file.path("Tests", "MetaPoolTests", "Fixtures", "threelevel_glmm_loco", "her2_cohorts.expected.json"))

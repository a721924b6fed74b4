#!/usr/bin/env Rscript
# Reference values for the three-level meta-regression (ThreeLevelRegression, `metapool regress
# --cluster`) from R's metafor and clubSandwich:
#
#   rma.mv(yi, vi, mods = ~ ..., random = ~ 1 | cluster/cohort, method = "ML" or "REML")
#
#   cd <package root> && Rscript Tests/Reference/generate_threelevel_regression.R
#
# Made with R 4.2.2, metafor 3.8-1, metadat 1.2-0, clubSandwich 0.5.8, jsonlite 1.8.4.
#
# Writes Tests/MetaPoolTests/Fixtures/threelevel_regression/NAME.csv (yi, vi to 17 digits, the
# cluster and cohort columns and the moderators, in the data's own column names) and
# NAME.expected.json, holding for ML and REML: the coefficients with z and t tests (t on k - p df,
# test = "t"), both variance components with their profile-likelihood CIs (confint), logLik, QE,
# QM (chi-squared, and F with test = "t"), the two-level meta-regression rma(yi, vi, mods, method)
# and the likelihood-ratio test against it (anova), metafor's cluster-robust CR1 robust(fit,
# cluster) with its F-test of the moderators, clubSandwich's CR2 coef_test(vcov = "CR2",
# test = "Satterthwaite") with conf_int, and Wald_test(test = "HTZ") of the moderators.
#
# Cases:
#   konstantopoulos2011_year     dat.konstantopoulos2011, ~ I(year - mean(year)), ~ 1 | district/study
#                                (year is constant within every district but one: a study-level column)
#   konstantopoulos2011_schools  the same data, ~ schools: the number of schools in the district, a
#                                cluster-level moderator (constant within each cluster)
#   assink2016_deltype           dat.assink2016, ~ deltype (factor, reference "covert") + year, ~ 1 | study/esid
#   her2_drugclass               Datasets/her2-bm-intracranial-response.csv, experimental IC-ORR/CNS-ORR
#                                rows, PLO, ~ drug_class (a cluster-level factor of 4 levels, two of them
#                                a single trial with a single row), ~ 1 | trial/cohort as in
#                                generate_threelevel.R
#
# Convergence, as generate_threelevel.R: nlminb with rel.tol = 1e-12 (falling back to its own
# tolerances where it stops with "convergence = 1"), then Newton's method on the analytic REML/ML
# score (with the moderators: P = W - WX(X'WX)^-1X'W) to |score| < 1e-10; every reported value is
# from rma.mv with sigma2 fixed at that root, fitstats and anova from a free refit started there.
# Profile CIs: confint() with uniroot tol = 1e-12, checked against an own profile (optimize +
# uniroot to 1e-15).

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite); library(clubSandwich) })
invisible(Sys.setlocale("LC_COLLATE", "C"))

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "threelevel_regression")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) if (is.null(x) || length(x) == 0 || any(is.na(x))) NULL else
  structure(if (length(x) > 1) vec(x) else sprintf("%.17g", x), class = "json")
vec <- function(x) structure(paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]"), class = "json")
ctl <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)
ctl_two <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)

# ---- data --------------------------------------------------------------------------------------

kon <- dat.konstantopoulos2011
kon$schools <- ave(kon$school, kon$district, FUN = length)
her2 <- read.csv(file.path("Datasets", "her2-bm-intracranial-response.csv"), stringsAsFactors = FALSE)
her2 <- her2[her2$role == "experimental" & her2$endpoint %in% c("IC-ORR", "CNS-ORR"), ]
her2 <- escalc("PLO", xi = events, ni = total, data = her2)
dup <- duplicated(her2$study) | duplicated(her2$study, fromLast = TRUE)
her2$cohort <- ifelse(dup, sprintf("%s (%s)", her2$study, her2$population), her2$study)
ass <- dat.assink2016

cases <- list(
  konstantopoulos2011_year = list(
    data = data.frame(yi = kon$yi, vi = kon$vi, district = kon$district, study = kon$study, year = kon$year),
    cluster = "district", cohort = "study", mods = ~ I(year - mean(year)), columns = "year", centre = TRUE,
    source = "metadat::dat.konstantopoulos2011; mods = ~ I(year - mean(year)) (the CSV holds year; the test centres it)"),
  konstantopoulos2011_schools = list(
    data = data.frame(yi = kon$yi, vi = kon$vi, district = kon$district, study = kon$study, schools = kon$schools),
    cluster = "district", cohort = "study", mods = ~ schools, columns = "schools", centre = FALSE,
    source = "metadat::dat.konstantopoulos2011; schools = the number of schools of the district (cluster-level)"),
  assink2016_deltype = list(
    data = data.frame(yi = ass$yi, vi = ass$vi, study = ass$study, esid = ass$esid, deltype = ass$deltype, year = ass$year),
    cluster = "study", cohort = "esid", mods = ~ deltype + year, columns = c("deltype", "year"), centre = FALSE,
    source = "metadat::dat.assink2016; mods = ~ deltype + year"),
  her2_drugclass = list(
    data = data.frame(yi = as.numeric(her2$yi), vi = her2$vi, trial = her2$trial, cohort = her2$cohort,
                      drug_class = her2$drug_class),
    cluster = "trial", cohort = "cohort", mods = ~ drug_class, columns = "drug_class", centre = FALSE,
    source = "Datasets/her2-bm-intracranial-response.csv, experimental IC-ORR/CNS-ORR rows, escalc(\"PLO\"); cluster = trial, mods = ~ drug_class")
)

# ---- the likelihood with moderators, to polish metafor's optimum --------------------------------

structure_of <- function(d, X) list(y = d$yi, v = d$vi, X = X, Z1 = outer(d$cl, d$cl, "=="),
                                    Z2 = outer(paste(d$cl, d$co, sep = "\r"), paste(d$cl, d$co, sep = "\r"), "=="))
loglik <- function(s, m, method) {
  V <- diag(m$v) + s[1] * m$Z1 + s[2] * m$Z2; W <- solve(V); X <- m$X; k <- nrow(X); p <- ncol(X)
  G <- t(X) %*% W %*% X; b <- solve(G, t(X) %*% W %*% m$y); r <- m$y - X %*% b
  ll <- -0.5 * (as.numeric(determinant(V)$modulus) + drop(t(r) %*% W %*% r))
  if (method == "REML") ll - 0.5 * (k - p) * log(2 * pi) - 0.5 * as.numeric(determinant(G)$modulus) +
    0.5 * as.numeric(determinant(crossprod(X))$modulus) else ll - 0.5 * k * log(2 * pi)
}
score <- function(s, m, method) {
  V <- diag(m$v) + s[1] * m$Z1 + s[2] * m$Z2; W <- solve(V); X <- m$X
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X, t(X) %*% W)
  A <- if (method == "REML") P else W
  Py <- drop(P %*% m$y)
  sapply(list(m$Z1, m$Z2), function(Z) -0.5 * sum(A * Z) + 0.5 * drop(Py %*% Z %*% Py))
}
score_root <- function(s, m, method) {
  for (i in 1:50) {
    h <- 1e-6 * pmax(s, 1e-4)
    J <- sapply(1:2, function(j) { e <- replace(numeric(2), j, h[j])
      (score(s + e, m, method) - score(s - e, m, method)) / (2 * h[j]) })
    step <- solve(J, score(s, m, method)); s <- s - step
    if (any(s <= 0)) stop("score root outside the parameter space: a boundary fit needs its own handling")
    if (max(abs(step)) < 1e-16) break
  }
  s
}
upper_end <- function(g, x) { x <- 2 * x + 0.01; while (g(x) > 0) x <- 2 * x; x }
profile_ci <- function(j, s_hat, m, method) {
  prof <- function(x) -optimize(function(o) -loglik(if (j == 1) c(x, o) else c(o, x), m, method),
                                c(0, 10 * sum(s_hat) + 1), tol = 1e-15)$objective
  g <- function(x) prof(x) - (loglik(s_hat, m, method) - qchisq(0.95, 1) / 2)
  c(if (g(0) > 0) 0 else uniroot(g, c(0, s_hat[j]), tol = 1e-15)$root,
    uniroot(g, c(s_hat[j], upper_end(g, s_hat[j])), tol = 1e-15)$root)
}

# ---- fits --------------------------------------------------------------------------------------

diag_rows <- list()
fit_all <- function(name, spec, method) {
  d <- spec$data
  d$cl <- d[[spec$cluster]]; d$co <- d[[spec$cohort]]
  mods <- spec$mods
  X <- model.matrix(mods, data = d)
  m <- structure_of(d, X)
  mv <- function(...) rma.mv(yi, vi, mods = mods, random = ~ 1 | cl/co, data = d, method = method, ...)
  fallback <- character()
  mv_tight <- function(what, control = list(), ...) tryCatch(mv(control = c(ctl, control), ...), error = function(e) {
    fallback <<- c(fallback, what); mv(control = control, ...) })
  fit0 <- mv_tight("fit", list())
  root <- score_root(fit0$sigma2, m, method)
  stopifnot(max(abs(score(root, m, method))) < 1e-10)
  free <- mv_tight("refit", list(sigma2.init = root))
  fit <- mv(sigma2 = root)
  fit_t <- mv(sigma2 = root, test = "t")
  stopifnot(max(abs(free$sigma2 - root)) < 1e-8, abs(logLik(free) - logLik(fit)) < 1e-12,
            abs(logLik(fit) - loglik(root, m, method)) < 1e-9)

  # the two-level meta-regression and the LRT (anova needs it as rma.mv with sigma2.1 = 0)
  two <- rma(yi, vi, mods = mods, data = d, method = method, control = ctl_two)
  two_mv <- mv_tight("two-level", list(sigma2.init = c(1, max(two$tau2, 1e-4))), sigma2 = c(0, NA))
  stopifnot(!anyDuplicated(paste(d$cl, d$co, sep = "\r")),
            abs(logLik(two_mv) - logLik(two)) < 1e-9, abs(two_mv$sigma2[2] - two$tau2) < 1e-7)
  lrt <- anova(free, two_mv)
  stopifnot(abs(lrt$LRT - 2 * (logLik(fit) - logLik(two))) < 1e-8)

  fit_ci <- mv(control = list(sigma2.init = root))
  ci <- suppressWarnings(confint(fit_ci, control = list(tol = 1e-12)))
  sigma2_ci <- lapply(1:2, function(j) unname(ci[[j]]$random[1, c("ci.lb", "ci.ub")]))
  own_ci <- lapply(1:2, function(j) profile_ci(j, root, m, method))
  ci_diff <- max(abs(unlist(sigma2_ci) - unlist(own_ci)))
  stopifnot(ci_diff < 1e-8)

  # CR1: metafor's robust() (vcov times n / (n - p), t and F on n - p df)
  rb <- robust(fit, cluster = d$cl)
  # CR2: clubSandwich (working model = the fitted V, weights V^-1), Satterthwaite df
  ct <- coef_test(fit, vcov = "CR2", cluster = d$cl, test = "Satterthwaite")
  cc <- conf_int(fit, vcov = "CR2", cluster = d$cl, level = 0.95)
  p <- ncol(X)
  # HTZ needs the CR2 covariance of the tested coefficients to be positive definite: not where a
  # factor level is one single-row cluster (her2_drugclass), where it is written as null
  htz <- tryCatch(Wald_test(fit, constraints = constrain_zero(2:p), vcov = "CR2", cluster = d$cl, test = "HTZ"),
                  error = function(e) list(Fstat = NA, df_num = NULL, df_denom = NA, p_val = NA, delta = NA))
  rb2 <- tryCatch(robust(fit, cluster = d$cl, clubSandwich = TRUE), error = function(e) list(se = ct$SE, ddf = ct$df_Satt))
  stopifnot(isTRUE(all.equal(rb2$se, ct$SE, tolerance = 1e-12)), isTRUE(all.equal(rb2$ddf, ct$df_Satt, tolerance = 1e-10)))
  vc2 <- vcovCR(fit, cluster = d$cl, type = "CR2")

  fs <- fitstats(free)
  diag_rows[[length(diag_rows) + 1]] <<- data.frame(case = name, method = method,
    nlminb_vs_root = max(abs(fit0$sigma2 - root)), refit_vs_root = max(abs(free$sigma2 - root)),
    score = max(abs(score(root, m, method))), ci_vs_own = ci_diff, default_tolerances = paste(fallback, collapse = ","))

  list(
    estimate = vec(fit$b), se = vec(fit$se), zval = vec(fit$zval), pval = vec(fit$pval),
    ci_lb = vec(fit$ci.lb), ci_ub = vec(fit$ci.ub),
    t_se = vec(fit_t$se), tval = vec(fit_t$zval), t_df = fit_t$ddf[[1]], t_pval = vec(fit_t$pval),
    t_ci_lb = vec(fit_t$ci.lb), t_ci_ub = vec(fit_t$ci.ub),
    vcov = vec(t(vcov(fit))),
    sigma2 = vec(fit$sigma2), sigma2_ci = lapply(sigma2_ci, vec),
    logLik = num(fs["logLik:", 1]), deviance = num(fs["deviance:", 1]), AIC = num(fs["AIC:", 1]),
    QE = num(fit$QE), QE_df = fit$k - fit$p, QE_pval = num(fit$QEp),
    QM = num(fit$QM), QM_df = fit$QMdf[1], QM_pval = num(fit$QMp),
    t_QM = num(fit_t$QM), t_QM_df = fit_t$QMdf, t_QM_pval = num(fit_t$QMp),
    two_level = list(estimate = vec(two$b), se = vec(two$se), tau2 = num(two$tau2), logLik = num(logLik(two))),
    lrt = num(lrt$LRT), lrt_df = lrt$parms.f - lrt$parms.r, lrt_pval = num(lrt$pval),
    cr1 = list(se = vec(rb$se), tval = vec(rb$zval), df = rb$ddf[[1]], pval = vec(rb$pval),
               ci_lb = vec(rb$ci.lb), ci_ub = vec(rb$ci.ub), vcov = vec(t(rb$vb)),
               QM = num(rb$QM), QM_df = rb$QMdf, QM_pval = num(rb$QMp)),
    cr2 = list(se = vec(ct$SE), tval = vec(ct$tstat), df = vec(ct$df_Satt), pval = vec(ct$p_Satt),
               ci_lb = vec(cc$CI_L), ci_ub = vec(cc$CI_U), vcov = vec(t(as.matrix(vc2))),
               htz_F = num(htz$Fstat), htz_df_num = htz$df_num, htz_df_denom = num(htz$df_denom),
               htz_pval = num(htz$p_val), htz_delta = num(htz$delta)))
}

for (name in names(cases)) {
  spec <- cases[[name]]
  d <- spec$data
  fits <- list(ML = fit_all(name, spec, "ML"), REML = fit_all(name, spec, "REML"))
  X <- model.matrix(spec$mods, data = d)
  csv <- d
  csv$yi <- sprintf("%.17g", csv$yi); csv$vi <- sprintf("%.17g", csv$vi)
  write.csv(csv, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  doc <- list(case = name, source = spec$source, input = paste0(name, ".csv"),
              mods = paste(deparse(spec$mods), collapse = ""), columns = I(spec$columns), centre = spec$centre,
              cluster = spec$cluster, cohort = spec$cohort,
              random = sprintf("~ 1 | %s/%s", spec$cluster, spec$cohort),
              generated_by = "Tests/Reference/generate_threelevel_regression.R",
              metafor_version = as.character(packageVersion("metafor")),
              clubsandwich_version = as.character(packageVersion("clubSandwich")),
              level = 0.95, k = nrow(d), p = ncol(X), n_clusters = length(unique(d[[spec$cluster]])),
              predictors = I(colnames(X)), fits = fits)
  writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, null = "null", json_verbatim = TRUE),
             file.path(out, paste0(name, ".expected.json")))
}

cat("Convergence (max |sigma2 - score root|; score at the root; confint() vs own profile CI):\n")
print(do.call(rbind, diag_rows), digits = 3, row.names = FALSE)

#!/usr/bin/env Rscript
# Reference values for the field conventions of effect sizes (issue 13, item 6) from R and metafor.
#
#   cd <package root> && Rscript Tests/Reference/generate_conventions.R
#
# Hazard ratios: log HR and its SE computed here with qnorm from (a) a CI at any level,
# SE = (log upper - log lower) / (2 qnorm((1 + L)/2)); (b) a two-sided p-value,
# SE = |log HR| / qnorm(p/2, lower.tail = FALSE) (= z_{1-p/2}); (c) the log-rank O - E and V,
# log HR = (O - E)/V, SE = 1/sqrt(V); then pooled with rma(yi, sei = ...).
# Continuity correction: escalc(measure, ..., add, to, drop00) on data with zero cells
# (metadat::dat.nielweise2007, synthetic tables and proportions with 0 and all events), then rma()
# (which leaves out the studies escalc set to NA, as drop00 does).
# Missing cells: rows with NA in a column the measure needs, fitted by rma() (na.action = na.omit).
# Every fit: method REML and DL (tests: DL to 1e-10, REML, iterative, to 1e-8), control = list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4).
# Writes Tests/MetaPoolTests/Fixtures/conventions/NAME.csv and cases.json.

suppressPackageStartupMessages({ library(metafor); library(metadat); library(jsonlite) })

out <- file.path("Tests", "MetaPoolTests", "Fixtures", "conventions")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) as.numeric(sprintf("%.17g", x))
ctrl <- list(threshold = 1e-13, tol = 1e-13, maxiter = 1e4)

write_input <- function(name, data) {
  write.csv(data, file.path(out, paste0(name, ".csv")), row.names = FALSE, na = "")
  paste0(name, ".csv")
}

# A REML fit where metafor warns that Fisher scoring may have got stuck (and sets tau^2 = 0) is
# not a reference value; it is left out (the case keeps its DL fit).
fits <- function(yi, vi) {
  out <- lapply(c(REML = "REML", DL = "DL"), function(m) {
    stuck <- FALSE
    f <- withCallingHandlers(rma(yi, vi, method = m, control = ctrl),
                             warning = function(w) { if (grepl("stuck", conditionMessage(w))) stuck <<- TRUE; invokeRestart("muffleWarning") })
    if (stuck) return(NULL)
    list(method = m, k = f$k, estimate = num(f$beta[1]), se = num(f$se), tau2 = num(f$tau2))
  })
  Filter(Negate(is.null), out)
}

case <- function(name, input, measure, options, yi, vi, excluded = integer(0)) {
  keep <- !is.na(yi) & !is.na(vi)
  if (length(options) == 0) options <- setNames(list(), character(0))
  list(name = name, input = input, measure = measure, options = options,
       yi = num(yi[keep]), vi = num(vi[keep]), excluded_rows = I(as.integer(excluded)),
       fits = unname(fits(yi[keep], vi[keep])))
}

cases <- list()

# --- Hazard ratios -----------------------------------------------------------------------------
hr <- c(0.72, 0.85, 1.10, 0.64, 0.91, 0.78)
se_true <- c(0.12, 0.20, 0.15, 0.25, 0.10, 0.18)
levels_text <- c("0.95", "90", "0.99", "95%", "0.9", "80")
L <- c(0.95, 0.90, 0.99, 0.95, 0.90, 0.80)
z <- qnorm((1 + L) / 2)
lower <- round(exp(log(hr) - z * se_true), 3)
upper <- round(exp(log(hr) + z * se_true), 3)
input <- write_input("hr_levels", data.frame(study = paste("Trial", 1:6), hr = hr, hr_lower = lower, hr_upper = upper, hr_level = levels_text))
yi <- log(hr); sei <- (log(upper) - log(lower)) / (2 * qnorm((1 + L) / 2))
cases[[length(cases) + 1]] <- case("CI at the level of each row's hr_level", input, "HR", list(), yi, sei^2)

input <- write_input("hr_ci90", data.frame(study = paste("Trial", 1:6), hr = hr, hr_lower = lower, hr_upper = upper))
for (lev in c(0.90, 0.95, 0.99)) {
  sei <- (log(upper) - log(lower)) / (2 * qnorm((1 + lev) / 2))
  cases[[length(cases) + 1]] <- case(sprintf("CI at hr_level %g for every row", lev), input, "HR", list(hr_level = lev), log(hr), sei^2)
}

p <- c(0.012, 0.41, 0.0003, 0.074, 0.5, 0.23)
input <- write_input("hr_pvalue", data.frame(study = paste("Trial", 1:6), hr = hr, p_value = p))
sei <- abs(log(hr)) / qnorm(p / 2, lower.tail = FALSE)
cases[[length(cases) + 1]] <- case("HR and two-sided p-value", input, "HR", list(), log(hr), sei^2)

ome <- c(-8.4, -3.1, 2.6, -12.9, -0.7, -5.5)
v <- c(30.2, 18.7, 25.0, 44.1, 60.3, 21.9)
input <- write_input("hr_oe", data.frame(study = paste("Trial", 1:6), o_minus_e = ome, v = v))
cases[[length(cases) + 1]] <- case("log-rank O - E and V", input, "HR", list(), ome / v, 1 / v)

# --- Continuity correction: two groups -----------------------------------------------------------
niel <- dat.nielweise2007
input_niel <- write_input("nielweise2007", with(niel, data.frame(study = paste(author, year), treat_events = ai,
  treat_total = n1i, control_events = ci, control_total = n2i)))
synth <- data.frame(study = paste("S", 1:7), ai = c(0, 3, 12, 0, 20, 5, 9), n1i = c(20, 30, 12, 15, 20, 40, 25),
                    ci = c(0, 0, 10, 4, 18, 7, 11), n2i = c(22, 28, 10, 16, 18, 41, 26))
input_synth <- write_input("two_group_zeros", with(synth, data.frame(study = study, treat_events = ai, treat_total = n1i,
  control_events = ci, control_total = n2i)))
for (d in list(list(niel, input_niel, "nielweise2007"), list(synth, input_synth, "synthetic"))) {
  dat <- d[[1]]
  for (m in c("OR", "RR", "RD")) {
    for (s in list(list(add = 0.5, to = "only0", drop00 = FALSE), list(add = 0.5, to = "only0", drop00 = TRUE),
                   list(add = 0.25, to = "all", drop00 = FALSE), list(add = 0.5, to = "if0all", drop00 = TRUE),
                   list(add = 0.1, to = "only0", drop00 = TRUE), list(add = 0.5, to = "none", drop00 = TRUE))) {
      if (s$to == "none" && m != "RD") next
      e <- escalc(m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, add = s$add, to = s$to, drop00 = s$drop00)
      if (any(!is.na(e$vi) & e$vi <= 0)) next
      dropped <- which(is.na(e$yi))
      cases[[length(cases) + 1]] <- case(sprintf("%s %s add=%g to=%s drop00=%s", d[[3]], m, s$add, s$to, s$drop00),
                                         d[[2]], m, s, e$yi, e$vi, dropped)
    }
  }
}

# --- Continuity correction: proportions --------------------------------------------------------
prop <- data.frame(study = paste("P", 1:6), xi = c(0, 7, 25, 3, 14, 0), ni = c(20, 30, 25, 18, 14, 40))
input_prop <- write_input("proportions_zeros", data.frame(study = prop$study, events = prop$xi, total = prop$ni))
for (m in c("PLO", "PR", "PLN", "PFT")) {
  for (s in list(list(add = 0.5, to = "only0"), list(add = 0.1, to = "only0"), list(add = 0.5, to = "all"),
                 list(add = 0.25, to = "if0all"))) {
    e <- escalc(m, xi = xi, ni = ni, data = prop, add = s$add, to = s$to)
    cases[[length(cases) + 1]] <- case(sprintf("proportions %s add=%g to=%s", m, s$add, s$to), input_prop, m, s, e$yi, e$vi)
  }
}
# escalc's default add for PFT is 0 when add is not given.
e <- escalc("PFT", xi = xi, ni = ni, data = prop)
cases[[length(cases) + 1]] <- case("proportions PFT default (no correction)", input_prop, "PFT", list(), e$yi, e$vi)

# --- Missing cells: rma's na.omit ------------------------------------------------------------------
miss <- data.frame(study = paste("M", 1:7), events = c(4, NA, 12, 9, 3, 15, 7), total = c(30, 25, NA, 40, 22, 50, 35))
input <- write_input("missing_proportions", miss)
e <- escalc("PLO", xi = events, ni = total, data = miss)
cases[[length(cases) + 1]] <- case("proportions with NA cells, drop_missing", input, "PLO", list(drop_missing = TRUE), e$yi, e$vi, which(is.na(e$yi)))

miss2 <- data.frame(study = paste("T", 1:6), treat_events = c(5, 8, NA, 2, 11, 6), treat_total = c(50, 60, 40, 45, 70, 52),
                    control_events = c(9, 12, 7, 6, NA, 10), control_total = c(51, 58, 41, 44, 69, NA))
input <- write_input("missing_two_group", miss2)
e <- escalc("RR", ai = treat_events, n1i = treat_total, ci = control_events, n2i = control_total, data = miss2)
cases[[length(cases) + 1]] <- case("two groups with NA cells, drop_missing", input, "RR", list(drop_missing = TRUE), e$yi, e$vi, which(is.na(e$yi)))

miss3 <- data.frame(study = paste("H", 1:6), hr = c(0.7, 0.8, NA, 1.2, 0.6, 0.9), hr_lower = c(0.5, 0.6, 0.4, 0.9, NA, 0.7),
                    hr_upper = c(0.98, 1.07, 1.1, 1.6, 0.9, 1.16))
input <- write_input("missing_hr", miss3)
sei <- (log(miss3$hr_upper) - log(miss3$hr_lower)) / (2 * qnorm(0.975))
cases[[length(cases) + 1]] <- case("hazard ratios with NA cells, drop_missing", input, "HR", list(drop_missing = TRUE), log(miss3$hr), sei^2, which(is.na(sei) | is.na(miss3$hr)))

writeLines(toJSON(list(generator = "Tests/Reference/generate_conventions.R",
                       r = R.version.string, metafor = as.character(packageVersion("metafor")), cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(out, "cases.json"))
cat(length(cases), "cases\n")

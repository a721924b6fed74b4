#!/usr/bin/env Rscript
# Generates the conformance fixtures of MetaPool from R's metafor (3.8-1) and metadat.
#
#   cd <package root> && Rscript Tests/Reference/generate_metafor.R
#
# For every dataset NAME it writes, under Tests/MetaPoolTests/Fixtures/conformance/:
#   NAME.csv            the input, in the documented input columns (study + events,total | treat_events,
#                       treat_total,control_events,control_total | hr,hr_lower,hr_upper |
#                       log_hr,se | yi,vi)
#   NAME.expected.json  metafor's values for every case (measure x method x CI method x level),
#                       with every JSON key (Sources/MetaPool/Documentation.docc/JSONOutput.md), and the cases metafor could not fit ("skipped").
#
# Everything metafor computes is computed from the CSV as written and read back, so the
# fixtures and the Swift tests see exactly the same numbers. Numbers (CSV and JSON) are written
# with the shortest representation that round-trips a double (up to 17 significant digits).
#
# Mapping of MetaPool's options to metafor (see the README's option table):
#   escalc(measure, ...) with its defaults (add = 1/2, to = "only0", drop00 = FALSE)
#   HR from hr, hr_lower, hr_upper: yi = log(hr), sei = (log(upper) - log(lower)) / (2 qnorm(.975))
#   rma(yi, vi, method, test, level) with test: wald -> "z", t -> "t", hksj -> "knha",
#     hksj-adhoc -> "adhoc"; tight convergence control (below)
#   predict(fit) for the prediction interval; confint(fit) (Q-profile) for tau2, I2, H2 CIs
#   weights(fit) (percent); fit$I2, fit$H2 (through the typical within-study variance)
#   back-transforms: PLO transf.ilogit, PAS transf.iarcsin, PFT transf.ipft.hm (harmonic mean
#     of the totals), PLN/OR/RR/HR exp, PR/RD/GEN identity.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

if (packageVersion("metafor") != "3.8.1") {
  warning("these fixtures are meant to come from metafor 3.8-1; this is ", packageVersion("metafor"))
}

# ---------------------------------------------------------------------------------------------
# Locations

script_path <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f) == 1L) normalizePath(f) else normalizePath("Tests/Reference/generate_metafor.R")
})
root <- normalizePath(file.path(dirname(script_path), "..", ".."))
out_dir <- file.path(root, "Tests", "MetaPoolTests", "Fixtures", "conformance")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# ---------------------------------------------------------------------------------------------
# Settings

METHODS <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "HS", "EB")
CI_TEST <- c("wald" = "z", "t" = "t", "hksj" = "knha", "hksj-adhoc" = "adhoc")
MEASURES <- list(
  proportion = c("PLO", "PR", "PAS", "PFT", "PLN"),
  two_group = c("OR", "RR", "RD"),
  hazard_ratio = c("HR"),
  generic = c("GEN")
)
# A handful of cases at other levels, for every dataset, on its default measure.
EXTRA_LEVELS <- list(
  list(method = "FE", ci = "t"),
  list(method = "DL", ci = "hksj"),
  list(method = "REML", ci = "wald"),
  list(method = "PM", ci = "hksj-adhoc")
)
# Fisher scoring (ML, REML, EB) stops when the change in tau2 is below `threshold`; uniroot
# (PM, Q-profile) has absolute tolerance `tol`. Tight, so the reference is accurate well
# beyond the tests' relative tolerance of 1e-6. When tau2 is on its boundary, metafor's step
# halving approaches 0 and stops with tau2 below `threshold` (not exactly 0); 1e-14 keeps that
# remainder (and the I2 it implies) inside the tests' absolute floor of 1e-9.
RMA_CONTROL <- list(threshold = 1e-14, tol = 1e-12, maxiter = 10000)
CONFINT_CONTROL <- list(tol = 1e-12, maxiter = 10000)

# ---------------------------------------------------------------------------------------------
# A small JSON writer

# Numbers as the shortest decimal that reads back to the same double (up to 17 digits).
json_num <- function(x) {
  if (length(x) != 1L || is.na(x) || !is.finite(x)) return("null")
  if (x == round(x) && abs(x) < 1e15) return(sprintf("%.0f", x))
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(s) == x) break
  }
  s
}

json_str <- function(x) as.character(jsonlite::toJSON(x, auto_unbox = TRUE))

to_json <- function(x, indent = 0L, inline_depth = 99L) {
  pad <- strrep("  ", indent)
  pad1 <- strrep("  ", indent + 1L)
  if (is.null(x)) return("null")
  if (inherits(x, "json_null")) return("null")
  if (is.list(x)) {
    nl <- indent < inline_depth
    sep <- if (nl) paste0(",\n", pad1) else ","
    open_pad <- if (nl) paste0("\n", pad1) else ""
    close_pad <- if (nl) paste0("\n", pad) else ""
    if (!is.null(names(x))) {
      if (length(x) == 0L) return("{}")
      items <- mapply(function(k, v) paste0(json_str(k), if (nl) ": " else ":", to_json(v, indent + 1L, inline_depth)),
                      names(x), x, USE.NAMES = FALSE)
      return(paste0("{", open_pad, paste(items, collapse = sep), close_pad, "}"))
    }
    if (length(x) == 0L) return("[]")
    items <- vapply(x, to_json, "", indent = indent + 1L, inline_depth = inline_depth)
    return(paste0("[", open_pad, paste(items, collapse = sep), close_pad, "]"))
  }
  if (is.character(x)) return(json_str(x))
  if (is.logical(x)) return(if (is.na(x)) "null" else if (x) "true" else "false")
  json_num(x)
}

JSON_NULL <- structure(list(), class = "json_null")

# The fixture object, one line per case (and per skipped case), everything else inline.
render_fixture <- function(fixture) {
  field <- function(k, v) paste0("  ", json_str(k), ": ", v)
  block <- function(items) {
    if (length(items) == 0L) return("[]")
    paste0("[\n    ", paste(vapply(items, to_json, "", inline_depth = -1L), collapse = ",\n    "), "\n  ]")
  }
  parts <- character()
  for (k in names(fixture)) {
    v <- fixture[[k]]
    parts <- c(parts, field(k, if (k %in% c("cases", "skipped")) block(v) else to_json(v, inline_depth = -1L)))
  }
  paste0("{\n", paste(parts, collapse = ",\n"), "\n}")
}

# ---------------------------------------------------------------------------------------------
# CSV in the documented input columns (RFC 4180; numbers written so they read back exactly)

write_input_csv <- function(df, path) {
  out <- df
  for (nm in names(out)) {
    if (is.numeric(out[[nm]])) out[[nm]] <- vapply(out[[nm]], json_num, "")
  }
  quote_cols <- which(vapply(out, function(c) !all(grepl("^[-+0-9.eE]+$", c)), logical(1)))
  write.table(out, path, sep = ",", row.names = FALSE, col.names = TRUE, quote = quote_cols,
              qmethod = "double", fileEncoding = "UTF-8", eol = "\n")
}

read_input_csv <- function(path) {
  read.csv(path, stringsAsFactors = FALSE, colClasses = c(study = "character"), encoding = "UTF-8")
}

# ---------------------------------------------------------------------------------------------
# Citations from metadat's help pages

rd_db <- tools::Rd_db("metadat")
rd_source <- function(name) {
  rd <- rd_db[[paste0(name, ".Rd")]]
  tags <- vapply(rd, function(e) attr(e, "Rd_tag"), "")
  src <- rd[tags == "\\source"]
  if (length(src) == 0L) return("")
  txt <- paste(unlist(src), collapse = "")
  txt <- gsub("\\s+", " ", txt)
  txt <- trimws(txt)
  # The first reference only.
  first <- strsplit(txt, "(?<=\\.) (?=[A-Z][a-z'-]+, [A-Z]\\.)", perl = TRUE)[[1]]
  trimws(first[1])
}

# ---------------------------------------------------------------------------------------------
# Datasets, in the documented input columns (README, Datasets/README.md)

label <- function(...) trimws(paste(...))

datasets <- list(
  # --- single-arm proportions
  list(name = "pritz1997", data = "dat.pritz1997", family = "proportion",
       note = "",
       make = function() with(dat.pritz1997, data.frame(study = label(authors), events = xi, total = ni))),
  list(name = "debruin2009", data = "dat.debruin2009", family = "proportion",
       note = "",
       make = function() with(dat.debruin2009, data.frame(study = label(author, year), events = xi, total = ni))),
  list(name = "nielweise2007_treated", data = "dat.nielweise2007", family = "proportion",
       note = "treated (anti-infective catheter) arm as single-arm proportions: events = ai, total = n1i",
       make = function() with(dat.nielweise2007, data.frame(study = label(author, year), events = ai, total = n1i))),
  # --- two groups, binary
  list(name = "bcg", data = "dat.bcg", family = "two_group",
       note = "",
       make = function() with(dat.bcg, data.frame(study = label(author, year), treat_events = tpos, treat_total = tpos + tneg,
                                                 control_events = cpos, control_total = cpos + cneg))),
  list(name = "li2007", data = "dat.li2007", family = "two_group",
       note = "",
       make = function() with(dat.li2007, data.frame(study = label(study, year), treat_events = ai, treat_total = n1i,
                                                    control_events = ci, control_total = n2i))),
  list(name = "hine1989", data = "dat.hine1989", family = "two_group",
       note = "",
       make = function() with(dat.hine1989, data.frame(study = label(source), treat_events = ai, treat_total = n1i,
                                                      control_events = ci, control_total = n2i))),
  list(name = "nielweise2007", data = "dat.nielweise2007", family = "two_group",
       note = "",
       make = function() with(dat.nielweise2007, data.frame(study = label(author, year), treat_events = ai, treat_total = n1i,
                                                           control_events = ci, control_total = n2i))),
  list(name = "yusuf1985_table9", data = "dat.yusuf1985", family = "two_group",
       note = "table 9 (mortality, long-term trials) only; the trials without counts removed",
       make = function() {
         d <- dat.yusuf1985[dat.yusuf1985$table == "9" & !is.na(dat.yusuf1985$ai) & !is.na(dat.yusuf1985$ci), ]
         with(d, data.frame(study = label(trial), treat_events = ai, treat_total = n1i,
                            control_events = ci, control_total = n2i))
       }),
  # --- hazard ratios (analysed as log HR)
  list(name = "hackshaw1998", data = "dat.hackshaw1998", family = "hazard_ratio",
       note = "odds ratios with 95% CIs used as ratio-with-CI input (hr, hr_lower, hr_upper): yi = log(or), sei from the CI",
       make = function() with(dat.hackshaw1998, data.frame(study = label(author, year), hr = or, hr_lower = or.lb, hr_upper = or.ub))),
  list(name = "riley2003_os", data = "dat.riley2003", family = "hazard_ratio",
       note = "overall survival only; log hazard ratios with standard errors (log_hr = yi, se = sei)",
       make = function() {
         d <- dat.riley2003[dat.riley2003$outcome == "OS", ]
         with(d, data.frame(study = paste("Study", study), log_hr = yi, se = sei))
       }),
  # --- generic effects
  list(name = "molloy2014", data = "dat.molloy2014", family = "generic",
       note = "Fisher's r-to-z (escalc measure ZCOR from ri, ni): yi, vi",
       make = function() {
         d <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
         data.frame(study = label(d$authors, d$year), yi = as.numeric(d$yi), vi = as.numeric(d$vi))
       }),
  list(name = "normand1999", data = "dat.normand1999", family = "generic",
       note = "standardized mean differences (escalc measure SMD): yi, vi",
       make = function() {
         d <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
         data.frame(study = label(d$source), yi = as.numeric(d$yi), vi = as.numeric(d$vi))
       }),
  list(name = "bangertdrowns2004", data = "dat.bangertdrowns2004", family = "generic",
       note = "standardized mean differences as given (yi, vi)",
       make = function() with(dat.bangertdrowns2004, data.frame(study = label(author, year), yi = yi, vi = vi)))
)

# ---------------------------------------------------------------------------------------------
# Effect sizes from the CSV as read back

effect_sizes <- function(df, family, measure) {
  switch(family,
    proportion = {
      es <- escalc(measure = measure, xi = df$events, ni = df$total)
      list(yi = as.numeric(es$yi), vi = as.numeric(es$vi), ni = df$total)
    },
    two_group = {
      es <- escalc(measure = measure, ai = df$treat_events, n1i = df$treat_total,
                   ci = df$control_events, n2i = df$control_total)
      list(yi = as.numeric(es$yi), vi = as.numeric(es$vi), ni = NULL)
    },
    hazard_ratio = {
      if (all(c("hr", "hr_lower", "hr_upper") %in% names(df))) {
        sei <- (log(df$hr_upper) - log(df$hr_lower)) / (2 * qnorm(0.975))
        list(yi = log(df$hr), vi = sei^2, ni = NULL)
      } else {
        list(yi = df$log_hr, vi = df$se^2, ni = NULL)
      }
    },
    generic = list(yi = df$yi, vi = df$vi, ni = NULL)
  )
}

back_transform <- function(measure, x, ni) {
  switch(measure,
    PLO = transf.ilogit(x),
    PAS = transf.iarcsin(x),
    PFT = pmin(pmax(transf.ipft.hm(x, targs = list(ni = ni)), 0), 1),
    PLN = , OR = , RR = , HR = exp(x),
    PR = , RD = , GEN = x,
    stop("unknown measure ", measure))
}

# ---------------------------------------------------------------------------------------------
# One case

# Fits rma(); returns list(fit =, warns =) or list(skip = reason). Non-convergence (an error or a
# warning about it) is a skip, never a value. If Fisher scoring does not converge with full
# steps, metafor's documented remedy (control stepadj = 0.5) is tried once.
fit_rma <- function(yi, vi, method, test, level) {
  attempt <- function(control) {
    warns <- character()
    fit <- withCallingHandlers(
      tryCatch(rma(yi, vi, method = method, test = test, level = level, control = control),
               error = function(e) e),
      warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      })
    list(fit = fit, warns = warns)
  }
  bad <- function(a) inherits(a$fit, "error") || any(grepl("converge|stuck|local maximum", a$warns))
  reason <- function(a) {
    msg <- if (inherits(a$fit, "error")) conditionMessage(a$fit) else grep("converge|stuck|local maximum", a$warns, value = TRUE)[1]
    gsub("\\s+", " ", msg)
  }
  a <- attempt(RMA_CONTROL)
  if (!bad(a)) return(list(fit = a$fit, warns = a$warns))
  if (method %in% c("ML", "REML", "EB")) {
    b <- attempt(modifyList(RMA_CONTROL, list(stepadj = 0.5)))
    if (!bad(b)) return(list(fit = b$fit, warns = c(b$warns, "stepadj = 0.5")))
  }
  list(skip = reason(a))
}

run_case <- function(es, measure, method, ci, level) {
  test <- CI_TEST[[ci]]
  r <- fit_rma(es$yi, es$vi, method, test, level)
  if (!is.null(r$skip)) return(r)
  fit <- r$fit
  random <- method != "FE"
  pred <- predict(fit)
  e <- list(
    measure = measure, method = method, ci_method = ci, level = level, k = fit$k,
    estimate = as.numeric(fit$beta), se = fit$se, ci_lower = fit$ci.lb, ci_upper = fit$ci.ub,
    statistic = fit$zval, p_value = fit$pval
  )
  bt <- list(
    estimate = back_transform(measure, as.numeric(fit$beta), es$ni),
    ci_lower = back_transform(measure, fit$ci.lb, es$ni),
    ci_upper = back_transform(measure, fit$ci.ub, es$ni)
  )
  if (random) {
    ci_het <- withCallingHandlers(
      tryCatch(confint(fit, control = CONFINT_CONTROL), error = function(err) err),
      warning = function(w) invokeRestart("muffleWarning"))
    het <- function(row, col) {
      if (inherits(ci_het, "error")) return(JSON_NULL)
      v <- ci_het$random[row, col]
      # A bound metafor could not find, or that sits at its search limit (tau2.max), is recorded
      # as null: there is no finite reference value for it.
      if (is.na(v)) return(JSON_NULL)
      if (col == "ci.lb" && ci_het$lb.sign == ">") return(JSON_NULL)
      if (col == "ci.ub" && ci_het$ub.sign == ">") return(JSON_NULL)
      v
    }
    e$pi_lower <- pred$pi.lb
    e$pi_upper <- pred$pi.ub
    e$tau2 <- fit$tau2
    e$tau2_ci_lower <- het("tau^2", "ci.lb")
    e$tau2_ci_upper <- het("tau^2", "ci.ub")
    e$i2 <- fit$I2
    e$i2_ci_lower <- het("I^2(%)", "ci.lb")
    e$i2_ci_upper <- het("I^2(%)", "ci.ub")
    e$h2 <- fit$H2
    e$h2_ci_lower <- het("H^2", "ci.lb")
    e$h2_ci_upper <- het("H^2", "ci.ub")
    bt$pi_lower <- back_transform(measure, pred$pi.lb, es$ni)
    bt$pi_upper <- back_transform(measure, pred$pi.ub, es$ni)
  }
  e$q <- fit$QE
  e$q_df <- fit$k - fit$p
  e$q_p_value <- fit$QEp
  e$back_transformed <- bt
  z <- qnorm(1 - (1 - level) / 2)
  w <- as.numeric(weights(fit))
  e$studies <- lapply(seq_along(es$yi), function(i) list(
    study = es$labels[i], yi = es$yi[i], vi = es$vi[i],
    ci_lower = es$yi[i] - z * sqrt(es$vi[i]), ci_upper = es$yi[i] + z * sqrt(es$vi[i]),
    weight = w[i]))
  case <- list(measure = measure, method = method, ci_method = ci, level = level, expected = e)
  if ("stepadj = 0.5" %in% r$warns) case$note <- "fitted with control stepadj = 0.5"
  list(case = case, warns = r$warns)
}

# ---------------------------------------------------------------------------------------------
# Main

summary_rows <- list()
for (ds in datasets) {
  csv_name <- paste0(ds$name, ".csv")
  csv_path <- file.path(out_dir, csv_name)
  write_input_csv(ds$make(), csv_path)
  df <- read_input_csv(csv_path)
  stopifnot(nrow(df) >= 2L, nrow(df) <= 80L, !anyNA(df))

  grid <- list()
  for (m in MEASURES[[ds$family]]) for (meth in METHODS) for (ci in names(CI_TEST))
    grid[[length(grid) + 1L]] <- list(measure = m, method = meth, ci = ci, level = 0.95)
  for (lv in c(0.90, 0.99)) for (x in EXTRA_LEVELS)
    grid[[length(grid) + 1L]] <- list(measure = MEASURES[[ds$family]][1], method = x$method, ci = x$ci, level = lv)

  cases <- list()
  skipped <- list()
  es_cache <- list()
  for (g in grid) {
    es <- es_cache[[g$measure]]
    if (is.null(es)) {
      es <- effect_sizes(df, ds$family, g$measure)
      es$labels <- df$study
      es_cache[[g$measure]] <- es
    }
    r <- run_case(es, g$measure, g$method, g$ci, g$level)
    id <- paste(g$measure, g$method, g$ci, g$level)
    if (!is.null(r$skip)) {
      skipped[[length(skipped) + 1L]] <- list(case = id, reason = r$skip)
      message(ds$name, ": skipped ", id, ": ", r$skip)
    } else {
      cases[[length(cases) + 1L]] <- r$case
    }
  }

  src <- paste0("metadat::", ds$data, " (", rd_source(ds$data), ")")
  if (nzchar(ds$note)) src <- paste0(src, "; ", ds$note)
  fixture <- list(
    dataset = ds$name,
    source = src,
    family = ds$family,
    metafor_version = as.character(packageVersion("metafor")),
    metadat_version = as.character(packageVersion("metadat")),
    r_version = paste(R.version$major, R.version$minor, sep = "."),
    generated_by = "Tests/Reference/generate_metafor.R",
    input = csv_name,
    settings = list(
      escalc = "defaults (add = 1/2, to = \"only0\", drop00 = FALSE)",
      rma_control = RMA_CONTROL,
      confint_control = CONFINT_CONTROL,
      test = as.list(CI_TEST)
    ),
    cases = cases,
    skipped = skipped
  )
  writeLines(render_fixture(fixture), file.path(out_dir, paste0(ds$name, ".expected.json")), useBytes = TRUE)
  summary_rows[[length(summary_rows) + 1L]] <- data.frame(dataset = ds$name, family = ds$family, k = nrow(df),
                                                          cases = length(cases), skipped = length(skipped))
}

# Remove fixtures of datasets no longer generated, so the directory is exactly this script's output.
generated <- c(paste0(vapply(datasets, `[[`, "", "name"), ".csv"), paste0(vapply(datasets, `[[`, "", "name"), ".expected.json"))
stale <- setdiff(list.files(out_dir, pattern = "\\.(csv|expected\\.json)$"), generated)
if (length(stale)) file.remove(file.path(out_dir, stale))

s <- do.call(rbind, summary_rows)
print(s, row.names = FALSE)
cat("total cases:", sum(s$cases), " skipped:", sum(s$skipped), "\n")

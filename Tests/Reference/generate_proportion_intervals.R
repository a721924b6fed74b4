# Reference values for the study-level confidence intervals of a proportion
# (Sources/MetaPool/EffectSizes/ProportionInterval.swift), from R's own functions where R has one:
#   Clopper-Pearson   binom.test(x, n)$conf.int
#   Wilson            prop.test(x, n, correct = FALSE)$conf.int
#   Wilson, cc        prop.test(x, n, p = p0, correct = TRUE)$conf.int, with p0 far from x/n so
#                     that prop.test keeps the full Yates correction of 1/2 (it shrinks it to
#                     |x - n p0| otherwise), which is Newcombe's (1998) method 4
#   Jeffreys          qbeta(c(a/2, 1 - a/2), x + 1/2, n - x + 1/2), 0 at x = 0 and 1 at x = n
#   Agresti-Coull     the formula of Brown, Cai & DasGupta (2001, eq. 6), clipped to [0, 1]
#   Wald              p +- z sqrt(p (1 - p) / n), clipped to [0, 1]
# Counts: the HER2+ intracranial response cohorts of Datasets/her2-bm-intracranial-response.csv,
# Newcombe's (1998) Table I examples, and edge cases (0/n, n/n, n = 1, large n).
#
# Run from the package root: Rscript Tests/Reference/generate_proportion_intervals.R

counts <- rbind(
  c(81, 263), c(15, 148), c(0, 20), c(1, 29), c(29, 29), c(0, 1), c(1, 1),
  c(4, 37), c(4, 20), c(2, 4), c(4, 9), c(61, 77), c(38, 61), c(26, 55), c(27, 126),
  c(5, 14), c(16, 58), c(3, 25), c(1, 2), c(50, 100), c(3, 100000), c(99999, 100000)
)
levels <- c(0.95, 0.90, 0.99)

interval <- function(method, x, n, level) {
  a <- 1 - level
  z <- qnorm(1 - a / 2)
  p <- x / n
  switch(method,
    "cp" = as.numeric(binom.test(x, n, conf.level = level)$conf.int),
    "wilson" = as.numeric(suppressWarnings(prop.test(x, n, conf.level = level, correct = FALSE))$conf.int),
    "wilson-cc" = {
      p0 <- if (x < n / 2) 0.999 else 0.001
      as.numeric(suppressWarnings(prop.test(x, n, p = p0, conf.level = level, correct = TRUE))$conf.int)
    },
    "jeffreys" = c(if (x == 0) 0 else qbeta(a / 2, x + 0.5, n - x + 0.5),
                   if (x == n) 1 else qbeta(1 - a / 2, x + 0.5, n - x + 0.5)),
    "agresti-coull" = {
      nt <- n + z^2
      pt <- (x + z^2 / 2) / nt
      h <- z * sqrt(pt * (1 - pt) / nt)
      c(max(0, pt - h), min(1, pt + h))
    },
    "wald" = {
      h <- z * sqrt(p * (1 - p) / n)
      c(max(0, p - h), min(1, p + h))
    })
}

rows <- list()
for (i in seq_len(nrow(counts))) for (level in levels)
  for (method in c("cp", "wilson", "wilson-cc", "jeffreys", "agresti-coull", "wald")) {
    ci <- interval(method, counts[i, 1], counts[i, 2], level)
    rows[[length(rows) + 1]] <- sprintf(
      '{"method": "%s", "events": %d, "total": %d, "level": %s, "lower": %.17g, "upper": %.17g}',
      method, as.integer(counts[i, 1]), as.integer(counts[i, 2]), format(level), ci[1], ci[2])
  }
writeLines(c(
  "{",
  sprintf('  "generated_by": "Tests/Reference/generate_proportion_intervals.R (R %s)",', getRversion()),
  '  "cases": [',
  paste0("    ", unlist(rows), collapse = ",\n"),
  "  ]",
  "}"), "Tests/MetaPoolTests/Fixtures/proportion_intervals/reference.json")

# Reference values for icsresearch.models.mixed (random-intercept models) from R lme4.
#
# Run once from the repository root (the tests read the JSON and do not need R):
#
#   Rscript tests/reference/make_lme4_reference.R
#
# Debian packages: r-base-core r-cran-lme4 r-cran-jsonlite.
# Input: tests/reference/sim_panel.csv (make_sim_panel.py: 150 simulated "trusts" nested in 42
# "ICSs", 2012-2018, unbalanced; rows with a missing x2 are dropped, as the Python code does).
# Output: tests/reference/lme4_reference.json beside this script: fixed effects, their standard
# errors (sqrt(diag(vcov))), variance components, log-likelihood and the singular-fit flag.
#
# Models (REML and ML each):
#   entity:     y ~ x1 + x2 + (1 | entity)
#   ics:        y ~ x1 + x2 + (1 | ics)
#   nested:     y ~ x1 + x2 + (1 | ics / entity)       [ics and entity-within-ics intercepts]
#   null_var:   y0 ~ x1 + ics_num + (1 | entity), y0 = x2 - (entity mean of x2) + 0.5 ics_num
#               + 0.3 x1: the entity means of y0 are explained exactly by the regressors, so the
#               entity variance is estimated as 0 (a singular fit) and the estimates are OLS;
#               ics_num (ICS number / 10) is constant within entities, the case where
#               statsmodels can return a coefficient as exactly 0 (statsmodels issue #10239)
# lme4's optimisers stop where the deviance is flat to rounding, which leaves the estimates
# accurate to only ~1e-8 (they move by that much between optimisers). So the fit is polished:
# Newton steps on lme4's own deviance function (mkLmerDevfun) in the interior theta coordinates,
# with central-difference derivatives, then the model is rebuilt at that theta (mkMerMod).
# Components on the boundary (theta = 0, singular fits) stay there.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else file.path(getwd(), "tests", "reference")
})
sim <- read.csv(file.path(script_dir, "sim_panel.csv"), stringsAsFactors = FALSE)
sim <- sim[!is.na(sim$x2), ]
sim$ics_num <- as.numeric(sub("^Q", "", sim$ics)) / 10
sim$y0 <- sim$x2 - ave(sim$x2, sim$entity) + 0.5 * sim$ics_num + 0.3 * sim$x1

ctrl <- lmerControl(
  optimizer = "nloptwrap",
  optCtrl = list(algorithm = "NLOPT_LN_BOBYQA", xtol_abs = 1e-14, ftol_abs = 1e-16,
                 xtol_rel = 1e-14, ftol_rel = 1e-16, maxeval = 100000),
  check.conv.singular = "ignore"
)

polish <- function(devfun, theta) {
  for (iter in 1:6) {
    free <- which(theta > 1e-6)
    if (!length(free)) break
    for (j in free) {
      h <- 1e-4 * theta[j]
      e <- replace(numeric(length(theta)), j, h)
      fp <- devfun(theta + e); f0 <- devfun(theta); fm <- devfun(theta - e)
      g <- (fp - fm) / (2 * h)
      H <- (fp - 2 * f0 + fm) / h^2
      if (H > 0) theta[j] <- theta[j] - g / H
    }
  }
  theta
}

one <- function(formula, reml) {
  m0 <- lmer(formula, data = sim, REML = reml, control = ctrl)
  lf <- lFormula(formula, data = sim, REML = reml)
  devfun <- do.call(mkLmerDevfun, lf)
  theta <- polish(devfun, getME(m0, "theta"))
  opt <- list(par = theta, fval = devfun(theta), conv = 0, message = "polished")
  m <- mkMerMod(environment(devfun), opt, lf$reTrms, fr = lf$fr)
  crit <- function(x) if (reml) REMLcrit(x) else deviance(x)
  stopifnot(crit(m) <= crit(m0) + 1e-9)
  vc <- as.data.frame(VarCorr(m))
  comps <- setNames(as.list(vc$vcov), ifelse(vc$grp == "Residual", "residual", vc$grp))
  fe <- fixef(m)
  names(fe)[names(fe) == "(Intercept)"] <- "Intercept"
  se <- sqrt(diag(as.matrix(vcov(m))))
  names(se) <- names(fe)
  list(
    formula = deparse(formula),
    reml = reml,
    nobs = nobs(m),
    params = as.list(fe),
    se = as.list(se),
    variance = comps,
    loglik = as.numeric(logLik(m)),
    singular = isSingular(m)
  )
}

models <- list(
  entity = y ~ x1 + x2 + (1 | entity),
  ics = y ~ x1 + x2 + (1 | ics),
  nested = y ~ x1 + x2 + (1 | ics / entity),
  null_var = y0 ~ x1 + ics_num + (1 | entity)
)
out <- list()
for (name in names(models)) {
  for (reml in c(TRUE, FALSE)) {
    out[[paste0(name, if (reml) "_reml" else "_ml")]] <- one(models[[name]], reml)
  }
}
out$meta <- list(
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  data = "tests/reference/sim_panel.csv (rows with missing x2 dropped)"
)
path <- file.path(script_dir, "lme4_reference.json")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
cat("wrote", path, "\n")

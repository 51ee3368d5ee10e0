# Reference values for icsresearch.models.panel from R plm (and sandwich / clubSandwich).
#
# Run once (R is not needed by the tests, which read the JSON this writes):
#
#   Rscript tests/reference/make_plm_reference.R /work/shared/data
#   (or ICSRESEARCH_MIRROR=/work/shared/data Rscript tests/reference/make_plm_reference.R)
#
# Debian packages: r-base-core r-cran-plm r-cran-sandwich r-cran-clubsandwich r-cran-jsonlite.
# Output: tests/reference/plm_reference.json (beside this script). Inputs:
#   - the real trust panel, built here from the mirror's published files, independently of the
#     Python code: non-specialist acute trusts (nhs_provider.csv, ORG_TYPE "Acute", SPECIALIST
#     FALSE; codes have trailing spaces), 2012-2018, SHMI (shmi.csv) and A&E 4-hour share (AE.csv,
#     "-X" suffix stripped), managers FTE (managers_simple_def.csv);
#   - the simulated panel sim_panel.csv (make_sim_panel.py), and its balanced subset.
# Only estimates are written (no data): coefficient names are renamed to the Python ones.

suppressPackageStartupMessages({
  library(plm)
  library(sandwich)
  library(clubSandwich)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
mirror <- if (length(args) >= 1) args[[1]] else Sys.getenv("ICSRESEARCH_MIRROR")
if (!nzchar(mirror)) stop("pass the data mirror path as the first argument or ICSRESEARCH_MIRROR")
script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else getwd()
})

# ---- data -----------------------------------------------------------------------------------
csv_dir <- file.path(mirror, "hospital_management", "data", "csv")
rd <- function(name) read.csv(file.path(csv_dir, name), fileEncoding = "UTF-8-BOM",
                              stringsAsFactors = FALSE, strip.white = FALSE)
prov <- rd("nhs_provider.csv")
prov$ORG_CODE <- trimws(prov$ORG_CODE)
acute <- prov$ORG_CODE[prov$ORG_TYPE == "Acute" & !as.logical(prov$SPECIALIST)]
shmi <- rd("shmi.csv")
ae <- rd("AE.csv")
ae$ORG_CODE <- sub("-X$", "", ae$ORG_CODE)
mgr <- rd("managers_simple_def.csv")
keep <- function(d) d[trimws(d$ORG_CODE) %in% acute & d$YEAR >= 2012 & d$YEAR <= 2018, ]
shmi <- keep(shmi); ae <- keep(ae); mgr <- keep(mgr)
real <- merge(shmi, ae, by = c("ORG_CODE", "YEAR"), all = TRUE)
real <- merge(real, mgr, by = c("ORG_CODE", "YEAR"), all.x = TRUE)
names(real) <- c("trust_code", "year", "shmi", "ae", "managers_fte")
real <- real[order(real$trust_code, real$year), ]

sim <- read.csv(file.path(script_dir, "sim_panel.csv"), stringsAsFactors = FALSE)
full_years <- names(which(table(sim$entity[!is.na(sim$x2)]) == 7))
sim_bal <- sim[sim$entity %in% full_years, ]

# ---- helpers --------------------------------------------------------------------------------
py_name <- function(n) {
  n <- sub("^\\(Intercept\\)$", "Intercept", n)
  n <- sub("^lag\\((.*)\\)$", "L1.\\1", n)
  n <- sub("^diff\\((.*)\\)$", "\\1", n)
  n <- sub("^factor\\(year\\)(.*)$", "C(year)[T.\\1]", n)
  n
}
mat <- function(V) {
  V <- as.matrix(V)
  unname(lapply(seq_len(nrow(V)), function(i) unname(V[i, ])))
}
# sample keys and per-row thetas are written for the simulated panels only (no real-data
# extracts in the repository): the real panels are compared on counts and estimates
is_sim <- function(dname) startsWith(dname, "sim")
keys_of <- function(m) {
  idx <- index(m)
  paste(as.character(idx[[1]]), as.character(idx[[2]]), sep = "|")
}
safe <- function(expr) tryCatch(expr, error = function(e) NULL)

# Cluster-robust covariance on an arbitrary grouping (e.g. ICS), computed here by hand from plm's
# own transformed design and residuals: (X'X)^-1 sum_g X_g'u_g u_g'X_g (X'X)^-1 * c.
manual_cluster <- function(m, groups, sss = TRUE) {
  X <- model.matrix(m)
  u <- as.numeric(residuals(m))
  S <- rowsum(X * u, groups)
  B <- solve(crossprod(X))
  V <- B %*% crossprod(S) %*% B
  G <- nrow(S); N <- nrow(X); K <- ncol(X)
  if (sss) V <- V * G / (G - 1) * (N - 1) / (N - K)
  V
}

# Exact leave-one-cluster-out jackknife by brute force (re-estimating every fixed effect on the
# remaining data): MacKinnon-Nielsen-Webb CR3 = (G-1)/G sum_g (b_(g) - b)(b_(g) - b)'.
# clubSandwich's CR3 for plm within models keeps effects that are not nested in the clusters
# (time effects with entity clusters) at their full-sample values, so it differs there.
jackknife_cr3 <- function(m, pdat, fml, groups, ...) {
  b <- coef(m)
  keys <- keys_of(m)
  allkeys <- paste(as.character(index(pdat)[[1]]), as.character(index(pdat)[[2]]), sep = "|")
  g_all <- groups[match(allkeys, keys)]  # NA for rows outside the estimation sample
  levs <- unique(groups)
  D <- t(vapply(levs, function(g) {
    sub <- pdat[is.na(g_all) | g_all != g, ]
    coef(plm(fml, sub, ...))[names(b)] - b
  }, numeric(length(b))))
  if (length(b) == 1) D <- t(D)
  G <- length(levs)
  (G - 1) / G * crossprod(D)
}

stata_r2 <- function(m, pdat, yname) {
  # Stata xtreg's R-squared: squared correlations of y with x'b (slopes only), by entity
  b <- coef(m); b <- b[names(b) != "(Intercept)"]
  X <- model.matrix(m, model = "pooling")[, names(b), drop = FALSE]
  xb <- as.numeric(X %*% b)
  y <- as.numeric(pmodel.response(m, model = "pooling"))
  id <- index(m)[[1]]
  ybar <- ave(y, id); xbbar <- ave(xb, id)
  first <- !duplicated(id)
  list(within = cor(y - ybar, xb - xbbar)^2,
       between = cor(ybar[first], xbbar[first])^2,
       overall = cor(y, xb)^2)
}

fits <- list()
add_fit <- function(id, m, dataset, spec, covs = list(), extra = list()) {
  s <- summary(m)
  coefs <- coef(m)
  out <- list(
    id = id, dataset = dataset, spec = spec,
    coef = as.list(setNames(unname(coefs), py_name(names(coefs)))),
    names = py_name(names(coefs)),
    nobs = length(residuals(m)),
    df_resid = df.residual(m),
    r2 = unname(s$r.squared[["rsq"]]),
    adj_r2 = unname(s$r.squared[["adjrsq"]]),
    vcov = list(conventional = mat(vcov(m)))
  )
  for (nm in names(covs)) if (!is.null(covs[[nm]])) out$vcov[[nm]] <- mat(covs[[nm]])
  for (nm in names(extra)) out[[nm]] <- extra[[nm]]
  fits[[id]] <<- out
}

standard_covs <- function(m, model, cluster_extra = NULL) {
  covs <- list(
    white_HC0 = safe(vcovHC(m, method = "white1", type = "HC0")),
    white_sss = safe(vcovHC(m, method = "white1", type = "sss")),
    cluster_group_HC0 = safe(vcovHC(m, method = "arellano", type = "HC0", cluster = "group")),
    cluster_group_sss = safe(vcovHC(m, method = "arellano", type = "sss", cluster = "group")),
    cluster_time_sss = safe(vcovHC(m, method = "arellano", type = "sss", cluster = "time")),
    twoway_HC0 = safe(vcovDC(m, type = "HC0")),
    twoway_sss = safe(vcovDC(m, type = "sss")),
    dk_HC0 = safe(vcovSCC(m, type = "HC0")),
    dk_sss = safe(vcovSCC(m, type = "sss")),
    dk_sss_lag2 = safe(vcovSCC(m, type = "sss", maxlag = 2)),
    cr3_group = safe(as.matrix(vcovCR(m, cluster = index(m)[[1]], type = "CR3")))
  )
  if (!is.null(cluster_extra)) {
    g <- cluster_extra[[1]]
    covs[[paste0("cluster_", names(cluster_extra), "_sss")]] <- manual_cluster(m, g, TRUE)
    covs[[paste0("cluster_", names(cluster_extra), "_HC0")]] <- manual_cluster(m, g, FALSE)
    covs[[paste0("cr3_", names(cluster_extra))]] <- safe(as.matrix(vcovCR(m, cluster = g, type = "CR3")))
    covs[[paste0("cr1s_", names(cluster_extra))]] <- safe(as.matrix(vcovCR(m, cluster = g, type = "CR1S")))
  }
  covs
}

ercomp_info <- function(m, dname) {
  ec <- ercomp(m)
  th <- unname(as.numeric(ec$theta))
  list(sigma2 = as.list(ec$sigma2), theta_range = range(th),
       theta = if (is_sim(dname)) th)
}

# ---- the model grid -------------------------------------------------------------------------
run_dataset <- function(dname, data, yvar, xvars, idx, cluster_col = NULL, weights_col = NULL) {
  pdat <- pdata.frame(data, index = idx, drop.index = FALSE, row.names = TRUE)
  rhs <- paste(xvars, collapse = " + ")
  fml <- as.formula(paste(yvar, "~", rhs))
  spec <- list(formula = paste(yvar, "~", rhs))
  cl_extra <- NULL
  if (!is.null(cluster_col)) {
    cl_extra <- list()
  }
  mk_cl <- function(m) {
    if (is.null(cluster_col)) return(NULL)
    keys <- keys_of(m)
    lookup <- setNames(data[[cluster_col]], paste(data[[idx[1]]], data[[idx[2]]], sep = "|"))
    setNames(list(lookup[keys]), cluster_col)
  }
  # pooled, between, within x effects, random x methods
  m <- plm(fml, pdat, model = "pooling")
  add_fit(paste0(dname, "/pooled"), m, dname, c(spec, model = "pooled"),
          standard_covs(m, "pooling", mk_cl(m)),
          list(r2_stata = stata_r2(m, pdat, yvar), keys = if (is_sim(dname)) keys_of(m)))
  m <- plm(fml, pdat, model = "between")
  bm <- lm(fml, data = data.frame(lapply(
    as.data.frame(model.frame(plm(fml, pdat, model = "pooling")))[, c(yvar, xvars)],
    function(v) tapply(v, index(plm(fml, pdat, model = "pooling"))[[1]], mean))))
  add_fit(paste0(dname, "/between"), m, dname, c(spec, model = "between"),
          list(white_HC0 = vcovHC(bm, type = "HC0"), white_sss = vcovHC(bm, type = "HC1"),
               cr3_group = as.matrix(vcovCR(bm, cluster = seq_len(nobs(bm)), type = "CR3"))))
  for (eff in c("individual", "time", "twoways")) {
    m <- plm(fml, pdat, model = "within", effect = eff)
    covs <- standard_covs(m, "within", mk_cl(m))
    covs$cr3_jack_group <- jackknife_cr3(m, pdat, fml, index(m)[[1]], model = "within",
                                         effect = eff)
    if (!is.null(cluster_col)) {
      covs[[paste0("cr3_jack_", cluster_col)]] <- jackknife_cr3(m, pdat, fml, mk_cl(m)[[1]],
                                                                model = "within", effect = eff)
    }
    add_fit(paste0(dname, "/within_", eff), m, dname, c(spec, model = "within", effect = eff),
            covs, list(r2_stata = stata_r2(m, pdat, yvar)))
  }
  for (meth in c("swar", "amemiya")) {
    m <- plm(fml, pdat, model = "random", random.method = meth)
    add_fit(paste0(dname, "/random_", meth), m, dname,
            c(spec, model = "random", effect = "individual", method = meth),
            standard_covs(m, "random", mk_cl(m)),
            c(ercomp_info(m, dname), list(r2_stata = stata_r2(m, pdat, yvar))))
  }
  m <- plm(fml, pdat, model = "random", effect = "time", random.method = "swar")
  add_fit(paste0(dname, "/random_time_swar"), m, dname,
          c(spec, model = "random", effect = "time", method = "swar"), list(), ercomp_info(m, dname))
  # first differences that respect the time index: pooled OLS on diff() (shift = "time")
  dfml <- as.formula(paste0("diff(", yvar, ") ~ ", paste0("diff(", xvars, ")", collapse = " + ")))
  m <- plm(dfml, pdat, model = "pooling")
  add_fit(paste0(dname, "/fd"), m, dname, c(spec, model = "fd"),
          standard_covs(m, "pooling", mk_cl(m)), list(keys = if (is_sim(dname)) keys_of(m)))
  # plm's own "fd" model differences consecutive rows (ignores gaps): recorded for the report
  m <- plm(fml, pdat, model = "fd")
  add_fit(paste0(dname, "/fd_plm_rows"), m, dname, c(spec, model = "fd_plm_rows"))
  # lagged outcome (lag() shifts by time: missing after a gap)
  lfml <- as.formula(paste0(yvar, " ~ lag(", yvar, ") + ", rhs))
  m <- plm(lfml, pdat, model = "pooling")
  add_fit(paste0(dname, "/lagged"), m, dname, c(spec, model = "lagged"),
          standard_covs(m, "pooling", mk_cl(m)), list(keys = if (is_sim(dname)) keys_of(m)))
  # year dummies in the formula
  yfml <- as.formula(paste(yvar, "~", rhs, "+ factor(year)"))
  # (on the real panels plm cannot compute Swamy-Arora with year dummies: the entity means of
  # the dummies are collinear because trusts only leave at the end of the period)
  m <- safe(plm(yfml, pdat, model = "random", random.method = "swar"))
  if (!is.null(m)) {
    add_fit(paste0(dname, "/random_swar_yeardummies"), m, dname,
            list(formula = paste(yvar, "~", rhs, "+ C(year)"), model = "random", method = "swar"),
            list(cluster_group_sss = vcovHC(m, type = "sss")), ercomp_info(m, dname))
  }
  m <- plm(yfml, pdat, model = "pooling")
  add_fit(paste0(dname, "/pooled_yeardummies"), m, dname,
          list(formula = paste(yvar, "~", rhs, "+ C(year)"), model = "pooled"),
          list(cluster_group_sss = vcovHC(m, type = "sss")))
  if (!is.null(weights_col)) {
    m <- plm(fml, pdat, model = "pooling", weights = pdat[[weights_col]])
    add_fit(paste0(dname, "/pooled_weighted"), m, dname,
            c(spec, model = "pooled", weights = weights_col))
    m <- plm(fml, pdat, model = "within", weights = pdat[[weights_col]])
    add_fit(paste0(dname, "/within_individual_weighted_plm"), m, dname,
            c(spec, model = "within_plm_weights", weights = weights_col))
  }

  # specification tests
  pool <- plm(fml, pdat, model = "pooling")
  fe <- plm(fml, pdat, model = "within")
  re <- plm(fml, pdat, model = "random")
  # (plm 2.6-2's phtest(method = "aux") fails with a single regressor: its all.equal() check
  # receives nrow() of a vector; those tests are left out for the one-regressor real panels)
  ht <- function(h) {
    h <- safe(h)
    if (is.null(h)) return(NULL)
    list(statistic = unname(h$statistic), df = unname(as.numeric(h$parameter)),
         p_value = unname(h$p.value))
  }
  tests <- list(
    bp_individual = ht(plmtest(pool, type = "bp", effect = "individual")),
    bp_time = ht(plmtest(pool, type = "bp", effect = "time")),
    bp_twoways = ht(plmtest(pool, type = "bp", effect = "twoways")),
    hausman_chisq = ht(phtest(fe, re)),
    hausman_aux_conventional = ht(phtest(fml, data = pdat, method = "aux")),
    hausman_aux_cluster_HC0 = ht(phtest(fml, data = pdat, method = "aux", vcov = vcovHC)),
    hausman_aux_cluster_sss = ht(phtest(fml, data = pdat, method = "aux",
                                        vcov = function(x) vcovHC(x, type = "sss"))),
    f_individual = ht(pFtest(fe, pool)),
    f_time = ht(pFtest(plm(fml, pdat, model = "within", effect = "time"), pool)),
    f_twoways = ht(pFtest(plm(fml, pdat, model = "within", effect = "twoways"), pool))
  )
  tests
}

out_tests <- list()
out_tests$real_shmi <- run_dataset("real_shmi", real[!is.na(real$shmi), ], "shmi", "managers_fte",
                                   c("trust_code", "year"))
out_tests$real_ae <- run_dataset("real_ae", real[!is.na(real$ae), ], "ae", "managers_fte",
                                 c("trust_code", "year"))
out_tests$sim <- run_dataset("sim", sim, "y", c("x1", "x2"), c("entity", "year"),
                             cluster_col = "ics", weights_col = "w")
out_tests$sim_bal <- run_dataset("sim_bal", sim_bal, "y", c("x1", "x2"), c("entity", "year"),
                                 cluster_col = "ics")

result <- list(
  meta = list(
    generated_by = "tests/reference/make_plm_reference.R",
    r_version = R.version.string,
    plm = as.character(packageVersion("plm")),
    sandwich = as.character(packageVersion("sandwich")),
    clubSandwich = as.character(packageVersion("clubSandwich")),
    real_panel = list(rows = nrow(real), trusts = length(unique(real$trust_code)),
                      shmi_rows = sum(!is.na(real$shmi)), ae_rows = sum(!is.na(real$ae)),
                      managers_missing = sum(is.na(real$managers_fte))),
    sim_rows = nrow(sim), sim_bal_rows = nrow(sim_bal)
  ),
  fits = fits,
  tests = out_tests
)
out <- file.path(script_dir, "plm_reference.json")
writeLines(toJSON(result, auto_unbox = TRUE, digits = I(17), null = "null", na = "null",
                  pretty = FALSE), out)
cat("wrote", out, "with", length(fits), "fits\n")

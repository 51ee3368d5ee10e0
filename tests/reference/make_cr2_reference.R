# Reference values for CR2 / Satterthwaite / HTZ in icsresearch.models.panel, from R clubSandwich.
#
# How to regenerate (R is not needed by the tests, which read the JSON this writes):
#
#   .venv/bin/python tests/reference/make_cr2_panel.py      # only if the panel's generator changed
#   Rscript tests/reference/make_cr2_reference.R            # from the repository root
#
# Debian packages: r-base-core r-cran-plm r-cran-clubsandwich r-cran-jsonlite.
# Input: tests/reference/cr2_panel.csv (seeded, synthetic; make_cr2_panel.py). Output:
# tests/reference/cr2_reference.json beside this script, every number with 17 significant
# digits (sprintf("%.17g"): exact round trip; jsonlite alone stops at 15).
#
# For every fit: plm's coefficients, clubSandwich's vcovCR(type = "CR2") (default working model:
# identity for pooling/within, the random-effects covariance for random), coef_test(test =
# "Satterthwaite") (SE, t, df, p) and Wald_test(test = "HTZ") for the listed constraints
# (F, delta, df_num, df_denom, p). Coefficient names are renamed to the Python ones.
#
# First differences: plm's own model = "fd" differences consecutive rows (ignoring gaps), so the
# differences are built here with plm's diff() on the pdata.frame (which respects the time
# index, as icsresearch's model = "fd") and fitted by pooled OLS with an intercept.

suppressPackageStartupMessages({
  library(plm)
  library(clubSandwich)
  library(jsonlite)
})

script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else file.path(getwd(), "tests", "reference")
})

panel <- read.csv(file.path(script_dir, "cr2_panel.csv"), stringsAsFactors = FALSE)
panel <- panel[order(panel$entity, panel$year), ]
rownames(panel) <- NULL
pdat <- pdata.frame(panel, index = c("entity", "year"), drop.index = FALSE, row.names = TRUE)

# first differences respecting the time index; rows whose previous year is absent are dropped
fdat <- data.frame(entity = panel$entity, year = panel$year, ics = panel$ics,
                   dy = as.numeric(diff(pdat$y)), dx1 = as.numeric(diff(pdat$x1)),
                   dx2 = as.numeric(diff(pdat$x2)))
fdat <- fdat[complete.cases(fdat), ]
rownames(fdat) <- NULL
pfd <- pdata.frame(fdat, index = c("entity", "year"), drop.index = FALSE, row.names = TRUE)

py_name <- function(n) {
  n <- sub("^\\(Intercept\\)$", "Intercept", n)
  sub("^d(x[12])$", "\\1", n)
}

mat <- function(m) unname(as.matrix(m))

# jsonlite prints at most 15 significant digits; write every number with 17 (round-trip exact)
# as verbatim JSON: scalars as numbers, vectors as arrays, matrices as arrays of rows
num17 <- function(x) {
  if (is.list(x)) return(lapply(x, num17))
  if (!is.numeric(x)) return(x)
  fmt <- function(v) ifelse(is.na(v), "null", sprintf("%.17g", v))
  vec <- function(v) paste0("[", paste(fmt(v), collapse = ","), "]")
  txt <- if (is.matrix(x)) {
    paste0("[", paste(apply(x, 1, vec), collapse = ","), "]")
  } else if (length(x) == 1) fmt(x) else vec(x)
  structure(txt, class = "json")
}

constraint_sets <- function(names) {
  # joint slopes, one slope, and a linear combination (x1 - x2 = 0)
  p <- length(names)
  joint <- diag(p)[names %in% c("x1", "x2"), , drop = FALSE]
  one <- diag(p)[names == "x1", , drop = FALSE]
  diff12 <- matrix(0, 1, p)
  diff12[1, names == "x1"] <- 1
  diff12[1, names == "x2"] <- -1
  list(joint = joint, x1 = one, x1_minus_x2 = diff12)
}

fits <- list()
add <- function(id, m, data, cluster_col, spec) {
  cl <- data[[cluster_col]]
  V <- vcovCR(m, cluster = cl, type = "CR2")
  ct <- coef_test(m, vcov = V, test = "Satterthwaite")
  names_py <- py_name(names(coef(m)))
  waldlist <- lapply(constraint_sets(names_py), function(C) {
    w <- Wald_test(m, constraints = C, vcov = V, test = "HTZ")
    list(constraint = C, Fstat = w$Fstat, delta = w$delta, df_num = w$df_num,
         df_denom = w$df_denom, p_val = w$p_val)
  })
  fits[[id]] <<- list(
    id = id, spec = c(spec, cluster = cluster_col),
    names = names_py,
    coef = unname(coef(m)),
    nobs = nobs(m),
    n_clusters = length(unique(cl)),
    vcov_cr2 = mat(V),
    se = unname(ct$SE),
    tstat = unname(ct$tstat),
    df = unname(ct$df_Satt),
    p = unname(ct$p_Satt),
    wald = waldlist
  )
}

fml <- y ~ x1 + x2
m <- plm(fml, pdat, model = "pooling")
add("pooled/ics", m, panel, "ics", list(model = "pooled"))
add("pooled/entity", m, panel, "entity", list(model = "pooled"))
for (eff in c("individual", "time", "twoways")) {
  m <- plm(fml, pdat, model = "within", effect = eff)
  py_eff <- c(individual = "entity", time = "time", twoways = "twoways")[[eff]]
  add(paste0("within_", eff, "/ics"), m, panel, "ics", list(model = "within", effects = py_eff))
  add(paste0("within_", eff, "/entity"), m, panel, "entity",
      list(model = "within", effects = py_eff))
}
# clusters that nest no fixed effect: the fixed effects enter the adjustment matrices
m <- plm(fml, pdat, model = "within", effect = "individual")
add("within_individual/year", m, panel, "year", list(model = "within", effects = "entity"))
m <- plm(fml, pdat, model = "random", random.method = "swar")
add("random_swar/ics", m, panel, "ics", list(model = "random", re_method = "swamy-arora"))
add("random_swar/entity", m, panel, "entity", list(model = "random", re_method = "swamy-arora"))
m <- plm(fml, pdat, model = "random", random.method = "amemiya")
add("random_amemiya/ics", m, panel, "ics", list(model = "random", re_method = "amemiya"))
m <- plm(dy ~ dx1 + dx2, pfd, model = "pooling")
add("fd/ics", m, fdat, "ics", list(model = "fd"))
add("fd/entity", m, fdat, "entity", list(model = "fd"))

result <- list(
  meta = list(
    generated_by = "tests/reference/make_cr2_reference.R",
    input = "tests/reference/cr2_panel.csv",
    r_version = R.version.string,
    plm = as.character(packageVersion("plm")),
    clubSandwich = as.character(packageVersion("clubSandwich")),
    rows = nrow(panel), fd_rows = nrow(fdat)
  ),
  fits = fits
)
out <- file.path(script_dir, "cr2_reference.json")
writeLines(toJSON(num17(result), auto_unbox = TRUE, json_verbatim = TRUE, null = "null",
                  na = "null", pretty = FALSE), out)
cat("wrote", out, "with", length(fits), "fits\n")

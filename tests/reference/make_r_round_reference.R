# Reference values of R's round(x, digits), for checking a Python port of the authors'
# rounding of the asaria2022 management score (and other round(., 1) steps).
#
#   Rscript tests/reference/make_r_round_reference.R MIRROR [OUT.json]
#   e.g. Rscript tests/reference/make_r_round_reference.R /work/shared/data
#
# Output: tests/reference/r_round_reference.json (beside this script unless OUT.json is given):
#   meta   R version and how the cases were made;
#   cases  [{"x", "digits", "r", "label"}]: r = round(x, digits) in this R;
#   management_score_rounding_differs  the real trust-years whose raw management score x has
#          round(x, 1) != round(round(x, 9), 1) (authors' vs "cleaned" rounding), with
#          in_asaria_sample (acute non-specialist, managers and consultants rows, 2012-2018).
# Every double (x and r) is written with 17 significant digits (sprintf("%.17g")), so that
# float(text) in Python gives the very double R had; jsonlite's digits = NA writes only 15.
#
# Cases: exact binary halves (62.25, 66.25, 70.75, 0.25, 0.125, 2.5 and 0.5 at 0 digits, ...),
# decimal near-halves that are not exactly representable (0.15, 0.35, 2.675 at 2 digits, 1.005
# at 2 digits, ...), negatives, large values, and every raw management score
# ((m - 1) / 4) * 100 of the mirror's NHS_SS_management.csv (m: trust-year mean over the items
# 7a-7g, 8a-8d present of (1 SD + 2 D + 3 NAND + 4 A + 5 SA) / 100), computed exactly as in
# make_asaria_reference.R, at digits = 1 (label "management_score CODE YEAR").
# R >= 4.0.0 rounds to the nearest representable candidate ("long double" free algorithm), so
# round(0.15, 1) = 0.1 (0.15 is 0.1499999...) and round(2.5) = 2 (exact tie: even).

suppressPackageStartupMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
mirror <- if (length(args) >= 1) args[[1]] else Sys.getenv("ICSRESEARCH_MIRROR")
if (!nzchar(mirror)) stop("pass the data mirror path as the first argument or ICSRESEARCH_MIRROR")
script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else getwd()
})
path <- if (length(args) >= 2) args[[2]] else file.path(script_dir, "r_round_reference.json")

j <- function(v) structure(sprintf("%.17g", v), class = "json")  # 17 significant digits

# ---- edge cases -----------------------------------------------------------------------------
edge <- list(
  # exact binary halves at the rounding digit (true ties)
  list(c(62.25, 66.25, 70.75, 56.25, 68.75, 43.75, 31.25, 81.25, 0.25, 0.75, 1.25, 2.25,
         -0.25, -62.25, -70.75), 1, "exact binary half"),
  list(c(0.125, 0.375, 0.625, 0.875, 1.125, -0.125), 2, "exact binary half"),
  list(c(0.5, 1.5, 2.5, 3.5, 4.5, -0.5, -1.5, -2.5, 1e15 + 0.5, 2^52 + 0.5), 0,
       "exact binary half"),
  # decimal near-halves that are not exactly representable
  list(c(0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.85, 0.95, 1.05, 2.15, 62.35, 62.45, 62.55,
         70.15, 99.95, -0.15, -0.35, -62.45), 1, "decimal near-half"),
  list(c(2.675, 1.005, 1.015, 1.025, 0.285, 0.045, 8.345, -2.675, -1.005), 2,
       "decimal near-half"),
  list(c(0.0005, 1.0005, 0.1235), 3, "decimal near-half"),
  # arithmetic results that land next to a half
  list(c(0.1 + 0.2, 3 * 0.15, 0.7 * 100 / 2, ((3.49 - 1) / 4) * 100, ((3.83 - 1) / 4) * 100,
         ((3.65 - 1) / 4) * 100, 62.25 + 1e-12, 62.25 - 1e-12, 62.25 + 2^-46, 62.25 - 2^-46),
       1, "computed near-half"),
  # ordinary values, negatives, large and tiny values
  list(c(0, -0.04, -0.05, -0.06, 12.34, -12.34, 1e10 + 0.25, 123456789.35, 1e300, -1e300,
         1e-300, 5e-324, 62.2, 62.3), 1, "other"),
  list(c(123456.789, -123456.789, 1e22), -2, "negative digits"),
  list(c(1234.5678, 0.1 + 0.2), 8, "many digits")
)
cases <- list()
for (e in edge) for (x in e[[1]]) {
  cases[[length(cases) + 1]] <- list(x = j(x), digits = e[[2]], r = j(round(x, e[[2]])),
                                     label = e[[3]])
}
n_edge <- length(cases)

# ---- every raw management score of the mirror ----------------------------------------------
ss <- read.csv(file.path(mirror, "hospital_management", "data", "csv", "NHS_SS_management.csv"),
               fileEncoding = "UTF-8-BOM", stringsAsFactors = FALSE, check.names = FALSE)
num <- function(x) suppressWarnings(as.numeric(x))
items <- c(paste0("7", letters[1:7]), paste0("8", letters[1:4]))
item_scores <- sapply(items, function(q) {
  (1 * num(ss[[paste0(q, "_SD")]]) + 2 * num(ss[[paste0(q, "_D")]]) +
     3 * num(ss[[paste0(q, "_NAND")]]) + 4 * num(ss[[paste0(q, "_A")]]) +
     5 * num(ss[[paste0(q, "_SA")]])) / 100
})
mean_score <- rowMeans(item_scores, na.rm = TRUE)
raw <- ((mean_score - 1) / 4) * 100
code <- toupper(trimws(ss$ORG_CODE))
# the asaria2022 sample (as in make_asaria_reference.R): acute non-specialist trusts with both
# managers and consultants rows, 2012-2018
rd <- function(name) read.csv(file.path(mirror, "hospital_management", "data", "csv", name),
                              fileEncoding = "UTF-8-BOM", stringsAsFactors = FALSE,
                              check.names = FALSE)
norm <- function(x) toupper(trimws(x))
prov <- rd("nhs_provider.csv")
acute <- norm(prov$ORG_CODE)[prov$ORG_TYPE == "Acute" & !as.logical(prov$SPECIALIST)]
key <- function(d) paste(norm(d$ORG_CODE), d$YEAR)
mgr <- rd("managers_simple_def.csv")
con <- rd("consultants_simple_def.csv")
in_sample <- function(c, y) paste(c, y) %in% intersect(key(mgr), key(con)) & c %in% acute &
  y >= 2012 & y <= 2018
differs <- list()
n_ss <- 0
for (i in seq_along(raw)) {
  x <- raw[[i]]
  if (!is.finite(x)) next
  n_ss <- n_ss + 1
  cases[[length(cases) + 1]] <- list(x = j(x), digits = 1, r = j(round(x, 1)),
                                     label = sprintf("management_score %s %d", code[[i]], ss$YEAR[[i]]))
  if (round(x, 1) != round(round(x, 9), 1)) {
    differs[[length(differs) + 1]] <- list(code = code[[i]], year = ss$YEAR[[i]], x = j(x),
                                           round_1 = j(round(x, 1)),
                                           round_9_then_1 = j(round(round(x, 9), 1)),
                                           in_asaria_sample = in_sample(code[[i]], ss$YEAR[[i]]))
  }
}

out <- list(
  meta = list(
    generated_by = "tests/reference/make_r_round_reference.R",
    r_version = R.version.string,
    inputs = "mirror hospital_management/data/csv/NHS_SS_management.csv",
    number_format = "every x and r written with sprintf('%.17g'): float(text) is R's double",
    n_edge_cases = n_edge,
    n_management_scores = n_ss,
    management_score = paste("x = ((m - 1) / 4) * 100, m = rowMeans over items 7a-7g, 8a-8d of",
                             "(1 SD + 2 D + 3 NAND + 4 A + 5 SA) / 100, na.rm = TRUE;",
                             "codes trimws + toupper")
  ),
  cases = cases,
  management_score_rounding_differs = differs
)
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE), path)
cat("wrote", path, "with", length(cases), "cases;", length(differs),
    "management scores round differently\n")

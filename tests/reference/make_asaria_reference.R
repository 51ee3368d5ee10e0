# Reference values for the asaria2022 replication, from R plm, built from the raw CSVs.
#
# Run once (the tests read the JSON this writes and do not need R):
#
#   Rscript tests/reference/make_asaria_reference.R MIRROR [authors|cleaned] [OUT.json [KEY]]
#   e.g. Rscript tests/reference/make_asaria_reference.R /work/shared/data authors
#        Rscript tests/reference/make_asaria_reference.R /work/shared/data cleaned
#   (MIRROR may also come from ICSRESEARCH_MIRROR when no argument is given; the variant
#   defaults to "authors")
#
# Debian packages: r-base-core r-cran-plm r-cran-sandwich r-cran-jsonlite.
# Output (beside this script unless OUT.json is given): estimates only, no data;
#   authors -> tests/reference/asaria_reference_authors.json
#   cleaned -> tests/reference/asaria_reference_cleaned.json
# The variant is recorded as meta$processing. With KEY (4th argument), OUT.json is read if it exists, this
# run's object is stored under OUT.json[[KEY]] (other keys kept) and the top-level meta records
# the command of each key; this builds tests/reference/asaria_reference_perturbed.json from
# perturbed mirrors written by make_asaria_perturbed.py (whose perturbation.json, found at the
# mirror's top, is copied into meta$perturbation).
#
# Processing variants (they differ only in the two points below):
#   authors   the authors' public code: the trailing "-X" of an organisation code is stripped
#             ONLY in inpatient_data.csv (admissions and casemix); elsewhere codes are only
#             trimmed and upper-cased, so the AE.csv rows whose ORG_CODE ends in "-X" (123 in
#             the mirror) do not join the sample's trust codes and A&E is missing for those
#             trust-years. M2 is rounded with R's plain round(((m - 1) / 4) * 100, 1).
#   cleaned   "-X" stripped from the codes of every file (after trimws + toupper); M2 rounded
#             as round(round(((m - 1) / 4) * 100, 9), 1), so floating-point noise in the mean
#             cannot decide a tie at 1 decimal.
# Both variants trim and upper-case every code (nhs_provider.csv, beds.csv and
# inpatient_data.csv codes carry stray spaces; nothing would join without it).
#
# Everything here is computed from the published files in the mirror's hospital_management
# folder, independently of the Python code, following the sample rule, measures, outcomes,
# controls and models of ../shared/papers/replication-targets.md (section 1):
#   sample    nhs_provider.csv ORG_TYPE "Acute" and SPECIALIST FALSE (codes have trailing spaces),
#             trust-years present in both managers_simple_def.csv and consultants_simple_def.csv,
#             YEAR 2012-2018;
#   M1        SIMPLE_MANAGERS_FTE;
#   M2        NHS_SS_management.csv items 7a-7g, 8a-8d: item score (1 SD + 2 D + 3 NAND + 4 A +
#             5 SA) / 100, trust-year mean of the items present, ((m - 1) / 4) * 100 rounded to
#             1 decimal (see the variants above for the rounding);
#   outcomes  FINANCIAL_POSITION / 1000; round(AE_SCORE * 100, 1); round(RTT_SCORE * 100, 1);
#             SHMI; TOTAL_EPISODES (inpatient_data.csv, "-X" stripped from codes
#             in both variants);
#   controls  BEDS; -OP_COST / 1000; SIMPLE_ALL_STAFF_FTE; round(FEMALE_ADMISSIONS /
#             TOTAL_EPISODES, 2) * 100; round(band / sum of the 7 bands, 2) * 100.
# Two project rules are applied here too, both stated in the readers' documentation: a finance
# row with income, cost and position all 0 (no accounts filed) is missing, not a break-even
# trust; an RTT share over 0 patients is missing. Neither touches the sample's rows today.
# Models (each outcome x measure, without and with controls, measure entered alone):
#   pooled  plm(model = "pooling"), y ~ M + factor(year), vcovHC(arellano, sss, group)
#   between plm(model = "between"), y ~ M, conventional vcov
#   within  plm(model = "within", effect = "twoways"), y ~ M, vcovHC(arellano, sss, group)
#   random  plm(model = "random", random.method = "amemiya"), y ~ M + factor(year), same vcov
#   lagged  plm(model = "pooling"), y ~ M + lag(y) + factor(year), same vcov; lag() follows
#           the year index of the sample's pdata.frame (missing after a gap).

suppressPackageStartupMessages({
  library(plm)
  library(sandwich)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
mirror <- if (length(args) >= 1) args[[1]] else Sys.getenv("ICSRESEARCH_MIRROR")
if (!nzchar(mirror)) stop("pass the data mirror path as the first argument or ICSRESEARCH_MIRROR")
processing <- if (length(args) >= 2) args[[2]] else "authors"
if (!processing %in% c("authors", "cleaned")) stop("processing variant must be 'authors' or 'cleaned'")
out_key <- if (length(args) >= 4) args[[4]] else NA_character_
script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else getwd()
})

csv_dir <- file.path(mirror, "hospital_management", "data", "csv")
rd <- function(name) read.csv(file.path(csv_dir, name), fileEncoding = "UTF-8-BOM",
                              stringsAsFactors = FALSE, strip.white = FALSE, check.names = FALSE)
norm <- function(code) toupper(trimws(code))
strip_x <- function(code) sub("-X$", "", norm(code))
# codes of every file except inpatient_data.csv: the authors keep a trailing "-X"
clean <- if (processing == "cleaned") strip_x else norm
# codes of inpatient_data.csv: "-X" stripped in both variants
clean_ip <- strip_x
# M2 rounding
round_score <- if (processing == "cleaned") {
  # round(., 9) first: floating-point noise in the mean must not decide a tie at 1 decimal
  function(x) round(round(x, 9), 1)
} else {
  function(x) round(x, 1)
}
num <- function(x) suppressWarnings(as.numeric(x))

# ---- sample --------------------------------------------------------------------------------
prov <- rd("nhs_provider.csv")
prov$ORG_CODE <- clean(prov$ORG_CODE)
acute <- prov$ORG_CODE[prov$ORG_TYPE == "Acute" & !as.logical(prov$SPECIALIST)]

mgr <- rd("managers_simple_def.csv")
mgr$ORG_CODE <- clean(mgr$ORG_CODE)
con <- rd("consultants_simple_def.csv")
con$ORG_CODE <- clean(con$ORG_CODE)
core <- merge(mgr[, c("ORG_CODE", "YEAR", "SIMPLE_MANAGERS_FTE")],
              con[, c("ORG_CODE", "YEAR", "SIMPLE_CONSULTANTS_FTE")], by = c("ORG_CODE", "YEAR"))
core <- core[core$ORG_CODE %in% acute & core$YEAR >= 2012 & core$YEAR <= 2018, ]
names(core) <- c("trust_code", "year", "managers_fte", "consultants_fte")

# ---- M2: staff survey management score ------------------------------------------------------
ss <- rd("NHS_SS_management.csv")
items <- c(paste0("7", letters[1:7]), paste0("8", letters[1:4]))
item_scores <- sapply(items, function(q) {
  (1 * num(ss[[paste0(q, "_SD")]]) + 2 * num(ss[[paste0(q, "_D")]]) +
     3 * num(ss[[paste0(q, "_NAND")]]) + 4 * num(ss[[paste0(q, "_A")]]) +
     5 * num(ss[[paste0(q, "_SA")]])) / 100
})
mean_score <- rowMeans(item_scores, na.rm = TRUE)
scores <- data.frame(trust_code = clean(ss$ORG_CODE), year = ss$YEAR,
                     management_score = round_score(((mean_score - 1) / 4) * 100))
scores <- scores[is.finite(scores$management_score), ]

# ---- outcomes -------------------------------------------------------------------------------
fin <- rd("financial_positions.csv")
no_accounts <- num(fin$FINANCIAL_POSITION) == 0 & num(fin$OP_INCOME) == 0 & num(fin$OP_COST) == 0
fin <- data.frame(trust_code = clean(fin$ORG_CODE), year = fin$YEAR,
                  net_financial_position = ifelse(no_accounts, NA, num(fin$FINANCIAL_POSITION) / 1000),
                  operating_cost = ifelse(no_accounts, NA, -num(fin$OP_COST) / 1000))
ae <- rd("AE.csv")
ae <- data.frame(trust_code = clean(ae$ORG_CODE), year = ae$YEAR,
                 ae_4hr_pct = round(num(ae$AE_SCORE) * 100, 1))
rtt <- rd("RTT.csv")
rtt <- data.frame(trust_code = clean(rtt$ORG_CODE), year = rtt$YEAR,
                  rtt_18wk_pct = ifelse(num(rtt$N_TOTAL) > 0, round(num(rtt$RTT_SCORE) * 100, 1), NA))
shmi <- rd("shmi.csv")
shmi <- data.frame(trust_code = clean(shmi$ORG_CODE), year = shmi$YEAR, shmi = num(shmi$SHMI))
ip <- rd("inpatient_data.csv")
bands <- c("0-14", "15-29", "30-44", "45-59", "60-74", "75-89", "90+")
band_sum <- rowSums(sapply(bands, function(b) num(ip[[b]])))
share <- function(part, whole) ifelse(whole > 0, round(part / whole, 2) * 100, NA)
adm <- data.frame(trust_code = clean_ip(ip$ORG_CODE), year = ip$YEAR,
                  admissions = num(ip$TOTAL_EPISODES),
                  female_pct = share(num(ip$FEMALE_ADMISSIONS), num(ip$TOTAL_EPISODES)))
for (b in bands) {
  col <- paste0("age_", sub("\\+", "_plus", sub("-", "_", b)), "_pct")
  adm[[col]] <- share(num(ip[[b]]), band_sum)
}

# ---- controls -------------------------------------------------------------------------------
beds <- rd("beds.csv")
beds <- data.frame(trust_code = clean(beds$ORG_CODE), year = beds$YEAR, beds = num(beds$BEDS))
staff <- rd("all_staff_simple_def.csv")
staff <- data.frame(trust_code = clean(staff$ORG_CODE), year = staff$YEAR,
                    all_staff_fte = num(staff$SIMPLE_ALL_STAFF_FTE))

sample <- core
for (part in list(scores, fin, ae, rtt, shmi, adm, beds, staff)) {
  stopifnot(!any(duplicated(part[, c("trust_code", "year")])))
  sample <- merge(sample, part, by = c("trust_code", "year"), all.x = TRUE)
}
sample <- sample[order(sample$trust_code, sample$year), ]
sample$fyear <- factor(sample$year)
pdata <- pdata.frame(sample, index = c("trust_code", "year"))

outcomes <- c("net_financial_position", "ae_4hr_pct", "rtt_18wk_pct", "shmi", "admissions")
measures <- c("managers_fte", "management_score")
controls <- c("beds", "operating_cost", "all_staff_fte", "female_pct", "age_0_14_pct",
              "age_15_29_pct", "age_30_44_pct", "age_45_59_pct", "age_60_74_pct",
              "age_75_89_pct", "age_90_plus_pct")
models <- c("pooled", "between", "within", "random", "lagged")

# ---- models ---------------------------------------------------------------------------------
sss <- function(m) vcovHC(m, method = "arellano", type = "sss", cluster = "group")

fit_one <- function(y, m, ctrl, model) {
  rhs <- c(m, if (ctrl) controls)
  if (model %in% c("pooled", "random", "lagged")) rhs <- c(rhs, "fyear")
  if (model == "lagged") rhs <- c(rhs, sprintf("lag(%s)", y))
  f <- as.formula(paste(y, "~", paste(rhs, collapse = " + ")))
  fit <- switch(model,
    pooled = plm(f, data = pdata, model = "pooling"),
    between = plm(f, data = pdata, model = "between"),
    within = plm(f, data = pdata, model = "within", effect = "twoways"),
    random = plm(f, data = pdata, model = "random", random.method = "amemiya"),
    lagged = plm(f, data = pdata, model = "pooling"))
  V <- if (model == "between") vcov(fit) else sss(fit)
  list(outcome = y, measure = m, controls = ctrl, model = model,
       coef = unname(coef(fit)[m]), se = unname(sqrt(diag(V))[m]),
       nobs = pdim(fit)$nT$N, ngroups = pdim(fit)$nT$n)
}

estimates <- list()
for (y in outcomes) for (m in measures) for (ctrl in c(FALSE, TRUE)) for (model in models) {
  estimates[[length(estimates) + 1]] <- fit_one(y, m, ctrl, model)
}
quality <- list()
for (ctrl in c(FALSE, TRUE)) for (model in models) {
  quality[[length(quality) + 1]] <- fit_one("management_score", "managers_fte", ctrl, model)
}

# ---- specification tests (without controls) -------------------------------------------------
# Breusch-Pagan: plmtest on pooled OLS with year dummies. Hausman, cluster-robust, auxiliary
# (Mundlak) form: pooled OLS of y on M, the trust mean of M (over the rows the model uses) and
# year dummies, vcovHC sss by trust; statistic = squared t of the mean (chi-squared, 1 df).
# (plm's own phtest(method = "aux") always uses Swamy-Arora components, which are singular here,
# and tests the year dummies too, whose auxiliary columns are collinear in this unbalanced
# panel; Amemiya components cannot be computed with a time-invariant regressor.)
tests <- list()
for (y in outcomes) for (m in measures) {
  f <- as.formula(paste(y, "~", m, "+ fyear"))
  pooled <- plm(f, data = pdata, model = "pooling")
  bp <- plmtest(pooled, type = "bp", effect = "individual")
  used <- sample[!is.na(sample[[y]]) & !is.na(sample[[m]]), ]
  used$trust_mean <- ave(used[[m]], used$trust_code)
  cre <- plm(update(f, . ~ . + trust_mean), data = pdata.frame(used, index = c("trust_code", "year")),
             model = "pooling")
  z <- unname(coef(cre)["trust_mean"] / sqrt(diag(sss(cre)))["trust_mean"])
  tests[[length(tests) + 1]] <- list(
    outcome = y, measure = m, controls = FALSE,
    bp_stat = unname(bp$statistic), bp_df = unname(bp$parameter), bp_p = bp$p.value,
    hausman_stat = z^2, hausman_df = 1, hausman_p = pchisq(z^2, 1, lower.tail = FALSE),
    nobs = pdim(pooled)$nT$N)
}

per_year <- as.list(table(sample$year))
perturbation_file <- file.path(mirror, "perturbation.json")
perturbation <- if (file.exists(perturbation_file)) fromJSON(perturbation_file, simplifyVector = FALSE)
processing_notes <- c(
  authors = paste("authors' code: '-X' stripped from codes only in inpatient_data.csv",
                  "(AE.csv '-X' rows do not join); management score round(x, 1)"),
  cleaned = paste("'-X' stripped from the codes of every file;",
                  "management score round(round(x, 9), 1)"))
meta <- list(
  generated_by = "tests/reference/make_asaria_reference.R",
  r_version = R.version.string,
  plm_version = as.character(packageVersion("plm")),
  sandwich_version = as.character(packageVersion("sandwich")),
  inputs = if (is.null(perturbation)) "mirror hospital_management/data/csv (registry sha256 pins)" else
    "perturbed copy of the mirror's hospital_management/data/csv (see perturbation)",
  se = "vcovHC(method = 'arellano', type = 'sss', cluster = 'group'); between: vcov()",
  processing = processing,
  processing_note = unname(processing_notes[processing])
)
if (!is.null(perturbation)) meta$perturbation <- perturbation
out <- list(
  meta = meta,
  sample = list(rows = nrow(sample), trusts = length(unique(sample$trust_code)),
                trusts_per_year = per_year),
  estimates = estimates,
  quality = quality,
  tests = tests
)
path <- if (length(args) >= 3) args[[3]] else
  file.path(script_dir, sprintf("asaria_reference_%s.json", processing))
if (!is.na(out_key)) {
  # keyed mode: store this run under OUT.json[[KEY]], keeping the other keys
  whole <- if (file.exists(path)) fromJSON(path, simplifyVector = FALSE) else list()
  whole[[out_key]] <- out
  top <- if (is.null(whole$meta)) list() else whole$meta
  top$generated_by <- "tests/reference/make_asaria_reference.R (keyed mode, 4th argument)"
  top$description <- paste("each key except meta holds the object the script writes for one run;",
                           "commands lists the command(s) of each key")
  if (is.null(top$commands)) top$commands <- list()
  cmd <- sprintf("Rscript tests/reference/make_asaria_reference.R %s %s %s %s",
                 mirror, processing, path, out_key)
  # a perturbed mirror: first the command that wrote it
  top$commands[[out_key]] <- if (is.null(perturbation)) cmd else c(perturbation$command, cmd)
  whole$meta <- top
  whole <- c(whole["meta"], whole[sort(setdiff(names(whole), "meta"))])
  out <- whole
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
cat("wrote", path, "\n")

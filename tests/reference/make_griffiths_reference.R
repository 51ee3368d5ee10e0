# Reference values for the griffiths2016 replication, from R lm / plm, built from the raw files.
#
# Run once (the tests read the JSON this writes and do not need R):
#
#   Rscript tests/reference/make_griffiths_reference.R /work/shared/data
#   (or ICSRESEARCH_MIRROR=/work/shared/data Rscript tests/reference/make_griffiths_reference.R)
#
# Debian packages: r-base-core r-cran-plm r-cran-sandwich r-cran-jsonlite r-cran-readxl.
# Output: tests/reference/griffiths_reference.json (beside this script): estimates only.
#
# Computed from the published files in the mirror, independently of the Python code:
#   trusts    hospital_management nhs_provider.csv: ORG_TYPE "Acute", SPECIALIST FALSE;
#   staff     my_eu NHS Digital workbook "HCHS staff by staff group, nationality and
#             organisation", sheet Data, FTE summed over nationality: registered nurses =
#             "Nurses & health visitors", doctors = "HCHS doctors", support = "Support to doctors,
#             nurses & midwives"; census 2017-SEP (matched with 2017/18) and 2018-JUN (2018/19);
#   beds      beds.csv BEDS x BEDS_OCCUPIED_PERCENT (occupied beds; 0 beds -> missing);
#   mortality shmi.csv SHMI of the same financial year; outcome log(SHMI);
#   type      ERIC 2019/20 site file, "Trust Type" of the trust code; a code absent from ERIC
#             follows geographr's ODS succession chain (latest succession on or before
#             2020-03-31 between trust codes) until it reaches a code that ERIC lists.
# Models: lm(log SHMI ~ ratio) for each ratio, lm(~ all three), lm(~ all three + trust type)
# (conventional SEs, t 95% CIs); panel of trusts with both censuses: plm random (Swamy-Arora)
# of log SHMI on each ratio's trust mean and deviation + factor(year), and plm within
# (two-way) on the ratios, both with vcovHC(arellano, sss, group).

suppressPackageStartupMessages({
  library(plm)
  library(sandwich)
  library(jsonlite)
  library(readxl)
})

args <- commandArgs(trailingOnly = TRUE)
mirror <- if (length(args) >= 1) args[[1]] else Sys.getenv("ICSRESEARCH_MIRROR")
if (!nzchar(mirror)) stop("pass the data mirror path as the first argument or ICSRESEARCH_MIRROR")
script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else getwd()
})

hm <- function(name) read.csv(file.path(mirror, "hospital_management", "data", "csv", name),
                              fileEncoding = "UTF-8-BOM", stringsAsFactors = FALSE)
clean <- function(code) sub("-X$", "", toupper(trimws(code)))

prov <- hm("nhs_provider.csv")
prov$ORG_CODE <- clean(prov$ORG_CODE)
acute <- prov$ORG_CODE[prov$ORG_TYPE == "Acute" & !as.logical(prov$SPECIALIST)]

wb <- file.path(mirror, "my_eu", "data", "nhs", "input",
                "hchs-staff-by-staff-group-nationality-and-organisation-september-2017-and-june-2018_ah2324.xlsx")
staff <- as.data.frame(read_excel(wb, sheet = "Data"))
staff$code <- clean(staff[["Organisation code"]])
staff$group <- trimws(staff[["Staff group"]])
staff$fte <- as.numeric(staff[["FTE"]])

beds <- hm("beds.csv")
beds$code <- clean(beds$ORG_CODE)
beds$occupied <- ifelse(beds$BEDS > 0, beds$BEDS * beds$BEDS_OCCUPIED_PERCENT, NA)
shmi <- hm("shmi.csv")
shmi$code <- clean(shmi$ORG_CODE)

# trust type: ERIC 2019/20, following the succession chain for codes ERIC does not list
eric <- read.csv(file.path(mirror, "nosocomial_COVID_England", "ERIC_201920_SiteData_for_R.csv"),
                 fileEncoding = "latin1", stringsAsFactors = FALSE, check.names = FALSE)
eric_type <- tapply(trimws(eric[["Trust Type"]]), clean(eric[["Trust Code"]]), function(x) x[1])
env <- new.env()
load(file.path(mirror, "geographr", "data", "lookup_trust_trust.rda"), envir = env)
succ <- as.data.frame(env$lookup_trust_trust)
trust_code <- "^[RT][A-Z0-9]{2}$"
succ <- succ[grepl(trust_code, succ$old_code) & grepl(trust_code, succ$new_code) &
               succ$old_code != succ$new_code & as.Date(succ$date) <= as.Date("2020-03-31"), ]
type_of <- function(code) {
  seen <- character(0)
  while (!(code %in% names(eric_type))) {
    nxt <- succ[succ$old_code == code, ]
    if (!nrow(nxt) || code %in% seen) return(NA_character_)
    seen <- c(seen, code)
    code <- nxt$new_code[which.max(as.Date(nxt$date))]
  }
  unname(eric_type[code])
}

cross_section <- function(month, year) {
  s <- staff[staff$Month == month, ]
  total <- function(g) tapply(s$fte[s$group == g], s$code[s$group == g], sum)
  orgs <- sort(unique(s$code))
  fte <- function(g) { v <- total(g)[orgs]; v[is.na(v)] <- 0; setNames(as.numeric(v), orgs) }
  d <- data.frame(trust_code = acute, year = year)
  d$nurses <- fte("Nurses & health visitors")[d$trust_code]
  d$doctors <- fte("HCHS doctors")[d$trust_code]
  d$support <- fte("Support to doctors, nurses & midwives")[d$trust_code]
  b <- beds[beds$YEAR == year, ]
  d$occupied <- b$occupied[match(d$trust_code, b$code)]
  m <- shmi[shmi$YEAR == year, ]
  d$shmi <- m$SHMI[match(d$trust_code, m$code)]
  pos <- function(x) ifelse(x > 0, x, NA)
  d$beds_per_rn <- d$occupied / pos(d$nurses)
  d$beds_per_doctor <- d$occupied / pos(d$doctors)
  d$beds_per_support <- d$occupied / pos(d$support)
  d$log_shmi <- log(d$shmi)
  d <- d[complete.cases(d[, c("beds_per_rn", "beds_per_doctor", "beds_per_support", "shmi")]), ]
  d
}

ratios <- c("beds_per_rn", "beds_per_doctor", "beds_per_support")
rows <- list()
add <- function(analysis, model, fit, terms, V = vcov(fit), df = fit$df.residual, ngroups = NULL) {
  se <- sqrt(diag(V))
  q <- if (is.null(df)) qnorm(0.975) else qt(0.975, df)
  for (t in terms) {
    b <- unname(coef(fit)[t]); s <- unname(se[t])
    p <- if (is.null(df)) 2 * pnorm(-abs(b / s)) else 2 * pt(-abs(b / s), df)
    rows[[length(rows) + 1]] <<- list(
      analysis = analysis, model = model, term = t, coef = b, se = s,
      ratio = exp(b), ratio_ci_low = exp(b - q * s), ratio_ci_high = exp(b + q * s),
      p_value = p, nobs = length(residuals(fit)),
      ngroups = if (is.null(ngroups)) length(residuals(fit)) else ngroups)
  }
}

cs <- cross_section("2017-SEP", 2017)
cs$trust_type <- vapply(cs$trust_code, type_of, character(1))
for (r in ratios) add("cross_section", "univariate", lm(as.formula(paste("log_shmi ~", r)), cs), r)
add("cross_section", "multivariable", lm(log_shmi ~ beds_per_rn + beds_per_doctor + beds_per_support, cs), ratios)
add("cross_section", "multivariable_trust_type",
    lm(log_shmi ~ beds_per_rn + beds_per_doctor + beds_per_support + factor(trust_type), cs), ratios)

second <- cross_section("2018-JUN", 2018)
both <- intersect(cs$trust_code, second$trust_code)
panel <- rbind(cs[cs$trust_code %in% both, names(second)], second[second$trust_code %in% both, ])
for (r in ratios) {
  panel[[paste0(r, "_between")]] <- ave(panel[[r]], panel$trust_code)
  panel[[paste0(r, "_within")]] <- panel[[r]] - panel[[paste0(r, "_between")]]
}
panel$fyear <- factor(panel$year)
pdata <- pdata.frame(panel, index = c("trust_code", "year"))
sss <- function(m) vcovHC(m, method = "arellano", type = "sss", cluster = "group")
hybrid <- plm(log_shmi ~ beds_per_rn_between + beds_per_rn_within + beds_per_doctor_between +
                beds_per_doctor_within + beds_per_support_between + beds_per_support_within + fyear,
              data = pdata, model = "random", random.method = "swar")
terms <- as.vector(t(outer(ratios, c("_between", "_within"), paste0)))
n_trusts <- pdim(hybrid)$nT$n
add("panel", "within_between", hybrid, terms, V = sss(hybrid), df = NULL, ngroups = n_trusts)
fe <- plm(log_shmi ~ beds_per_rn + beds_per_doctor + beds_per_support, data = pdata,
          model = "within", effect = "twoways")
add("panel", "within", fe, ratios, V = sss(fe), df = fe$df.residual, ngroups = n_trusts)

out <- list(
  meta = list(
    generated_by = "tests/reference/make_griffiths_reference.R",
    r_version = R.version.string,
    plm_version = as.character(packageVersion("plm")),
    readxl_version = as.character(packageVersion("readxl"))
  ),
  sample = list(cross_section = nrow(cs), panel_trusts = length(both),
                trust_types = as.list(table(cs$trust_type, useNA = "ifany"))),
  estimates = rows
)
path <- file.path(script_dir, "griffiths_reference.json")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
cat("wrote", path, "\n")

# Reference numbers for saisei-stats from R (survival, MatchIt, sandwich).
#
# Run from this directory after reference.py (which writes rossi.csv from lifelines):
#   Rscript reference.R
# Needs Debian's r-base-core r-cran-survival r-cran-matchit r-cran-sandwich
# r-cran-jsonlite. Produced with R 4.2.2, survival 3.5-3, MatchIt 4.5.1, sandwich 3.0-2.
# Writes lung.csv, lalonde.csv and rossi_weighted.csv (the datasets the Rust tests
# read) and reference_r.json (the numbers they compare against).
suppressPackageStartupMessages({
  library(survival); library(MatchIt); library(sandwich); library(jsonlite)
})

# ---- datasets ---------------------------------------------------------------
lung <- survival::lung
write.csv(lung, "lung.csv", row.names = FALSE, na = "")
lalonde <- MatchIt::lalonde
lal <- data.frame(id = rownames(lalonde), treat = lalonde$treat, age = lalonde$age,
                  educ = lalonde$educ, black = as.integer(lalonde$race == "black"),
                  hispan = as.integer(lalonde$race == "hispan"), married = lalonde$married,
                  nodegree = lalonde$nodegree, re74 = lalonde$re74, re75 = lalonde$re75,
                  re78 = lalonde$re78)
write.csv(lal, "lalonde.csv", row.names = FALSE)
lal <- read.csv("lalonde.csv")
rownames(lal) <- lal$id
rossi <- read.csv("rossi.csv")
rossi$w <- 0.5 + ((seq_len(nrow(rossi)) * 7) %% 10) / 10
rossi$site <- (seq_len(nrow(rossi)) %% 23) + 1
rossi$prio_group <- ifelse(rossi$prio == 0, "none", ifelse(rossi$prio <= 3, "1-3", "4+"))
write.csv(rossi, "rossi_weighted.csv", row.names = FALSE)
rossi <- read.csv("rossi_weighted.csv")

# ---- Cox --------------------------------------------------------------------
cox_json <- function(fit, covs) {
  s <- summary(fit)$coefficients
  se_col <- if ("robust se" %in% colnames(s)) "robust se" else "se(coef)"
  list(n = fit$n, events = fit$nevent, loglik = fit$loglik[2], loglik_null = fit$loglik[1],
       score_test = unname(fit$score), concordance = unname(fit$concordance["concordance"]),
       coefficients = lapply(covs, function(v) list(name = v, coef = unname(coef(fit)[v]),
                                                    se = unname(s[v, se_col]))))
}
rcovs <- c("fin", "age", "race", "wexp", "mar", "paro", "prio")
f_rossi <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
cox <- list(
  rossi_efron = cox_json(coxph(f_rossi, data = rossi, ties = "efron"), rcovs),
  rossi_breslow = cox_json(coxph(f_rossi, data = rossi, ties = "breslow"), rcovs),
  rossi_strata_wexp = cox_json(coxph(Surv(week, arrest) ~ fin + age + race + mar + paro + prio +
                                       strata(wexp), data = rossi), setdiff(rcovs, "wexp")),
  rossi_weights = cox_json(coxph(f_rossi, data = rossi, weights = w, robust = TRUE), rcovs),
  rossi_cluster_site = cox_json(coxph(update(f_rossi, . ~ . + cluster(site)), data = rossi),
                                rcovs),
  rossi_weights_cluster_breslow = cox_json(coxph(update(f_rossi, . ~ . + cluster(site)),
                                                 data = rossi, weights = w, ties = "breslow"),
                                           rcovs),
  lung_efron = cox_json(coxph(Surv(time, status) ~ age + sex, data = lung), c("age", "sex"))
)

# ---- Kaplan-Meier -----------------------------------------------------------
km_json <- function(conf) {
  fit <- survfit(Surv(time, status) ~ sex, data = lung, conf.type = conf)
  q <- quantile(fit, 0.5)
  times <- c(0, 100, 200, 365, 500, 1000)
  lapply(1:2, function(g) {
    sub <- fit[g]
    ev <- summary(sub)
    at <- summary(sub, times = times)
    na <- function(x) ifelse(is.finite(x), x, NA)
    rows <- function(s) lapply(seq_along(s$time), function(i) list(
      time = s$time[i], n_risk = s$n.risk[i], surv = s$surv[i], se = na(s$std.err[i]),
      lower = na(s$lower[i]), upper = na(s$upper[i])))
    list(group = as.character(c(1, 2)[g]), n = sub$n, events = sum(sub$n.event),
         median = na(unname(q$quantile[g])), median_lower = na(unname(q$lower[g])),
         median_upper = na(unname(q$upper[g])), at_events = rows(ev), at_times = rows(at))
  })
}
km <- list(times = c(0, 100, 200, 365, 500, 1000),
           log = km_json("log"), log_log = km_json("log-log"), plain = km_json("plain"))

# ---- log-rank ---------------------------------------------------------------
lr <- function(fit) list(chisq = fit$chisq, df = length(fit$n) - 1,
                         p = pchisq(fit$chisq, length(fit$n) - 1, lower.tail = FALSE))
logrank <- list(lung_sex = lr(survdiff(Surv(time, status) ~ sex, data = lung)),
                rossi_prio_group = lr(survdiff(Surv(week, arrest) ~ prio_group, data = rossi)))

# ---- logistic (glm) ---------------------------------------------------------
lcovs <- c("age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75")
fps <- treat ~ age + educ + black + hispan + married + nodegree + re74 + re75
g <- glm(fps, data = lal, family = binomial)
gs <- summary(g)$coefficients
logit <- list(n = nrow(lal), loglik = as.numeric(logLik(g)),
              coefficients = lapply(rownames(gs), function(v) list(
                name = v, coef = gs[v, 1], se = gs[v, 2], z = gs[v, 3], p = gs[v, 4])))

# ---- matching (MatchIt nearest on the logit of a glm propensity score) ------
# MatchIt 4.5.1 has two nearest-neighbour engines. Its new vectorised one (used when
# `distance` is a propensity-score vector) is left-biased in 4.5.1: it takes the nearest
# control *below* each treated unit in sort order even when a closer one lies above,
# and it lets pairs exceed the caliper. Its general engine (used when `distance` is a
# matrix) implements the documented greedy algorithm, so the reference calls that one:
# the distance matrix is |logit(e_t) - logit(e_c)|, the rows are put in descending
# order of the score (a stable sort, so ties keep data order) and m.order = "data";
# the caliper is passed in logit units, caliper * sd(logit over the whole sample).
lp <- glm(fps, data = lal, family = binomial)$linear.predictors
lal_sorted <- lal[order(-lp), ]
lp_sorted <- lp[order(-lp)]
dmat <- abs(outer(lp_sorted[lal_sorted$treat == 1], lp_sorted[lal_sorted$treat == 0], "-"))
match_json <- function(caliper_sd = NULL, ...) {
  cal <- if (is.null(caliper_sd)) NULL else caliper_sd * sd(lp)
  m <- matchit(fps, data = lal_sorted, method = "nearest", distance = dmat, m.order = "data",
               caliper = cal, std.caliper = FALSE, ...)
  mm <- m$match.matrix
  sets <- lapply(rownames(mm), function(t) {
    ctl <- mm[t, ]
    list(treated = t, controls = as.list(unname(ctl[!is.na(ctl)])))
  })
  sets <- Filter(function(s) length(s$controls) > 0, sets)
  s <- summary(m, standardize = TRUE)
  bal <- lapply(lcovs, function(v) list(name = v, smd_before = s$sum.all[v, "Std. Mean Diff."],
                                        smd_after = s$sum.matched[v, "Std. Mean Diff."]))
  out <- list(sets = sets, balance = bal, caliper_width = if (is.null(cal)) NA else cal,
              matched_treated = length(sets),
              unmatched_treated = sum(lal$treat == 1) - length(sets))
  if (!isTRUE(list(...)$replace)) {
    md <- match.data(m, data = lal_sorted)
    fit <- lm(re78 ~ treat, data = md, weights = weights)
    out$att <- unname(coef(fit)["treat"])
    out$att_se <- sqrt(vcovCL(fit, cluster = ~subclass)["treat", "treat"])
  }
  out
}
matching <- list(
  nearest = match_json(),
  caliper_0_1 = match_json(0.1),
  ratio_2_caliper_0_2 = match_json(0.2, ratio = 2),
  replace = match_json(replace = TRUE)
)
# Evidence for the note above: the vectorised engine on the same problem.
vec <- matchit(fps, data = lal, method = "nearest", distance = "glm", link = "linear.logit",
               caliper = 0.1)
vd <- setNames(vec$distance, lal$id)
vgap <- na.omit(sapply(rownames(vec$match.matrix), function(t)
  vd[vec$match.matrix[t, 1]] - vd[t]))
matching$vectorised_engine_4_5_1 <- list(
  caliper_width = unname(vec$caliper[1]), matched_treated = length(vgap),
  pairs_beyond_caliper = sum(abs(vgap) > vec$caliper[1]),
  pairs_with_control_above_treated = sum(vgap > 0))

# ---- power ------------------------------------------------------------------
za <- qnorm(0.975); zb <- qnorm(0.8)
schoenfeld <- (za + zb)^2 / (0.25 * log(0.7)^2)
freedman <- (za + zb)^2 * (1 + 0.7)^2 / (1 - 0.7)^2
single_arm <- function(p0, p1, alpha, power) {
  for (n in 1:5000) {
    r <- which(pbinom(0:n - 1, n, p0, lower.tail = FALSE) <= alpha)[1] - 1
    if (is.na(r)) next
    pw <- pbinom(r - 1, n, p1, lower.tail = FALSE)
    if (pw >= power) return(list(p0 = p0, p1 = p1, alpha = alpha, power = power, n = n,
                                 critical = r, power_exact = pw,
                                 alpha_exact = pbinom(r - 1, n, p0, lower.tail = FALSE)))
  }
}
power <- list(
  schoenfeld_hr07 = list(events_exact = schoenfeld, events = ceiling(schoenfeld)),
  freedman_hr07 = list(events_exact = freedman, events = ceiling(freedman)),
  prop_050_075_p90 = list(n = ceiling(power.prop.test(p1 = .5, p2 = .75, power = .9)$n)),
  prop_020_035_p80 = list(n = ceiling(power.prop.test(p1 = .2, p2 = .35, power = .8)$n)),
  single_arm = list(single_arm(0.2, 0.4, 0.05, 0.8), single_arm(0.05, 0.2, 0.05, 0.8),
                    single_arm(0.3, 0.5, 0.025, 0.9))
)

out <- list(generated_by = "tests/data/reference.R",
            versions = list(R = R.version.string,
                            survival = as.character(packageVersion("survival")),
                            MatchIt = as.character(packageVersion("MatchIt")),
                            sandwich = as.character(packageVersion("sandwich"))),
            cox = cox, km = km, logrank = logrank, logit = logit, matching = matching,
            power = power)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           "reference_r.json")

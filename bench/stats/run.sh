#!/usr/bin/env bash
# Benchmarks `saisei stats` against the reference tools on the same CSV files, timing
# whole processes (CSV parsing included) as an analyst would run them.
#
#   bench/stats/run.sh            # full run (about 15-25 minutes on 2 cores)
#   REPS=5 bench/stats/run.sh     # more repetitions (default 3; median reported)
#   SKIP_INSTALL=1 ...            # tools already installed
#   SAISEI=target/release/saisei  # time an existing release binary (no build)
#
# It installs the reference tools into a scratch location (Debian's r-base-core,
# r-cran-survival, r-cran-matchit and `time`; a Python venv with lifelines,
# statsmodels and pandas under $SCRATCH/venv), generates the synthetic cohorts with
# generate.py (1,000,000 and 100,000 rows: 10 covariates, a treatment column, integer
# follow-up days with heavy ties and the same follow-up as a continuous time), builds
# saisei in release mode, and prints each pair's median wall time, the ratio and the
# peak resident memory (from /usr/bin/time -v). Every reference run is bounded by
# REF_TIMEOUT seconds (default 900). lifelines on 1M continuous times takes over a
# minute per fit, so that pair is run on the 100,000-row cohort instead (noted).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SCRATCH="${SCRATCH:-/tmp/saisei-bench}"
REPS="${REPS:-3}"
REF_TIMEOUT="${REF_TIMEOUT:-900}"
mkdir -p "$SCRATCH"

# ---- tools -------------------------------------------------------------------
if [ -z "${SKIP_INSTALL:-}" ]; then
  if ! command -v Rscript >/dev/null || ! Rscript -e 'library(survival); library(MatchIt)' >/dev/null 2>&1 \
     || [ ! -x /usr/bin/time ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      r-base-core r-cran-survival r-cran-matchit time >/dev/null
  fi
  if [ ! -x "$SCRATCH/venv/bin/python" ]; then
    python3 -m venv "$SCRATCH/venv"
  fi
  "$SCRATCH/venv/bin/python" -c 'import lifelines, statsmodels, pandas' 2>/dev/null \
    || "$SCRATCH/venv/bin/pip" install -q lifelines statsmodels pandas
fi
PY="$SCRATCH/venv/bin/python"

# ---- data --------------------------------------------------------------------
[ -f "$SCRATCH/cohort_1m.csv" ] || "$PY" "$HERE/generate.py" 1000000 "$SCRATCH/cohort_1m.csv"
[ -f "$SCRATCH/cohort_100k.csv" ] || "$PY" "$HERE/generate.py" 100000 "$SCRATCH/cohort_100k.csv"

# ---- saisei ------------------------------------------------------------------
# SAISEI=/path/to/saisei uses an existing release binary instead of building one.
if [ -z "${SAISEI:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p saisei-cli)
  SAISEI="$ROOT/target/release/saisei"
fi

# ---- reference scripts -------------------------------------------------------
cat > "$SCRATCH/cox.R" <<'R'
suppressPackageStartupMessages(library(survival))
a <- commandArgs(TRUE)
d <- read.csv(a[1])
f <- as.formula(paste0("Surv(", a[2], ", event) ~ ", paste0("x", 1:10, collapse = " + ")))
fit <- coxph(f, data = d, ties = "efron")
print(summary(fit)$coefficients[, c(1, 3)])
R
cat > "$SCRATCH/match.R" <<'R'
suppressPackageStartupMessages(library(MatchIt))
a <- commandArgs(TRUE)
d <- read.csv(a[1])
f <- as.formula(paste0("treat ~ ", paste0("x", 1:10, collapse = " + ")))
m <- matchit(f, data = d, method = "nearest", distance = "glm", link = "linear.logit",
             caliper = 0.2)
print(summary(m$weights > 0))
R
cat > "$SCRATCH/cox_lifelines.py" <<'PYEOF'
import sys
import pandas as pd
from lifelines import CoxPHFitter
df = pd.read_csv(sys.argv[1])
cols = [sys.argv[2], "event"] + [f"x{i}" for i in range(1, 11)]
cph = CoxPHFitter().fit(df[cols], duration_col=sys.argv[2], event_col="event")
print(cph.params_, cph.standard_errors_)
PYEOF
cat > "$SCRATCH/logit_statsmodels.py" <<'PYEOF'
import sys
import pandas as pd
import statsmodels.api as sm
df = pd.read_csv(sys.argv[1])
X = sm.add_constant(df[[f"x{i}" for i in range(1, 11)]])
res = sm.Logit(df["y"], X).fit(disp=0)
print(res.params, res.bse)
PYEOF

# ---- timing ------------------------------------------------------------------
# measure NAME CMD... : runs CMD $REPS times; sets MED (median seconds) and RSS (max MB).
measure() {
  local name="$1"; shift
  local times=() rss=0 log="$SCRATCH/time.log"
  for _ in $(seq "$REPS"); do
    if ! /usr/bin/time -v timeout "$REF_TIMEOUT" "$@" >"$SCRATCH/out.txt" 2>"$log"; then
      echo "  $name failed or timed out:" >&2; tail -5 "$log" >&2; MED="fail"; RSS="-"; return
    fi
    local wall kb
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" \
      | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    times+=("$wall"); [ "$kb" -gt "$rss" ] && rss=$kb
  done
  MED=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  RSS=$((rss / 1024))
  echo "  $name: median ${MED}s over $REPS (${times[*]}), peak RSS ${RSS} MB" >&2
}

ROWS=()
row() { ROWS+=("$1"); }
pair() { # task  saisei_med saisei_rss  ref_name ref_med ref_rss
  local ratio="-"
  if [ "$5" != "fail" ] && [ "$2" != "fail" ]; then ratio=$(awk -v a="$5" -v b="$2" 'BEGIN {printf "%.1f×", a/b}'); fi
  row "| $1 | $2 s | $3 MB | $4 | $5 s | $6 MB | $ratio |"
}

C1M="$SCRATCH/cohort_1m.csv"; C100K="$SCRATCH/cohort_100k.csv"
X=x1,x2,x3,x4,x5,x6,x7,x8,x9,x10

echo "Cox, 1M rows, integer days (heavy ties), Efron" >&2
measure saisei "$SAISEI" stats cox --csv "$C1M" --time days --event event --covariates $X --json
S=$MED; SR=$RSS
measure R Rscript "$SCRATCH/cox.R" "$C1M" days
pair "Cox Efron, 1M × 10, tied days" "$S" "$SR" "R coxph" "$MED" "$RSS"
measure lifelines "$PY" "$SCRATCH/cox_lifelines.py" "$C1M" days
pair "Cox Efron, 1M × 10, tied days" "$S" "$SR" "lifelines" "$MED" "$RSS"

echo "Cox, 1M rows, continuous times" >&2
measure saisei "$SAISEI" stats cox --csv "$C1M" --time time --event event --covariates $X --json
S=$MED; SR=$RSS
measure R Rscript "$SCRATCH/cox.R" "$C1M" time
pair "Cox Efron, 1M × 10, continuous" "$S" "$SR" "R coxph" "$MED" "$RSS"

echo "Cox, 100k rows, continuous times (lifelines pair)" >&2
measure saisei "$SAISEI" stats cox --csv "$C100K" --time time --event event --covariates $X --json
S=$MED; SR=$RSS
measure lifelines "$PY" "$SCRATCH/cox_lifelines.py" "$C100K" time
pair "Cox Efron, 100k × 10, continuous (lifelines subset)" "$S" "$SR" "lifelines" "$MED" "$RSS"

echo "Logistic regression, 1M rows" >&2
measure saisei "$SAISEI" stats logit --csv "$C1M" --outcome y --covariates $X --json
S=$MED; SR=$RSS
measure statsmodels "$PY" "$SCRATCH/logit_statsmodels.py" "$C1M"
pair "Logit, 1M × 10" "$S" "$SR" "statsmodels Logit" "$MED" "$RSS"

echo "Matching 1:1, caliper 0.2 SD of the logit score" >&2
measure saisei "$SAISEI" stats match --csv "$C100K" --treatment treat --covariates $X --caliper 0.2 --json
S=$MED; SR=$RSS
measure MatchIt Rscript "$SCRATCH/match.R" "$C100K"
pair "Match 1:1 caliper, 100k" "$S" "$SR" "MatchIt" "$MED" "$RSS"
measure saisei "$SAISEI" stats match --csv "$C1M" --treatment treat --covariates $X --caliper 0.2 --json
row "| Match 1:1 caliper, 1M | $MED s | $RSS MB | - | - | - | - |"

echo
echo "Median wall time of the whole process over $REPS runs (CSV parsing included); ratio = reference / saisei."
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(Rscript -e 'cat(R.version.string, "survival", as.character(packageVersion("survival")), "MatchIt", as.character(packageVersion("MatchIt")))' 2>/dev/null); $("$PY" -c 'import lifelines, statsmodels, pandas; print("lifelines", lifelines.__version__, "statsmodels", statsmodels.__version__, "pandas", pandas.__version__)')."
echo
echo "| task | saisei | saisei peak RSS | reference | reference time | reference peak RSS | ratio |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"

"""Reference numbers for saisei-stats from lifelines and statsmodels.

Run from this directory first (it writes rossi.csv, which reference.R reads):
    python3 -m venv /tmp/statsref-venv
    /tmp/statsref-venv/bin/pip install lifelines statsmodels pandas
    /tmp/statsref-venv/bin/python reference.py
Produced with lifelines 0.30.3, statsmodels 0.15.0, pandas 2.3.3.
Writes rossi.csv (lifelines' load_rossi) and reference_python.json.
"""
import json
import os

import lifelines
import pandas as pd
import statsmodels
import statsmodels.api as sm
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi

load_rossi().to_csv("rossi.csv", index=False)
rossi = pd.read_csv("rossi.csv")


def cox(df, **kw):
    cph = CoxPHFitter()
    cph.fit(df, duration_col="week", event_col="arrest", **kw)
    return {
        "loglik": float(cph.log_likelihood_),
        "concordance": float(cph.concordance_index_),
        "coefficients": [
            {"name": n, "coef": float(cph.params_[n]), "se": float(cph.standard_errors_[n])}
            for n in cph.params_.index
        ],
    }


out = {
    "generated_by": "tests/data/reference.py",
    "versions": {
        "lifelines": lifelines.__version__,
        "statsmodels": statsmodels.__version__,
        "pandas": pd.__version__,
    },
    "cox": {"rossi_efron": cox(rossi)},
}

if os.path.exists("rossi_weighted.csv"):
    rw = pd.read_csv("rossi_weighted.csv")
    cols = ["week", "arrest", "fin", "age", "race", "wexp", "mar", "paro", "prio", "w"]
    out["cox"]["rossi_weights"] = cox(rw[cols], weights_col="w", robust=True)

lal = pd.read_csv("lalonde.csv")
covs = ["age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75"]
X = sm.add_constant(lal[covs]).rename(columns={"const": "(Intercept)"})
res = sm.Logit(lal["treat"], X).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
out["logit"] = {
    "n": int(res.nobs),
    "loglik": float(res.llf),
    "converged": bool(res.mle_retvals["converged"]),
    "coefficients": [
        {
            "name": n,
            "coef": float(res.params[n]),
            "se": float(res.bse[n]),
            "z": float(res.tvalues[n]),
            "p": float(res.pvalues[n]),
        }
        for n in X.columns
    ],
}

with open("reference_python.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")

"""Synthetic registry cohort for bench/stats/run.sh.

Writes a CSV with one row per patient: id, treat (propensity depends on the
covariates), y (a binary outcome), days (integer follow-up, so event times are heavily
tied), time (the same follow-up as a continuous time), event, and covariates x1..x10
(x1..x6 continuous, x7..x10 binary).

    python generate.py ROWS OUT.csv [SEED]
"""
import sys

import numpy as np
import pandas as pd


def main() -> None:
    rows = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20260401
    rng = np.random.default_rng(seed)
    x = np.empty((rows, 10))
    x[:, :6] = rng.normal(size=(rows, 6))
    x[:, 6:] = rng.random((rows, 4)) < np.array([0.5, 0.3, 0.2, 0.6])
    ps_lin = -1.0 + x @ np.array([0.4, -0.3, 0.2, 0.0, 0.1, -0.2, 0.5, -0.4, 0.3, 0.2])
    treat = (rng.random(rows) < 1.0 / (1.0 + np.exp(-ps_lin))).astype(int)
    beta = np.array([0.3, -0.2, 0.1, 0.05, 0.0, 0.15, 0.4, -0.3, 0.2, 0.1])
    hazard = 0.001 * np.exp(x @ beta - 0.3 * treat)
    t_event = rng.exponential(1.0 / hazard)
    t_censor = rng.uniform(30, 1825, size=rows)
    event = (t_event <= t_censor).astype(int)
    time = np.minimum(t_event, t_censor)
    days = np.ceil(time).astype(int)
    y_lin = -0.5 + x @ np.array([0.2, 0.1, -0.3, 0.0, 0.25, 0.1, -0.2, 0.3, 0.1, -0.1]) + 0.4 * treat
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-y_lin))).astype(int)
    df = pd.DataFrame({"id": np.arange(1, rows + 1), "treat": treat, "y": y, "days": days,
                       "time": np.round(time, 6), "event": event})
    for j in range(10):
        col = x[:, j]
        df[f"x{j + 1}"] = np.round(col, 6) if j < 6 else col.astype(int)
    df.to_csv(out, index=False)


if __name__ == "__main__":
    main()

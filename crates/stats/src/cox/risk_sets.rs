//! The Cox partial likelihood, its score and information, in one backward pass.
//!
//! Rows are sorted once by stratum and time; walking backwards accumulates the risk
//! set sums S0 = Σ w·r, S1 = Σ w·r·x and S2 = Σ w·r·x·x' so each evaluation costs
//! O(n·p²). Ties follow R's `coxfit6.c` exactly (Breslow, or Efron with case weights
//! averaged over the tied deaths), but the Efron terms for a tied group are summed in
//! closed form so a time with thousands of deaths costs O(d + p²) rather than O(d·p²).

/// Rows sorted by (stratum, time), covariates centred and stored row-major.
pub(crate) struct SortedData {
    pub n: usize,
    pub p: usize,
    /// Row-major, centred covariates in sorted order.
    pub x: Vec<f64>,
    pub time: Vec<f64>,
    pub event: Vec<bool>,
    pub weight: Vec<f64>,
    /// Half-open ranges of sorted positions, one per stratum.
    pub strata: Vec<(usize, usize)>,
    /// Original row index of each sorted position.
    pub order: Vec<usize>,
}

impl SortedData {
    pub(crate) fn new(
        columns: &[Vec<f64>],
        time: &[f64],
        event: &[bool],
        weight: Option<&[f64]>,
        stratum: Option<&[u32]>,
    ) -> Self {
        let n = time.len();
        let p = columns.len();
        let mut order: Vec<usize> = (0..n).collect();
        match stratum {
            Some(s) => order.sort_unstable_by(|&a, &b| {
                s[a].cmp(&s[b])
                    .then(time[a].total_cmp(&time[b]))
                    .then(a.cmp(&b))
            }),
            None => order.sort_unstable_by(|&a, &b| time[a].total_cmp(&time[b]).then(a.cmp(&b))),
        }
        let w_of = |i: usize| weight.map_or(1.0, |w| w[i]);
        let total_w: f64 = (0..n).map(w_of).sum();
        let means: Vec<f64> = columns
            .iter()
            .map(|c| c.iter().enumerate().map(|(i, v)| w_of(i) * v).sum::<f64>() / total_w)
            .collect();
        let mut x = vec![0.0; n * p];
        for (pos, &row) in order.iter().enumerate() {
            let dst = &mut x[pos * p..(pos + 1) * p];
            for (j, col) in columns.iter().enumerate() {
                dst[j] = col[row] - means[j];
            }
        }
        let mut strata = Vec::new();
        let mut start = 0;
        if let Some(s) = stratum {
            for pos in 1..n {
                if s[order[pos]] != s[order[pos - 1]] {
                    strata.push((start, pos));
                    start = pos;
                }
            }
        }
        if n > 0 {
            strata.push((start, n));
        }
        SortedData {
            n,
            p,
            x,
            time: order.iter().map(|&i| time[i]).collect(),
            event: order.iter().map(|&i| event[i]).collect(),
            weight: order.iter().map(|&i| w_of(i)).collect(),
            strata,
            order,
        }
    }

    /// The centred linear predictor at `beta`, in sorted order.
    pub(crate) fn linear_predictor(&self, beta: &[f64]) -> Vec<f64> {
        if self.p == 0 {
            return vec![0.0; self.n];
        }
        self.x
            .chunks_exact(self.p)
            .map(|row| row.iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect()
    }
}

/// Partial log-likelihood, score vector and information matrix at one β.
pub(crate) struct Evaluation {
    pub loglik: f64,
    pub score: Vec<f64>,
    /// Packed lower triangle of the information matrix.
    pub information: Vec<f64>,
}

/// Σ over the Efron terms of a tied group of `d` deaths, term k having the deaths'
/// share f = (k + 1)/d in the risk set: den_k = base + f·deaths_risk.
struct EfronSums {
    log_den: f64,
    inv: f64,
    f_inv: f64,
    inv2: f64,
    f_inv2: f64,
    ff_inv2: f64,
}

fn efron_sums(base: f64, deaths_risk: f64, d: usize) -> EfronSums {
    let mut s = EfronSums {
        log_den: 0.0,
        inv: 0.0,
        f_inv: 0.0,
        inv2: 0.0,
        f_inv2: 0.0,
        ff_inv2: 0.0,
    };
    let dn = d as f64;
    for k in 0..d {
        let f = (k + 1) as f64 / dn;
        let den = base + f * deaths_risk;
        let inv = 1.0 / den;
        let inv2 = inv * inv;
        s.log_den += den.ln();
        s.inv += inv;
        s.f_inv += f * inv;
        s.inv2 += inv2;
        s.f_inv2 += f * inv2;
        s.ff_inv2 += f * f * inv2;
    }
    s
}

/// Evaluates the partial likelihood at `beta`.
///
/// The information matrix is split as I = Σ_i r_i m_i x_i x_i' − Σ_t (outer products
/// of risk-set means), where m_i collects the hazard-like weights of every death time
/// whose risk set contains row i. The first sum is the O(n·p²) part; it has no running
/// state, so it is summed over row blocks in parallel. The rest is one O(n·p) backward
/// pass plus O(p²) per distinct death time.
#[expect(
    clippy::needless_range_loop,
    reason = "positions index several parallel columns at once"
)]
pub(crate) fn evaluate(data: &SortedData, beta: &[f64], efron: bool) -> Evaluation {
    let p = data.p;
    let n = data.n;
    let tri = p * (p + 1) / 2;

    // Linear predictor and weighted risk per row.
    let blocks = crate::parallel::over_rows(n, |rows| {
        rows.map(|i| {
            let row = &data.x[i * p..(i + 1) * p];
            let z: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
            (z, z.exp() * data.weight[i])
        })
        .collect::<Vec<(f64, f64)>>()
    });
    let zr: Vec<(f64, f64)> = blocks.into_iter().flatten().collect();

    // Backward pass: log-likelihood, score, the outer-product part of the information,
    // and for each row the weight m_i of its x_i x_i' term.
    let mut loglik = 0.0;
    let mut score = vec![0.0; p];
    let mut outer = vec![0.0; tri];
    let mut base_weight = vec![0.0; n];
    let mut death_weight = vec![0.0; n];
    let mut a = vec![0.0; p];
    let mut a2 = vec![0.0; p];
    for &(start, end) in &data.strata {
        let mut denom = 0.0;
        a.iter_mut().for_each(|v| *v = 0.0);
        let mut pos = end;
        while pos > start {
            let t = data.time[pos - 1];
            let group_end = pos;
            let (mut ndead, mut deadwt, mut denom2) = (0usize, 0.0, 0.0);
            a2.iter_mut().for_each(|v| *v = 0.0);
            while pos > start && data.time[pos - 1] == t {
                pos -= 1;
                let row = &data.x[pos * p..(pos + 1) * p];
                let (z, risk) = zr[pos];
                if data.event[pos] {
                    let w = data.weight[pos];
                    ndead += 1;
                    deadwt += w;
                    denom2 += risk;
                    loglik += w * z;
                    for j in 0..p {
                        score[j] += w * row[j];
                        a2[j] += risk * row[j];
                    }
                } else {
                    denom += risk;
                    for j in 0..p {
                        a[j] += risk * row[j];
                    }
                }
            }
            let (cb, cd) = if ndead == 0 {
                (0.0, 0.0)
            } else if !efron || ndead == 1 {
                denom += denom2;
                for j in 0..p {
                    a[j] += a2[j];
                }
                loglik -= deadwt * denom.ln();
                let inv = 1.0 / denom;
                let mut idx = 0;
                for i in 0..p {
                    score[i] -= deadwt * a[i] * inv;
                    for j in 0..=i {
                        outer[idx] += deadwt * a[i] * a[j] * inv * inv;
                        idx += 1;
                    }
                }
                (deadwt * inv, deadwt * inv)
            } else {
                let wtave = deadwt / ndead as f64;
                let s = efron_sums(denom, denom2, ndead);
                loglik -= wtave * s.log_den;
                let mut idx = 0;
                for i in 0..p {
                    score[i] -= wtave * (a[i] * s.inv + a2[i] * s.f_inv);
                    for j in 0..=i {
                        outer[idx] += wtave
                            * (a[i] * a[j] * s.inv2
                                + (a[i] * a2[j] + a2[i] * a[j]) * s.f_inv2
                                + a2[i] * a2[j] * s.ff_inv2);
                        idx += 1;
                    }
                }
                denom += denom2;
                for j in 0..p {
                    a[j] += a2[j];
                }
                (wtave * s.inv, wtave * s.f_inv)
            };
            // Rows of this time: censored ones sit in the base of this risk set, the
            // deaths enter with their Efron share.
            for i in pos..group_end {
                base_weight[i] = cb;
                death_weight[i] = if data.event[i] { cd } else { cb };
            }
        }
        // Forward: add the weights of all earlier death times in the stratum.
        let mut cumulative = 0.0;
        let mut i = start;
        while i < end {
            let t = data.time[i];
            let group_start = i;
            while i < end && data.time[i] == t {
                i += 1;
            }
            for k in group_start..i {
                death_weight[k] += cumulative;
            }
            cumulative += base_weight[group_start];
        }
    }
    drop(base_weight);

    // Σ_i r_i m_i x_i x_i' over row blocks.
    let parts = crate::parallel::over_rows(n, |rows| {
        let mut c = vec![0.0; tri];
        for i in rows {
            let m = zr[i].1 * death_weight[i];
            if m == 0.0 {
                continue;
            }
            let row = &data.x[i * p..(i + 1) * p];
            let mut idx = 0;
            for r in 0..p {
                let mr = m * row[r];
                for &xc in &row[..=r] {
                    c[idx] += mr * xc;
                    idx += 1;
                }
            }
        }
        c
    });
    let mut information = crate::parallel::sum_vectors(parts);
    for (v, o) in information.iter_mut().zip(&outer) {
        *v -= o;
    }
    Evaluation {
        loglik,
        score,
        information,
    }
}

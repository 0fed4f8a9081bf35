//! Robust (sandwich) variance of a Cox fit, as R's `coxph(..., robust = TRUE)` or
//! `cluster()` computes it: `V · (Σ_g s_g s_g') · V`, where `s_g` sums the weighted
//! score residuals of cluster g and V is the model-based variance.
//!
//! The score residuals follow R's `coxscore2.c` (Breslow, or Efron with its
//! down-weighted tied deaths), but instead of its O(n²) double loop the hazard
//! increments are accumulated forward in time, so the whole computation is O(n·p).

use super::risk_sets::SortedData;

/// What one distinct death time contributes to the score residuals.
struct DeathTime {
    /// Hazard increment and hazard-weighted mean, seen by rows still at risk that did
    /// not die at this time.
    hazard: f64,
    hazard_mean: Vec<f64>,
    /// The same, seen by the rows that died here (Efron down-weights them).
    dead_hazard: f64,
    dead_hazard_mean: Vec<f64>,
    /// Average covariate mean over the Efron terms (the plain mean for Breslow).
    dead_mean: Vec<f64>,
}

/// Risk-set sums at one distinct death time.
struct RiskSetSums<'a> {
    /// Σ w·r over the risk set.
    denom: f64,
    /// Σ w·r over the deaths at this time.
    e_denom: f64,
    /// Σ w over the deaths.
    deadwt: f64,
    /// Number of deaths.
    deaths: usize,
    /// Σ w·r·x over the risk set.
    a: &'a [f64],
    /// Σ w·r·x over the deaths.
    a2: &'a [f64],
}

fn death_time(sums: &RiskSetSums<'_>, efron: bool) -> DeathTime {
    let RiskSetSums {
        denom,
        e_denom,
        deadwt,
        deaths,
        a,
        a2,
    } = *sums;
    let p = a.len();
    if !efron || deaths < 2 {
        let h = deadwt / denom;
        let mean: Vec<f64> = a.iter().map(|v| v / denom).collect();
        let hm: Vec<f64> = mean.iter().map(|m| h * m).collect();
        return DeathTime {
            hazard: h,
            hazard_mean: hm.clone(),
            dead_hazard: h,
            dead_hazard_mean: hm,
            dead_mean: mean,
        };
    }
    let d = deaths as f64;
    let mw = deadwt / d;
    let (mut h, mut h_a, mut h_a2) = (0.0, 0.0, 0.0);
    let (mut hd, mut hd_a, mut hd_a2) = (0.0, 0.0, 0.0);
    let (mut m_a, mut m_a2) = (0.0, 0.0);
    for dd in 0..deaths {
        let down = dd as f64 / d;
        let den = denom - down * e_denom;
        let haz = mw / den;
        h += haz;
        h_a += haz / den;
        h_a2 += haz * down / den;
        let keep = 1.0 - down;
        hd += haz * keep;
        hd_a += haz * keep / den;
        hd_a2 += haz * keep * down / den;
        m_a += 1.0 / den;
        m_a2 += down / den;
    }
    let combine =
        |ca: f64, ca2: f64| -> Vec<f64> { (0..p).map(|j| a[j] * ca - a2[j] * ca2).collect() };
    DeathTime {
        hazard: h,
        hazard_mean: combine(h_a, h_a2),
        dead_hazard: hd,
        dead_hazard_mean: combine(hd_a, hd_a2),
        dead_mean: combine(m_a / d, m_a2 / d),
    }
}

/// `Σ_g s_g s_g'` (full row-major p×p) where `s_g` is the sum over cluster g of the
/// case-weighted score residuals at `beta`. Without clusters every row is its own.
#[expect(
    clippy::needless_range_loop,
    reason = "covariate indices run over several parallel vectors at once"
)]
pub(crate) fn score_residual_crossproduct(
    data: &SortedData,
    beta: &[f64],
    efron: bool,
    cluster: Option<&[u32]>,
) -> Vec<f64> {
    let p = data.p;
    let lp = data.linear_predictor(beta);
    let risk_score: Vec<f64> = lp.iter().map(|v| v.exp()).collect();
    let n_clusters = cluster.map_or(0, |c| c.iter().map(|&g| g as usize + 1).max().unwrap_or(0));
    let mut cluster_sums = vec![0.0; n_clusters * p];
    let mut cross = vec![0.0; p * p];
    let mut resid = vec![0.0; p];

    for &(start, end) in &data.strata {
        // Backward pass: risk-set sums at each distinct death time.
        let mut times: Vec<(usize, DeathTime)> = Vec::new();
        let mut denom = 0.0;
        let mut a = vec![0.0; p];
        let mut pos = end;
        while pos > start {
            let t = data.time[pos - 1];
            let mut a2 = vec![0.0; p];
            let (mut e_denom, mut deadwt, mut deaths) = (0.0, 0.0, 0usize);
            while pos > start && data.time[pos - 1] == t {
                pos -= 1;
                let w = data.weight[pos];
                let r = risk_score[pos] * w;
                let row = &data.x[pos * p..(pos + 1) * p];
                denom += r;
                for j in 0..p {
                    a[j] += r * row[j];
                }
                if data.event[pos] {
                    deaths += 1;
                    e_denom += r;
                    deadwt += w;
                    for j in 0..p {
                        a2[j] += r * row[j];
                    }
                }
            }
            if deaths > 0 {
                let sums = RiskSetSums {
                    denom,
                    e_denom,
                    deadwt,
                    deaths,
                    a: &a,
                    a2: &a2,
                };
                times.push((pos, death_time(&sums, efron)));
            }
        }
        times.reverse();

        // Forward pass: cumulative hazard sums give each row's residual.
        let mut cum_h = 0.0;
        let mut cum_hm = vec![0.0; p];
        let mut next = times.iter().peekable();
        let mut pos = start;
        while pos < end {
            let t = data.time[pos];
            let group_end = (pos..end).find(|&i| data.time[i] != t).unwrap_or(end);
            let here = match next.peek() {
                Some((first, _)) if *first == pos => next.next().map(|(_, dt)| dt),
                _ => None,
            };
            for i in pos..group_end {
                let row = &data.x[i * p..(i + 1) * p];
                let s = risk_score[i];
                match here {
                    Some(dt) if data.event[i] => {
                        let h = cum_h + dt.dead_hazard;
                        for j in 0..p {
                            let hm = cum_hm[j] + dt.dead_hazard_mean[j];
                            resid[j] = (row[j] - dt.dead_mean[j]) - s * (row[j] * h - hm);
                        }
                    }
                    Some(dt) => {
                        let h = cum_h + dt.hazard;
                        for j in 0..p {
                            let hm = cum_hm[j] + dt.hazard_mean[j];
                            resid[j] = -s * (row[j] * h - hm);
                        }
                    }
                    None => {
                        for j in 0..p {
                            resid[j] = -s * (row[j] * cum_h - cum_hm[j]);
                        }
                    }
                }
                let w = data.weight[i];
                match cluster {
                    Some(c) => {
                        let g = c[data.order[i]] as usize;
                        for j in 0..p {
                            cluster_sums[g * p + j] += w * resid[j];
                        }
                    }
                    None => {
                        for j in 0..p {
                            let wj = w * resid[j];
                            for k in 0..=j {
                                cross[j * p + k] += wj * w * resid[k];
                            }
                        }
                    }
                }
            }
            if let Some(dt) = here {
                cum_h += dt.hazard;
                for j in 0..p {
                    cum_hm[j] += dt.hazard_mean[j];
                }
            }
            pos = group_end;
        }
    }
    if cluster.is_some() {
        for s in cluster_sums.chunks_exact(p.max(1)).take(n_clusters) {
            for j in 0..p {
                for k in 0..=j {
                    cross[j * p + k] += s[j] * s[k];
                }
            }
        }
    }
    for j in 0..p {
        for k in 0..j {
            cross[k * p + j] = cross[j * p + k];
        }
    }
    cross
}

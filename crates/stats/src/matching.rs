//! Greedy nearest-neighbour matching on a distance (the logit of the propensity
//! score), as R's MatchIt `method = "nearest"` does it for the ATT, plus OHDSI
//! CohortMethod's global closest-pair-first variant.
//!
//! MatchIt's conventions are followed exactly: treated units are taken in the chosen
//! order (largest distance first by default; ties in the order keep data order); each
//! takes the nearest still-unused control, ties going to the earlier row; a caliper is
//! given in standard deviations of the distance over the whole sample; with `ratio`
//! k > 1 and no replacement matching runs in k rounds, one control per treated unit per
//! round, and a treated unit that finds nothing within the caliper drops out of later
//! rounds. Unused controls are found with two union–find "next free" arrays over the
//! controls sorted by distance, so a match costs near-constant time and a million rows
//! match in well under a second.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::{Result, StatsError};
use crate::logistic::sd;

/// The order in which treated units choose their controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOrder {
    /// Largest distance first (MatchIt's `m.order = "largest"`, its default for the ATT).
    Descending,
    /// Smallest distance first (`"smallest"`).
    Ascending,
    /// Data order (`"data"`).
    Data,
    /// A seeded random order (`"random"`); the seed makes it reproducible.
    Random {
        /// Seed of the shuffle.
        seed: u64,
    },
    /// Global closest pair first (OHDSI CohortMethod's `matchOnPs`).
    BestFirst,
}

/// Options for [`nearest_neighbour`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchOptions {
    /// Controls per treated unit (≥ 1).
    pub ratio: usize,
    /// Caliper in standard deviations of the distance over the whole sample.
    pub caliper: Option<f64>,
    /// Whether a control may be used by several treated units.
    pub replace: bool,
    /// Matching order.
    pub order: MatchOrder,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            ratio: 1,
            caliper: None,
            replace: false,
            order: MatchOrder::Descending,
        }
    }
}

/// One treated unit and the controls matched to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedSet {
    /// Row of the treated unit.
    pub treated: usize,
    /// Rows of its controls, in the order they were chosen.
    pub controls: Vec<usize>,
}

/// The result of matching.
#[derive(Debug, Clone, PartialEq)]
pub struct Matching {
    /// Caliper in distance units (None without a caliper).
    pub caliper_width: Option<f64>,
    /// Matched sets, ordered by the treated unit's row.
    pub sets: Vec<MatchedSet>,
    /// Treated rows left without a control.
    pub unmatched_treated: Vec<usize>,
    /// MatchIt's matching weights per row: 1 for matched treated units, Σ 1/k over the
    /// sets a control belongs to (rescaled to sum to the number of matched controls),
    /// 0 for unmatched rows.
    pub weights: Vec<f64>,
}

impl Matching {
    /// Number of treated–control pairs.
    pub fn pairs(&self) -> usize {
        self.sets.iter().map(|s| s.controls.len()).sum()
    }
}

/// Controls sorted by (distance, row) with O(α(n)) "nearest unused" queries.
struct ControlPool {
    rows: Vec<usize>,
    dist: Vec<f64>,
    run_start: Vec<usize>,
    /// `next_free[i]`: a position ≥ i that may be free (`len` = none).
    next_free: Vec<usize>,
    /// `prev_free[i]`: 1 + a position ≤ i − 1 that may be free (0 = none), indexed by
    /// position + 1.
    prev_free: Vec<usize>,
}

impl ControlPool {
    fn new(distance: &[f64], treated: &[bool]) -> Self {
        let mut rows: Vec<usize> = (0..distance.len()).filter(|&i| !treated[i]).collect();
        rows.sort_by(|&a, &b| distance[a].total_cmp(&distance[b]).then(a.cmp(&b)));
        let dist: Vec<f64> = rows.iter().map(|&r| distance[r]).collect();
        let m = rows.len();
        let mut run_start = vec![0; m];
        for i in 1..m {
            run_start[i] = if dist[i] == dist[i - 1] {
                run_start[i - 1]
            } else {
                i
            };
        }
        ControlPool {
            rows,
            dist,
            run_start,
            next_free: (0..=m).collect(),
            prev_free: (0..=m).collect(),
        }
    }

    /// First free position ≥ i.
    fn free_at_or_after(&mut self, i: usize) -> Option<usize> {
        let mut root = i;
        while self.next_free[root] != root {
            root = self.next_free[root];
        }
        let mut cur = i;
        while self.next_free[cur] != root {
            let next = self.next_free[cur];
            self.next_free[cur] = root;
            cur = next;
        }
        (root < self.rows.len()).then_some(root)
    }

    /// Last free position ≤ i.
    fn free_at_or_before(&mut self, i: usize) -> Option<usize> {
        let start = i + 1;
        let mut root = start;
        while self.prev_free[root] != root {
            root = self.prev_free[root];
        }
        let mut cur = start;
        while self.prev_free[cur] != root {
            let next = self.prev_free[cur];
            self.prev_free[cur] = root;
            cur = next;
        }
        root.checked_sub(1)
    }

    fn take(&mut self, pos: usize) {
        self.next_free[pos] = pos + 1;
        self.prev_free[pos + 1] = pos;
    }

    /// Nearest free control to `d` within `caliper`; ties go to the earlier row.
    fn nearest(&mut self, d: f64, caliper: f64) -> Option<(f64, usize)> {
        let lb = self.dist.partition_point(|&c| c < d);
        let right = self.free_at_or_after(lb);
        let left = lb
            .checked_sub(1)
            .and_then(|i| self.free_at_or_before(i))
            .and_then(|l| self.free_at_or_after(self.run_start[l]));
        let candidate = |pos: Option<usize>, pool: &ControlPool| {
            pos.map(|p| ((pool.dist[p] - d).abs(), pool.rows[p], p))
        };
        let best = match (candidate(left, self), candidate(right, self)) {
            (Some(a), Some(b)) => {
                if (a.0, a.1) <= (b.0, b.1) {
                    Some(a)
                } else {
                    Some(b)
                }
            }
            (a, b) => a.or(b),
        }?;
        (best.0 <= caliper).then_some((best.0, best.2))
    }

    /// The `k` nearest controls to `d` within `caliper`, ignoring use (matching with
    /// replacement); ties go to earlier rows.
    fn k_nearest(&self, d: f64, k: usize, caliper: f64) -> Vec<usize> {
        let lb = self.dist.partition_point(|&c| c < d);
        let mut cand: Vec<(f64, usize, usize)> = Vec::new();
        // Right side: k entries plus any further ties with the k-th.
        let mut i = lb;
        while i < self.rows.len() {
            let gap = self.dist[i] - d;
            if cand.len() >= k && cand.last().is_some_and(|c| c.0 < gap) {
                break;
            }
            cand.push((gap, self.rows[i], i));
            i += 1;
        }
        let right_len = cand.len();
        let mut i = lb;
        while i > 0 {
            i -= 1;
            let gap = d - self.dist[i];
            if cand.len() - right_len >= k && cand.last().is_some_and(|c| c.0 < gap) {
                break;
            }
            cand.push((gap, self.rows[i], i));
        }
        cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        cand.into_iter()
            .take(k)
            .filter(|c| c.0 <= caliper)
            .map(|c| c.2)
            .collect()
    }
}

/// SplitMix64: a tiny, well-known generator, used so a seed gives the same order on
/// every platform and every version of this crate.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        // Lemire's multiply-shift; the bias is below 2^-40 for bound < 2^24.
        ((u128::from(self.next()) * bound as u128) >> 64) as usize
    }
}

#[derive(PartialEq)]
struct Candidate {
    gap: f64,
    treated: usize,
    control_row: usize,
    pos: usize,
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the closest pair first.
        other
            .gap
            .total_cmp(&self.gap)
            .then(other.treated.cmp(&self.treated))
            .then(other.control_row.cmp(&self.control_row))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Matches each treated row (`treated[i]`) to up to `ratio` controls on `distance`.
pub fn nearest_neighbour(
    distance: &[f64],
    treated: &[bool],
    options: MatchOptions,
) -> Result<Matching> {
    if distance.len() != treated.len() {
        return Err(StatsError::LengthMismatch {
            name: "treatment".into(),
            got: treated.len(),
            expected: distance.len(),
        });
    }
    crate::covariates::check_finite("distance", distance)?;
    if options.ratio == 0 {
        return Err(StatsError::InvalidArgument(
            "ratio must be at least 1".into(),
        ));
    }
    let treated_rows: Vec<usize> = (0..treated.len()).filter(|&i| treated[i]).collect();
    let n_controls = treated.len() - treated_rows.len();
    if treated_rows.is_empty() {
        return Err(StatsError::EmptyGroup {
            detail: "there are no treated rows (treatment = 1)".into(),
        });
    }
    if n_controls == 0 {
        return Err(StatsError::EmptyGroup {
            detail: "there are no control rows (treatment = 0)".into(),
        });
    }
    let caliper_width = match options.caliper {
        Some(c) if !(c.is_finite() && c > 0.0) => {
            return Err(StatsError::InvalidArgument(format!(
                "caliper must be a positive number of standard deviations, got {c}"
            )));
        }
        Some(c) => Some(c * sd(distance)),
        None => None,
    };
    let limit = caliper_width.unwrap_or(f64::INFINITY);
    let mut pool = ControlPool::new(distance, treated);
    let mut chosen: Vec<Vec<usize>> = vec![Vec::new(); treated.len()];

    if options.replace {
        for &t in &treated_rows {
            chosen[t] = pool
                .k_nearest(distance[t], options.ratio, limit)
                .into_iter()
                .map(|p| pool.rows[p])
                .collect();
        }
    } else if options.order == MatchOrder::BestFirst {
        let mut eligible = treated_rows.clone();
        for _round in 0..options.ratio {
            let mut heap = BinaryHeap::new();
            for &t in &eligible {
                if let Some((gap, pos)) = pool.nearest(distance[t], limit) {
                    heap.push(Candidate {
                        gap,
                        treated: t,
                        control_row: pool.rows[pos],
                        pos,
                    });
                }
            }
            let mut next_round = Vec::new();
            while let Some(c) = heap.pop() {
                if pool.free_at_or_after(c.pos) == Some(c.pos) {
                    pool.take(c.pos);
                    chosen[c.treated].push(c.control_row);
                    next_round.push(c.treated);
                } else if let Some((gap, pos)) = pool.nearest(distance[c.treated], limit) {
                    heap.push(Candidate {
                        gap,
                        treated: c.treated,
                        control_row: pool.rows[pos],
                        pos,
                    });
                }
            }
            next_round.sort_unstable();
            eligible = next_round;
        }
    } else {
        let mut order = treated_rows.clone();
        match options.order {
            MatchOrder::Descending => {
                order.sort_by(|&a, &b| distance[b].total_cmp(&distance[a]).then(a.cmp(&b)));
            }
            MatchOrder::Ascending => {
                order.sort_by(|&a, &b| distance[a].total_cmp(&distance[b]).then(a.cmp(&b)));
            }
            MatchOrder::Random { seed } => {
                let mut rng = SplitMix64(seed);
                for i in (1..order.len()).rev() {
                    let j = rng.below(i + 1);
                    order.swap(i, j);
                }
            }
            MatchOrder::Data | MatchOrder::BestFirst => {}
        }
        let mut eligible = vec![true; treated.len()];
        for _round in 0..options.ratio {
            for &t in &order {
                if !eligible[t] {
                    continue;
                }
                match pool.nearest(distance[t], limit) {
                    Some((_, pos)) => {
                        pool.take(pos);
                        chosen[t].push(pool.rows[pos]);
                    }
                    None => eligible[t] = false,
                }
            }
        }
    }

    let mut sets = Vec::new();
    let mut unmatched_treated = Vec::new();
    let mut weights = vec![0.0; treated.len()];
    for &t in &treated_rows {
        let controls = std::mem::take(&mut chosen[t]);
        if controls.is_empty() {
            unmatched_treated.push(t);
            continue;
        }
        weights[t] = 1.0;
        let share = 1.0 / controls.len() as f64;
        for &c in &controls {
            weights[c] += share;
        }
        sets.push(MatchedSet {
            treated: t,
            controls,
        });
    }
    let used: Vec<usize> = (0..treated.len())
        .filter(|&i| !treated[i] && weights[i] > 0.0)
        .collect();
    let total: f64 = used.iter().map(|&i| weights[i]).sum();
    if total > 0.0 {
        let scale = used.len() as f64 / total;
        for &i in &used {
            weights[i] *= scale;
        }
    }
    Ok(Matching {
        caliper_width,
        sets,
        unmatched_treated,
        weights,
    })
}

/// The average treatment effect on the treated estimated from a matching.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MatchedEffect {
    /// Weighted mean outcome of matched treated minus matched controls.
    pub att: f64,
    /// Cluster-robust SE over matched sets (CR1, as R's `sandwich::vcovCL`).
    pub att_se: f64,
}

/// ATT and its cluster-robust SE: the coefficient of treatment in a weighted
/// regression of the outcome on treatment, each control weighted 1/k within its set
/// and the sets as clusters, with the small-sample factor G/(G−1)·(N−1)/(N−2).
pub fn matched_effect(outcome: &[f64], matching: &Matching) -> Result<MatchedEffect> {
    crate::covariates::check_finite("outcome", outcome)?;
    if matching.sets.is_empty() {
        return Err(StatsError::EmptyGroup {
            detail: "no treated unit was matched, so there is no matched sample".into(),
        });
    }
    let (mut wt, mut st, mut wc, mut sc, mut rows) = (0.0, 0.0, 0.0, 0.0, 0usize);
    for set in &matching.sets {
        wt += 1.0;
        st += outcome[set.treated];
        let share = 1.0 / set.controls.len() as f64;
        for &c in &set.controls {
            wc += share;
            sc += share * outcome[c];
        }
        rows += 1 + set.controls.len();
    }
    let (mt, mc) = (st / wt, sc / wc);
    let mut meat = 0.0;
    for set in &matching.sets {
        let share = 1.0 / set.controls.len() as f64;
        let treated_part = outcome[set.treated] - mt;
        let control_part: f64 = set
            .controls
            .iter()
            .map(|&c| share * (outcome[c] - mc))
            .sum();
        let s = treated_part / wt - control_part / wc;
        meat += s * s;
    }
    let g = matching.sets.len() as f64;
    let n = rows as f64;
    let adjust = if g > 1.0 && n > 2.0 {
        g / (g - 1.0) * (n - 1.0) / (n - 2.0)
    } else {
        f64::NAN
    };
    Ok(MatchedEffect {
        att: mt - mc,
        att_se: (adjust * meat).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(m: &Matching) -> Vec<(usize, Vec<usize>)> {
        m.sets
            .iter()
            .map(|s| (s.treated, s.controls.clone()))
            .collect()
    }

    /// Brute-force greedy matching in the given order, for comparison.
    fn brute(
        distance: &[f64],
        treated: &[bool],
        order: &[usize],
        caliper: f64,
    ) -> Vec<(usize, usize)> {
        let mut used = vec![false; distance.len()];
        let mut out = Vec::new();
        for &t in order {
            let best = (0..distance.len())
                .filter(|&c| !treated[c] && !used[c])
                .map(|c| ((distance[c] - distance[t]).abs(), c))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if let Some((gap, c)) = best
                && gap <= caliper
            {
                used[c] = true;
                out.push((t, c));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn descending_greedy_matches_brute_force_with_ties() {
        let distance: Vec<f64> = (0..200)
            .map(|i| ((i * 37 % 101) as f64 / 10.0).round() / 2.0)
            .collect();
        let treated: Vec<bool> = (0..200).map(|i| i % 3 == 0).collect();
        let m = nearest_neighbour(&distance, &treated, MatchOptions::default()).unwrap();
        let mut order: Vec<usize> = (0..200).filter(|&i| treated[i]).collect();
        order.sort_by(|&a, &b| distance[b].total_cmp(&distance[a]).then(a.cmp(&b)));
        let expect = brute(&distance, &treated, &order, f64::INFINITY);
        let got: Vec<(usize, usize)> = m.sets.iter().map(|s| (s.treated, s.controls[0])).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn caliper_leaves_far_treated_unmatched() {
        let distance = [0.0, 0.1, 5.0, 0.05, 0.2, 0.3];
        let treated = [true, true, true, false, false, false];
        let m = nearest_neighbour(
            &distance,
            &treated,
            MatchOptions {
                caliper: Some(0.2),
                ..MatchOptions::default()
            },
        )
        .unwrap();
        assert_eq!(m.unmatched_treated, vec![2]);
        // t2 (largest) finds nothing within the caliper; t1 then takes 0.05, t0 takes 0.2.
        assert_eq!(pairs(&m), vec![(0, vec![4]), (1, vec![3])]);
        assert!((m.caliper_width.unwrap() - 0.2 * sd(&distance)).abs() < 1e-12);
    }

    #[test]
    fn ratio_two_runs_in_rounds() {
        // Round 1: t0 (largest, 1.0) takes c@0.9, t1 (0.0) takes c@0.1;
        // round 2: t0 takes c@0.6, t1 takes what is left, c@0.5.
        let distance = [1.0, 0.0, 0.9, 0.1, 0.5, 0.6];
        let treated = [true, true, false, false, false, false];
        let m = nearest_neighbour(
            &distance,
            &treated,
            MatchOptions {
                ratio: 2,
                ..MatchOptions::default()
            },
        )
        .unwrap();
        assert_eq!(pairs(&m), vec![(0, vec![2, 5]), (1, vec![3, 4])]);
    }

    #[test]
    fn best_first_takes_the_globally_closest_pair() {
        // Descending order would give t0 (0.9) the control at 0.55 first; best-first
        // pairs t1 (0.5) with it because that pair is closer.
        let distance = [0.9, 0.5, 0.55, 0.0];
        let treated = [true, true, false, false];
        let greedy = nearest_neighbour(&distance, &treated, MatchOptions::default()).unwrap();
        assert_eq!(pairs(&greedy), vec![(0, vec![2]), (1, vec![3])]);
        let best = nearest_neighbour(
            &distance,
            &treated,
            MatchOptions {
                order: MatchOrder::BestFirst,
                ..MatchOptions::default()
            },
        )
        .unwrap();
        assert_eq!(pairs(&best), vec![(0, vec![3]), (1, vec![2])]);
    }

    #[test]
    fn replacement_reuses_controls_and_weights_sum() {
        let distance = [0.0, 0.1, 0.05, 3.0];
        let treated = [true, true, false, false];
        let m = nearest_neighbour(
            &distance,
            &treated,
            MatchOptions {
                replace: true,
                ..MatchOptions::default()
            },
        )
        .unwrap();
        assert_eq!(pairs(&m), vec![(0, vec![2]), (1, vec![2])]);
        assert_eq!(m.weights, vec![1.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn random_order_is_reproducible_and_complete() {
        let distance: Vec<f64> = (0..50).map(|i| (i as f64 * 0.37).sin()).collect();
        let treated: Vec<bool> = (0..50).map(|i| i % 2 == 0).collect();
        let opts = MatchOptions {
            order: MatchOrder::Random { seed: 7 },
            ..MatchOptions::default()
        };
        let a = nearest_neighbour(&distance, &treated, opts).unwrap();
        let b = nearest_neighbour(&distance, &treated, opts).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.sets.len(), 25);
    }

    #[test]
    fn effect_of_pairs_is_mean_difference() {
        let distance = [0.0, 1.0, 0.1, 1.1];
        let treated = [true, true, false, false];
        let m = nearest_neighbour(&distance, &treated, MatchOptions::default()).unwrap();
        let y = [5.0, 7.0, 4.0, 5.0];
        let e = matched_effect(&y, &m).unwrap();
        assert!((e.att - 1.5).abs() < 1e-12);
        // Pair differences 1 and 2: CR1 SE = sqrt(G/(G-1)·(N-1)/(N-2)·Σ s²).
        let s: f64 = [(-1.0f64 / 2.0) - (-0.5 / 2.0), (1.0 / 2.0) - (0.5 / 2.0)]
            .iter()
            .map(|v| v * v)
            .sum();
        assert!((e.att_se - (2.0 * 3.0 / 2.0 * s).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn empty_arms_are_refused() {
        let err =
            nearest_neighbour(&[0.0, 1.0], &[false, false], MatchOptions::default()).unwrap_err();
        assert!(matches!(err, StatsError::EmptyGroup { .. }));
    }
}

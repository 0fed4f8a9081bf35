//! Harrell's concordance for right-censored data, as R's `survival::concordance`
//! reports it for a Cox model.
//!
//! A pair is comparable when the shorter time is an event; a subject censored at the
//! same time as an event counts as still at risk (R's ordering puts censored first).
//! Pairs tied on time with both events are excluded; pairs tied on the score count
//! one half. Each pair is weighted by the product of its case weights and pairs never
//! cross strata. A Fenwick tree over score ranks makes it O(n log n), so it runs on a
//! million rows.

/// Concordance counts, weighted.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct ConcordanceCounts {
    /// Pairs where the subject who failed first had the higher risk score.
    pub concordant: f64,
    /// Pairs where the subject who failed first had the lower risk score.
    pub discordant: f64,
    /// Comparable pairs tied on the risk score.
    pub tied_risk: f64,
}

impl ConcordanceCounts {
    /// `(concordant + tied/2) / (concordant + discordant + tied)`.
    pub fn concordance(&self) -> f64 {
        let total = self.concordant + self.discordant + self.tied_risk;
        (self.concordant + self.tied_risk / 2.0) / total
    }
}

struct Fenwick {
    tree: Vec<f64>,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Fenwick {
            tree: vec![0.0; n + 1],
        }
    }
    fn add(&mut self, index: usize, w: f64) {
        let mut i = index + 1;
        while i < self.tree.len() {
            self.tree[i] += w;
            i += i & i.wrapping_neg();
        }
    }
    /// Sum over indices `< index`.
    fn prefix(&self, index: usize) -> f64 {
        let mut i = index;
        let mut s = 0.0;
        while i > 0 {
            s += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        s
    }
}

/// Concordance of a risk score (higher = shorter survival) with right-censored times.
///
/// `strata` lists the rows of each stratum; only pairs within a stratum are compared.
pub fn concordance(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    weight: Option<&[f64]>,
    strata: &[Vec<usize>],
) -> ConcordanceCounts {
    let mut order = Vec::with_capacity(time.len());
    let mut ranges = Vec::with_capacity(strata.len());
    for rows in strata {
        let start = order.len();
        let mut sorted = rows.clone();
        sorted.sort_unstable_by(|&a, &b| time[a].total_cmp(&time[b]));
        order.extend(sorted);
        ranges.push((start, order.len()));
    }
    let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let sorted_time = pick(time);
    let sorted_event: Vec<bool> = order.iter().map(|&i| event[i]).collect();
    let sorted_weight = weight.map(pick);
    let (ranks, n_ranks) = dense_ranks(&pick(risk));
    concordance_sorted(
        &SortedSurvival {
            time: &sorted_time,
            event: &sorted_event,
            weight: sorted_weight.as_deref(),
            strata: &ranges,
        },
        &ranks,
        n_ranks,
    )
}

/// Rows already sorted by ascending time within each stratum (a half-open range of
/// positions per stratum).
pub(crate) struct SortedSurvival<'a> {
    pub time: &'a [f64],
    pub event: &'a [bool],
    pub weight: Option<&'a [f64]>,
    pub strata: &'a [(usize, usize)],
}

/// Dense 0-based ranks of `values` (equal values share a rank) and the number of ranks.
pub(crate) fn dense_ranks(values: &[f64]) -> (Vec<u32>, usize) {
    let mut index: Vec<u32> = (0..values.len() as u32).collect();
    index.sort_unstable_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
    let mut ranks = vec![0u32; values.len()];
    let mut rank = 0u32;
    for k in 0..index.len() {
        if k > 0 && values[index[k] as usize] != values[index[k - 1] as usize] {
            rank += 1;
        }
        ranks[index[k] as usize] = rank;
    }
    (
        ranks,
        if values.is_empty() {
            0
        } else {
            rank as usize + 1
        },
    )
}

/// Harrell's counts over rows sorted by time within strata, with risk ranks given.
#[expect(
    clippy::needless_range_loop,
    reason = "positions index several parallel columns at once"
)]
pub(crate) fn concordance_sorted(
    data: &SortedSurvival<'_>,
    ranks: &[u32],
    n_ranks: usize,
) -> ConcordanceCounts {
    let mut counts = ConcordanceCounts::default();
    let w = |i: usize| data.weight.map_or(1.0, |w| w[i]);
    let mut tree = Fenwick::new(n_ranks);
    for &(start, end) in data.strata {
        let mut total = 0.0;
        // Walk tied-time groups from the latest time back: censored rows at a time
        // are at risk for the deaths at that time, so they enter the tree first.
        let mut group_end = end;
        while group_end > start {
            let t = data.time[group_end - 1];
            let mut group_start = group_end - 1;
            while group_start > start && data.time[group_start - 1] == t {
                group_start -= 1;
            }
            for i in group_start..group_end {
                if !data.event[i] {
                    tree.add(ranks[i] as usize, w(i));
                    total += w(i);
                }
            }
            for i in group_start..group_end {
                if data.event[i] {
                    let r = ranks[i] as usize;
                    let below = tree.prefix(r);
                    let up_to = tree.prefix(r + 1);
                    let wi = w(i);
                    counts.concordant += wi * below;
                    counts.tied_risk += wi * (up_to - below);
                    counts.discordant += wi * (total - up_to);
                }
            }
            for i in group_start..group_end {
                if data.event[i] {
                    tree.add(ranks[i] as usize, w(i));
                    total += w(i);
                }
            }
            group_end = group_start;
        }
        // Empty the tree for the next stratum by undoing this one's additions.
        for i in start..end {
            tree.add(ranks[i] as usize, -w(i));
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force Harrell's C over all pairs, for comparison.
    fn brute(time: &[f64], event: &[bool], risk: &[f64]) -> ConcordanceCounts {
        let mut c = ConcordanceCounts::default();
        for i in 0..time.len() {
            for j in 0..time.len() {
                if i == j || !event[i] {
                    continue;
                }
                let comparable = time[i] < time[j] || (time[i] == time[j] && !event[j]);
                if !comparable {
                    continue;
                }
                if risk[i] > risk[j] {
                    c.concordant += 1.0;
                } else if risk[i] < risk[j] {
                    c.discordant += 1.0;
                } else {
                    c.tied_risk += 1.0;
                }
            }
        }
        c
    }

    #[test]
    fn matches_brute_force_with_ties() {
        let time = [5.0, 3.0, 3.0, 8.0, 1.0, 3.0, 9.0, 5.0, 2.0, 7.0];
        let event = [
            true, true, false, true, true, true, false, false, true, true,
        ];
        let risk = [0.3, 1.2, 0.3, -0.5, 2.0, 1.2, -1.0, 0.0, 0.3, 0.3];
        let all: Vec<usize> = (0..time.len()).collect();
        let fast = concordance(&time, &event, &risk, None, &[all]);
        assert_eq!(fast, brute(&time, &event, &risk));
    }

    #[test]
    fn perfect_ordering_is_one() {
        let time = [1.0, 2.0, 3.0, 4.0];
        let event = [true; 4];
        let risk = [4.0, 3.0, 2.0, 1.0];
        let c = concordance(&time, &event, &risk, None, &[vec![0, 1, 2, 3]]);
        assert_eq!(c.concordance(), 1.0);
    }
}

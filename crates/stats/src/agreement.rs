//! Cohen's kappa: how far two raters (adjudicators) agree beyond chance.
//!
//! The central adjudication committee exists to make endpoint assessment objective; its
//! agreement is reported so a reviewer can judge whether the assessments are
//! reproducible. κ = (p_o − p_e)/(1 − p_e), with p_o the observed agreement and p_e the
//! agreement expected from each rater's marginal frequencies (Cohen 1960). The standard
//! error is Cohen's large-sample approximation √(p_o(1 − p_o)/(n(1 − p_e)²)).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Agreement between two raters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Kappa {
    /// Items both raters rated.
    pub n: usize,
    /// Observed proportion of agreement.
    pub observed_agreement: f64,
    /// Agreement expected by chance.
    pub expected_agreement: f64,
    /// Cohen's kappa.
    pub kappa: f64,
    /// Its large-sample standard error.
    pub se: f64,
    /// Lower 95 % limit.
    pub lower: f64,
    /// Upper 95 % limit.
    pub upper: f64,
}

/// Why kappa cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KappaError {
    /// No item was rated by both raters.
    #[error("no item was rated by both adjudicators")]
    NoPairs,
    /// Both raters used one and the same category throughout, so chance agreement is
    /// 1 and kappa is undefined.
    #[error("both adjudicators gave the same single answer to every item; kappa is undefined")]
    Degenerate,
}

/// Cohen's kappa for paired ratings `(rater A, rater B)` over any category type.
pub fn cohen_kappa<T: Ord + Clone>(pairs: &[(T, T)]) -> Result<Kappa, KappaError> {
    if pairs.is_empty() {
        return Err(KappaError::NoPairs);
    }
    let n = pairs.len() as f64;
    let mut a: BTreeMap<T, f64> = BTreeMap::new();
    let mut b: BTreeMap<T, f64> = BTreeMap::new();
    let mut agree = 0.0;
    for (x, y) in pairs {
        *a.entry(x.clone()).or_default() += 1.0;
        *b.entry(y.clone()).or_default() += 1.0;
        if x == y {
            agree += 1.0;
        }
    }
    let po = agree / n;
    let pe: f64 = a
        .iter()
        .map(|(k, ca)| ca / n * b.get(k).copied().unwrap_or(0.0) / n)
        .sum();
    if (1.0 - pe).abs() < 1e-12 {
        return Err(KappaError::Degenerate);
    }
    let kappa = (po - pe) / (1.0 - pe);
    let z = crate::inference::z_for(0.95);
    let se = (po * (1.0 - po) / (n * (1.0 - pe).powi(2))).sqrt();
    Ok(Kappa {
        n: pairs.len(),
        observed_agreement: po,
        expected_agreement: pe,
        kappa,
        se,
        lower: kappa - z * se,
        upper: kappa + z * se,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(yy: usize, yn: usize, ny: usize, nn: usize) -> Vec<(bool, bool)> {
        let mut v = Vec::new();
        v.extend(std::iter::repeat_n((true, true), yy));
        v.extend(std::iter::repeat_n((true, false), yn));
        v.extend(std::iter::repeat_n((false, true), ny));
        v.extend(std::iter::repeat_n((false, false), nn));
        v
    }

    /// The textbook example (Wikipedia's "Cohen's kappa", 50 grant proposals read by
    /// two readers): 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no gives p_o = 0.7,
    /// p_e = 0.5 and κ = 0.4.
    #[test]
    fn textbook_example() {
        let k = cohen_kappa(&table(20, 5, 10, 15)).unwrap();
        assert_eq!(k.n, 50);
        assert!((k.observed_agreement - 0.7).abs() < 1e-12);
        assert!((k.expected_agreement - 0.5).abs() < 1e-12);
        assert!((k.kappa - 0.4).abs() < 1e-12);
        // √(0.7·0.3/(50·0.25)) = 0.129615…
        assert!((k.se - 0.129_614_813_968_157).abs() < 1e-12);
        assert!(k.lower < 0.4 && k.upper > 0.4);
    }

    /// The boundary cases: perfect agreement (three categories), agreement no better
    /// than chance, and systematic disagreement.
    #[test]
    fn perfect_and_chance_agreement() {
        let perfect = cohen_kappa(&[(1, 1), (2, 2), (3, 3), (1, 1)]).unwrap();
        assert!((perfect.kappa - 1.0).abs() < 1e-12);
        // Independent marginals: κ = 0.
        let chance = cohen_kappa(&table(25, 25, 25, 25)).unwrap();
        assert!(chance.kappa.abs() < 1e-12);
        // Systematic disagreement is negative.
        let against = cohen_kappa(&table(0, 10, 10, 0)).unwrap();
        assert!((against.kappa + 1.0).abs() < 1e-12);
    }

    #[test]
    fn undefined_cases() {
        assert_eq!(cohen_kappa::<bool>(&[]), Err(KappaError::NoPairs));
        assert_eq!(cohen_kappa(&table(7, 0, 0, 0)), Err(KappaError::Degenerate));
    }
}

//! Small symmetric positive-definite systems: the p×p information matrices of the
//! Newton–Raphson fits.
//!
//! The O(n·p²) accumulation is hand-rolled in each model; only the final p×p solve and
//! inverse go through nalgebra's Cholesky. A pivot that is tiny relative to its
//! diagonal entry means the column is (numerically) a linear combination of the
//! earlier ones; the caller turns that index into a [`crate::StatsError::Collinear`].

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

/// Relative pivot size below which a column is taken to be collinear with earlier ones
/// (1 − R² of that column on the previous ones, in the information metric).
const PIVOT_TOLERANCE: f64 = 1e-11;

/// A Cholesky factor of a symmetric positive-definite matrix.
pub(crate) struct SpdFactor {
    chol: Cholesky<f64, Dyn>,
    dim: usize,
}

/// Expands a packed lower triangle (row i holds columns 0..=i) into a full row-major matrix.
pub(crate) fn unpack_lower(packed: &[f64], p: usize) -> Vec<f64> {
    let mut full = vec![0.0; p * p];
    let mut idx = 0;
    for i in 0..p {
        for j in 0..=i {
            full[i * p + j] = packed[idx];
            full[j * p + i] = packed[idx];
            idx += 1;
        }
    }
    full
}

impl SpdFactor {
    /// Factors a full row-major `p × p` symmetric matrix; on failure returns the index
    /// of the first column whose pivot vanished.
    pub(crate) fn new(full: &[f64], p: usize) -> Result<Self, usize> {
        let m = DMatrix::from_row_slice(p, p, full);
        let diag: Vec<f64> = (0..p).map(|i| full[i * p + i]).collect();
        if let Some(i) = diag.iter().position(|d| !(d.is_finite() && *d > 0.0)) {
            return Err(i);
        }
        let chol = match Cholesky::new(m) {
            Some(c) => c,
            None => return Err(first_bad_leading_minor(full, p)),
        };
        let l = chol.l_dirty();
        for (i, &d) in diag.iter().enumerate() {
            let pivot = l[(i, i)] * l[(i, i)];
            if !(pivot.is_finite() && pivot > PIVOT_TOLERANCE * d) {
                return Err(i);
            }
        }
        Ok(SpdFactor { chol, dim: p })
    }

    /// Solves `A x = b`.
    pub(crate) fn solve(&self, b: &[f64]) -> Vec<f64> {
        let v = DVector::from_column_slice(b);
        self.chol.solve(&v).iter().copied().collect()
    }

    /// The inverse, row-major.
    pub(crate) fn inverse(&self) -> Vec<f64> {
        let inv = self.chol.inverse();
        let p = self.dim;
        let mut out = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                out[i * p + j] = inv[(i, j)];
            }
        }
        out
    }
}

/// The first k for which the leading (k+1)×(k+1) block is not positive definite.
fn first_bad_leading_minor(full: &[f64], p: usize) -> usize {
    for k in 1..=p {
        let m = DMatrix::from_fn(k, k, |i, j| full[i * p + j]);
        if Cholesky::new(m).is_none() {
            return k - 1;
        }
    }
    p.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let f = SpdFactor::new(&a, 2).unwrap();
        let x = f.solve(&[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        let inv = f.inverse();
        assert!((inv[0] - 0.375).abs() < 1e-12);
        assert!((inv[1] + 0.25).abs() < 1e-12);
        assert!((inv[3] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn reports_collinear_column() {
        // Third column = first + second.
        let a = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0];
        assert_eq!(SpdFactor::new(&a, 3).err(), Some(2));
    }

    #[test]
    fn unpacks_lower_triangle() {
        assert_eq!(unpack_lower(&[1.0, 2.0, 3.0], 2), vec![1.0, 2.0, 2.0, 3.0]);
    }
}

//! Splitting row loops across cores.
//!
//! The O(n·p²) sums of the Newton fits are independent across rows, so on a large
//! cohort each core sums a contiguous block and the blocks are added. Small inputs stay
//! on one thread, where spawning would cost more than it saves.

use std::ops::Range;

/// Below this many rows everything runs on the calling thread.
const MIN_ROWS_PER_THREAD: usize = 50_000;

fn threads_for(rows: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.min(rows / MIN_ROWS_PER_THREAD).max(1)
}

/// Applies `work` to contiguous blocks of `0..rows` (in parallel when large) and
/// returns the blocks' results in order.
pub(crate) fn over_rows<T, F>(rows: usize, work: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync,
{
    let threads = threads_for(rows);
    if threads == 1 {
        return vec![work(0..rows)];
    }
    let block = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = (1..threads)
            .map(|t| scope.spawn(move || work(t * block..((t + 1) * block).min(rows))))
            .collect();
        let mut out = vec![work(0..block.min(rows))];
        for h in handles {
            match h.join() {
                Ok(v) => out.push(v),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// Sums equal-length vectors element-wise into the first.
pub(crate) fn sum_vectors(mut parts: Vec<Vec<f64>>) -> Vec<f64> {
    let mut total = parts.swap_remove(0);
    for part in parts {
        for (t, v) in total.iter_mut().zip(part) {
            *t += v;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_every_row_once() {
        let parts = over_rows(200_001, |r| r.len());
        assert_eq!(parts.iter().sum::<usize>(), 200_001);
        let sums = over_rows(120_000, |r| vec![r.len() as f64, 1.0]);
        let total = sum_vectors(sums);
        assert_eq!(total[0], 120_000.0);
    }
}

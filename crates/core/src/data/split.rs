//! Deterministic stratified train / validation / test splits.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::seed::Seed;

/// Fractions of each class that go to train, validation and test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitRatios {
    train: f64,
    val: f64,
    test: f64,
}

impl SplitRatios {
    /// Validates and builds ratios.
    ///
    /// # Errors
    /// [`Error::SplitRatios`] when a ratio is negative or not finite, or when they do
    /// not sum to 1 (within 1e-9).
    pub fn new(train: f64, val: f64, test: f64) -> Result<Self> {
        let ratios = [train, val, test];
        if ratios.iter().any(|r| !r.is_finite() || *r < 0.0) {
            return Err(Error::SplitRatios {
                ratios,
                reason: "every ratio must be finite and non-negative",
            });
        }
        if ((train + val + test) - 1.0).abs() > 1e-9 {
            return Err(Error::SplitRatios {
                ratios,
                reason: "ratios must sum to 1",
            });
        }
        Ok(SplitRatios { train, val, test })
    }

    /// `[train, val, test]`.
    pub fn as_array(&self) -> [f64; 3] {
        [self.train, self.val, self.test]
    }
}

impl Default for SplitRatios {
    /// 70 / 15 / 15.
    fn default() -> Self {
        SplitRatios {
            train: 0.70,
            val: 0.15,
            test: 0.15,
        }
    }
}

/// Sample indices of each part, each list in ascending order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Split {
    /// Training indices.
    pub train: Vec<usize>,
    /// Validation indices.
    pub val: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

/// Splits sample indices `0..labels.len()` so that every class is divided in the given
/// ratios.
///
/// For a class with `n` samples, part `i` receives `floor(n * r_i)` samples plus one
/// of the leftover samples for the parts with the largest fractional remainders, so each
/// part's count is within one sample of `n * r_i`; equal remainders go to the part whose
/// running total is furthest below its share, so the totals stay close as well. Which
/// samples go where is a shuffle
/// drawn from `seed`; classes are visited in label order, so the result depends only on
/// the labels and the seed.
///
/// ```
/// use whet_core::data::{stratified_split, SplitRatios};
/// use whet_core::seed::Seed;
///
/// let labels = ["a", "a", "a", "a", "b", "b", "b", "b", "b", "b"];
/// let split = stratified_split(&labels, SplitRatios::new(0.5, 0.25, 0.25)?, Seed::new(1));
/// assert_eq!(split.train.len(), 5); // 2 of "a", 3 of "b"
/// assert_eq!(split, stratified_split(&labels, SplitRatios::new(0.5, 0.25, 0.25)?, Seed::new(1)));
/// # Ok::<(), whet_core::Error>(())
/// ```
pub fn stratified_split<L: Ord>(labels: &[L], ratios: SplitRatios, seed: Seed) -> Split {
    let mut by_class: BTreeMap<&L, Vec<usize>> = BTreeMap::new();
    for (i, label) in labels.iter().enumerate() {
        by_class.entry(label).or_default().push(i);
    }
    let mut rng = seed.derive("stratified_split").rng();
    let mut split = Split::default();
    // How far each part's running total is below its exact share; ties in a class's
    // rounding go to the part furthest behind, so totals stay close to the ratios too.
    let mut deficit = [0.0f64; 3];
    for indices in by_class.values_mut() {
        indices.shuffle(&mut rng);
        let counts = allocate(indices.len(), ratios.as_array(), deficit);
        for (part, d) in deficit.iter_mut().enumerate() {
            *d += indices.len() as f64 * ratios.as_array()[part] - counts[part] as f64;
        }
        let [n_train, n_val, _] = counts;
        split.train.extend_from_slice(&indices[..n_train]);
        split
            .val
            .extend_from_slice(&indices[n_train..n_train + n_val]);
        split.test.extend_from_slice(&indices[n_train + n_val..]);
    }
    split.train.sort_unstable();
    split.val.sort_unstable();
    split.test.sort_unstable();
    split
}

/// Largest-remainder apportionment of `n` items over `ratios` (which sum to 1). Equal
/// remainders are broken by the larger running `deficit`, then by part order.
fn allocate(n: usize, ratios: [f64; 3], deficit: [f64; 3]) -> [usize; 3] {
    // Rounded to 1e-9 so that 50 * 0.7 is 35, not 34.999999999999993.
    let exact = ratios.map(|r| (n as f64 * r * 1e9).round() / 1e9);
    let mut counts = exact.map(|x| x.floor() as usize);
    let assigned: usize = counts.iter().sum();
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra)
            .then(deficit[b].total_cmp(&deficit[a]))
            .then(a.cmp(&b))
    });
    for &part in order.iter().take(n.saturating_sub(assigned)) {
        counts[part] += 1;
    }
    // Ratios summing to 1 only within 1e-9 could, for billions of items, floor to one
    // too many; take it back from the largest part so the slices always fit.
    while counts.iter().sum::<usize>() > n {
        let largest = (0..3).max_by_key(|&i| counts[i]).unwrap_or(0);
        counts[largest] -= 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn proportions_within_one_sample_per_class(
            labels in proptest::collection::vec(0u8..6, 0..300),
            a in 0.0f64..1.0,
            b in 0.0f64..1.0,
            seed in any::<u64>(),
        ) {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            let ratios = SplitRatios::new(lo, hi - lo, 1.0 - hi).unwrap();
            let split = stratified_split(&labels, ratios, Seed::new(seed));

            // Every index exactly once.
            let mut all: Vec<usize> =
                split.train.iter().chain(&split.val).chain(&split.test).copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());

            for class in 0u8..6 {
                let n = labels.iter().filter(|&&l| l == class).count() as f64;
                for (part, r) in [&split.train, &split.val, &split.test].iter().zip(ratios.as_array()) {
                    let got = part.iter().filter(|&&i| labels[i] == class).count() as f64;
                    // `n * r` is itself a rounded float: allow for its error, not more.
                    prop_assert!((got - n * r).abs() <= 1.0 + 1e-9 * n.max(1.0), "class {class}: {got} vs {}", n * r);
                }
            }

            // Same seed, same split.
            prop_assert_eq!(stratified_split(&labels, ratios, Seed::new(seed)), split);
        }
    }

    #[test]
    fn different_seeds_shuffle_differently() {
        let labels: Vec<u32> = (0..200).map(|i| i % 4).collect();
        let a = stratified_split(&labels, SplitRatios::default(), Seed::new(1));
        let b = stratified_split(&labels, SplitRatios::default(), Seed::new(2));
        assert_eq!(a.train.len(), 140);
        // Each class of 50 has 7.5 for validation and for test: the half samples
        // alternate between the two, so the totals are exact too.
        assert_eq!(a.val.len(), 30);
        assert_eq!(a.test.len(), 30);
        assert_ne!(a, b);
    }

    #[test]
    fn bad_ratios_are_refused() {
        assert!(SplitRatios::new(0.7, 0.2, 0.2).is_err());
        assert!(SplitRatios::new(1.1, -0.1, 0.0).is_err());
        assert!(SplitRatios::new(f64::NAN, 0.5, 0.5).is_err());
        assert!(SplitRatios::new(1.0, 0.0, 0.0).is_ok());
    }

    #[test]
    fn allocation_is_largest_remainder() {
        let r = [0.7, 0.15, 0.15];
        assert_eq!(allocate(10, r, [0.0; 3]), [7, 2, 1]);
        assert_eq!(allocate(10, r, [0.0, -0.5, 0.5]), [7, 1, 2]);
        assert_eq!(allocate(50, r, [0.0; 3]), [35, 8, 7]);
        assert_eq!(allocate(1, r, [0.0; 3]), [1, 0, 0]);
        assert_eq!(allocate(0, r, [0.0; 3]), [0, 0, 0]);
        assert_eq!(allocate(3, [1.0 / 3.0; 3], [0.0; 3]), [1, 1, 1]);
    }
}

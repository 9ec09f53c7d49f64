//! Replay mixes: a training set of normal and hard samples at a chosen ratio, the same
//! for the same seed.
//!
//! ```
//! use whet_hard_mining::replay::{ReplayMix, replay_mix};
//! let normal: Vec<u32> = (0..100).collect();
//! let hard: Vec<u32> = (1000..1005).collect();
//! let mix = replay_mix(&normal, &hard, 50, &ReplayMix::default())?;
//! assert_eq!(mix.len(), 50);
//! assert_eq!(mix.iter().filter(|&&x| x >= 1000).count(), 10); // 20% hard
//! assert_eq!(mix, replay_mix(&normal, &hard, 50, &ReplayMix::default())?);
//! # Ok::<(), whet_hard_mining::Error>(())
//! ```

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The ratio and the seed of a mix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplayMix {
    /// Share of hard samples (default 0.2: 80/20).
    pub hard_fraction: f64,
    /// Seed of the draw and the order.
    pub seed: u64,
}

impl Default for ReplayMix {
    fn default() -> Self {
        ReplayMix {
            hard_fraction: 0.2,
            seed: 0,
        }
    }
}

/// `n` items from `pool`: whole shuffled passes over it, then part of one more, so no item
/// repeats before every item has been used.
fn draw<T: Clone>(pool: &[T], n: usize, rng: &mut ChaCha8Rng) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    let mut order: Vec<usize> = (0..pool.len()).collect();
    while out.len() < n {
        order.shuffle(rng);
        out.extend(order.iter().take(n - out.len()).map(|&i| pool[i].clone()));
    }
    out
}

/// `total` samples, `round(total * hard_fraction)` of them hard and the rest normal, in a
/// shuffled order; deterministic in the seed. A pool smaller than its share is cycled
/// (every item once before any twice).
///
/// # Errors
/// [`Error::Input`] for a fraction outside 0 to 1, or an empty pool that must supply
/// samples.
pub fn replay_mix<T: Clone>(
    normal: &[T],
    hard: &[T],
    total: usize,
    mix: &ReplayMix,
) -> Result<Vec<T>> {
    if !(0.0..=1.0).contains(&mix.hard_fraction) {
        return Err(Error::Input {
            what: "hard_fraction",
            reason: format!("{} is not between 0 and 1", mix.hard_fraction),
        });
    }
    let n_hard = (total as f64 * mix.hard_fraction).round() as usize;
    let n_normal = total - n_hard;
    if n_hard > 0 && hard.is_empty() {
        return Err(Error::Input {
            what: "hard samples",
            reason: "none to mix in".into(),
        });
    }
    if n_normal > 0 && normal.is_empty() {
        return Err(Error::Input {
            what: "normal samples",
            reason: "none to mix in".into(),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(mix.seed);
    let mut out = draw(normal, n_normal, &mut rng);
    out.extend(draw(hard, n_hard, &mut rng));
    out.shuffle(&mut rng);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_seeds_and_errors() {
        let normal: Vec<u32> = (0..10).collect();
        let hard = vec![100u32, 101];
        let m = replay_mix(
            &normal,
            &hard,
            40,
            &ReplayMix {
                hard_fraction: 0.5,
                seed: 3,
            },
        )
        .unwrap();
        assert_eq!(m.iter().filter(|&&x| x >= 100).count(), 20);
        // Cycled evenly: each hard sample 10 times, each normal one twice.
        assert_eq!(m.iter().filter(|&&x| x == 100).count(), 10);
        assert_eq!(m.iter().filter(|&&x| x == 7).count(), 2);
        let other = replay_mix(
            &normal,
            &hard,
            40,
            &ReplayMix {
                hard_fraction: 0.5,
                seed: 4,
            },
        )
        .unwrap();
        assert_ne!(m, other);
        assert!(replay_mix(&normal, &[], 10, &ReplayMix::default()).is_err());
        assert!(
            replay_mix(
                &normal,
                &hard,
                10,
                &ReplayMix {
                    hard_fraction: 1.5,
                    seed: 0
                }
            )
            .is_err()
        );
        assert_eq!(
            replay_mix::<u32>(
                &normal,
                &[],
                10,
                &ReplayMix {
                    hard_fraction: 0.0,
                    seed: 0
                }
            )
            .unwrap()
            .len(),
            10
        );
    }
}

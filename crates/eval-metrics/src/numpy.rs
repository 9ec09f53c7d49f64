//! numpy's summation order, for results that agree with numpy-based references to the
//! last bit (`np.sum` on a contiguous 1-D array: pairwise, 8 accumulators per block of up
//! to 128 elements, `numpy/_core/src/umath/loops_utils.h.src`). Public for other crates
//! that match numpy-based references (whet-hard-mining's confident learning).
//!
//! ```
//! use whet_eval_metrics::numpy::{mean_f64, sum_f64};
//! assert_eq!(sum_f64(&[0.5, 0.25, 0.25]), 1.0);
//! assert_eq!(mean_f64(&[1.0, 2.0]), 1.5);
//! ```

macro_rules! pairwise {
    ($name:ident, $t:ty) => {
        /// numpy's pairwise sum of a contiguous vector.
        pub fn $name(a: &[$t]) -> $t {
            let n = a.len();
            if n < 8 {
                a.iter().fold(0.0, |acc, &x| acc + x)
            } else if n <= 128 {
                let mut r = [0.0 as $t; 8];
                r.copy_from_slice(&a[..8]);
                let mut i = 8;
                while i < n - n % 8 {
                    for k in 0..8 {
                        r[k] += a[i + k];
                    }
                    i += 8;
                }
                let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
                for &x in &a[i..] {
                    res += x;
                }
                res
            } else {
                let mut n2 = n / 2;
                n2 -= n2 % 8;
                $name(&a[..n2]) + $name(&a[n2..])
            }
        }
    };
}

pairwise!(sum_f32, f32);
pairwise!(sum_f64, f64);

/// numpy's `np.mean` of a float64 vector (NaN when empty).
pub fn mean_f64(a: &[f64]) -> f64 {
    sum_f64(a) / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_is_close_to_the_exact_sum() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 300, 1000] {
            let v: Vec<f32> = (0..n).map(|i| 0.1 + i as f32 * 1e-3).collect();
            let exact: f64 = v.iter().map(|&x| f64::from(x)).sum();
            assert!(
                (f64::from(sum_f32(&v)) - exact).abs() <= 1e-6 * exact.max(1.0),
                "n = {n}"
            );
        }
        assert_eq!(sum_f64(&[1.0, 2.0]), 3.0);
    }
}

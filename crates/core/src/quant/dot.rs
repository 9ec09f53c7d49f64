//! Products of packed weights with float activations as ggml's CPU backend computes them
//! (`ggml/src/ggml-cpu/arch/x86/quants.c`, the AVX2 paths): the activations quantised to
//! 8-bit blocks (`quantize_row_q8_1`, `quantize_row_q8_0`), integer dot products per block
//! summed in eight lanes of four values each, the block scales applied with a fused
//! multiply-add per lane, and the lanes added in `hsum_float_8`'s order. The weights are
//! read in their blocks (0.6 bytes a value for Q4_1 instead of 4 as floats), which is
//! what makes generation fast; the arithmetic is llama.cpp's, which is what makes its
//! greedy continuations reproducible.

use half::f16;

use super::GgmlType;

/// 32 activations quantised as ggml's `block_q8_1` (or `block_q8_0`, `s` unused): scale
/// `d` and sum `s = d * sum(qs)` as their f16 values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Q8Block {
    d: f32,
    s: f32,
    /// The int8 values' bits (loaded as they are by the SIMD code).
    qs: [u8; 32],
}

fn round_f16(v: f32) -> f32 {
    f16::from_f32(v).to_f32()
}

/// ggml's AVX2 `quantize_row_q8_1` (and `_q8_0`): `d = amax / 127`, values times
/// `127 / amax` rounded half to even.
pub(crate) fn quantize_q8(x: &[f32]) -> Vec<Q8Block> {
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: the processor has every feature the function enables.
        #[allow(unsafe_code)]
        return unsafe { avx2::quantize_q8(x) };
    }
    quantize_q8_portable(x)
}

#[inline(always)]
fn quantize_q8_portable(x: &[f32]) -> Vec<Q8Block> {
    x.chunks_exact(32)
        .map(|b| {
            let amax = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let d = amax / 127.0;
            let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
            let mut qs = [0u8; 32];
            let mut sum = 0i32;
            for (q, v) in qs.iter_mut().zip(b) {
                let r = (v * id).round_ties_even() as i32;
                sum += r;
                *q = r as i8 as u8;
            }
            Q8Block {
                d: round_f16(d),
                s: round_f16(d * sum as f32),
                qs,
            }
        })
        .collect()
}

fn f16_at(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// `hsum_float_8`: (high half + low half), then pairs, then the last two.
#[inline(always)]
fn hsum8(a: [f32; 8]) -> f32 {
    let r = [a[0] + a[4], a[1] + a[5], a[2] + a[6], a[3] + a[7]];
    let r = [r[0] + r[2], r[1] + r[3]];
    r[0] + r[1]
}

/// The eight lanes of one block's integer dot product: lane `u` sums values `4u..4u+4`.
#[inline(always)]
fn lanes(x: &[i32; 32], y: &[u8; 32]) -> [f32; 8] {
    let mut out = [0.0f32; 8];
    for (u, o) in out.iter_mut().enumerate() {
        let mut s = 0i32;
        for e in 4 * u..4 * u + 4 {
            s += x[e] * i32::from(y[e] as i8);
        }
        *o = s as f32;
    }
    out
}

/// `ggml_vec_dot_q4_1_q8_1`: one Q4_1 row (20-byte blocks: f16 `d`, f16 `m`, 16 bytes
/// of nibbles) with quantised activations.
#[inline(always)]
fn dot_q4_1(row: &[u8], act: &[Q8Block]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut summs = 0.0f32;
    for (blk, y) in row.chunks_exact(20).zip(act) {
        let (d0, m0) = (f16_at(blk, 0), f16_at(blk, 2));
        summs += m0 * y.s;
        let mut x = [0i32; 32];
        for j in 0..16 {
            x[j] = i32::from(blk[4 + j] & 15);
            x[j + 16] = i32::from(blk[4 + j] >> 4);
        }
        let d = d0 * y.d;
        let l = lanes(&x, &y.qs);
        for u in 0..8 {
            acc[u] = d.mul_add(l[u], acc[u]);
        }
    }
    hsum8(acc) + summs
}

/// `ggml_vec_dot_q8_0_q8_0`: one Q8_0 row (34-byte blocks: f16 `d`, 32 int8).
#[inline(always)]
fn dot_q8_0(row: &[u8], act: &[Q8Block]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (blk, y) in row.chunks_exact(34).zip(act) {
        let d = f16_at(blk, 0) * y.d;
        let mut x = [0i32; 32];
        for j in 0..32 {
            x[j] = i32::from(blk[2 + j] as i8);
        }
        let l = lanes(&x, &y.qs);
        for u in 0..8 {
            acc[u] = d.mul_add(l[u], acc[u]);
        }
    }
    hsum8(acc)
}

/// Whether [`rows_dot`] computes products for this format (others are decoded).
pub(crate) fn supported(ty: GgmlType) -> bool {
    matches!(ty, GgmlType::Q4_1 | GgmlType::Q8_0)
}

fn rows_dot_scalar(ty: GgmlType, rows: &[&[u8]], acts: &[Vec<Q8Block>], out: &mut [f32]) {
    // out[r * m + i]: weight row r with activation row i.
    let m = acts.len();
    for (r, row) in rows.iter().enumerate() {
        for (i, act) in acts.iter().enumerate() {
            out[r * m + i] = match ty {
                GgmlType::Q4_1 => dot_q4_1(row, act),
                _ => dot_q8_0(row, act),
            };
        }
    }
}

/// ggml's AVX2 code itself, instruction for instruction.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{GgmlType, Q8Block};

    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
    }

    /// ggml's AVX2 `quantize_row_q8_1`: the block's values times `127 / amax`, rounded
    /// half to even eight at a time (`_mm256_round_ps`; the portable loop's
    /// `round_ties_even` stayed a call to `rintf` per value, 8% of a prompt's time).
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn quantize_q8(x: &[f32]) -> Vec<Q8Block> {
        let sign = _mm256_set1_ps(-0.0);
        x.chunks_exact(32)
            .map(|b| {
                // SAFETY: `b` holds 32 floats, read as four unaligned vectors of 8.
                let v: [__m256; 4] =
                    std::array::from_fn(|k| unsafe { _mm256_loadu_ps(b.as_ptr().add(8 * k)) });
                let mut amax = [0f32; 8];
                let m = v.iter().fold(_mm256_setzero_ps(), |m, &v| {
                    _mm256_max_ps(m, _mm256_andnot_ps(sign, v))
                });
                // SAFETY: `amax` holds 8 floats.
                unsafe { _mm256_storeu_ps(amax.as_mut_ptr(), m) };
                let amax = amax.iter().fold(0.0f32, |a, &v| a.max(v));
                let d = amax / 127.0;
                let id = _mm256_set1_ps(if amax != 0.0 { 127.0 / amax } else { 0.0 });
                let mut ints = [0i32; 32];
                for (k, v) in v.iter().enumerate() {
                    let r = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
                        _mm256_mul_ps(*v, id),
                    );
                    // SAFETY: `ints` has room for 8 integers at `8 * k`.
                    unsafe {
                        _mm256_storeu_si256(
                            ints.as_mut_ptr().add(8 * k).cast(),
                            _mm256_cvtps_epi32(r),
                        );
                    }
                }
                let sum: i32 = ints.iter().sum();
                Q8Block {
                    d: super::round_f16(d),
                    s: super::round_f16(d * sum as f32),
                    qs: std::array::from_fn(|e| ints[e] as i8 as u8),
                }
            })
            .collect()
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    fn f16_at(b: &[u8], at: usize) -> f32 {
        let bits = i32::from(u16::from_le_bytes([b[at], b[at + 1]]));
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits)))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    fn hsum_float_8(x: __m256) -> f32 {
        let res = _mm256_extractf128_ps(x, 1);
        let res = _mm_add_ps(res, _mm256_castps256_ps128(x));
        let res = _mm_add_ps(res, _mm_movehl_ps(res, res));
        let res = _mm_add_ss(res, _mm_movehdup_ps(res));
        _mm_cvtss_f32(res)
    }

    /// `mul_sum_us8_pairs_float`: unsigned `x` times signed `y`, four at a time, as floats.
    #[target_feature(enable = "avx2,fma,f16c")]
    fn mul_sum_us8_pairs_float(x: __m256i, y: __m256i) -> __m256 {
        let dot = _mm256_maddubs_epi16(x, y);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_set1_epi16(1), dot))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    fn load32(b: &[u8]) -> __m256i {
        assert!(b.len() >= 32);
        // SAFETY: 32 bytes are there (checked); loadu needs no alignment.
        unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    fn dot_q4_1(row: &[u8], act: &[Q8Block]) -> f32 {
        let mut acc = _mm256_setzero_ps();
        let mut summs = 0.0f32;
        let low = _mm256_set1_epi8(0xF);
        for (blk, y) in row.chunks_exact(20).zip(act) {
            let (d0, m0) = (f16_at(blk, 0), f16_at(blk, 2));
            summs += m0 * y.s;
            let d0d1 = _mm256_mul_ps(_mm256_set1_ps(d0), _mm256_set1_ps(y.d));
            let nib = &blk[4..20];
            // SAFETY: 16 bytes (a block's nibbles); loadu needs no alignment.
            let tmp = unsafe { _mm_loadu_si128(nib.as_ptr().cast()) };
            let qx = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp), low);
            let qy = load32(&y.qs);
            acc = _mm256_fmadd_ps(d0d1, mul_sum_us8_pairs_float(qx, qy), acc);
        }
        hsum_float_8(acc) + summs
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    fn dot_q8_0(row: &[u8], act: &[Q8Block]) -> f32 {
        let mut acc = _mm256_setzero_ps();
        for (blk, y) in row.chunks_exact(34).zip(act) {
            let d = _mm256_set1_ps(f16_at(blk, 0) * y.d);
            let qx = load32(&blk[2..34]);
            let qy = load32(&y.qs);
            // `mul_sum_i8_pairs_float`: |x| times y with x's sign.
            let ax = _mm256_sign_epi8(qx, qx);
            let sy = _mm256_sign_epi8(qy, qx);
            acc = _mm256_fmadd_ps(d, mul_sum_us8_pairs_float(ax, sy), acc);
        }
        hsum_float_8(acc)
    }

    /// Up to four activation rows at once: each weight block is loaded, unpacked and
    /// its scales converted once for all of them (prompts and batches); every product
    /// is still summed exactly as `dot_q4_1`/`dot_q8_0` sum it (kept for one row: the
    /// four-row loop costs a single row a third of its speed).
    #[target_feature(enable = "avx2,fma,f16c")]
    fn dot4(ty: GgmlType, row: &[u8], acts: &[&[Q8Block]], out: &mut [f32]) {
        let n = acts.len();
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut summs = [0.0f32; 4];
        let low = _mm256_set1_epi8(0xF);
        let width = if ty == GgmlType::Q4_1 { 20 } else { 34 };
        for (b, blk) in row.chunks_exact(width).enumerate() {
            if ty == GgmlType::Q4_1 {
                let (d0, m0) = (f16_at(blk, 0), f16_at(blk, 2));
                let nib = &blk[4..20];
                // SAFETY: 16 bytes (a block's nibbles); loadu needs no alignment.
                let tmp = unsafe { _mm_loadu_si128(nib.as_ptr().cast()) };
                let qx = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp), low);
                let d0v = _mm256_set1_ps(d0);
                for i in 0..n {
                    let y = &acts[i][b];
                    summs[i] += m0 * y.s;
                    let d0d1 = _mm256_mul_ps(d0v, _mm256_set1_ps(y.d));
                    let qy = load32(&y.qs);
                    acc[i] = _mm256_fmadd_ps(d0d1, mul_sum_us8_pairs_float(qx, qy), acc[i]);
                }
            } else {
                let d0 = f16_at(blk, 0);
                let qx = load32(&blk[2..34]);
                let ax = _mm256_sign_epi8(qx, qx);
                for i in 0..n {
                    let y = &acts[i][b];
                    let d = _mm256_set1_ps(d0 * y.d);
                    let sy = _mm256_sign_epi8(load32(&y.qs), qx);
                    acc[i] = _mm256_fmadd_ps(d, mul_sum_us8_pairs_float(ax, sy), acc[i]);
                }
            }
        }
        for i in 0..n {
            out[i] = hsum_float_8(acc[i]) + summs[i];
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn rows_dot(ty: GgmlType, rows: &[&[u8]], acts: &[Vec<Q8Block>], out: &mut [f32]) {
        let m = acts.len();
        // Grouped once, not per weight row.
        let groups: Vec<Vec<&[Q8Block]>> = acts
            .chunks(4)
            .map(|g| g.iter().map(Vec::as_slice).collect())
            .collect();
        for (r, row) in rows.iter().enumerate() {
            if m == 1 {
                out[r] = match ty {
                    GgmlType::Q4_1 => dot_q4_1(row, &acts[0]),
                    _ => dot_q8_0(row, &acts[0]),
                };
                continue;
            }
            for (c, group) in groups.iter().enumerate() {
                let at = r * m + 4 * c;
                dot4(ty, row, group, &mut out[at..at + group.len()]);
            }
        }
    }
}

/// Products of weight `rows` (a supported format) with every activation row in `acts`:
/// `out[r * acts.len() + i]`. ggml's AVX2 code where the processor has AVX2, FMA and
/// F16C (chosen at run time), the same arithmetic in portable code elsewhere.
pub(crate) fn rows_dot(ty: GgmlType, rows: &[&[u8]], acts: &[Vec<Q8Block>], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: the processor was just found to have every feature the function
        // enables.
        #[allow(unsafe_code)]
        unsafe {
            avx2::rows_dot(ty, rows, acts, out);
        }
        return;
    }
    rows_dot_scalar(ty, rows, acts, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{dequantize, quantize};

    #[test]
    fn block_products_are_close_to_float_products() {
        let w: Vec<f32> = (0..256)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0)
            .collect();
        let x: Vec<f32> = (0..256)
            .map(|i| ((i * 53 % 97) as f32 - 48.0) / 30.0)
            .collect();
        for ty in [GgmlType::Q4_1, GgmlType::Q8_0] {
            let packed = quantize(ty, &w).unwrap();
            let mut wd = vec![0.0; 256];
            dequantize(ty, &packed, &mut wd).unwrap();
            let exact: f32 = wd.iter().zip(&x).map(|(a, b)| a * b).sum();
            let mut out = [0.0];
            rows_dot(ty, &[&packed], &[quantize_q8(&x)], &mut out);
            // Only the activations' 8-bit rounding separates the two.
            let scale: f32 = wd.iter().zip(&x).map(|(a, b)| (a * b).abs()).sum();
            assert!(
                (out[0] - exact).abs() < 0.01 * scale,
                "{ty:?}: {} vs {exact}",
                out[0]
            );
        }
    }

    #[test]
    fn the_portable_code_computes_what_the_avx2_code_does_bit_for_bit() {
        let w: Vec<f32> = (0..4 * 128)
            .map(|i| ((i * 7919 % 1009) as f32 - 504.0) / 97.0)
            .collect();
        let x: Vec<f32> = (0..2 * 128)
            .map(|i| ((i * 104_729 % 997) as f32 - 498.0) / 61.0)
            .collect();
        let acts: Vec<_> = x.chunks(128).map(quantize_q8).collect();
        for ty in [GgmlType::Q4_1, GgmlType::Q8_0] {
            let packed: Vec<Vec<u8>> = w.chunks(128).map(|r| quantize(ty, r).unwrap()).collect();
            let rows: Vec<&[u8]> = packed.iter().map(Vec::as_slice).collect();
            let (mut a, mut b) = ([0.0f32; 24], [0.0f32; 24]);
            rows_dot(ty, &rows, &acts, &mut a);
            rows_dot_scalar(ty, &rows, &acts, &mut b);
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{ty:?}");
            let (mut one, mut one_scalar) = ([0.0f32; 4], [0.0f32; 4]);
            rows_dot(ty, &rows, &acts[..1], &mut one);
            rows_dot_scalar(ty, &rows, &acts[..1], &mut one_scalar);
            assert_eq!(
                one.map(f32::to_bits),
                one_scalar.map(f32::to_bits),
                "{ty:?}, one row"
            );
        }
    }

    #[test]
    fn activations_quantise_as_ggml_does() {
        let x: Vec<f32> = (0..32).map(|i| i as f32 - 12.5).collect();
        let b = &quantize_q8(&x)[0];
        // amax 18.5: 127 / 18.5 * (-12.5) = -85.81 -> -86; 0.5 * 127 / 18.5 = 3.43 -> 3.
        assert_eq!(
            (b.qs[0] as i8, b.qs[12] as i8, b.qs[31] as i8),
            (-86, -3, 127)
        );
        assert_eq!(b.d, round_f16(18.5 / 127.0));
        assert!(quantize_q8(&[0.0; 32])[0].qs.iter().all(|&q| q == 0));
    }

    #[test]
    fn the_simd_quantiser_is_the_portable_one_bit_for_bit() {
        #[cfg(target_arch = "x86_64")]
        if avx2::available() {
            let mut x: Vec<f32> = (0..32 * 64)
                .map(|i| ((i * 7919) % 1001) as f32 / 37.0 - 13.5)
                .collect();
            // A block whose scale is exactly 1 (amax 127) and whose other values sit on
            // halves: every one a tie, rounded to even.
            x[..32].copy_from_slice(&std::array::from_fn::<f32, 32, _>(|i| i as f32 - 15.5));
            x[31] = 127.0;
            x[32..64].fill(-0.0);
            #[allow(unsafe_code)]
            // SAFETY: the processor has every feature the function enables.
            let simd = unsafe { avx2::quantize_q8(&x) };
            let portable = quantize_q8_portable(&x);
            assert_eq!(simd.len(), portable.len());
            for (a, b) in simd.iter().zip(&portable) {
                assert_eq!(
                    (a.d.to_bits(), a.s.to_bits(), a.qs),
                    (b.d.to_bits(), b.s.to_bits(), b.qs)
                );
            }
        }
    }
}

//! llama.cpp's CPU arithmetic for the operations around the matrix products, operation
//! for operation, so that a GGUF model computes here the numbers llama.cpp computes:
//! rotary positions (ggml's angle table, the rotation contracted to fused multiply-adds
//! as GCC compiles it), attention over an f16 KV cache (the dot products in the lane
//! order of llamafile's `tinyBLAS` for a prompt and of `ggml_vec_dot_f16` for one new
//! token, the softmax with ggml's vectorised `expf` summed per 16 lanes into an f64),
//! and SwiGLU with the same `expf`.
//!
//! The reference is llama.cpp's CPU backend (as vendored by llama-cpp-python 0.3.36) built
//! for an x86-64 CPU with AVX-512 (`-march=native` on such a machine): its 16-lane
//! vectors fix the order of every sum below. A build for AVX2 only sums in 8 lanes and
//! differs in the last bits.

use half::f16;
use rayon::prelude::*;

/// Lanes of an AVX-512 float vector.
const LANES: usize = 16;

/// A float rounded through f16, as the KV cache and ggml's f16 products hold it.
#[inline(always)]
pub(crate) fn round_f16(x: f32) -> f32 {
    f16::from_f32(x).to_f32()
}

/// `_mm512_reduce_add_ps`: halves added pairwise down to one lane.
#[inline(always)]
fn reduce_add(v: &[f32; LANES]) -> f32 {
    let mut t8 = [0f32; 8];
    for i in 0..8 {
        t8[i] = v[i] + v[i + 8];
    }
    let mut t4 = [0f32; 4];
    for i in 0..4 {
        t4[i] = t8[i] + t8[i + 4];
    }
    (t4[0] + t4[2]) + (t4[1] + t4[3])
}

/// llamafile's `tinyBLAS<16, __m512>` dot product of f16 values (as f32), `a.len()` a
/// multiple of 16: one 16-lane accumulator over the chunks, then [`reduce_add`]. The
/// products of two f16 values are exact in f32, so its fused multiply-add is an add.
#[inline(always)]
fn dot_tiny(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    for (ca, cb) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += ca[l] * cb[l];
        }
    }
    reduce_add(&acc)
}

/// `ggml_vec_dot_f16` on AVX-512, `a.len()` a multiple of 64: four 16-lane accumulators
/// taking consecutive chunks in turn, folded `(0 + 2) + (1 + 3)`, then [`reduce_add`].
#[inline(always)]
fn dot_vec(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [[0f32; LANES]; 4];
    for (ca, cb) in a.chunks_exact(4 * LANES).zip(b.chunks_exact(4 * LANES)) {
        for (c, acc) in acc.iter_mut().enumerate() {
            for l in 0..LANES {
                acc[l] += ca[c * LANES + l] * cb[c * LANES + l];
            }
        }
    }
    fold_vec(&acc)
}

/// `ggml_vec_dot_f16`'s end: its four accumulators folded `(0 + 2) + (1 + 3)`, then
/// [`reduce_add`].
#[inline(always)]
fn fold_vec(acc: &[[f32; LANES]; 4]) -> f32 {
    let mut x = [0f32; LANES];
    for l in 0..LANES {
        x[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    }
    reduce_add(&x)
}

/// ggml's AVX-512 `ggml_v_expf` for one lane: a degree-5 polynomial on the reduced
/// argument, scaled by a power of two; 0 below and infinity above its range.
#[inline(always)]
pub(crate) fn expf(x: f32) -> f32 {
    let c = f32::from_bits;
    let r = c(0x4b40_0000); // 0x1.8p23
    let z = x.mul_add(c(0x3fb8_aa3b), r);
    let n = z - r;
    let b = (-n).mul_add(c(0x35bf_be8e), (-n).mul_add(c(0x3f31_7200), x));
    if n.abs() > 192.0 {
        return if n <= 0.0 { 0.0 } else { f32::INFINITY };
    }
    let u = b * b;
    let j = c(0x3c07_2010)
        .mul_add(b, c(0x3d2b_9f17))
        .mul_add(u, c(0x3e2a_af33).mul_add(b, c(0x3eff_fedb)));
    let j = j.mul_add(u, c(0x3f7f_fff6).mul_add(b, 1.0));
    // `_mm512_scalef_ps(j, n)`: exact in f64 (2^n built from its exponent bits), rounded
    // once.
    let two_n = f64::from_bits(((n as i64 + 1023) as u64) << 52);
    (f64::from(j) * two_n) as f32
}

/// `ggml_vec_swiglu_f32`: `gate / (1 + expf(-gate)) * up`, element by element.
#[allow(unsafe_code)]
pub(crate) fn swiglu(gate: &[f32], up: &[f32]) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { swiglu_avx2(gate, up) };
    }
    swiglu_any(gate, up)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn swiglu_avx2(gate: &[f32], up: &[f32]) -> Vec<f32> {
    swiglu_any(gate, up)
}

#[inline(always)]
fn swiglu_any(gate: &[f32], up: &[f32]) -> Vec<f32> {
    gate.iter()
        .zip(up)
        .map(|(&g, &u)| g / (1.0 + expf(0.0 - g)) * u)
        .collect()
}

/// ggml's rotary table for position `p`: `cos`, `sin` of `p * ratio^i`, the angle
/// multiplied by the ratio step by step, `ratio = theta^(-2 / head_dim)`.
pub(crate) fn rope_table(
    p: usize,
    half: usize,
    theta: f32,
    cos: &mut Vec<f32>,
    sin: &mut Vec<f32>,
) {
    let ratio = theta.powf(-2.0 / (2 * half) as f32);
    let mut angle = p as f32;
    for _ in 0..half {
        cos.push(angle.cos());
        sin.push(angle.sin());
        angle *= ratio;
    }
}

/// Rotates one head `x` (Hugging Face's half layout: element `i` pairs with
/// `i + half`) as ggml's `rotate_pairs` compiled by GCC computes it,
/// `x0 cos - x1 sin` and `x0 sin + x1 cos` each one fused multiply-add, and writes it
/// in the GGUF file's interleaved layout (pair `i` at `2i`, `2i + 1`), the order in
/// which llama.cpp sums a query-key product; rounded to f16.
pub(crate) fn rope_head(x: &[f32], cos: &[f32], sin: &[f32], out: &mut [f32]) {
    let half = x.len() / 2;
    for i in 0..half {
        let (x0, x1) = (x[i], x[i + half]);
        out[2 * i] = round_f16(x0.mul_add(cos[i], -(x1 * sin[i])));
        out[2 * i + 1] = round_f16(x0.mul_add(sin[i], x1 * cos[i]));
    }
}

/// The shape of one attention call.
pub(crate) struct AttentionShape {
    /// Rows of the batch.
    pub batch: usize,
    /// New positions per row.
    pub s: usize,
    /// Positions cached per row, these included.
    pub t: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Head width.
    pub hd: usize,
}

/// Softmax attention as llama.cpp's CPU backend computes it without flash attention.
///
/// `q` `[batch, s, heads, hd]` (from [`rope_head`]); `k` (from [`rope_head`]) and `v`
/// (rounded to f16) per row and
/// key/value head (`row * kv_heads + head`) `[t, hd]` (rounded to f16); the new
/// positions are the last `s` of `t`; row `r`'s first `pads[r]` positions are padding,
/// left out as if the row had started there. Returns `[batch, s, heads * hd]`.
pub(crate) fn attention(
    q: &[f32],
    k: &[Vec<f32>],
    v: &[Vec<f32>],
    pads: &[usize],
    sh: &AttentionShape,
) -> Vec<f32> {
    let &AttentionShape {
        batch,
        s,
        heads,
        kv_heads,
        hd,
        ..
    } = sh;
    let rep = heads / kv_heads;
    let inputs = AttentionInputs { q, k, v, pads, sh };
    // Each (row, key/value head) on its own: `[rep, s, hd]`, scattered into place after.
    let groups: Vec<Vec<f32>> = (0..batch * kv_heads)
        .into_par_iter()
        .map(|rg| group_attention(&inputs, rg / kv_heads, rg % kv_heads))
        .collect();
    let mut out = vec![0f32; batch * s * heads * hd];
    for (rg, o) in groups.iter().enumerate() {
        let (r, g) = (rg / kv_heads, rg % kv_heads);
        for (x, o) in o.chunks_exact(s * hd).enumerate() {
            let h = g * rep + x;
            for i in 0..s {
                out[((r * s + i) * heads + h) * hd..][..hd]
                    .copy_from_slice(&o[i * hd..(i + 1) * hd]);
            }
        }
    }
    out
}

/// What [`attention`] reads, shared by its (row, key/value head) groups.
#[derive(Clone, Copy)]
struct AttentionInputs<'a> {
    q: &'a [f32],
    k: &'a [Vec<f32>],
    v: &'a [Vec<f32>],
    pads: &'a [usize],
    sh: &'a AttentionShape,
}

/// [`attention`] of the query heads reading key/value head `g` of row `r`, on this
/// CPU's widest vectors (the sums keep their order: only the speed changes).
#[allow(unsafe_code)]
fn group_attention(inp: &AttentionInputs<'_>, r: usize, g: usize) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { group_attention_avx2(inp, r, g) };
    }
    group_attention_any(inp, r, g)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn group_attention_avx2(inp: &AttentionInputs<'_>, r: usize, g: usize) -> Vec<f32> {
    group_attention_any(inp, r, g)
}

/// `[rep, s, hd]`: query heads `g * rep..(g + 1) * rep` of row `r`.
#[inline(always)]
fn group_attention_any(inp: &AttentionInputs<'_>, r: usize, g: usize) -> Vec<f32> {
    let AttentionInputs { q, k, v, pads, sh } = *inp;
    let &AttentionShape {
        s,
        t,
        heads,
        kv_heads,
        hd,
        ..
    } = sh;
    let rep = heads / kv_heads;
    let scale = 1.0 / (hd as f32).sqrt();
    // One new token takes ggml's vector dot product; a prompt takes tinyBLAS.
    let one = s == 1;
    let pad = pads.get(r).copied().unwrap_or(0);
    let (kg, vg) = (&k[r * kv_heads + g], &v[r * kv_heads + g]);
    // Keys from the row's first real position; zeros up to a multiple of 64 (the cache
    // llama.cpp reads is 256 cells or more, its unused cells weigh 0).
    let n = (t - pad).div_ceil(64) * 64;
    // The value products of every output element at once: key `j` adds `p[j] v[j]` to
    // the accumulator lane llama.cpp's dot product over the transposed values gives it
    // (`[4][16][hd]` for ggml_vec_dot_f16, `[16][hd]` for tinyBLAS), in the same order.
    let mut acc = vec![0f32; 4 * LANES * hd];
    let mut out = vec![0f32; rep * s * hd];
    let (mut w, mut p) = (vec![0f32; n], Vec::with_capacity(n));
    for (x, o) in out.chunks_exact_mut(s * hd).enumerate() {
        let h = g * rep + x;
        for i in 0..s {
            let a = t - s + i;
            let o = &mut o[i * hd..(i + 1) * hd];
            if a < pad {
                // A padding query sees only itself: its own value.
                o.copy_from_slice(&vg[a * hd..(a + 1) * hd]);
                continue;
            }
            let qrow = &q[((r * s + i) * heads + h) * hd..][..hd];
            // Scores of the visible keys; the rest -inf.
            w.fill(f32::NEG_INFINITY);
            for j in pad..=a {
                let key = &kg[j * hd..(j + 1) * hd];
                let score = if one {
                    dot_vec(qrow, key)
                } else {
                    dot_tiny(qrow, key)
                };
                w[j - pad] = score * scale;
            }
            let max = w.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            p.clear();
            let mut sum = 0f64;
            for chunk in w.chunks_exact(LANES) {
                let mut e = [0f32; LANES];
                for (e, &x) in e.iter_mut().zip(chunk) {
                    *e = expf(x - max);
                }
                sum += f64::from(reduce_add(&e));
                p.extend(e);
            }
            let inv = (1.0 / sum) as f32;
            for x in &mut p {
                *x = round_f16(*x * inv);
            }
            acc.fill(0.0);
            for (jj, &pj) in p.iter().enumerate() {
                // A zero weight adds nothing (llama.cpp adds an exact zero).
                if pj == 0.0 {
                    continue;
                }
                let lane = if one { jj % (4 * LANES) } else { jj % LANES };
                let row = &vg[(pad + jj) * hd..(pad + jj + 1) * hd];
                for (a, &x) in acc[lane * hd..(lane + 1) * hd].iter_mut().zip(row) {
                    *a += pj * x;
                }
            }
            for (d, o) in o.iter_mut().enumerate() {
                let lane = |l: usize| acc[l * hd + d];
                *o = if one {
                    let mut a4 = [[0f32; LANES]; 4];
                    for (c, a) in a4.iter_mut().enumerate() {
                        for (l, a) in a.iter_mut().enumerate() {
                            *a = lane(c * LANES + l);
                        }
                    }
                    fold_vec(&a4)
                } else {
                    let mut a1 = [0f32; LANES];
                    for (l, a) in a1.iter_mut().enumerate() {
                        *a = lane(l);
                    }
                    reduce_add(&a1)
                };
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expf_is_close_to_exp_and_saturates() {
        for i in -800..800 {
            let x = i as f32 * 0.11;
            let (got, want) = (expf(x), x.exp());
            assert!(
                (got - want).abs() <= want * 4e-7,
                "{x}: {got} against {want}"
            );
        }
        assert_eq!(expf(f32::NEG_INFINITY), 0.0);
        assert_eq!(expf(-200.0), 0.0);
        assert_eq!(expf(200.0), f32::INFINITY);
        assert_eq!(expf(0.0), 1.0);
    }

    #[test]
    fn sums_follow_the_lane_order() {
        // 2^24 and 63 ones: 2^24 + 1 rounds back to 2^24, so each order of the sum
        // gives its own answer (a plain sequential sum gives 2^24).
        let big = 16_777_216.0f32;
        let mut a = vec![1.0f32; 64];
        a[0] = big;
        let b = vec![1.0f32; 64];
        let plain = a.iter().zip(&b).fold(0f32, |s, (x, y)| s + x * y);
        assert_eq!(plain, big);
        // Lane 0 keeps 2^24 over its four chunks; 15 lanes hold 4; the tree adds them.
        assert_eq!(dot_tiny(&a, &b), big + 60.0);
        // Lane 0 folds (2^24 + 1) + (1 + 1) = 2^24 + 2; the rest as before.
        assert_eq!(dot_vec(&a, &b), big + 62.0);
    }
}

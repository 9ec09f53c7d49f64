//! The forward pass of the depthwise convolution on the CPU: each plane is copied once
//! into a zero-padded scratch (split into `stride` column phases, so that every tap reads
//! contiguous inputs), then each output row is computed in tiles of [`TILE`] values held
//! in registers across all the taps and stored once. burn-flex's loop instead reads and
//! writes the output plane once per tap (25 times for a 5 x 5 kernel) and, at stride 2,
//! reads its input with a stride.
//!
//! The arithmetic runs with the processor's fused multiply-add at the widest vectors it
//! has (AVX-512 or AVX2, chosen at run time); without FMA (or off x86-64) [`forward`]
//! returns `None` and the caller keeps burn's convolution.
// Calls of `#[target_feature]` functions, each after run-time detection of its features.
#![allow(unsafe_code)]

use rayon::prelude::*;

use super::Geometry;

/// Output values computed together (two AVX-512 or four AVX2 registers).
const TILE: usize = 32;

/// `y[n, c, oy, ox] = sum over i, j of w[c, i, j] * x[n, c, oy s + i d - p, ox s + j d - p]`
/// (zero outside the input), planes in parallel; `None` where this processor lacks the
/// instructions the kernel is built for.
pub(super) fn forward(x: &[f32], weight: &[f32], geo: &Geometry) -> Option<Vec<f32>> {
    let kernel = pick()?;
    let Geometry {
        c,
        input: [h, w],
        output: [ho, wo],
        kernel: [kh, kw],
        ..
    } = *geo;
    let mut out = vec![0f32; geo.n * c * ho * wo];
    if out.is_empty() {
        return Some(out);
    }
    // The planes' scratch is kept per thread between planes and calls: its padding stays
    // zero as long as the shapes (all but batch and channels) are the same.
    let shape = Geometry { n: 0, c: 0, ..*geo };
    out.par_chunks_mut(ho * wo)
        .enumerate()
        .for_each(|(index, dst)| {
            let ch = index % c;
            let src = &x[index * h * w..(index + 1) * h * w];
            let taps = &weight[ch * kh * kw..(ch + 1) * kh * kw];
            SCRATCH.with_borrow_mut(|(scratch, made_for)| {
                if *made_for != Some(shape) {
                    scratch.clear();
                    *made_for = Some(shape);
                }
                plane(src, taps, dst, geo, scratch, kernel);
            });
        });
    Some(out)
}

thread_local! {
    /// Each thread's padded copy of a plane, and the shapes it was laid out for.
    static SCRATCH: std::cell::RefCell<(Vec<f32>, Option<Geometry>)> =
        const { std::cell::RefCell::new((Vec::new(), None)) };
}

/// One tile: `out[k] = sum over t of taps[t] * scratch[base + offsets[t] + k]`, `k <
/// TILE` (`out` holds at least TILE values).
type TileKernel = unsafe fn(&[f32], usize, &[usize], &[f32], &mut [f32]);

/// The widest tile kernel this processor runs.
fn pick() -> Option<TileKernel> {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            return Some(tile_avx512);
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Some(tile_avx2);
        }
    }
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tile_avx512(
    scratch: &[f32],
    base: usize,
    offsets: &[usize],
    taps: &[f32],
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let out = &mut out[..TILE];
    let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    for (&o, &t) in offsets.iter().zip(taps) {
        let input = &scratch[base + o..base + o + TILE];
        let w = _mm512_set1_ps(t);
        // SAFETY: `input` holds TILE = 32 values: two loads of 16.
        unsafe {
            a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(input.as_ptr()), a0);
            a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(input.as_ptr().add(16)), a1);
        }
    }
    // SAFETY: `out` holds 32 values.
    unsafe {
        _mm512_storeu_ps(out.as_mut_ptr(), a0);
        _mm512_storeu_ps(out.as_mut_ptr().add(16), a1);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_avx2(
    scratch: &[f32],
    base: usize,
    offsets: &[usize],
    taps: &[f32],
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let out = &mut out[..TILE];
    let mut acc = [_mm256_setzero_ps(); TILE / 8];
    for (&o, &t) in offsets.iter().zip(taps) {
        let input = &scratch[base + o..base + o + TILE];
        let w = _mm256_set1_ps(t);
        for (q, a) in acc.iter_mut().enumerate() {
            // SAFETY: `input` holds TILE values; lane group `q` reads 8 of them.
            *a = unsafe { _mm256_fmadd_ps(w, _mm256_loadu_ps(input.as_ptr().add(8 * q)), *a) };
        }
    }
    for (q, a) in acc.iter().enumerate() {
        // SAFETY: `out` holds TILE values; lane group `q` writes 8 of them.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(8 * q), *a) };
    }
}

/// One output plane. Scratch layout: for each padded input row, `stride` phases of `span`
/// values, phase `q` holding padded columns `q, q + s, q + 2 s, ...`; output column `ox`
/// under tap `j` reads phase `(j d) % s` at `ox + (j d) / s`.
fn plane(
    src: &[f32],
    taps: &[f32],
    dst: &mut [f32],
    geo: &Geometry,
    scratch: &mut Vec<f32>,
    tile: TileKernel,
) {
    let Geometry {
        input: [h, w],
        output: [ho, wo],
        kernel: [kh, kw],
        stride: [sy, sx],
        padding: [py, px],
        dilation: [dy, dx],
        ..
    } = *geo;
    let tiles = wo.div_ceil(TILE);
    let span = tiles * TILE + ((kw - 1) * dx) / sx + 1;
    let row_len = sx * span;
    let rows = (ho - 1) * sy + (kh - 1) * dy + 1;
    // Every plane of a call writes the same positions: the padding, zeroed when the
    // scratch is made, stays zero.
    if scratch.len() != rows * row_len {
        scratch.clear();
        scratch.resize(rows * row_len, 0.0);
    }
    for r in 0..rows {
        let Some(iy) = r.checked_sub(py).filter(|&iy| iy < h) else {
            continue;
        };
        let row = &src[iy * w..(iy + 1) * w];
        let padded = &mut scratch[r * row_len..(r + 1) * row_len];
        if sx == 1 {
            let n = w.min(span.saturating_sub(px));
            padded[px..px + n].copy_from_slice(&row[..n]);
            continue;
        }
        // Padded column `pc = ix + px` goes to phase `pc % sx`, position `pc / sx`.
        for q in 0..sx {
            // The first input column of phase `q`, and its position there.
            let first = (q + sx - px % sx) % sx;
            let pos0 = ((first + px) / sx).min(span);
            let phase = &mut padded[q * span + pos0..(q + 1) * span];
            let n = phase.len().min((w + sx - 1 - first) / sx);
            for (k, d) in phase[..n].iter_mut().enumerate() {
                *d = row[first + k * sx];
            }
        }
    }
    let offsets: Vec<usize> = (0..kh)
        .flat_map(|i| (0..kw).map(move |j| i * dy * row_len + (j * dx % sx) * span + j * dx / sx))
        .collect();
    let mut acc = [0f32; TILE];
    for oy in 0..ho {
        let out_row = &mut dst[oy * wo..(oy + 1) * wo];
        for t in 0..tiles {
            let x0 = t * TILE;
            let base = oy * sy * row_len + x0;
            if x0 + TILE <= wo {
                // SAFETY: `pick` chose `tile` for this processor's instructions.
                unsafe { tile(scratch, base, &offsets, taps, &mut out_row[x0..x0 + TILE]) };
            } else {
                // SAFETY: as above.
                unsafe { tile(scratch, base, &offsets, taps, &mut acc) };
                out_row[x0..].copy_from_slice(&acc[..wo - x0]);
            }
        }
    }
}

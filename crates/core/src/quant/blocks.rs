//! Encoding and decoding rows of ggml blocks (`ggml/src/ggml-quants.c`).

use half::f16;

use super::GgmlType;
use crate::error::{Error, Result};

fn f16_at(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

fn put_f16(out: &mut Vec<u8>, v: f32) {
    out.extend_from_slice(&f16::from_f32(v).to_le_bytes());
}

/// ggml's `GGML_FP32_TO_BF16`: round to nearest even, NaN kept quiet.
fn f32_to_bf16(v: f32) -> u16 {
    let u = v.to_bits();
    if (u & 0x7fff_ffff) > 0x7f80_0000 {
        return ((u >> 16) | 64) as u16;
    }
    ((u + (0x7fff + ((u >> 16) & 1))) >> 16) as u16
}

/// Decodes `bytes`, a whole number of `ty` blocks, into `out` (as many values as they
/// hold), as ggml's `dequantize_row_*` does.
///
/// # Errors
/// [`Error::Quant`] when `bytes` is not a whole number of blocks or `out` has another
/// length than they hold.
pub fn dequantize(ty: GgmlType, bytes: &[u8], out: &mut [f32]) -> Result<()> {
    let (bl, bb) = (ty.block_len(), ty.block_bytes());
    if !bytes.len().is_multiple_of(bb) || bytes.len() / bb * bl != out.len() {
        return Err(Error::Quant {
            format: ty.name(),
            reason: format!(
                "{} bytes do not hold {} values (blocks of {bl} values in {bb} bytes)",
                bytes.len(),
                out.len()
            ),
        });
    }
    for (block, y) in bytes.chunks_exact(bb).zip(out.chunks_exact_mut(bl)) {
        match ty {
            GgmlType::F32 => y[0] = f32::from_le_bytes([block[0], block[1], block[2], block[3]]),
            GgmlType::F16 => y[0] = f16_at(block, 0),
            GgmlType::BF16 => {
                y[0] = f32::from_bits(u32::from(u16::from_le_bytes([block[0], block[1]])) << 16)
            }
            GgmlType::Q4_0 => {
                let d = f16_at(block, 0);
                for j in 0..16 {
                    let q = block[2 + j];
                    y[j] = (i32::from(q & 0x0f) - 8) as f32 * d;
                    y[j + 16] = (i32::from(q >> 4) - 8) as f32 * d;
                }
            }
            GgmlType::Q4_1 => {
                let (d, m) = (f16_at(block, 0), f16_at(block, 2));
                for j in 0..16 {
                    let q = block[4 + j];
                    y[j] = f32::from(q & 0x0f) * d + m;
                    y[j + 16] = f32::from(q >> 4) * d + m;
                }
            }
            GgmlType::Q8_0 => {
                let d = f16_at(block, 0);
                for j in 0..32 {
                    y[j] = f32::from(block[2 + j] as i8) * d;
                }
            }
            GgmlType::Q4_K => dequantize_q4_k(block, y),
            GgmlType::Q6_K => dequantize_q6_k(block, y),
        }
    }
    Ok(())
}

/// ggml's `get_scale_min_k4`: the 6-bit scale and minimum of sub-block `j`.
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// `block_q4_K`: `d`, `dmin` (f16), `scales[12]`, `qs[128]`.
fn dequantize_q4_k(block: &[u8], y: &mut [f32]) {
    let (d, min) = (f16_at(block, 0), f16_at(block, 2));
    let scales = &block[4..16];
    let qs = &block[16..144];
    for (k, chunk) in y.chunks_exact_mut(64).enumerate() {
        let q = &qs[k * 32..k * 32 + 32];
        let (sc, m) = scale_min_k4(2 * k, scales);
        let (d1, m1) = (d * f32::from(sc), min * f32::from(m));
        let (sc, m) = scale_min_k4(2 * k + 1, scales);
        let (d2, m2) = (d * f32::from(sc), min * f32::from(m));
        for l in 0..32 {
            chunk[l] = d1 * f32::from(q[l] & 0x0f) - m1;
            chunk[l + 32] = d2 * f32::from(q[l] >> 4) - m2;
        }
    }
}

/// `block_q6_K`: `ql[128]`, `qh[64]`, `scales[16]` (int8), `d` (f16).
fn dequantize_q6_k(block: &[u8], y: &mut [f32]) {
    let d = f16_at(block, 208);
    for (n, chunk) in y.chunks_exact_mut(128).enumerate() {
        let ql = &block[n * 64..n * 64 + 64];
        let qh = &block[128 + n * 32..128 + n * 32 + 32];
        let sc = &block[192 + n * 8..192 + n * 8 + 8];
        for l in 0..32 {
            let is = l / 16;
            let q1 = i32::from((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32;
            let q2 = i32::from((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            let q3 = i32::from((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            let q4 = i32::from((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            let s = |i: usize| f32::from(sc[i] as i8);
            chunk[l] = d * s(is) * q1 as f32;
            chunk[l + 32] = d * s(is + 2) * q2 as f32;
            chunk[l + 64] = d * s(is + 4) * q3 as f32;
            chunk[l + 96] = d * s(is + 6) * q4 as f32;
        }
    }
}

/// Encodes `values` as `ty` blocks, as ggml's reference `quantize_row_*_ref` does (the
/// K types are read, not written, here).
///
/// # Errors
/// [`Error::Quant`] for a K type, or when `values` is not a whole number of blocks.
pub fn quantize(ty: GgmlType, values: &[f32]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(ty.bytes_of(values.len())?);
    for x in values.chunks_exact(ty.block_len()) {
        match ty {
            GgmlType::F32 => out.extend_from_slice(&x[0].to_le_bytes()),
            GgmlType::F16 => put_f16(&mut out, x[0]),
            GgmlType::BF16 => out.extend_from_slice(&f32_to_bf16(x[0]).to_le_bytes()),
            GgmlType::Q8_0 => {
                let amax = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                let d = amax / 127.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                put_f16(&mut out, d);
                out.extend(x.iter().map(|v| (v * id).round() as i8 as u8));
            }
            GgmlType::Q4_0 => {
                let (mut amax, mut max) = (0.0f32, 0.0f32);
                for &v in x {
                    if amax < v.abs() {
                        amax = v.abs();
                        max = v;
                    }
                }
                let d = max / -8.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                put_f16(&mut out, d);
                let q = |v: f32| ((v * id + 8.5) as i8).min(15) as u8;
                out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
            }
            GgmlType::Q4_1 => {
                let min = x.iter().fold(f32::MAX, |a, &v| if v < a { v } else { a });
                let max = x.iter().fold(-f32::MAX, |a, &v| if v > a { v } else { a });
                let d = (max - min) / 15.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                put_f16(&mut out, d);
                put_f16(&mut out, min);
                let q = |v: f32| (((v - min) * id + 0.5) as i8).min(15) as u8;
                out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
            }
            GgmlType::Q4_K | GgmlType::Q6_K => {
                return Err(Error::Quant {
                    format: ty.name(),
                    reason: "K formats are read, not written, here".into(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_stay_within_half_a_step() {
        let x: Vec<f32> = (0..256)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        for ty in [GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1] {
            let packed = quantize(ty, &x).unwrap();
            assert_eq!(packed.len(), ty.bytes_of(256).unwrap());
            let mut y = vec![0.0; 256];
            dequantize(ty, &packed, &mut y).unwrap();
            for (block, back) in x.chunks(32).zip(y.chunks(32)) {
                let amax = block.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                let (lo, hi) = block
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
                // Q4_0 spans [-8d, 7d] from the largest magnitude: the other end is
                // clipped by up to one step.
                let tolerance = match ty {
                    GgmlType::Q8_0 => 0.5 * amax / 127.0,
                    GgmlType::Q4_0 => amax / 8.0,
                    _ => 0.5 * (hi - lo) / 15.0,
                };
                for (a, b) in block.iter().zip(back) {
                    assert!((a - b).abs() <= tolerance * 1.01 + 1e-6, "{ty}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn floats_round_trip_and_bad_lengths_are_errors() {
        let x = [1.5f32, -2.25, 0.0, 65504.0];
        for ty in [GgmlType::F32, GgmlType::F16, GgmlType::BF16] {
            let mut y = [0.0; 4];
            dequantize(ty, &quantize(ty, &x).unwrap(), &mut y).unwrap();
            assert_eq!(&y[..3], &x[..3], "{ty}");
        }
        assert!(quantize(GgmlType::Q8_0, &[0.0; 33]).is_err());
        assert!(dequantize(GgmlType::Q4_1, &[0; 19], &mut [0.0; 32]).is_err());
        assert!(quantize(GgmlType::Q6_K, &[0.0; 256]).is_err());
    }
}

//! Synthetic speech sets spoken by `espeak-ng` (Debian's package,
//! installed by `scripts/speech-data.sh`) with several voices, speeds, pitches and added
//! noise.
//!
//! espeak-ng 1.51 has no Tagalog voice: Tagalog is read by its Indonesian voice, whose
//! letter-to-sound rules fit Tagalog spelling (both Austronesian, both written as said).

use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::audio::{Audio, SAMPLE_RATE};
use crate::error::{Error, Result};
use crate::manifest::{SpeechRecord, write_manifest};

/// How [`synthesize_speech_set`] speaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechSynthConfig {
    /// espeak-ng voices per language (`en`: American, British and Caribbean English;
    /// `tl`: Indonesian, see the module's notes).
    pub voices: Vec<(String, Vec<String>)>,
    /// espeak-ng variants (speaker timbres: `m1`..`m7`, `f1`..`f5`), one drawn per clip.
    pub variants: Vec<String>,
    /// Words per minute, drawn uniformly from this range.
    pub speed: (u32, u32),
    /// espeak-ng pitch (0-99), drawn uniformly.
    pub pitch: (u32, u32),
    /// White noise at a signal-to-noise ratio drawn uniformly from this range in dB;
    /// `None` for clean audio.
    pub snr_db: Option<(f32, f32)>,
    /// Seeds the draws.
    pub seed: u64,
}

impl Default for SpeechSynthConfig {
    fn default() -> Self {
        let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        SpeechSynthConfig {
            voices: vec![
                ("en".into(), v(&["en-us", "en-gb", "en-029"])),
                ("tl".into(), v(&["id"])),
            ],
            variants: v(&["m1", "m3", "m7", "f1", "f2", "f4"]),
            speed: (135, 185),
            pitch: (35, 65),
            snr_db: Some((12.0, 30.0)),
            seed: 0,
        }
    }
}

/// Speaks each `(text, language)` with espeak-ng into `dir/NNNNN.wav` (16 kHz mono
/// 16-bit), writes `dir/manifest.jsonl`, and returns its records. Clip `i`'s voice,
/// speed, pitch and noise depend on the seed and `i` only.
///
/// # Errors
/// [`Error::Tool`] when espeak-ng is missing or fails; [`Error::Input`] for a language
/// without voices; [`Error::Core`] / [`Error::Audio`] when a file cannot be written or
/// read back.
pub fn synthesize_speech_set(
    utterances: &[(String, String)],
    dir: impl AsRef<Path>,
    config: &SpeechSynthConfig,
) -> Result<Vec<SpeechRecord>> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| whet_core::Error::file(dir, e))?;
    let mut records = Vec::with_capacity(utterances.len());
    for (i, (text, language)) in utterances.iter().enumerate() {
        let mut rng =
            ChaCha8Rng::seed_from_u64(config.seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let voices = config
            .voices
            .iter()
            .find(|(l, _)| l == language)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        let voice = voices.choose(&mut rng).ok_or_else(|| Error::Input {
            reason: format!("no espeak-ng voice for language {language:?}"),
        })?;
        let voice = match config.variants.choose(&mut rng) {
            Some(variant) => format!("{voice}+{variant}"),
            None => voice.clone(),
        };
        let speed = rng.random_range(config.speed.0..=config.speed.1.max(config.speed.0));
        let pitch = rng.random_range(config.pitch.0..=config.pitch.1.max(config.pitch.0));
        let path = dir.join(format!("{i:05}.wav"));
        let raw = dir.join(format!(".{i:05}.espeak.wav"));
        espeak(text, &voice, speed, pitch, &raw)?;
        let mut audio = Audio::read_wav(&raw)?.resampled(SAMPLE_RATE)?;
        std::fs::remove_file(&raw).map_err(|e| whet_core::Error::file(&raw, e))?;
        if let Some((lo, hi)) = config.snr_db {
            let snr = if hi > lo {
                rng.random_range(lo..hi)
            } else {
                lo
            };
            add_noise(&mut audio.samples, snr, &mut rng);
        }
        audio.write_wav(&path)?;
        tracing::debug!(clip = i, %voice, speed, pitch, "spoken");
        records.push(SpeechRecord {
            audio: path,
            text: text.clone(),
            language: language.clone(),
        });
    }
    write_manifest(dir.join("manifest.jsonl"), &records)?;
    Ok(records)
}

fn espeak(text: &str, voice: &str, speed: u32, pitch: u32, out: &Path) -> Result<()> {
    let status = Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
            "-w",
        ])
        .arg(out)
        .arg("--")
        .arg(text)
        .output()
        .map_err(|e| Error::Tool {
            program: "espeak-ng".into(),
            reason: format!("{e} (install it with scripts/speech-data.sh)"),
        })?;
    if !status.status.success() {
        return Err(Error::Tool {
            program: "espeak-ng".into(),
            reason: format!(
                "voice {voice}: {}",
                String::from_utf8_lossy(&status.stderr).trim()
            ),
        });
    }
    Ok(())
}

/// Adds Gaussian white noise at `snr_db` below the signal's mean power.
fn add_noise(samples: &mut [f32], snr_db: f32, rng: &mut impl Rng) {
    if samples.is_empty() {
        return;
    }
    let power = samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64;
    let sigma = (power / 10f64.powf(f64::from(snr_db) / 10.0)).sqrt();
    for s in samples.iter_mut() {
        // Box-Muller.
        let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        *s = (f64::from(*s) + sigma * z).clamp(-1.0, 1.0) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_asked_snr() {
        let clean: Vec<f32> = (0..160_000)
            .map(|i| 0.3 * (i as f32 * 0.03).sin())
            .collect();
        let mut noisy = clean.clone();
        add_noise(&mut noisy, 20.0, &mut ChaCha8Rng::seed_from_u64(1));
        let p = |x: &[f32]| x.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>();
        let noise: Vec<f32> = noisy.iter().zip(&clean).map(|(a, b)| a - b).collect();
        let snr = 10.0 * (p(&clean) / p(&noise)).log10();
        assert!((snr - 20.0).abs() < 0.1, "{snr}");
    }
}

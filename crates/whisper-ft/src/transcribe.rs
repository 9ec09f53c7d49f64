//! Long-form transcription as openai-whisper's `transcribe` does it: the log-mel of the
//! whole audio (30 s of padding on the audio), then window after window from `seek`,
//! each decoded with temperature fallback, cut into segments at consecutive timestamp
//! tokens, `seek` moved to the last complete segment's end; windows the model calls
//! silence skipped; previous text as the next window's prompt.

use std::path::Path;

use burn::tensor::Device;
use whet_core::burn;

use crate::audio::{Audio, SAMPLE_RATE};
use crate::decode::{DecodingOptions, DecodingResult, decode, decode_batch};
use crate::error::{Error, Result};
use crate::mel::{HOP_LENGTH, LogMel, MelFilters, N_FRAMES, N_SAMPLES, log_mel_spectrogram};
use crate::model::WhisperModel;
use crate::timing::{TimedSegment, WordTiming, add_word_timestamps};
use crate::tokenizer::WhisperTokenizer;

/// Options of [`Whisper::transcribe`] (openai-whisper's `transcribe` arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct TranscribeOptions {
    /// Options of each window's decoding (its `temperature` and `prompt` are set here).
    pub decoding: DecodingOptions,
    /// Temperatures tried in turn while a window's result fails a threshold (0, 0.2 ...
    /// 1.0).
    pub temperatures: Vec<f64>,
    /// Above this compression ratio a result is repetitive (2.4).
    pub compression_ratio_threshold: Option<f64>,
    /// Below this average log probability a result is unlikely (-1).
    pub logprob_threshold: Option<f64>,
    /// Above this no-speech probability (with an unlikely result) a window is silence
    /// (0.6).
    pub no_speech_threshold: Option<f64>,
    /// Give each window the text so far as its prompt (reset after a result sampled
    /// above 0.5).
    pub condition_on_previous_text: bool,
    /// Text before the first window's prompt.
    pub initial_prompt: Option<String>,
    /// Samples drawn per temperature above 0; the likeliest is kept (5).
    pub best_of: usize,
    /// Time every word from the cross-attention of the model's alignment heads
    /// (openai-whisper's `word_timestamps`); segments then start and end with their
    /// words, and the next window starts after the last word.
    pub word_timestamps: bool,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        TranscribeOptions {
            decoding: DecodingOptions::default(),
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold: Some(2.4),
            logprob_threshold: Some(-1.0),
            no_speech_threshold: Some(0.6),
            condition_on_previous_text: true,
            initial_prompt: None,
            best_of: 5,
            word_timestamps: false,
        }
    }
}

/// A stretch of transcript with its times.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its window's first frame.
    pub seek: usize,
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Its text (leading space kept, as openai-whisper's).
    pub text: String,
    /// Its tokens, timestamps included.
    pub tokens: Vec<u32>,
    /// The temperature its window was decoded at.
    pub temperature: f64,
    /// Its window's average log probability.
    pub avg_logprob: f64,
    /// Its window's compression ratio.
    pub compression_ratio: f64,
    /// Its window's no-speech probability.
    pub no_speech_prob: f64,
    /// Its words with their times, when [`TranscribeOptions::word_timestamps`] asks.
    pub words: Vec<WordTiming>,
}

/// A transcript: the segments' text joined, and the segments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transcript {
    /// The whole text.
    pub text: String,
    /// The segments in order.
    pub segments: Vec<Segment>,
}

/// A Whisper model ready to transcribe: the model, its tokenizer, the mel filters.
#[derive(Debug)]
pub struct Whisper {
    /// The model.
    pub model: WhisperModel,
    /// Its tokenizer.
    pub tokenizer: WhisperTokenizer,
    /// The mel filter bank of its input.
    pub filters: MelFilters,
    /// The decoder's (layer, head) pairs whose cross-attention follows the audio, for
    /// word timestamps: from the folder's `config.json` (CTranslate2) or
    /// `generation_config.json` (Hugging Face), else openai-whisper's default (every
    /// head of the second half of the layers).
    pub alignment_heads: Vec<(usize, usize)>,
    device: Device,
}

/// One recording's progress through [`Whisper::transcribe_batch`].
struct Stream {
    mel: LogMel,
    content_frames: usize,
    seek: usize,
    all_tokens: Vec<u32>,
    prompt_reset_since: usize,
    segments: Vec<Segment>,
    last_speech_timestamp: f64,
}

impl Stream {
    /// The next window's prompt: the text since the last reset.
    fn prompt(&self) -> &[u32] {
        &self.all_tokens[self.prompt_reset_since..]
    }
}

/// openai-whisper's default alignment heads: every head of the second half of the
/// decoder's layers.
fn default_alignment_heads(model: &WhisperModel) -> Vec<(usize, usize)> {
    let c = model.config();
    (c.decoder_layers / 2..c.decoder_layers)
        .flat_map(|l| (0..c.decoder_attention_heads).map(move |h| (l, h)))
        .collect()
}

/// `alignment_heads` (`[[layer, head], ...]`) from a folder's `generation_config.json`
/// or `config.json`, whichever has it.
fn read_alignment_heads(dir: &Path) -> Result<Option<Vec<(usize, usize)>>> {
    for name in ["generation_config.json", "config.json"] {
        let path = dir.join(name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::Model {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if let Some(heads) = value.get("alignment_heads") {
            let heads: Vec<(usize, usize)> =
                serde_json::from_value(heads.clone()).map_err(|e| Error::Model {
                    path: path.clone(),
                    reason: format!("alignment_heads: {e}"),
                })?;
            return Ok(Some(heads));
        }
    }
    Ok(None)
}

impl Whisper {
    /// A model folder — CTranslate2's (`model.bin`) or Hugging Face's (`config.json`,
    /// `model.safetensors`), with its `tokenizer.json` — and openai-whisper's
    /// `mel_filters.npz`.
    ///
    /// # Errors
    /// As [`Whisper::from_ct2_dir`], or [`WhisperModel::from_pretrained`] for a Hugging
    /// Face folder.
    pub fn from_dir(
        dir: impl AsRef<Path>,
        mel_filters: impl AsRef<Path>,
        device: &Device,
    ) -> Result<Self> {
        let dir = dir.as_ref();
        Self::with_model(
            WhisperModel::from_dir(dir, device)?,
            dir,
            mel_filters,
            device,
        )
    }

    /// The model, tokenizer and filters as given, transcribing on `device` (a model
    /// fine-tuned and its adapter loaded into an inference copy, say).
    pub fn new(
        model: WhisperModel,
        tokenizer: WhisperTokenizer,
        filters: MelFilters,
        device: &Device,
    ) -> Self {
        let alignment_heads = default_alignment_heads(&model);
        Whisper {
            model,
            tokenizer,
            filters,
            alignment_heads,
            device: device.clone(),
        }
    }

    /// The device it runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn with_model(
        model: WhisperModel,
        dir: &Path,
        mel_filters: impl AsRef<Path>,
        device: &Device,
    ) -> Result<Self> {
        let tokenizer = WhisperTokenizer::from_file(dir.join("tokenizer.json"), model.config())?;
        let filters = MelFilters::from_npz(mel_filters, model.config().num_mel_bins)?;
        let mut whisper = Whisper::new(model, tokenizer, filters, device);
        if let Some(heads) = read_alignment_heads(dir)? {
            whisper.alignment_heads = heads;
        }
        Ok(whisper)
    }

    /// A CTranslate2 model folder (`model.bin`, `tokenizer.json`) and openai-whisper's
    /// `mel_filters.npz`.
    ///
    /// # Errors
    /// As [`WhisperModel::from_ct2`], [`WhisperTokenizer::from_file`] and
    /// [`MelFilters::from_npz`].
    pub fn from_ct2_dir(
        dir: impl AsRef<Path>,
        mel_filters: impl AsRef<Path>,
        device: &Device,
    ) -> Result<Self> {
        let dir = dir.as_ref();
        let model = WhisperModel::from_ct2(dir.join("model.bin"), device)?;
        Self::with_model(model, dir, mel_filters, device)
    }

    /// Transcribes mono `audio` (resampled to 16 kHz first when it is at another rate).
    /// Empty audio is an empty transcript.
    ///
    /// # Errors
    /// As [`Audio::resampled`] and [`decode`].
    pub fn transcribe(&self, audio: &Audio, options: &TranscribeOptions) -> Result<Transcript> {
        let mut out = self.transcribe_batch(std::slice::from_ref(audio), options)?;
        Ok(out.pop().unwrap_or_default())
    }

    /// [`Whisper::transcribe`] of several recordings at once: their windows are encoded
    /// and decoded together (one decoder pass per token for all of them, windows
    /// grouped by prompt length), each falling back to higher temperatures on its own.
    /// Each transcript is what [`Whisper::transcribe`] gives its audio alone (up to float
    /// rounding in the batched products). Beam search decodes window by window.
    ///
    /// # Errors
    /// As [`Whisper::transcribe`].
    pub fn transcribe_batch(
        &self,
        audios: &[Audio],
        options: &TranscribeOptions,
    ) -> Result<Vec<Transcript>> {
        let tok = &self.tokenizer;
        let initial: Vec<u32> = match &options.initial_prompt {
            Some(p) => tok.encode(&format!(" {}", p.trim()))?,
            None => Vec::new(),
        };
        let mut streams = audios
            .iter()
            .map(|audio| {
                let audio = if audio.sample_rate == SAMPLE_RATE || audio.samples.is_empty() {
                    std::borrow::Cow::Borrowed(audio)
                } else {
                    std::borrow::Cow::Owned(audio.resampled(SAMPLE_RATE)?)
                };
                let mel = log_mel_spectrogram(&audio.samples, &self.filters, N_SAMPLES)?;
                Ok(Stream {
                    content_frames: mel.n_frames.saturating_sub(N_FRAMES),
                    mel,
                    seek: 0,
                    all_tokens: initial.clone(),
                    prompt_reset_since: 0,
                    segments: Vec::new(),
                    last_speech_timestamp: 0.0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let batched = options.decoding.beam_size.is_none_or(|b| b <= 1);
        loop {
            let active: Vec<usize> = (0..streams.len())
                .filter(|&i| streams[i].seek < streams[i].content_frames)
                .collect();
            if active.is_empty() {
                break;
            }
            // Rows decoded together open with as many tokens: group by prompt length.
            let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
            for &i in &active {
                let key = if batched {
                    streams[i].prompt().len()
                } else {
                    usize::MAX - i
                };
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, g)) => g.push(i),
                    None => groups.push((key, vec![i])),
                }
            }
            for (_, group) in groups {
                self.step_windows(&mut streams, &group, options)?;
            }
        }
        Ok(streams
            .into_iter()
            .map(|s| Transcript {
                text: s.segments.iter().map(|s| s.text.as_str()).collect(),
                segments: s.segments,
            })
            .collect())
    }

    /// Decodes the current window of each stream in `group` together and moves each on.
    fn step_windows(
        &self,
        streams: &mut [Stream],
        group: &[usize],
        options: &TranscribeOptions,
    ) -> Result<()> {
        let n_mels = self.filters.n_mels();
        let mut windows = Vec::with_capacity(group.len() * n_mels * N_FRAMES);
        let mut decodings = Vec::with_capacity(group.len());
        for &i in group {
            let st = &streams[i];
            let segment_size = N_FRAMES.min(st.content_frames - st.seek);
            // openai-whisper slices `mel[:, seek:seek + segment_size]` and pads it with
            // zeros.
            windows.extend(st.mel.window(st.seek, segment_size, N_FRAMES));
            let mut decoding = options.decoding.clone();
            decoding.prompt = st.prompt().to_vec();
            decodings.push(decoding);
        }
        let mel = burn::tensor::Tensor::<3>::from_data(
            burn::tensor::TensorData::new(windows, [group.len(), n_mels, N_FRAMES]),
            &self.device,
        );
        let features = self.model.encoder.forward(mel);
        let d = features.dims();
        let row = |r: usize| features.clone().slice([r..r + 1, 0..d[1], 0..d[2]]);
        let first = options.temperatures.first().copied().unwrap_or(0.0);
        let results: Vec<DecodingResult> = if group.len() > 1 && first == 0.0 {
            // The first temperature for every row together, then each row that must
            // fall back on its own.
            let mut at_zero = decodings.clone();
            for o in &mut at_zero {
                o.temperature = 0.0;
            }
            let batch = decode_batch(&self.model, &self.tokenizer, features.clone(), &at_zero)?;
            batch
                .into_iter()
                .enumerate()
                .map(|(r, result)| {
                    if self.needs_fallback(&result, options) && options.temperatures.len() > 1 {
                        let rest = TranscribeOptions {
                            temperatures: options.temperatures[1..].to_vec(),
                            ..options.clone()
                        };
                        self.decode_with_fallback(row(r), &decodings[r], &rest)
                    } else {
                        Ok(result)
                    }
                })
                .collect::<Result<_>>()?
        } else {
            (0..group.len())
                .map(|r| self.decode_with_fallback(row(r), &decodings[r], options))
                .collect::<Result<_>>()?
        };
        for ((r, &i), result) in group.iter().enumerate().zip(results) {
            self.accept_window(&mut streams[i], &result, row(r), options)?;
        }
        Ok(())
    }

    /// openai-whisper's loop body after a window's decoding: silence skipped, the tokens
    /// cut into segments at consecutive timestamps, words timed, `seek` moved on, the
    /// prompt carried or reset.
    fn accept_window(
        &self,
        st: &mut Stream,
        result: &DecodingResult,
        audio_features: burn::tensor::Tensor<3>,
        options: &TranscribeOptions,
    ) -> Result<()> {
        let tok = &self.tokenizer;
        let tb = tok.timestamp_begin;
        let input_stride = N_FRAMES / self.model.config().max_source_positions;
        let precision = input_stride as f64 * HOP_LENGTH as f64 / f64::from(SAMPLE_RATE);
        let time_offset = (st.seek * HOP_LENGTH) as f64 / f64::from(SAMPLE_RATE);
        let segment_size = N_FRAMES.min(st.content_frames - st.seek);
        let segment_duration = (segment_size * HOP_LENGTH) as f64 / f64::from(SAMPLE_RATE);
        if let Some(threshold) = options.no_speech_threshold {
            let mut skip = result.no_speech_prob > threshold;
            if options
                .logprob_threshold
                .is_some_and(|l| result.avg_logprob > l)
            {
                skip = false;
            }
            if skip {
                st.seek += segment_size;
                return Ok(());
            }
        }
        let tokens = &result.tokens;
        let is_ts: Vec<bool> = tokens.iter().map(|&t| t >= tb).collect();
        let n = tokens.len();
        let single_timestamp_ending = n >= 2 && !is_ts[n - 2] && is_ts[n - 1];
        let consecutive: Vec<usize> = (1..n).filter(|&i| is_ts[i - 1] && is_ts[i]).collect();
        let mut current = Vec::new();
        let new_segment = |start: f64, end: f64, tokens: &[u32]| -> Result<Segment> {
            Ok(Segment {
                seek: st.seek,
                start,
                end,
                text: tok.decode(tokens)?,
                tokens: tokens.to_vec(),
                temperature: result.temperature,
                avg_logprob: result.avg_logprob,
                compression_ratio: result.compression_ratio,
                no_speech_prob: result.no_speech_prob,
                words: Vec::new(),
            })
        };
        if !consecutive.is_empty() {
            let mut slices = consecutive.clone();
            if single_timestamp_ending {
                slices.push(n);
            }
            let mut last_slice = 0;
            for &cut in &slices {
                let sliced = &tokens[last_slice..cut];
                // Signed, as in openai-whisper: a window decoded without timestamp rules
                // may open with text before its first pair (a negative start there).
                let start = (f64::from(sliced[0]) - f64::from(tb)) * precision;
                let end = (f64::from(sliced[sliced.len() - 1]) - f64::from(tb)) * precision;
                current.push(new_segment(time_offset + start, time_offset + end, sliced)?);
                last_slice = cut;
            }
            if single_timestamp_ending {
                st.seek += segment_size;
            } else {
                let last = (tokens[last_slice - 1] - tb) as usize;
                st.seek += last * input_stride;
            }
        } else {
            let mut duration = segment_duration;
            if let Some(&last) = tokens.iter().rev().find(|&&t| t >= tb)
                && last != tb
            {
                duration = f64::from(last - tb) * precision;
            }
            current.push(new_segment(time_offset, time_offset + duration, tokens)?);
            st.seek += segment_size;
        }
        if options.word_timestamps {
            let mut timed: Vec<TimedSegment<'_>> = current
                .iter_mut()
                .map(|s| TimedSegment {
                    start: &mut s.start,
                    end: &mut s.end,
                    tokens: &s.tokens,
                    words: &mut s.words,
                })
                .collect();
            let sot_sequence =
                tok.sot_sequence(options.decoding.language.as_deref(), options.decoding.task)?;
            add_word_timestamps(
                &mut timed,
                &self.model,
                tok,
                &sot_sequence,
                audio_features,
                segment_size,
                time_offset,
                &self.alignment_heads,
                st.last_speech_timestamp,
            )?;
            let last_word_end = current
                .iter()
                .rev()
                .flat_map(|s| s.words.iter().rev())
                .map(|w| w.end)
                .next()
                .or(current.last().map(|s| s.end));
            if !single_timestamp_ending
                && let Some(end) = last_word_end
                && end > time_offset
            {
                st.seek =
                    (end * f64::from(SAMPLE_RATE) / HOP_LENGTH as f64).round_ties_even() as usize;
            }
            if let Some(end) = last_word_end {
                st.last_speech_timestamp = end;
            }
        }
        for s in &mut current {
            if s.start == s.end || s.text.trim().is_empty() {
                s.text.clear();
                s.tokens.clear();
                s.words.clear();
            }
        }
        st.all_tokens
            .extend(current.iter().flat_map(|s| s.tokens.iter().copied()));
        if !options.condition_on_previous_text || result.temperature > 0.5 {
            st.prompt_reset_since = st.all_tokens.len();
        }
        st.segments.extend(current);
        Ok(())
    }

    /// Whether a result is repetitive or unlikely (and not silence): the next
    /// temperature is tried.
    fn needs_fallback(&self, result: &DecodingResult, options: &TranscribeOptions) -> bool {
        let mut fallback = options
            .compression_ratio_threshold
            .is_some_and(|c| result.compression_ratio > c)
            || options
                .logprob_threshold
                .is_some_and(|l| result.avg_logprob < l);
        if options
            .no_speech_threshold
            .is_some_and(|n| result.no_speech_prob > n)
            && options
                .logprob_threshold
                .is_some_and(|l| result.avg_logprob < l)
        {
            fallback = false;
        }
        fallback
    }

    fn decode_with_fallback(
        &self,
        audio_features: burn::tensor::Tensor<3>,
        decoding: &DecodingOptions,
        options: &TranscribeOptions,
    ) -> Result<DecodingResult> {
        let mut last = None;
        for &t in &options.temperatures {
            let mut o = decoding.clone();
            o.temperature = t;
            let result = if t > 0.0 {
                let mut best: Option<DecodingResult> = None;
                for k in 0..options.best_of.max(1) {
                    o.seed = decoding.seed.wrapping_add(k as u64 + 1);
                    let r = decode(&self.model, &self.tokenizer, audio_features.clone(), &o)?;
                    // openai-whisper's MaximumLikelihoodRanker without a length penalty:
                    // the sum of log probabilities over the length.
                    let score = |r: &DecodingResult| {
                        r.avg_logprob * (r.tokens.len() + 1) as f64 / r.tokens.len().max(1) as f64
                    };
                    if best.as_ref().is_none_or(|b| score(&r) > score(b)) {
                        best = Some(r);
                    }
                }
                best.expect("at least one sample")
            } else {
                decode(&self.model, &self.tokenizer, audio_features.clone(), &o)?
            };
            if !self.needs_fallback(&result, options) {
                return Ok(result);
            }
            last = Some(result);
        }
        last.ok_or_else(|| Error::Input {
            reason: "no temperature to decode at".into(),
        })
    }
}

//! Word-level timestamps as openai-whisper's `timing.py`: the text tokens are fed again
//! with the window's audio, the cross-attention of the model's alignment heads is
//! normalised per frame across tokens and median-filtered (width 7), and dynamic time
//! warping over its negation puts each token at a frame; tokens are grouped into words
//! at spaces, punctuation is merged into its word, and over-long words at sentence and
//! segment boundaries are clipped.

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use whet_core::burn;

use crate::error::{Error, Result};
use crate::model::WhisperModel;
use crate::tokenizer::WhisperTokenizer;

/// Audio frames per second of the decoder's timeline (one per two mel frames).
const TOKENS_PER_SECOND: f64 = 50.0;

/// openai-whisper's `prepend_punctuations`: merged into the following word.
pub const PREPEND_PUNCTUATIONS: &str = "\"'“¿([{-";
/// openai-whisper's `append_punctuations`: merged into the preceding word.
pub const APPEND_PUNCTUATIONS: &str = "\"'.。,，!！?？:：”)]}、";

const PYTHON_PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// A word with its time in the audio.
#[derive(Debug, Clone, PartialEq)]
pub struct WordTiming {
    /// The word as decoded (with its leading space).
    pub word: String,
    /// Its tokens.
    pub tokens: Vec<u32>,
    /// Start in seconds.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// Mean probability of its tokens.
    pub probability: f64,
}

/// Word timings of `text_tokens` over one window's encoder output `audio` `[1, s, d]`
/// whose first `num_frames` mel frames hold audio (openai-whisper's `find_alignment`),
/// in seconds from the window's start, before any clipping.
///
/// # Errors
/// [`Error::Input`] when the model or its tensors fail.
pub fn find_alignment(
    model: &WhisperModel,
    tokenizer: &WhisperTokenizer,
    sot_sequence: &[u32],
    text_tokens: &[u32],
    audio: Tensor<3>,
    num_frames: usize,
    alignment_heads: &[(usize, usize)],
) -> Result<Vec<WordTiming>> {
    if text_tokens.is_empty() || alignment_heads.is_empty() {
        return Ok(Vec::new());
    }
    let eot = tokenizer.eot;
    let mut tokens = sot_sequence.to_vec();
    tokens.push(tokenizer.no_timestamps);
    tokens.extend_from_slice(text_tokens);
    tokens.push(eot);
    let (logits, scores) = model.decoder.forward_with_cross_attention(&tokens, audio)?;
    let [_, t, vocab] = logits.dims();
    let n_sot = sot_sequence.len();
    let n_text = text_tokens.len();
    // Probabilities over the text vocabulary (below <|endoftext|>) of each text token.
    let sampled = logits
        .slice([0..1, n_sot..n_sot + n_text, 0..(eot as usize).min(vocab)])
        .reshape([n_text, (eot as usize).min(vocab)]);
    let probs = to_vec(softmax(sampled, 1))?;
    let width = (eot as usize).min(vocab);
    let token_probs: Vec<f64> = text_tokens
        .iter()
        .enumerate()
        .map(|(i, &tok)| f64::from(probs[i * width + tok as usize]))
        .collect();

    // heads x tokens x frames, softmax over the audio's frames.
    let frames = num_frames / 2;
    let mut heads = Vec::with_capacity(alignment_heads.len());
    for &(layer, head) in alignment_heads {
        let s = scores.get(layer).ok_or_else(|| Error::Input {
            reason: format!("alignment head in layer {layer} of {}", scores.len()),
        })?;
        let [_, h, _, s_len] = s.dims();
        if head >= h {
            return Err(Error::Input {
                reason: format!("alignment head {head} of {h}"),
            });
        }
        let w = s
            .clone()
            .slice([0..1, head..head + 1, 0..t, 0..frames.min(s_len)])
            .reshape([t, frames.min(s_len)]);
        heads.push(softmax(w, 1));
    }
    let frames = frames.min(heads[0].dims()[1]);
    let mut matrix = vec![0f64; (n_text + 1) * frames];
    for w in heads {
        let mut w = to_vec(w)?;
        normalize_per_frame(&mut w, t, frames);
        median_filter_rows(&mut w, t, frames, 7);
        // Rows of <|notimestamps|> and the text: the positions predicting text and eot.
        for (r, row) in w.chunks(frames).skip(n_sot).take(n_text + 1).enumerate() {
            for (f, v) in row.iter().enumerate() {
                matrix[r * frames + f] += f64::from(*v);
            }
        }
    }
    let n_heads = alignment_heads.len() as f32;
    // torch averages the f32 heads in f32; DTW then reads the negation as f64.
    let cost: Vec<f64> = matrix
        .iter()
        .map(|v| -f64::from(*v as f32 / n_heads))
        .collect();
    let (text_indices, time_indices) = dtw(&cost, n_text + 1, frames);

    let mut all = text_tokens.to_vec();
    all.push(eot);
    let (words, word_tokens) = split_to_word_tokens(tokenizer, &all)?;
    if word_tokens.len() <= 1 {
        return Ok(Vec::new());
    }
    let mut boundaries = vec![0usize];
    for w in &word_tokens[..word_tokens.len() - 1] {
        boundaries.push(boundaries.last().copied().unwrap_or(0) + w.len());
    }
    let jump_times: Vec<f64> = (0..text_indices.len())
        .filter(|&k| k == 0 || text_indices[k] != text_indices[k - 1])
        .map(|k| time_indices[k] as f64 / TOKENS_PER_SECOND)
        .collect();
    let mut out = Vec::with_capacity(words.len() - 1);
    for (k, (word, tokens)) in words
        .into_iter()
        .zip(word_tokens)
        .take(boundaries.len() - 1)
        .enumerate()
    {
        let (i, j) = (boundaries[k], boundaries[k + 1]);
        let probability = token_probs[i..j].iter().sum::<f64>() / (j - i) as f64;
        out.push(WordTiming {
            word,
            tokens,
            start: jump_times[i],
            end: jump_times[j],
            probability,
        });
    }
    Ok(out)
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data().try_to_vec::<f32>().map_err(|e| Error::Input {
        reason: format!("attention weights: {e:?}"),
    })
}

/// `(w - mean) / std` down each column of `[rows, cols]` (torch's `std_mean` over the
/// tokens, unbiased=False).
fn normalize_per_frame(w: &mut [f32], rows: usize, cols: usize) {
    for c in 0..cols {
        let mean = (0..rows).map(|r| w[r * cols + c]).sum::<f32>() / rows as f32;
        let var = (0..rows)
            .map(|r| (w[r * cols + c] - mean).powi(2))
            .sum::<f32>()
            / rows as f32;
        let std = var.sqrt();
        for r in 0..rows {
            w[r * cols + c] = (w[r * cols + c] - mean) / std;
        }
    }
}

/// The median of each `width` window along each row, reflect-padded (torch's
/// `F.pad(mode="reflect")` then `unfold` and sort); rows no longer than `width / 2` are
/// left as they are.
fn median_filter_rows(w: &mut [f32], rows: usize, cols: usize, width: usize) {
    let pad = width / 2;
    if cols <= pad {
        return;
    }
    let mut padded = vec![0f32; cols + 2 * pad];
    let mut window = vec![0f32; width];
    for r in 0..rows {
        let row = &mut w[r * cols..(r + 1) * cols];
        for (i, p) in padded.iter_mut().enumerate() {
            let j = i as isize - pad as isize;
            let j = if j < 0 {
                -j
            } else if j >= cols as isize {
                2 * (cols as isize - 1) - j
            } else {
                j
            };
            *p = row[j as usize];
        }
        for (c, out) in row.iter_mut().enumerate() {
            window.copy_from_slice(&padded[c..c + width]);
            window.sort_by(f32::total_cmp);
            *out = window[pad];
        }
    }
}

/// openai-whisper's `dtw_cpu` over `x` `[n, m]` (row-major): the path's token and time
/// indexes. Costs are kept in `f32` as there, ties broken as there.
pub(crate) fn dtw(x: &[f64], n: usize, m: usize) -> (Vec<usize>, Vec<usize>) {
    let w = m + 1;
    let mut cost = vec![f32::INFINITY; (n + 1) * w];
    let mut trace = vec![-1i8; (n + 1) * w];
    cost[0] = 0.0;
    for j in 1..=m {
        for i in 1..=n {
            let c0 = cost[(i - 1) * w + j - 1];
            let c1 = cost[(i - 1) * w + j];
            let c2 = cost[i * w + j - 1];
            let (c, t) = if c0 < c1 && c0 < c2 {
                (c0, 0)
            } else if c1 < c0 && c1 < c2 {
                (c1, 1)
            } else {
                (c2, 2)
            };
            cost[i * w + j] = (x[(i - 1) * m + j - 1] + f64::from(c)) as f32;
            trace[i * w + j] = t;
        }
    }
    // backtrace
    trace[..w].fill(2);
    for i in 0..=n {
        trace[i * w] = 1;
    }
    let (mut i, mut j) = (n, m);
    let mut path = Vec::new();
    while i > 0 || j > 0 {
        path.push((i as isize - 1, j as isize - 1));
        match trace[i * w + j] {
            0 => {
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
    }
    path.reverse();
    // Indexes of -1 (the padding row and column) do not occur on a path from (n, m)
    // that ends at (1, 1) first; clamp for safety.
    path.into_iter()
        .map(|(a, b)| (a.max(0) as usize, b.max(0) as usize))
        .unzip()
}

/// openai-whisper's `split_tokens_on_spaces` (over `split_tokens_on_unicode`): words
/// start at a token beginning with a space, a special token, or punctuation.
fn split_to_word_tokens(
    tokenizer: &WhisperTokenizer,
    tokens: &[u32],
) -> Result<(Vec<String>, Vec<Vec<u32>>)> {
    // Sub-words (`split_tokens_on_unicode`): the shortest runs of tokens that decode to
    // whole characters, unless the text itself holds U+FFFD there.
    let replacement = '\u{FFFD}';
    let full: Vec<char> = tokenizer.decode_with_special(tokens)?.chars().collect();
    let (mut subwords, mut subword_tokens) = (Vec::new(), Vec::new());
    let mut current = Vec::new();
    let mut offset = 0;
    for &t in tokens {
        current.push(t);
        let decoded = tokenizer.decode_with_special(&current)?;
        let chars: Vec<char> = decoded.chars().collect();
        let whole = match chars.iter().position(|&c| c == replacement) {
            None => true,
            Some(k) => full.get(offset + k) == Some(&replacement),
        };
        if whole {
            offset += chars.len();
            subwords.push(decoded);
            subword_tokens.push(std::mem::take(&mut current));
        }
    }
    let (mut words, mut word_tokens): (Vec<String>, Vec<Vec<u32>>) = (Vec::new(), Vec::new());
    for (sub, toks) in subwords.into_iter().zip(subword_tokens) {
        let special = toks[0] >= tokenizer.eot;
        let with_space = sub.starts_with(' ');
        let punctuation = PYTHON_PUNCTUATION.contains(sub.trim());
        if special || with_space || punctuation || words.is_empty() {
            words.push(sub);
            word_tokens.push(toks);
        } else if let (Some(w), Some(wt)) = (words.last_mut(), word_tokens.last_mut()) {
            w.push_str(&sub);
            wt.extend(toks);
        }
    }
    Ok((words, word_tokens))
}

/// openai-whisper's `merge_punctuations`.
fn merge_punctuations(alignment: &mut [WordTiming], prepended: &str, appended: &str) {
    if alignment.len() >= 2 {
        let mut j = alignment.len() - 1;
        for i in (0..alignment.len() - 1).rev() {
            if alignment[i].word.starts_with(' ') && prepended.contains(alignment[i].word.trim()) {
                let prev = std::mem::take(&mut alignment[i].word);
                let prev_tokens = std::mem::take(&mut alignment[i].tokens);
                let following = &mut alignment[j];
                following.word = prev + &following.word;
                following.tokens = [prev_tokens, std::mem::take(&mut following.tokens)].concat();
            } else {
                j = i;
            }
        }
    }
    let (mut i, mut j) = (0, 1);
    while j < alignment.len() {
        if !alignment[i].word.ends_with(' ') && appended.contains(alignment[j].word.as_str()) {
            let word = std::mem::take(&mut alignment[j].word);
            let tokens = std::mem::take(&mut alignment[j].tokens);
            alignment[i].word.push_str(&word);
            alignment[i].tokens.extend(tokens);
        } else {
            i = j;
        }
        j += 1;
    }
}

/// Python's `round(x, 2)`: to the nearest hundredth of the exact binary value, ties to
/// even.
pub(crate) fn round2(x: f64) -> f64 {
    format!("{x:.2}").parse().unwrap_or(x)
}

/// A segment as `add_word_timestamps` sees it.
pub(crate) struct TimedSegment<'a> {
    pub start: &'a mut f64,
    pub end: &'a mut f64,
    pub tokens: &'a [u32],
    pub words: &'a mut Vec<WordTiming>,
}

/// openai-whisper's `add_word_timestamps` over one window's segments: words with their
/// times (`time_offset` added, rounded to 10 ms), long words clipped at sentence and
/// segment boundaries, the segments' own times moved to their words'. Returns nothing;
/// the segments carry their words.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_word_timestamps(
    segments: &mut [TimedSegment<'_>],
    model: &WhisperModel,
    tokenizer: &WhisperTokenizer,
    sot_sequence: &[u32],
    audio: Tensor<3>,
    num_frames: usize,
    time_offset: f64,
    alignment_heads: &[(usize, usize)],
    last_speech_timestamp: f64,
) -> Result<()> {
    if segments.is_empty() {
        return Ok(());
    }
    let per_segment: Vec<Vec<u32>> = segments
        .iter()
        .map(|s| {
            s.tokens
                .iter()
                .copied()
                .filter(|&t| t < tokenizer.eot)
                .collect()
        })
        .collect();
    let text: Vec<u32> = per_segment.iter().flatten().copied().collect();
    let mut alignment = find_alignment(
        model,
        tokenizer,
        sot_sequence,
        &text,
        audio,
        num_frames,
        alignment_heads,
    )?;
    let mut durations: Vec<f64> = alignment
        .iter()
        .map(|t| t.end - t.start)
        .filter(|&d| d != 0.0)
        .collect();
    durations.sort_by(f64::total_cmp);
    let median = match durations.len() {
        0 => 0.0,
        n if n % 2 == 1 => durations[n / 2],
        n => (durations[n / 2 - 1] + durations[n / 2]) / 2.0,
    };
    let median = median.min(0.7);
    let max_duration = median * 2.0;
    if !durations.is_empty() {
        let ends = ".。!！?？";
        for i in 1..alignment.len() {
            if alignment[i].end - alignment[i].start > max_duration {
                if ends.contains(alignment[i].word.as_str()) {
                    alignment[i].end = alignment[i].start + max_duration;
                } else if ends.contains(alignment[i - 1].word.as_str()) {
                    alignment[i].start = alignment[i].end - max_duration;
                }
            }
        }
    }
    merge_punctuations(&mut alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS);
    let mut last_speech = last_speech_timestamp;
    let mut word_index = 0;
    for (segment, text_tokens) in segments.iter_mut().zip(&per_segment) {
        let mut saved = 0;
        let mut words: Vec<WordTiming> = Vec::new();
        while word_index < alignment.len() && saved < text_tokens.len() {
            let timing = &alignment[word_index];
            if !timing.word.is_empty() {
                words.push(WordTiming {
                    start: round2(time_offset + timing.start),
                    end: round2(time_offset + timing.end),
                    ..timing.clone()
                });
            }
            saved += timing.tokens.len();
            word_index += 1;
        }
        if !words.is_empty() {
            if words[0].end - last_speech > median * 4.0
                && (words[0].end - words[0].start > max_duration
                    || (words.len() > 1 && words[1].end - words[0].start > max_duration * 2.0))
            {
                if words.len() > 1 && words[1].end - words[1].start > max_duration {
                    let boundary = (words[1].end / 2.0).max(words[1].end - max_duration);
                    words[0].end = boundary;
                    words[1].start = boundary;
                }
                words[0].start = (words[0].end - max_duration).max(0.0);
            }
            if *segment.start < words[0].end && *segment.start - 0.5 > words[0].start {
                words[0].start = (words[0].end - median).min(*segment.start).max(0.0);
            } else {
                *segment.start = words[0].start;
            }
            let last = words.len() - 1;
            if *segment.end > words[last].start && *segment.end + 0.5 < words[last].end {
                words[last].end = (words[last].start + median).max(*segment.end);
            } else {
                *segment.end = words[last].end;
            }
            last_speech = *segment.end;
        }
        *segment.words = words;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtw_follows_the_cheapest_path() {
        // Two tokens over four frames: token 0 cheap on frames 0-1, token 1 on 2-3.
        let x = [-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, -1.0, -1.0];
        let (t, f) = dtw(&x, 2, 4);
        // numba's tie-breaking (the equal-cost path through (1, 1) is taken): the same
        // path as openai-whisper's `dtw_cpu`.
        assert_eq!(t, vec![0, 0, 1, 1, 1]);
        assert_eq!(f, vec![0, 1, 1, 2, 3]);
    }

    #[test]
    fn median_filter_reflects_at_the_edges() {
        let mut w = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        median_filter_rows(&mut w, 1, 5, 3);
        // reflect pad: [1, 5, 1, 4, 2, 3, 2]
        assert_eq!(w, vec![1.0, 4.0, 2.0, 3.0, 2.0]);
        let mut short = vec![1.0, 9.0, 2.0];
        median_filter_rows(&mut short, 1, 3, 7);
        assert_eq!(short, vec![1.0, 9.0, 2.0]);
    }

    #[test]
    fn rounding_is_pythons() {
        assert_eq!(round2(1.005), 1.0); // 1.00499999...
        assert_eq!(round2(0.125), 0.12); // exact tie: to even
        assert_eq!(round2(2.675), 2.67);
        assert_eq!(round2(0.876_54), 0.88);
    }

    #[test]
    fn punctuation_merges_as_openai_does() {
        let w = |s: &str| WordTiming {
            word: s.into(),
            tokens: vec![0],
            start: 0.0,
            end: 0.0,
            probability: 1.0,
        };
        let mut a = vec![w(" \""), w("Hello"), w(","), w(" world"), w(".")];
        merge_punctuations(&mut a, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS);
        let words: Vec<&str> = a.iter().map(|t| t.word.as_str()).collect();
        assert_eq!(words, vec!["", " \"Hello,", "", " world.", ""]);
    }
}

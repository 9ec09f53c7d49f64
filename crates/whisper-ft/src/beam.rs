//! openai-whisper's `BeamSearchDecoder` and `MaximumLikelihoodRanker`: at each step every
//! beam's `beam_size + 1` likeliest next tokens (under the logit filters) are scored by the
//! sequence's summed log probability; the best `beam_size` unfinished ones go on, finished
//! ones are kept until `beam_size * patience` have finished; the result is the finished
//! sequence with the best log probability over its length (or its length penalty).

use burn::tensor::{Int, Tensor, TensorData};
use whet_core::burn;

use crate::decode::{DecodingResult, DecodingTask, log_softmax};
use crate::error::Result;
use crate::model::DecoderCache;

/// A sequence (opening tokens included) and its summed log probability.
type Scored = (Vec<u32>, f64);

pub(crate) fn beam_search(
    task: &DecodingTask<'_>,
    audio: Tensor<3>,
    beams: usize,
    patience: f64,
) -> Result<DecodingResult> {
    let eot = task.tokenizer.eot;
    let max_candidates = ((beams as f64 * patience).round() as usize).max(1);
    let device = audio.device();
    let audio = audio.repeat_dim(0, beams);
    let mut cache = DecoderCache::default();
    let mut rows: Vec<Vec<u32>> = vec![task.initial.clone(); beams];
    let mut sums = vec![0f64; beams];
    let mut finished: Vec<Scored> = Vec::new();
    let (mut fed, mut no_speech_prob) = (0, 0f64);
    for step in 0..task.sample_len {
        let new: Vec<Vec<u32>> = rows.iter().map(|r| r[fed..].to_vec()).collect();
        let logits = task
            .model
            .decoder
            .forward_cached(&new, audio.clone(), &mut cache)?;
        if step == 0 {
            no_speech_prob = task.no_speech_prob(&logits)?;
        }
        fed = rows[0].len();
        // Candidates in the order openai-whisper's dict holds them (a repeated sequence
        // keeps its first place and takes the later score and source).
        let mut candidates: Vec<(Vec<u32>, f64, usize)> = Vec::new();
        for (j, mut row) in task.last_rows(logits)?.into_iter().enumerate() {
            task.filter(&mut row, &rows[j]);
            let logprobs = log_softmax(&row);
            for token in top_k(&logprobs, beams + 1) {
                let mut seq = rows[j].clone();
                seq.push(token as u32);
                let score = sums[j] + logprobs[token];
                match candidates.iter_mut().find(|c| c.0 == seq) {
                    Some(c) => (c.1, c.2) = (score, j),
                    None => candidates.push((seq, score, j)),
                }
            }
        }
        // A stable sort, best first, as Python's `sorted(..., reverse=True)`.
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (mut next, mut next_sums, mut sources) = (Vec::new(), Vec::new(), Vec::new());
        let mut newly: Vec<Scored> = Vec::new();
        for (seq, score, source) in candidates {
            if seq.last() == Some(&eot) {
                newly.push((seq, score));
            } else {
                next.push(seq);
                next_sums.push(score);
                sources.push(source);
                if next.len() == beams {
                    break;
                }
            }
        }
        for done in newly {
            if finished.len() >= max_candidates {
                break;
            }
            finished.push(done);
        }
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(sources.iter().map(|&s| s as i64).collect(), [sources.len()]),
            &device,
        );
        cache.reorder(idx);
        (rows, sums) = (next, next_sums);
        if finished.len() >= max_candidates || rows[0].len() > task.n_ctx {
            break;
        }
    }
    // Not enough finished: the unfinished beams, likeliest first, closed with <|endoftext|>.
    if finished.len() < beams {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| sums[b].total_cmp(&sums[a]));
        for j in order {
            let mut seq = rows[j].clone();
            seq.push(eot);
            finished.push((seq, sums[j]));
            if finished.len() >= beams {
                break;
            }
        }
    }
    let length = |seq: &[u32]| {
        seq[task.sample_begin..]
            .iter()
            .position(|&t| t == eot)
            .unwrap_or(seq.len() - task.sample_begin)
    };
    let rank = |(seq, logprob): &Scored| {
        let n = length(seq) as f64;
        let penalty = match task.options.length_penalty {
            None => n,
            Some(a) => ((5.0 + n) / 6.0).powf(a),
        };
        logprob / penalty
    };
    let best = (0..finished.len()).fold(0, |b, i| {
        if rank(&finished[i]) > rank(&finished[b]) {
            i
        } else {
            b
        }
    });
    let (seq, logprob) = &finished[best];
    task.result(seq, *logprob, no_speech_prob)
}

/// Indices of the `k` largest values, largest first.
fn top_k(values: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    let k = k.min(idx.len());
    idx.select_nth_unstable_by(k.saturating_sub(1), |&a, &b| {
        values[b].total_cmp(&values[a])
    });
    idx.truncate(k);
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    idx
}

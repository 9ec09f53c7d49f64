//! Text metrics against jiwer 4.0.0 and rapidfuzz 3.14.6
//! (`tests/golden/text.jsonl`, made by `scripts/golden/eval-metrics.sh`).

mod common;

use common::{close, count, golden, strings};
use serde_json::Value;
use whet_eval_metrics::text::{
    AlignmentChunk, ChunkKind, EditKind, distance, editops, normalized_distance,
    process_characters, process_words,
};

fn chunks_json(alignments: &[Vec<AlignmentChunk>]) -> Value {
    Value::Array(
        alignments
            .iter()
            .map(|sent| {
                Value::Array(
                    sent.iter()
                        .map(|c| {
                            let tag = match c.kind {
                                ChunkKind::Equal => "equal",
                                ChunkKind::Substitute => "substitute",
                                ChunkKind::Delete => "delete",
                                ChunkKind::Insert => "insert",
                            };
                            serde_json::json!([tag, c.ref_start, c.ref_end, c.hyp_start, c.hyp_end])
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

#[test]
fn words_match_jiwer() {
    let cases = golden("text");
    assert!(cases.len() >= 1000);
    for (i, case) in cases.iter().enumerate() {
        let (refs, hyps) = (strings(&case["refs"]), strings(&case["hyps"]));
        let want = &case["words"];
        let got = process_words(&refs, &hyps).unwrap();
        let c = got.counts;
        assert_eq!(
            [c.hits, c.substitutions, c.deletions, c.insertions],
            [
                count(&want["hits"]),
                count(&want["substitutions"]),
                count(&want["deletions"]),
                count(&want["insertions"])
            ],
            "case {i}: {refs:?} / {hyps:?}"
        );
        close(got.wer, &want["wer"], &format!("case {i} wer"));
        close(got.mer, &want["mer"], &format!("case {i} mer"));
        close(got.wil, &want["wil"], &format!("case {i} wil"));
        close(got.wip, &want["wip"], &format!("case {i} wip"));
        assert_eq!(
            chunks_json(&got.alignments),
            want["ops"],
            "case {i} alignment"
        );
    }
}

#[test]
fn characters_match_jiwer() {
    for (i, case) in golden("text").iter().enumerate() {
        let (refs, hyps) = (strings(&case["refs"]), strings(&case["hyps"]));
        let want = &case["chars"];
        let got = process_characters(&refs, &hyps).unwrap();
        let c = got.counts;
        assert_eq!(
            [c.hits, c.substitutions, c.deletions, c.insertions],
            [
                count(&want["hits"]),
                count(&want["substitutions"]),
                count(&want["deletions"]),
                count(&want["insertions"])
            ],
            "case {i}: {refs:?} / {hyps:?}"
        );
        close(got.cer, &want["cer"], &format!("case {i} cer"));
        assert_eq!(
            chunks_json(&got.alignments),
            want["ops"],
            "case {i} alignment"
        );
    }
}

#[test]
fn string_distances_match_rapidfuzz() {
    for (i, case) in golden("text").iter().enumerate() {
        let a: Vec<char> = case["refs"][0].as_str().unwrap().chars().collect();
        let b: Vec<char> = case["hyps"][0].as_str().unwrap().chars().collect();
        let want = &case["levenshtein"];
        assert_eq!(distance(&a, &b), count(&want["distance"]), "case {i}");
        close(
            normalized_distance(&a, &b),
            &want["normalized_distance"],
            &format!("case {i}"),
        );
        let ops: Vec<Value> = editops(&a, &b)
            .iter()
            .map(|e| {
                let tag = match e.kind {
                    EditKind::Replace => "replace",
                    EditKind::Insert => "insert",
                    EditKind::Delete => "delete",
                };
                serde_json::json!([tag, e.src, e.dest])
            })
            .collect();
        assert_eq!(Value::Array(ops), want["editops"], "case {i} editops");
    }
}

#[test]
fn basic_normalizer_matches_whisper() {
    use whet_eval_metrics::text::BasicTextNormalizer;
    let cases = golden("normalizer");
    assert!(cases.len() >= 1000);
    for (i, case) in cases.iter().enumerate() {
        let text = case["text"].as_str().unwrap();
        for (key, remove_diacritics, split_letters) in [
            ("d0_s0", false, false),
            ("d0_s1", false, true),
            ("d1_s0", true, false),
            ("d1_s1", true, true),
        ] {
            let n = BasicTextNormalizer {
                remove_diacritics,
                split_letters,
            };
            assert_eq!(
                n.normalize(text),
                case[key].as_str().unwrap(),
                "case {i} {key}: {text:?}"
            );
        }
    }
}

#[test]
fn english_normalizers_match_whisper() {
    use whet_eval_metrics::text::{EnglishTextNormalizer, english_numbers, english_spellings};
    let cases = golden("english");
    assert!(cases.len() >= 1000);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let text = case["text"].as_str().unwrap();
        let got = [
            ("english", EnglishTextNormalizer.normalize(text)),
            ("numbers", english_numbers(&text.to_lowercase())),
            ("spellings", english_spellings(text)),
        ];
        for (key, value) in got {
            if case[key].as_str() != Some(value.as_str()) {
                failures.push(format!(
                    "case {i} {key}: {text:?}\n  got    {value:?}\n  whisper {}",
                    case[key]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        3 * cases.len(),
        failures[..failures.len().min(6)].join("\n")
    );
}

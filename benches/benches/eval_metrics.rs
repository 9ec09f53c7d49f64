//! whet-eval-metrics against its Python references, on the golden inputs
//! (`crates/eval-metrics/tests/golden/*.jsonl`).
//!
//! criterion times each metric over a whole golden file. With `--bench` (as `cargo bench`
//! passes it), the bench also prints one line per metric, `rust <metric> <seconds per
//! pass over the file>`, which `scripts/bench-eval-metrics.sh` sets beside the Python
//! references' time on the same inputs (`scripts/bench/eval_metrics_ref.py`).
//!
//! `scripts/bench-eval-metrics.sh` (or `cargo bench -p whet-benches --bench eval_metrics`
//! for the Rust side alone)
#![allow(missing_docs)]
#![allow(clippy::print_stdout)] // the side-by-side figures are this bench's report

use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use serde_json::Value;
use whet_core::geom::{Polygon, TextRegion};
use whet_eval_metrics::ocr::polygon::Point;
use whet_eval_metrics::ocr::{DetImage, detection_db};
use whet_eval_metrics::table::teds;
use whet_eval_metrics::text::{process_characters, process_words};

fn golden(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/eval-metrics/tests/golden")
        .join(format!("{name}.jsonl"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("golden record"))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn poly(v: &Value) -> Vec<Point> {
    v.as_array()
        .expect("polygon")
        .iter()
        .map(|p| [p[0].as_f64().expect("x"), p[1].as_f64().expect("y")])
        .collect()
}

struct Inputs {
    text: Vec<(Vec<String>, Vec<String>)>,
    tables: Vec<(String, String)>,
    detection: Vec<Vec<DetImage>>,
}

fn inputs() -> Inputs {
    let text = golden("text")
        .iter()
        .map(|c| (strings(&c["refs"]), strings(&c["hyps"])))
        .collect();
    let tables = golden("teds")
        .iter()
        .map(|c| {
            (
                c["pred"].as_str().expect("pred").to_owned(),
                c["true"].as_str().expect("true").to_owned(),
            )
        })
        .collect();
    let detection = golden("detection")
        .iter()
        .map(|c| {
            c["images"]
                .as_array()
                .expect("images")
                .iter()
                .map(|im| DetImage {
                    gt: im["gt"]
                        .as_array()
                        .expect("gt")
                        .iter()
                        .map(|g| TextRegion {
                            polygon: Polygon::new(poly(&g["points"])),
                            text: String::new(),
                            ignore: g["ignore"].as_bool().expect("ignore"),
                        })
                        .collect(),
                    det: im["det"]
                        .as_array()
                        .expect("det")
                        .iter()
                        .map(|p| Polygon::new(poly(p)))
                        .collect(),
                })
                .collect()
        })
        .collect();
    Inputs {
        text,
        tables,
        detection,
    }
}

fn wer_pass(inp: &Inputs) -> f64 {
    inp.text
        .iter()
        .map(|(r, h)| process_words(r, h).map(|o| o.wer).unwrap_or(0.0))
        .sum()
}

fn cer_pass(inp: &Inputs) -> f64 {
    inp.text
        .iter()
        .map(|(r, h)| process_characters(r, h).map(|o| o.cer).unwrap_or(0.0))
        .sum()
}

fn teds_pass(inp: &Inputs) -> f64 {
    inp.tables
        .iter()
        .map(|(p, t)| teds(p, t, false).unwrap_or(0.0))
        .sum()
}

fn detection_pass(inp: &Inputs) -> f64 {
    inp.detection
        .iter()
        .map(|ims| detection_db(ims).hmean)
        .sum()
}

type Pass = fn(&Inputs) -> f64;
const PASSES: [(&str, Pass); 4] = [
    ("wer", wer_pass),
    ("cer", cer_pass),
    ("teds", teds_pass),
    ("detection_db", detection_pass),
];

fn bench(c: &mut Criterion) {
    let inp = inputs();
    let mut group = c.benchmark_group("eval_metrics_golden_pass");
    group.sample_size(20);
    for (name, pass) in PASSES {
        group.bench_function(name, |b| b.iter(|| std::hint::black_box(pass(&inp))));
    }
    group.finish();
}

/// Seconds per pass: the median of 7 timed passes after one warm-up.
fn side_by_side() {
    let inp = inputs();
    for (name, pass) in PASSES {
        std::hint::black_box(pass(&inp));
        let mut times: Vec<f64> = (0..7)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(pass(&inp));
                t.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("rust {name} {:.6}", times[3]);
    }
}

criterion_group!(benches, bench);

fn main() {
    if std::env::args().any(|a| a == "--side-by-side") {
        side_by_side();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

//! whet-intent-svc against scikit-learn on CLINC150: fitting the vectoriser, SVM and
//! 5-fold calibration on the 15,100 training messages, and predicting one message (p50
//! of 2,000; fit: median of three). `scripts/bench-intent-svc.sh` runs this and `scripts/bench/intent_svc_ref.py`
//! in one session; with `--side-by-side fit` this bench times one fit and with
//! `--side-by-side predict` the predict latency, printing `rust <metric> <value>`.
#![allow(missing_docs)]
#![allow(clippy::print_stdout)] // the side-by-side figures are this bench's report

use std::time::Instant;

use criterion::{Criterion, criterion_group};
use whet_intent_svc::{DocFreq, IntentModel, SvmConfig, TfidfConfig};

fn data() -> (Vec<(String, String)>, Vec<String>) {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/clinc150/data_full.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("CLINC150 in ../shared/data"))
            .expect("json");
    let rows = |k: &str| -> Vec<(String, String)> {
        v[k].as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r[0].as_str().expect("text").to_owned(),
                    r[1].as_str().expect("intent").to_owned(),
                )
            })
            .collect()
    };
    let train = [rows("train"), rows("oos_train")].concat();
    let test = [rows("test"), rows("oos_test")]
        .concat()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    (train, test)
}

fn tfidf() -> TfidfConfig {
    TfidfConfig {
        ngram_range: (1, 2),
        max_features: None,
        min_df: DocFreq::Count(2),
        sublinear_tf: true,
        ..TfidfConfig::default()
    }
}

fn bench(c: &mut Criterion) {
    let (train, test) = data();
    let model = IntentModel::fit(&train, tfidf(), &SvmConfig::default()).expect("fit");
    let mut i = 0;
    c.bench_function("intent_svc/predict_one", |b| {
        b.iter(|| {
            i = (i + 1) % test.len();
            std::hint::black_box(model.predict(&test[i], 3))
        })
    });
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--side-by-side") {
        let (train, test) = data();
        let t = Instant::now();
        let model = IntentModel::fit(&train, tfidf(), &SvmConfig::default()).expect("fit");
        let fit_seconds = t.elapsed().as_secs_f64();
        if args.get(i + 1).map(String::as_str) == Some("fit") {
            println!("rust fit_seconds {fit_seconds:.3}");
            return;
        }
        let mut times: Vec<f64> = test
            .iter()
            .take(2000)
            .map(|m| {
                let t = Instant::now();
                std::hint::black_box(model.predict(m, 3));
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("rust predict_p50_us {:.1}", times[times.len() / 2]);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

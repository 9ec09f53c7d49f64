//! An intent classifier for CLINC150: TF-IDF, a linear SVM and calibrated confidence,
//! trained on the 15,000 in-scope and 100 out-of-scope training messages, evaluated on the
//! 5,500 test messages with an out-of-scope threshold tuned on the validation split.
//!
//! ```sh
//! cargo run --release -p whet-examples --example intent_clinc150 -- --data ../shared/data/clinc150/data_full.json
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use whet_eval_metrics::classification::classification_report;
use whet_intent_svc::{DocFreq, IntentModel, SvmConfig, TfidfConfig};

#[derive(Parser)]
#[command(about = "Train and evaluate an intent classifier on CLINC150")]
struct Args {
    /// CLINC150's `data_full.json`.
    #[arg(long, default_value = "../shared/data/clinc150/data_full.json")]
    data: PathBuf,
    /// Below this confidence a message is out of scope (`oos`); by default the threshold
    /// is tuned on the validation split (`val` and `oos_val`).
    #[arg(long)]
    threshold: Option<f64>,
    /// Where to save the model file.
    #[arg(long)]
    save: Option<PathBuf>,
}

fn split(data: &serde_json::Value, keys: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for k in keys {
        for row in data[*k]
            .as_array()
            .with_context(|| format!("no {k:?} in the data file"))?
        {
            let text = row[0].as_str().context("a row without text")?;
            let intent = row[1].as_str().context("a row without intent")?;
            out.push((text.to_owned(), intent.to_owned()));
        }
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&args.data)
            .with_context(|| format!("reading {}", args.data.display()))?,
    )?;
    let train = split(&data, &["train", "oos_train"])?;
    let test = split(&data, &["test", "oos_test"])?;
    let tfidf = TfidfConfig {
        ngram_range: (1, 2),
        max_features: None,
        min_df: DocFreq::Count(2),
        sublinear_tf: true,
        ..TfidfConfig::default()
    };
    let started = Instant::now();
    let mut model = IntentModel::fit(&train, tfidf, &SvmConfig::default())?;
    let fit_s = started.elapsed().as_secs_f64();
    let threshold = match args.threshold {
        Some(t) => t,
        None => {
            let validation = split(&data, &["val", "oos_val"])?;
            let scores = model.tune_threshold(&validation)?;
            let t = model.threshold.context("tuned threshold")?;
            let at = scores
                .iter()
                .find(|s| s.threshold == t)
                .context("tuned score")?;
            println!(
                "threshold {t:.2} tuned on {} validation messages (in-scope accuracy {:.4}, \
                 out-of-scope recall {:.4})",
                validation.len(),
                at.in_scope_accuracy,
                at.oos_recall
            );
            t
        }
    };
    model.threshold = Some(threshold);
    let started = Instant::now();
    let predicted: Vec<String> = test
        .iter()
        .map(|(t, _)| model.predict(t, 1).intent)
        .collect();
    let per_message_ms = started.elapsed().as_secs_f64() * 1000.0 / test.len() as f64;
    let truth: Vec<&str> = test.iter().map(|(_, l)| l.as_str()).collect();
    let report = classification_report(&truth, &predicted)?;
    let oos = report
        .labels
        .iter()
        .position(|l| l == "oos")
        .map(|i| report.per_class[i]);
    let in_scope: Vec<(&str, &String)> = truth
        .iter()
        .copied()
        .zip(&predicted)
        .filter(|(t, _)| *t != "oos")
        .collect();
    let in_scope_acc =
        in_scope.iter().filter(|(t, p)| *t == p.as_str()).count() as f64 / in_scope.len() as f64;
    println!(
        "trained on {} messages in {fit_s:.1} s; {per_message_ms:.3} ms per prediction",
        train.len()
    );
    println!(
        "test accuracy {:.4} (in-scope {in_scope_acc:.4}), macro F1 {:.4}",
        report.accuracy, report.macro_avg.f1
    );
    if let Some(o) = oos {
        println!(
            "out-of-scope recall {:.4}, precision {:.4} (threshold {})",
            o.recall, o.precision, threshold
        );
    }
    if let Some(path) = &args.save {
        model.save(path)?;
        println!("model saved to {}", path.display());
    }
    Ok(())
}

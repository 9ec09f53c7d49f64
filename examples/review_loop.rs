//! The human in the loop, on CLINC150: a model trained on a few messages per intent
//! predicts live messages; those it is unsure of wait in the review queue; a reviewer
//! (simulated with CLINC150's labels) validates or corrects them; the reviewed messages,
//! a correction weighing 2, join the training data; the retrained model is deployed only
//! if it is not worse on the test split.
//!
//! ```sh
//! cargo run --release -p whet-examples --example review_loop
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;

use clap::Parser;
use whet_hard_mining::corrections::write_intent_jsonl;
use whet_hard_mining::queue::{ReviewItem, ReviewStore, SqliteQueue, enqueue_low_confidence};
use whet_intent_svc::{Dataset, Pipeline, PipelineConfig, macro_f1};

#[derive(Parser)]
struct Args {
    /// CLINC150's `data_full.json`.
    #[arg(long, default_value = "../shared/data/clinc150/data_full.json")]
    data: PathBuf,
    /// Training messages per intent to start from.
    #[arg(long, default_value_t = 10)]
    per_intent: usize,
    /// Below this confidence a prediction goes to the review queue.
    #[arg(long, default_value_t = 0.85)]
    threshold: f64,
    /// How many queued messages the reviewer gets through.
    #[arg(long, default_value_t = 600)]
    reviews: usize,
    /// Working folder (queue, stored interactions, registry); a new one by default.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let out = a.out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("whet-review-loop-{}", std::process::id()))
    });
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut seed = Dataset::read_clinc150(&a.data, &["train"])?;
    seed.samples.retain(|s| {
        let n = seen.entry(s.intent.clone()).or_default();
        *n += 1;
        *n <= a.per_intent
    });
    let live = Dataset::read_clinc150(&a.data, &["val"])?;
    let test = Dataset::read_clinc150(&a.data, &["test"])?;
    // Retraining happens when this program asks for it.
    let config = PipelineConfig {
        retrain_after: usize::MAX,
        ..PipelineConfig::default()
    };
    let mut pipeline =
        Pipeline::open(out.join("data"), out.join("registry"), test.clone(), config)?;
    for s in seed.samples {
        pipeline.record(s)?;
    }
    pipeline.flush()?;
    pipeline.retrain()?;
    let first = pipeline.production()?.expect("the first model is deployed");

    // Predictions the model is unsure of go to the queue, with what the reviewer needs.
    let queue = SqliteQueue::open(out.join("review.sqlite"))?;
    let mut items = Vec::new();
    for (i, s) in live.samples.iter().enumerate() {
        let p = first.predict(&s.text, 1);
        let item = ReviewItem::builder(format!("val-{i}"), format!("val-{i}"), "intent");
        items.push(
            item.predicted(p.intent)
                .confidence(p.confidence)
                .source("intent v1")
                .input(&s.text)
                .build()?,
        );
    }
    let queued = enqueue_low_confidence(&queue, &items, a.threshold)?;
    for stored in queue.pending(a.reviews)? {
        let index: usize = stored.item.key["val-".len()..].parse()?;
        let truth = &live.samples[index].intent;
        if stored.item.predicted.as_ref() == Some(truth) {
            queue.validate(stored.id, "reviewer")?;
        } else {
            queue.correct(stored.id, Some(truth.clone()), "reviewer")?;
        }
    }
    let stats = queue.stats()?;

    // Reviewed messages become training samples (the intent dataset format), then retrain.
    let reviewed = out.join("reviewed.jsonl");
    write_intent_jsonl(&reviewed, &queue.corrections()?)?;
    let (reviewed, bad) = Dataset::read_jsonl(&reviewed)?;
    anyhow::ensure!(bad.is_empty(), "unreadable reviewed samples: {bad:?}");
    for s in reviewed.samples {
        pipeline.record(s)?;
    }
    pipeline.flush()?;
    let decision = pipeline.retrain()?;
    println!(
        "{} of {} live messages queued below confidence {}; {} reviewed, {} corrected ({:.1}%)",
        queued,
        live.samples.len(),
        a.threshold,
        stats.validated + stats.corrected,
        stats.corrected,
        100.0 * stats.correction_rate
    );
    println!(
        "test macro-F1: v1 {:.4} -> retrained {:.4}; {}",
        macro_f1(&first, &test),
        decision.candidate_value,
        decision.reason
    );
    println!(
        "production is now {}",
        if decision.promoted {
            "the retrained model"
        } else {
            "still v1"
        }
    );
    Ok(())
}

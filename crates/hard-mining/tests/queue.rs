//! The review queue under crashes and concurrent producers.
//!
//! The crash test runs a writer in a child process (this test binary, re-entered through
//! the ignored `writer_process` test) that enqueues items and prints `ack <key>` after
//! each `enqueue` returns; the parent kills it with SIGKILL mid-stream, then checks that
//! every acknowledged item is in the file exactly once and the file is sound, and that a
//! restarted producer replaying from the start duplicates nothing.

#![allow(clippy::print_stdout)] // the writer child reports its acknowledgements on stdout

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use whet_hard_mining::queue::{Enqueued, ReviewItem, ReviewStatus, ReviewStore, SqliteQueue};

fn item(key: &str, i: usize) -> ReviewItem {
    let mut it = ReviewItem::new(
        key,
        format!("doc-{}", i / 4),
        ["total", "date", "vat", "seller_tin"][i % 4],
        Some(format!("{i}.00")),
        0.5,
    );
    it.source = "test-model v1".into();
    it.context.image = Some(format!("images/{i:06}.png"));
    // A key this build does not know: kept and read back.
    it.context
        .extra
        .insert("padding".into(), serde_json::json!("x".repeat(200)));
    it
}

/// Spawns this binary as a writer of keys `prefix-start..prefix-end` into `db`.
fn writer(db: &Path, prefix: &str, start: usize, end: usize) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "writer_process",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("WHET_QUEUE_DB", db)
        .env("WHET_QUEUE_PREFIX", prefix)
        .env("WHET_QUEUE_RANGE", format!("{start}..{end}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The writer's body (run only as a child process).
#[test]
#[ignore = "run by the crash and concurrency tests as a child process"]
fn writer_process() {
    let Ok(db) = std::env::var("WHET_QUEUE_DB") else {
        return;
    };
    let prefix = std::env::var("WHET_QUEUE_PREFIX").unwrap();
    let range = std::env::var("WHET_QUEUE_RANGE").unwrap();
    let (a, b) = range.split_once("..").unwrap();
    let queue = SqliteQueue::open(db).unwrap();
    for i in a.parse::<usize>().unwrap()..b.parse::<usize>().unwrap() {
        let key = format!("{prefix}-{i}");
        queue.enqueue(&item(&key, i)).unwrap();
        println!("ack {key}");
    }
}

fn acks(child: &mut std::process::Child, stop_after: Option<usize>) -> Vec<String> {
    let out = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut killed = false;
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        // The harness prints `test writer_process ... ` before the first line.
        if let Some(at) = line.find("ack ") {
            got.push(line[at + 4..].to_owned());
            if !killed && stop_after.is_some_and(|n| got.len() >= n) {
                child.kill().unwrap(); // SIGKILL: no destructor, no flush, no commit hook
                killed = true;
                // Acknowledgements already in the pipe when it died still count: read
                // on to the end of its output.
            }
        }
    }
    child.wait().unwrap();
    got
}

fn keys(queue: &SqliteQueue) -> Vec<String> {
    queue
        .with_status(ReviewStatus::Pending)
        .unwrap()
        .into_iter()
        .map(|s| s.item.key)
        .collect()
}

#[test]
fn a_killed_writer_loses_nothing_acknowledged_and_a_retry_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite");
    for round in 0..3 {
        let mut child = writer(&db, "k", 0, 100_000);
        let acked = acks(&mut child, Some(150 + 100 * round));
        let queue = SqliteQueue::open(&db).unwrap();
        queue.check_integrity().unwrap();
        let stored = keys(&queue);
        let unique: BTreeSet<&String> = stored.iter().collect();
        assert_eq!(unique.len(), stored.len(), "round {round}: duplicates");
        for k in &acked {
            assert!(unique.contains(k), "round {round}: acknowledged {k} lost");
        }
        // At most the one in flight besides the acknowledged ones (each round replays from 0).
        assert!(
            stored.len() <= acked.len().max(150 + 100 * round) + 1,
            "round {round}: {} stored",
            stored.len()
        );
        drop(queue);
    }
    // The replaying producer sees its earlier items as already there.
    let queue = SqliteQueue::open(&db).unwrap();
    assert!(matches!(
        queue.enqueue(&item("k-0", 0)).unwrap(),
        Enqueued::Existing(_)
    ));
    let stored = keys(&queue);
    assert_eq!(stored.iter().collect::<BTreeSet<_>>().len(), stored.len());
}

#[test]
fn several_producers_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite");
    SqliteQueue::open(&db).unwrap();
    // Three processes, overlapping key ranges (0..300, 200..500, 400..700 of one prefix).
    let mut children: Vec<_> = (0..3)
        .map(|p| writer(&db, "shared", p * 200, p * 200 + 300))
        .collect();
    let acked: Vec<Vec<String>> = children.iter_mut().map(|c| acks(c, None)).collect();
    assert!(
        acked.iter().all(|a| a.len() == 300),
        "a producer failed: {:?}",
        acked.iter().map(Vec::len).collect::<Vec<_>>()
    );
    // And threads of this process through one handle.
    let queue = std::sync::Arc::new(SqliteQueue::open(&db).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let q = queue.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    q.enqueue(&item(&format!("thread-{}", (t * 50 + i) % 120), i))
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    queue.check_integrity().unwrap();
    let stored = keys(&queue);
    assert_eq!(stored.len(), 700 + 120);
    assert_eq!(stored.iter().collect::<BTreeSet<_>>().len(), stored.len());
}

#[test]
fn reviews_statistics_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite");
    let queue = SqliteQueue::open(&db).unwrap();
    for i in 0..8 {
        queue.enqueue(&item(&format!("r-{i}"), i)).unwrap();
    }
    let pending = queue.pending(100).unwrap();
    assert_eq!(pending.len(), 8);
    // total (0, 4): one right, one wrong; date (1, 5): both wrong; vat (2): rejected.
    queue.validate(pending[0].id, "ana").unwrap();
    queue
        .correct(pending[4].id, Some("4.50".into()), "ana")
        .unwrap();
    queue
        .correct(pending[1].id, Some("2022-02-09".into()), "ben")
        .unwrap();
    queue.correct(pending[5].id, None, "ben").unwrap();
    queue.reject(pending[2].id, "ben").unwrap();
    // Reviewing twice is refused, as is an unknown id.
    assert!(queue.validate(pending[0].id, "ana").is_err());
    assert!(queue.correct(9_999, None, "ana").is_err());
    drop(queue);
    let queue = SqliteQueue::open(&db).unwrap(); // migrations are not re-run
    let s = queue.stats().unwrap();
    assert_eq!(
        (s.pending, s.validated, s.corrected, s.rejected),
        (3, 1, 3, 1)
    );
    assert!((s.correction_rate - 0.75).abs() < 1e-12);
    assert!((s.per_field["total"].correction_rate - 0.5).abs() < 1e-12);
    assert!((s.per_field["date"].correction_rate - 1.0).abs() < 1e-12);
    let samples = queue.corrections().unwrap();
    assert_eq!(samples.len(), 4);
    let first = &samples[0];
    assert_eq!((first.value.as_deref(), first.weight), (Some("0.00"), 1.0)); // validated: the prediction
    let fixed = samples
        .iter()
        .find(|s| s.field == "date" && s.value.is_some())
        .unwrap();
    assert_eq!(fixed.weight, 2.0);
    assert_eq!(fixed.provenance.reviewer, "ben");
    assert_eq!(fixed.provenance.predicted.as_deref(), Some("1.00"));
    assert_eq!(fixed.provenance.source, "test-model v1");
    assert_eq!(fixed.context.image.as_deref(), Some("images/000001.png"));
    assert_eq!(fixed.context.extra["padding"], "x".repeat(200));
}

#[test]
fn a_file_that_is_not_a_queue_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "not a database, just text that is long enough to be read as a header..........",
    )
    .unwrap();
    let err = SqliteQueue::open(&path).unwrap_err().to_string();
    assert!(err.contains("notes.txt"), "{err}");
}

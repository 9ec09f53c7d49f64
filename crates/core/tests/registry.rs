//! Registry properties: versions only grow, promotion never installs a model worse than
//! the tolerance allows, rollback restores exactly, nothing is deleted, and two writers
//! at once lose nothing.

use std::collections::BTreeMap;

use proptest::prelude::*;
use whet_core::data::Fingerprint;
use whet_core::registry::{Alias, EventKind, Goal, NewVersion, PromotionRule, Registry};

#[derive(Debug, Clone)]
enum Op {
    Register(f64),
    Promote(usize),
    Rollback(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0.0f64..1.0).prop_map(Op::Register),
        2 => (0usize..100).prop_map(Op::Promote),
        1 => (0usize..100).prop_map(Op::Rollback),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn registry_invariants(
        ops in proptest::collection::vec(op(), 1..14),
        tolerance in 0.0f64..0.2,
        maximize in any::<bool>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let reg = Registry::open(tmp.path().join("reg")).unwrap();
        let goal = if maximize { Goal::Maximize } else { Goal::Minimize };
        let rule = PromotionRule::new("score", goal, tolerance);
        let mut contents: BTreeMap<u32, Fingerprint> = BTreeMap::new();
        let mut last_version = 0u32;

        for op in ops {
            let before = reg.index("m").unwrap();
            let production_before = before.resolve(&Alias::Production).cloned();
            match op {
                Op::Register(score) => {
                    let file = tmp.path().join("weights.bin");
                    std::fs::write(&file, format!("weights {score}")).unwrap();
                    let v = reg.register("m", &file, NewVersion::new().metric("score", score)).unwrap();
                    prop_assert_eq!(v.version, last_version + 1, "versions grow by one");
                    last_version = v.version;
                    contents.insert(v.version, v.content);
                }
                Op::Promote(pick) if !before.versions.is_empty() => {
                    let candidate = before.versions[pick % before.versions.len()].clone();
                    let d = reg.promote_if_improved("m", candidate.version, &rule).unwrap();
                    let after = reg.index("m").unwrap();
                    let production = after.aliases.get(&Alias::Production).copied();
                    let value = candidate.meta.metrics["score"];
                    match &production_before {
                        None => {
                            prop_assert!(d.promoted, "the first version is always promoted");
                            prop_assert_eq!(production, Some(candidate.version));
                        }
                        Some(prod) => {
                            let base = prod.meta.metrics["score"];
                            let allowed = match goal {
                                Goal::Maximize => value >= base - tolerance,
                                Goal::Minimize => value <= base + tolerance,
                            };
                            prop_assert_eq!(d.promoted, allowed);
                            if d.promoted {
                                prop_assert_eq!(production, Some(candidate.version));
                            } else {
                                prop_assert_eq!(production, Some(prod.version), "a refusal changes nothing");
                            }
                        }
                    }
                    let last = after.history.last().unwrap();
                    prop_assert_eq!(&last.kind, if d.promoted { &EventKind::Promote } else { &EventKind::Reject });
                }
                Op::Rollback(pick) if !before.versions.is_empty() => {
                    let target = before.versions[pick % before.versions.len()].version;
                    reg.rollback("m", target, "test").unwrap();
                    let prod = reg.alias("m", &Alias::Production).unwrap().unwrap();
                    prop_assert_eq!(prod.version, target);
                    // Exactly the files that were registered.
                    let dir = reg.version_dir("m", target).unwrap();
                    prop_assert_eq!(Fingerprint::of_dir(&dir).unwrap(), contents[&target]);
                }
                _ => {}
            }
            // Nothing is ever deleted and numbering never goes back.
            let index = reg.index("m").unwrap();
            let numbers: Vec<u32> = index.versions.iter().map(|v| v.version).collect();
            prop_assert_eq!(numbers, (1..=last_version).collect::<Vec<_>>());
            for (v, fp) in &contents {
                prop_assert_eq!(&Fingerprint::of_dir(reg.version_dir("m", *v).unwrap()).unwrap(), fp);
            }
        }
    }
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("reg");
    let src = tmp.path().join("model");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("model.safetensors"), b"w").unwrap();
    std::fs::write(src.join("sub/config.json"), b"{}").unwrap();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let root = root.clone();
            let src = src.clone();
            std::thread::spawn(move || {
                // Each writer has its own handle, hence its own lock file descriptor.
                let reg = Registry::open(root).unwrap();
                for i in 0..15 {
                    let meta = NewVersion::new()
                        .metric("score", i as f64)
                        .note(format!("writer {w}"));
                    let v = reg.register("shared", &src, meta).unwrap();
                    reg.promote_if_improved(
                        "shared",
                        v.version,
                        &PromotionRule::new("score", Goal::Maximize, 0.0),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let reg = Registry::open(&root).unwrap();
    let index = reg.index("shared").unwrap();
    let numbers: Vec<u32> = index.versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, (1..=30).collect::<Vec<_>>());
    assert_eq!(index.history.len(), 60, "30 registrations and 30 decisions");
    for v in &index.versions {
        assert_eq!(v.files, ["model.safetensors", "sub/config.json"]);
        assert!(
            reg.version_dir("shared", v.version)
                .unwrap()
                .join("sub/config.json")
                .exists()
        );
    }
    // No staging folders left behind.
    let leftovers = std::fs::read_dir(root.join("shared/versions"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn refusals_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::open(tmp.path()).unwrap();
    let f = tmp.path().join("w");
    std::fs::write(&f, b"x").unwrap();
    assert!(reg.register("../evil", &f, NewVersion::new()).is_err());
    assert!(reg.register("m", &f, NewVersion::new().parent(7)).is_err());
    let v = reg.register("m", &f, NewVersion::new()).unwrap();
    let rule = PromotionRule::new("f1", Goal::Maximize, 0.0);
    let err = reg.promote_if_improved("m", v.version, &rule).unwrap_err();
    assert!(err.to_string().contains("has no metric \"f1\""), "{err}");
    assert!(reg.rollback("m", 9, "no such version").is_err());
    assert!(
        reg.register("m", &tmp.path().join("missing"), NewVersion::new())
            .is_err()
    );
}

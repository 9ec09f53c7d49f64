//! The fine-tuning recipes end to end on two real SROIE receipts, a few steps each: the
//! dictionary grows with a character PP-OCRv4 lacks, a run stopped half-way resumes to
//! the same number of steps, the evaluation comes back before and after, and the
//! detector recipe reports whether it beat the pretrained detector.

use std::path::PathBuf;

use burn::tensor::Device;
use whet_core::data::sroie;
use whet_core::run::RunDir;
use whet_core::train::Control;
use whet_ocr_det::Ocr;
use whet_ocr_det::finetune::{
    DetData, DetFinetune, DetFinetuneConfig, RecData, RecFinetune, RecFinetuneConfig,
};
use whet_ocr_det::train::{DetAugment, DetItem, RecItem};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pages(n: usize) -> Vec<DetItem> {
    let dir = root().join("../shared/data/sroie-dev");
    let gt = sroie::read_folder(&dir).unwrap();
    DetItem::open_all(&dir, gt.iter().take(n)).unwrap()
}

fn base() -> Ocr {
    Ocr::from_pretrained(root().join("assets/rapidocr-1.4.4"), &Device::flex()).unwrap()
}

#[test]
fn recognizer_recipe_grows_the_dictionary_resumes_and_reports() {
    let base = base();
    let mut lines: Vec<RecItem> = pages(1)
        .iter()
        .flat_map(|p| RecItem::crops(&p.image, &p.regions))
        .take(24)
        .collect();
    // A character PP-OCRv4's dictionary lacks.
    lines[1].text = format!("₱{}", lines[1].text);
    let data = RecData::split(lines, 4);
    assert_eq!((data.train.len(), data.valid.len()), (18, 6));
    let mut config = RecFinetuneConfig::new(4, 1e-4);
    config.train.batch_size = 4;
    (config.train.valid_every, config.train.checkpoint_every) = (Some(2), 2);
    let tmp = tempfile::tempdir().unwrap();
    let run = || RunDir::resume_or_create(tmp.path(), "recipes", "rec").unwrap();
    let stopped = RecFinetune::new(config.clone())
        .with_progress(false)
        .on_step(|r| {
            if r.step == 2 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .run(&base, &data, run())
        .unwrap();
    assert_eq!(stopped.steps, 2);
    let done = RecFinetune::new(config)
        .with_progress(false)
        .run(&base, &data, run())
        .unwrap();
    assert_eq!(done.steps, 4, "the stopped run resumed to the end");
    assert_eq!(done.added, ['₱']);
    assert_eq!(done.dict.len(), base.dict.len() + 1);
    assert!(done.dict.class_of('₱').is_some());
    assert_eq!(done.pretrained.total, 6);
    assert_eq!(done.tuned.total, 6);
    // The pipeline saved with the grown dictionary reads back with it.
    let tuned = base.with_recognizer(done.recognizer, done.dict);
    let saved = tmp.path().join("saved");
    tuned.save(&saved).unwrap();
    let back = Ocr::from_pretrained(root().join("assets/rapidocr-1.4.4"), &Device::flex())
        .unwrap()
        .with_finetuned(root().join("assets/rapidocr-1.4.4"), &saved)
        .unwrap();
    assert_eq!(back.dict, tuned.dict);
}

#[test]
fn a_saved_pipeline_is_self_contained_and_reads_as_the_original() {
    let base = base();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    base.save(&dir).unwrap();
    // Nothing but the saved folder: no ONNX file.
    let loaded = Ocr::load(&dir, &Device::flex()).unwrap();
    assert_eq!(loaded.dict, base.dict);
    assert_eq!(loaded.config, base.config);
    let page = &pages(1)[0];
    let lines = loaded.read(&page.image).unwrap();
    assert!(lines.len() > 10);
    assert_eq!(lines, base.read(&page.image).unwrap());
    // A config of another version, or weights that do not fit it, are typed errors.
    let config = dir.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("\"version\": 1", "\"version\": 9", 1),
    )
    .unwrap();
    let err = Ocr::load(&dir, &Device::flex()).unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
    std::fs::write(&config, &text).unwrap();
    std::fs::copy(dir.join("det.safetensors"), dir.join("rec.safetensors")).unwrap();
    assert!(matches!(
        Ocr::load(&dir, &Device::flex()),
        Err(whet_ocr_det::Error::Weights { .. })
    ));
}

#[test]
fn detector_recipe_validates_and_keeps_only_a_better_detector() {
    let base = base();
    let data = DetData::split(pages(2), 2, 1);
    assert_eq!((data.train.len(), data.valid.len()), (1, 1));
    let mut config = DetFinetuneConfig::new(2, 1e-4);
    config.train.batch_size = 1;
    config.augment = DetAugment {
        size: 320,
        ..DetAugment::default()
    };
    let candidates = [
        config.unclip_ratios.clone(),
        vec![base.config.db.unclip_ratio],
    ]
    .concat();
    let tmp = tempfile::tempdir().unwrap();
    let run = RunDir::create(tmp.path(), "recipes", "det").unwrap();
    let done = DetFinetune::new(config)
        .with_progress(false)
        .run(&base, &data, run)
        .unwrap();
    assert_eq!(done.steps, 2);
    assert!(done.pretrained_hmean > 0.8, "{}", done.pretrained_hmean);
    // The unclip ratio that goes with the detector is one of those tried, and the
    // pipeline it makes reads with it.
    assert!(
        candidates.contains(&done.unclip_ratio),
        "{}",
        done.unclip_ratio
    );
    assert!(candidates.contains(&done.pretrained_unclip_ratio));
    assert_eq!(
        done.pipeline(&base).config.db.unclip_ratio,
        done.unclip_ratio
    );
    let (pretrained, tuned) = (done.pretrained_hmean, done.tuned_hmean);
    assert_eq!(done.if_better().is_some(), tuned > pretrained);
}

#[test]
fn real_lines_are_cut_where_the_detector_finds_them() {
    let base = base();
    let page = &pages(1)[0];
    let detected = RecItem::detected(&base, &page.image, &page.regions, 0.5).unwrap();
    let annotated = RecItem::crops(&page.image, &page.regions);
    // Every annotated line once, with its annotation's text.
    let texts = |items: &[RecItem]| {
        let mut t: Vec<String> = items.iter().map(|i| i.text.clone()).collect();
        t.sort();
        t
    };
    assert_eq!(texts(&detected), texts(&annotated));
    // Most of them cut from the detector's boxes, as the pipeline will cut them.
    let found = base.detect_lines(&page.image).unwrap();
    let from_detector = detected
        .iter()
        .filter(|i| found.iter().any(|(_, c)| c.as_ref() == Some(&i.image)))
        .count();
    assert!(
        from_detector * 10 >= detected.len() * 8,
        "{from_detector} of {} lines cut from detected boxes",
        detected.len()
    );
}

//! Rendered receipts: every inked pixel lies inside a ground-truth word polygon, every
//! word polygon holds ink, words and lines agree with the document, and the same document
//! renders to the same bytes.

use whet_synth_docs::{
    FontSet, Generator, GeneratorConfig, PrintStyle, ReceiptLayout, render_receipt,
};

fn fonts() -> FontSet {
    FontSet::system().expect("a TrueType font (Debian: fonts-dejavu-core)")
}

#[test]
fn word_polygons_cover_all_ink_and_only_words() {
    let fonts = fonts();
    let g = Generator::new(11, GeneratorConfig::default()).unwrap();
    // Every printer style too: capitals, condensed glyphs, dot matrix, a logo.
    let styles = [
        PrintStyle::PLAIN,
        PrintStyle {
            upper_case: true,
            width_scale: 0.75,
            ..PrintStyle::PLAIN
        },
        PrintStyle {
            dot_matrix: 9,
            ..PrintStyle::PLAIN
        },
        PrintStyle {
            logo: true,
            dot_matrix: 11,
            width_scale: 0.8,
            upper_case: true,
        },
    ];
    for (i, doc) in g.documents(16).enumerate() {
        let mut layout = if i % 2 == 0 {
            ReceiptLayout::THERMAL_58MM
        } else {
            ReceiptLayout::THERMAL_80MM
        };
        layout.style = styles[(i / 2) % styles.len()];
        let page = render_receipt(&doc, &fonts, layout).unwrap();
        let mut uncovered = page.image.clone();
        // A logo is the one ink that is not a word: it has a region of its own.
        let logo = page.regions.iter().filter(|r| r.name == "logo");
        assert_eq!(logo.clone().count(), usize::from(layout.style.logo));
        for r in logo {
            let [x0, y0, x1, y1] = r.polygon.bounds();
            for y in (y0.max(0.0) as u32)..(y1.min(page.image.height() as f64) as u32) {
                for x in (x0.max(0.0) as u32)..(x1.min(page.image.width() as f64) as u32) {
                    uncovered.put_pixel(x, y, image::Luma([255]));
                }
            }
        }
        if layout.style.upper_case {
            for l in &page.lines {
                assert_eq!(l.text, l.text.to_uppercase(), "document {i}");
            }
        }
        for w in &page.words {
            let [x0, y0, x1, y1] = w.polygon.bounds();
            let mut ink = 0usize;
            for y in (y0.max(0.0) as u32)..(y1.min(page.image.height() as f64) as u32) {
                for x in (x0.max(0.0) as u32)..(x1.min(page.image.width() as f64) as u32) {
                    if page.image.get_pixel(x, y).0[0] < 255 {
                        ink += 1;
                    }
                    uncovered.put_pixel(x, y, image::Luma([255]));
                }
            }
            assert!(
                ink > 0,
                "document {i}: word {:?} has no ink in {:?}",
                w.text,
                w.polygon
            );
        }
        let stray = uncovered.pixels().filter(|p| p.0[0] < 255).count();
        assert_eq!(
            stray, 0,
            "document {i} ({:?}): {stray} inked pixels outside every word polygon",
            layout.style
        );
        // The words are the document's text, in reading order.
        let text: Vec<&str> = page.lines.iter().map(|l| l.text.as_str()).collect();
        assert!(
            text.iter().any(|t| t.contains(&doc.totals.total.plain())),
            "{text:?}"
        );
        assert!(page.regions.iter().any(|r| r.name == "line_items"));
        assert!(page.table_html.starts_with("<html><body><table>"));
    }
}

#[test]
fn same_document_same_pixels() {
    let fonts = fonts();
    let g = Generator::new(5, GeneratorConfig::default()).unwrap();
    let doc = g.document(3);
    let a = render_receipt(&doc, &fonts, ReceiptLayout::THERMAL_80MM).unwrap();
    let b = render_receipt(&doc, &fonts, ReceiptLayout::THERMAL_80MM).unwrap();
    assert_eq!(a.image.as_raw(), b.image.as_raw());
    assert_eq!(a.words, b.words);
}

#[test]
fn bad_layouts_are_typed_errors() {
    let fonts = fonts();
    let doc = Generator::new(1, GeneratorConfig::default())
        .unwrap()
        .document(0);
    let bad = ReceiptLayout {
        font: 99,
        ..ReceiptLayout::THERMAL_58MM
    };
    assert!(matches!(
        render_receipt(&doc, &fonts, bad),
        Err(whet_synth_docs::Error::Config { .. })
    ));
    let bad = ReceiptLayout {
        font_px: 0.0,
        ..ReceiptLayout::THERMAL_58MM
    };
    assert!(matches!(
        render_receipt(&doc, &fonts, bad),
        Err(whet_synth_docs::Error::Config { .. })
    ));
    assert!(matches!(
        FontSet::load(&["/nonexistent.ttf"]),
        Err(whet_synth_docs::Error::Font { .. })
    ));
}

#[test]
#[ignore = "writes /tmp/receipt_*.png for a look"]
fn write_samples() {
    let fonts = fonts();
    let g = Generator::new(7, GeneratorConfig::default()).unwrap();
    for i in 0..3 {
        let page = render_receipt(&g.document(i), &fonts, ReceiptLayout::THERMAL_58MM).unwrap();
        page.image.save(format!("/tmp/receipt_{i}.png")).unwrap();
        use rand::SeedableRng;
        let aug = whet_synth_docs::augment(
            &page,
            &whet_synth_docs::AugmentConfig::default(),
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(i),
        )
        .unwrap();
        let mut img = image::DynamicImage::ImageLuma8(aug.image.clone()).to_rgb8();
        for w in &aug.words {
            for k in 0..4 {
                let (a, b) = (w.polygon.points[k], w.polygon.points[(k + 1) % 4]);
                for t in 0..=20 {
                    let t = t as f64 / 20.0;
                    let (x, y) = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t);
                    if x >= 0.0 && y >= 0.0 && (x as u32) < img.width() && (y as u32) < img.height()
                    {
                        img.put_pixel(x as u32, y as u32, image::Rgb([255, 0, 0]));
                    }
                }
            }
        }
        img.save(format!("/tmp/receipt_{i}_aug.png")).unwrap();
    }
}

#[test]
fn every_printed_character_is_in_the_ground_truth() {
    // Long addresses and item names wrap instead of being cut: the words on the page spell
    // out the document's seller name, address and every item description.
    let fonts = fonts();
    let g = Generator::new(21, GeneratorConfig::default()).unwrap();
    for doc in g.documents(20) {
        let page = render_receipt(&doc, &fonts, ReceiptLayout::THERMAL_58MM).unwrap();
        let printed: String = page
            .words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        let printed = squash(&printed);
        assert!(
            printed.contains(&squash(&doc.seller.address)),
            "{} not in {printed}",
            doc.seller.address
        );
        for item in &doc.items {
            assert!(
                printed.contains(&squash(&item.description)),
                "{} not in {printed}",
                item.description
            );
        }
    }
}

#[test]
fn dataset_folder_is_complete_and_reproducible() {
    use whet_synth_docs::DatasetWriter;
    let fonts = fonts();
    let write = |dir: &std::path::Path| {
        let g = Generator::new(42, GeneratorConfig::default()).unwrap();
        let mut w = DatasetWriter::create(dir).unwrap();
        for i in 0..4 {
            let doc = g.document(i);
            let page = render_receipt(&doc, &fonts, ReceiptLayout::THERMAL_58MM).unwrap();
            w.add(&format!("{i:06}"), &doc, &page).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 4);
    };
    let (ta, tb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (ta.path().to_owned(), tb.path().to_owned());
    write(&a);
    write(&b);
    for rel in [
        "manifest.jsonl",
        "det_gt.txt",
        "rec_gt.txt",
        "images/000003.png",
        "gt/000002.json",
        "key/000001.json",
    ] {
        let (x, y) = (
            std::fs::read(a.join(rel)).unwrap(),
            std::fs::read(b.join(rel)).unwrap(),
        );
        assert!(!x.is_empty(), "{rel} is empty");
        assert_eq!(x, y, "{rel} differs between two runs with the same seed");
    }
    // Every PaddleOCR label points at a file that exists.
    for line in std::fs::read_to_string(a.join("rec_gt.txt"))
        .unwrap()
        .lines()
    {
        let (crop, text) = line.split_once('\t').unwrap();
        assert!(a.join(crop).exists() && !text.is_empty());
    }
    let det = std::fs::read_to_string(a.join("det_gt.txt")).unwrap();
    assert_eq!(det.lines().count(), 4);
    let (image, boxes) = det.lines().next().unwrap().split_once('\t').unwrap();
    assert!(a.join(image).exists());
    let boxes: serde_json::Value = serde_json::from_str(boxes).unwrap();
    assert!(boxes[0]["points"].as_array().unwrap().len() == 4);
}

#[test]
fn polygons_move_with_the_pixels() {
    use rand::SeedableRng;
    use whet_synth_docs::{AugmentConfig, augment};
    let fonts = fonts();
    let g = Generator::new(13, GeneratorConfig::default()).unwrap();
    let cfg = AugmentConfig {
        max_rotation_deg: 5.0,
        max_perspective: 0.04,
        ..AugmentConfig::geometric_only()
    };
    for i in 0..6 {
        let page = render_receipt(&g.document(i), &fonts, ReceiptLayout::THERMAL_58MM).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i);
        let moved = augment(&page, &cfg, &mut rng).unwrap();
        // Dark pixels (the cores of strokes) must lie inside some moved word polygon,
        // grown by 1.5 px for the bilinear resampling.
        let inside = |x: f64, y: f64| {
            moved.words.iter().any(|w| {
                let p = &w.polygon.points;
                // point in convex quad, grown: distance to each edge's outside <= 1.5
                (0..4).all(|k| {
                    let (a, b) = (p[k], p[(k + 1) % 4]);
                    let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
                    let len = (ex * ex + ey * ey).sqrt().max(1e-6);
                    let cross = (ex * (y - a[1]) - ey * (x - a[0])) / len;
                    cross >= -1.5
                })
            })
        };
        let mut dark = 0;
        let mut outside = 0;
        for (x, y, p) in moved.image.enumerate_pixels() {
            if p.0[0] < 128 {
                dark += 1;
                if !inside(x as f64 + 0.5, y as f64 + 0.5) {
                    outside += 1;
                }
            }
        }
        assert!(dark > 1000, "document {i}: only {dark} dark pixels");
        assert_eq!(
            outside, 0,
            "document {i}: {outside} of {dark} dark pixels outside every moved word polygon"
        );
    }
}

#[test]
fn full_augmentation_runs_and_is_seeded() {
    use rand::SeedableRng;
    use whet_synth_docs::{AugmentConfig, augment};
    let fonts = fonts();
    let page = render_receipt(
        &Generator::new(2, GeneratorConfig::default())
            .unwrap()
            .document(1),
        &fonts,
        ReceiptLayout::THERMAL_80MM,
    )
    .unwrap();
    let a = augment(
        &page,
        &AugmentConfig::default(),
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(9),
    )
    .unwrap();
    let b = augment(
        &page,
        &AugmentConfig::default(),
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(9),
    )
    .unwrap();
    assert_eq!(a.image.as_raw(), b.image.as_raw());
    assert_eq!(a.words, b.words);
    assert_eq!(a.words.len(), page.words.len());
}

#[test]
fn crumpled_polygons_follow_the_paper() {
    use rand::SeedableRng;
    use whet_synth_docs::{AugmentConfig, augment};
    let fonts = fonts();
    let g = Generator::new(29, GeneratorConfig::default()).unwrap();
    let cfg = AugmentConfig {
        max_rotation_deg: 0.0,
        max_perspective: 0.0,
        crumple: (1.0, 4.0),
        ..AugmentConfig::geometric_only()
    };
    // Even-odd point-in-polygon.
    let inside = |pts: &[[f64; 2]], x: f64, y: f64| {
        let mut c = false;
        let mut j = pts.len() - 1;
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[j]);
            if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
                c = !c;
            }
            j = i;
        }
        c
    };
    for i in 0..4 {
        let page = render_receipt(&g.document(i), &fonts, ReceiptLayout::THERMAL_80MM).unwrap();
        let bent = augment(&page, &cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(i)).unwrap();
        assert!(bent.words.iter().all(|w| w.polygon.points.len() == 32));
        let mut dark = 0;
        for (x, y, p) in bent.image.enumerate_pixels() {
            if p.0[0] < 128 {
                dark += 1;
                let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
                assert!(
                    bent.words.iter().any(|w| inside(&w.polygon.points, cx, cy)),
                    "document {i}: dark pixel ({x}, {y}) outside every bent word polygon"
                );
            }
        }
        assert!(dark > 1000);
    }
}

#[test]
fn synthesise_once_reuses_only_the_same_dataset() {
    use whet_synth_docs::{Error, SynthesisPlan, SynthesisRecord, synthesise_once};
    let dir = tempfile::tempdir().unwrap();
    let once = |seed| {
        synthesise_once(
            dir.path(),
            2,
            seed,
            GeneratorConfig::default(),
            SynthesisPlan::default(),
        )
    };
    let first = once(5).unwrap();
    assert_eq!(first.len(), 2);
    let record = SynthesisRecord::read(dir.path()).unwrap().unwrap();
    assert_eq!(record.fonts, fonts().paths());
    assert_eq!(
        once(5).unwrap(),
        first,
        "the same settings read the dataset back"
    );
    match once(6) {
        Err(Error::Stale { reason, .. }) => assert!(reason.contains("seed"), "{reason}"),
        other => panic!("another seed must not reuse the dataset: {other:?}"),
    }
    // A dataset rendered where other fonts were installed is not this machine's.
    let moved = SynthesisRecord {
        fonts: vec!["/elsewhere/Other.ttf".into()],
        ..record
    };
    let path = dir.path().join(SynthesisRecord::FILE);
    std::fs::write(&path, serde_json::to_vec(&moved).unwrap()).unwrap();
    match once(5) {
        Err(Error::Stale { reason, .. }) => assert!(reason.contains("Other.ttf"), "{reason}"),
        other => panic!("other fonts must not reuse the dataset: {other:?}"),
    }
}

//! Rendered receipts: every inked pixel lies inside a ground-truth word polygon, every
//! word polygon holds ink, words and lines agree with the document, and the same document
//! renders to the same bytes.

use whet_synth_docs::{FontSet, Generator, GeneratorConfig, ReceiptLayout, render_receipt};

fn fonts() -> FontSet {
    FontSet::system().expect("a TrueType font (Debian: fonts-dejavu-core)")
}

#[test]
fn word_polygons_cover_all_ink_and_only_words() {
    let fonts = fonts();
    let g = Generator::new(11, GeneratorConfig::default()).unwrap();
    for (i, doc) in g.documents(12).enumerate() {
        let layout = if i % 2 == 0 {
            ReceiptLayout::THERMAL_58MM
        } else {
            ReceiptLayout::THERMAL_80MM
        };
        let page = render_receipt(&doc, &fonts, layout).unwrap();
        let mut uncovered = page.image.clone();
        for w in &page.words {
            let [x0, y0, x1, y1] = w.polygon.bounds();
            let mut ink = 0usize;
            for y in (y0.max(0.0) as u32)..(y1.min(page.image.height() as f32) as u32) {
                for x in (x0.max(0.0) as u32)..(x1.min(page.image.width() as f32) as u32) {
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
            "document {i}: {stray} inked pixels outside every word polygon"
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

//! Full-page layouts: every inked pixel lies in a word polygon or a ruling line, every
//! word polygon holds ink, all four sheet layouts and both sheet kinds render.

use whet_synth_docs::{DocKind, FontSet, Generator, GeneratorConfig, SheetLayout, render_sheet};

#[test]
fn sheets_have_exact_word_polygons() {
    let fonts = FontSet::system().expect("a TrueType font (Debian: fonts-dejavu-core)");
    let config = GeneratorConfig {
        kinds: vec![DocKind::Invoice, DocKind::PurchaseOrder],
        ..GeneratorConfig::default()
    };
    let g = Generator::new(17, config).unwrap();
    let layouts = [
        SheetLayout::A4_RULED,
        SheetLayout::A4_UNRULED,
        SheetLayout::A4_TWO_COLUMN,
        SheetLayout::A5_COMPACT,
    ];
    for (i, doc) in g.documents(8).enumerate() {
        let layout = layouts[i % layouts.len()];
        let page = render_sheet(&doc, &fonts, layout).unwrap();
        let mut rest = page.image.clone();
        let mut clear = |b: [f64; 4], img: &image::GrayImage| -> usize {
            let mut ink = 0;
            for y in (b[1].max(0.0) as u32)..(b[3].min(img.height() as f64) as u32) {
                for x in (b[0].max(0.0) as u32)..(b[2].min(img.width() as f64) as u32) {
                    if img.get_pixel(x, y).0[0] < 255 {
                        ink += 1;
                    }
                    rest.put_pixel(x, y, image::Luma([255]));
                }
            }
            ink
        };
        for w in &page.words {
            assert!(
                clear(w.polygon.bounds(), &page.image) > 0,
                "layout {i}: {:?} has no ink",
                w.text
            );
        }
        for r in &page.rules {
            clear(r.bounds(), &page.image);
        }
        let stray = rest.pixels().filter(|p| p.0[0] < 255).count();
        assert_eq!(
            stray, 0,
            "layout {i}: {stray} inked pixels outside words and rules"
        );
        assert_eq!(
            page.rules.is_empty(),
            layout.style == whet_synth_docs::SheetStyle::Unruled
        );
        let text: String = page
            .lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains(&doc.totals.total.plain()), "{text}");
        for region in [
            "vendor_block",
            "document_info",
            "buyer_block",
            "line_items",
            "totals_section",
            "footer",
        ] {
            assert!(
                page.regions.iter().any(|r| r.name == region),
                "layout {i}: no {region}"
            );
        }
    }
}

#[test]
#[ignore = "writes /tmp/sheet_*.png for a look"]
fn write_sheet_samples() {
    let fonts = FontSet::system().unwrap();
    let config = GeneratorConfig {
        kinds: vec![DocKind::Invoice, DocKind::PurchaseOrder],
        ..GeneratorConfig::default()
    };
    let g = Generator::new(17, config).unwrap();
    for (i, layout) in [SheetLayout::A4_RULED, SheetLayout::A4_TWO_COLUMN]
        .into_iter()
        .enumerate()
    {
        render_sheet(&g.document(i as u64), &fonts, layout)
            .unwrap()
            .image
            .save(format!("/tmp/sheet_{i}.png"))
            .unwrap();
    }
}

#[test]
fn every_catalogue_layout_renders_distinct_pages() {
    use whet_synth_docs::Layout;
    let fonts = FontSet::system().unwrap();
    let doc = Generator::new(23, GeneratorConfig::default())
        .unwrap()
        .document(4);
    let pages: Vec<_> = Layout::catalogue()
        .iter()
        .map(|l| l.render(&doc, &fonts).unwrap())
        .collect();
    assert_eq!(pages.len(), 8);
    for (i, a) in pages.iter().enumerate() {
        assert!(!a.words.is_empty());
        for b in &pages[i + 1..] {
            assert!(
                a.image.dimensions() != b.image.dimensions()
                    || a.image.as_raw() != b.image.as_raw()
            );
        }
    }
}

#[test]
fn every_installed_font_gives_exact_polygons() {
    use whet_synth_docs::Layout;
    let fonts = FontSet::system().unwrap();
    let doc = Generator::new(31, GeneratorConfig::default())
        .unwrap()
        .document(2);
    for f in 0..fonts.len() {
        for layout in Layout::catalogue() {
            let page = layout.with_font(f).render(&doc, &fonts).unwrap();
            let mut rest = page.image.clone();
            for poly in page.words.iter().map(|w| &w.polygon).chain(&page.rules) {
                let b = poly.bounds();
                for y in (b[1].max(0.0) as u32)..(b[3].min(rest.height() as f64) as u32) {
                    for x in (b[0].max(0.0) as u32)..(b[2].min(rest.width() as f64) as u32) {
                        rest.put_pixel(x, y, image::Luma([255]));
                    }
                }
            }
            let stray = rest.pixels().filter(|p| p.0[0] < 255).count();
            assert_eq!(stray, 0, "font {f}, {layout:?}: {stray} stray inked pixels");
        }
    }
}

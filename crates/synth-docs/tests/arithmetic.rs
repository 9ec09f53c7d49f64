//! Document arithmetic holds for every generated document, and generation is a pure
//! function of the seed and index.

use proptest::prelude::*;
use whet_synth_docs::{Generator, GeneratorConfig, Locale, Money, VatClass};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn totals_add_up(seed in any::<u64>(), index in 0u64..1_000) {
        let g = Generator::new(seed, GeneratorConfig::default()).unwrap();
        let d = g.document(index);
        prop_assert!(d.is_consistent());
        let t = d.totals;
        let items: Money = d.items.iter().map(|i| i.amount).sum();
        prop_assert_eq!(items, t.subtotal);
        let tax = d.locale.tax();
        if tax.inclusive {
            prop_assert_eq!(t.vatable_sales + t.vat + t.vat_exempt + t.zero_rated, t.total);
            // The VAT is within a centavo of rate x vatable sales.
            let vat = t.vatable_sales.minor * tax.rate_num;
            prop_assert!((t.vat.minor * tax.rate_den - vat).abs() <= tax.rate_den);
        } else {
            prop_assert_eq!(t.subtotal + t.vat, t.total);
        }
        for i in &d.items {
            prop_assert!(i.amount.minor >= 0);
            if !matches!(d.locale, Locale::EnPh | Locale::FilPh) {
                prop_assert_eq!(i.vat_class, VatClass::Vatable);
            }
        }
    }

    #[test]
    fn same_seed_same_document(seed in any::<u64>(), index in 0u64..1_000) {
        let a = Generator::new(seed, GeneratorConfig::default()).unwrap();
        let b = Generator::new(seed, GeneratorConfig::default()).unwrap();
        prop_assert_eq!(
            serde_json::to_vec(&a.document(index)).unwrap(),
            serde_json::to_vec(&b.document(index)).unwrap()
        );
    }
}

#[test]
fn different_seeds_differ() {
    let a = Generator::new(1, GeneratorConfig::default()).unwrap();
    let b = Generator::new(2, GeneratorConfig::default()).unwrap();
    let differing = (0..50).filter(|&i| a.document(i) != b.document(i)).count();
    assert_eq!(differing, 50);
}

#[test]
fn inconsistent_documents_are_flagged_and_really_inconsistent() {
    let config = GeneratorConfig {
        inconsistent_rate: 1.0,
        ..GeneratorConfig::default()
    };
    let g = Generator::new(3, config).unwrap();
    for d in g.documents(50) {
        assert!(d.inconsistent);
        assert!(!d.is_consistent());
    }
}

#[test]
fn bad_configs_are_typed_errors() {
    for config in [
        GeneratorConfig {
            locales: vec![],
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            min_items: 5,
            max_items: 2,
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            inconsistent_rate: 1.5,
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            first_year: 2030,
            last_year: 2020,
            ..GeneratorConfig::default()
        },
    ] {
        let err = Generator::new(0, config).unwrap_err();
        assert!(
            matches!(err, whet_synth_docs::Error::Config { .. }),
            "{err}"
        );
    }
}

#[test]
fn philippine_tins_have_the_printed_form() {
    let config = GeneratorConfig {
        locales: vec![Locale::EnPh],
        ..GeneratorConfig::default()
    };
    let g = Generator::new(9, config).unwrap();
    for d in g.documents(30) {
        let tin = d.seller.tax_id.unwrap();
        let groups: Vec<&str> = tin.split('-').collect();
        assert_eq!(groups.len(), 4, "{tin}");
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit())),
            "{tin}"
        );
    }
}

#[test]
fn key_fields_carry_the_printed_total() {
    let d = Generator::new(8, GeneratorConfig::default())
        .unwrap()
        .document(5);
    let fields = d.fields();
    let total = fields.iter().find(|f| f.name == "total").unwrap();
    assert_eq!(total.value, d.totals.total.plain());
    assert!(
        fields
            .iter()
            .any(|f| f.name == "seller_name" && f.value == d.seller.name)
    );
}

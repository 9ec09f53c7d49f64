//! Spoken expense phrases: what a person says to record a purchase, in Philippine
//! English or Tagalog, with the exact transcript. The text a speech synthesiser reads and
//! the reference a speech model is scored against are the same string.
//!
//! Amounts are whole pesos: digits in English ("450 pesos", as Whisper writes them),
//! words in Tagalog ("apat na raan at limampung piso", as a Tagalog voice says them).
//! Product names lose their pack sizes and any word with digits.

use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::locale::Locale;

/// One phrase to speak and its transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpokenPhrase {
    /// What is said, written as it should be transcribed.
    pub text: String,
    /// `en_PH` or `fil_PH`.
    pub locale: Locale,
}

impl SpokenPhrase {
    /// The ISO 639-1 code of the phrase's language, as Whisper names it: `en` or `tl`.
    pub fn language(&self) -> &'static str {
        match self.locale {
            Locale::FilPh => "tl",
            _ => "en",
        }
    }
}

/// A seeded source of spoken expense phrases: phrase `i` depends on the seed and `i`
/// only, so two generators with different seeds give disjoint-by-chance sets and a
/// held-out set is one more seed.
///
/// ```
/// use whet_synth_docs::{Locale, PhraseGenerator};
/// let phrases: Vec<_> = PhraseGenerator::new(7).phrases(20).collect();
/// assert_eq!(phrases, PhraseGenerator::new(7).phrases(20).collect::<Vec<_>>());
/// let tagalog = phrases.iter().find(|p| p.locale == Locale::FilPh).unwrap();
/// assert_eq!(tagalog.language(), "tl");
/// assert!(tagalog.text.contains("piso"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseGenerator {
    seed: u64,
    /// Share of phrases in Tagalog, the rest in Philippine English (0.5 by default).
    pub tagalog_share: f64,
}

const EN_TEMPLATES: &[&str] = &[
    "Paid {amount} for {product} at {store}.",
    "Lunch at {store}, {amount}, paid by {payment}.",
    "Add an expense of {amount} for {qty} {product}.",
    "Transportation to {city}, {amount}.",
    "Reimburse {name} {amount} for supplies from {store}.",
    "The receipt from {store} says {amount} including VAT.",
    "Bought {qty} {product} for {amount}.",
    "Please record {amount} paid to {store} on {day}.",
];

const TL_TEMPLATES: &[&str] = &[
    "Bumili ako ng {qty} {product} sa {store}, {amount}.",
    "Nagbayad ako ng {amount} para sa {product}.",
    "Pamasahe papuntang {city}, {amount}.",
    "Pakitala ang {amount} na ibinayad kay {name}.",
    "Resibo mula sa {store}, kabuuan {amount}.",
    "Gastos ngayong {day}, {amount} sa {store}.",
    "Utang ni {name} sa tindahan, {amount}.",
    "Binayaran ko ang {product}, {amount}.",
];

const EN_DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const TL_DAYS: &[&str] = &[
    "Lunes",
    "Martes",
    "Miyerkules",
    "Huwebes",
    "Biyernes",
    "Sabado",
    "Linggo",
];
const EN_PAYMENTS: &[&str] = &["cash", "GCash", "credit card", "Maya"];
const EN_QTY: &[&str] = &["two", "three", "four", "five", "six", "ten"];
const TL_QTY: &[&str] = &["isang", "dalawang", "tatlong", "apat na", "limang"];

impl PhraseGenerator {
    /// Phrases from `seed`, half in Tagalog.
    pub fn new(seed: u64) -> Self {
        PhraseGenerator {
            seed,
            tagalog_share: 0.5,
        }
    }

    /// Phrase `index`.
    pub fn phrase(&self, index: u64) -> SpokenPhrase {
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let tagalog = rng.random_bool(self.tagalog_share.clamp(0.0, 1.0));
        let locale = if tagalog { Locale::FilPh } else { Locale::EnPh };
        let content = locale.content();
        let product = content.products.choose(&mut rng).map_or("", |p| p.name);
        // Spoken names drop the pack size in brackets ("Bigas (1 kilo)" -> "Bigas") and
        // words with digits ("Kape 3-in-1" -> "Kape"), which a voice reads in its own
        // language.
        let product = product.split(" (").next().unwrap_or(product);
        let product = product
            .split_whitespace()
            .filter(|w| !w.contains(|c: char| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" ");
        let pesos: u64 = match rng.random_range(0..4) {
            0 => rng.random_range(20..100),
            1 => rng.random_range(100..1_000),
            2 => rng.random_range(10..100) * 10,
            _ => rng.random_range(1_000..5_000),
        };
        let (templates, days, qty, amount) = if tagalog {
            (
                TL_TEMPLATES,
                TL_DAYS,
                TL_QTY,
                tagalog_linked(&tagalog_number(pesos), "piso"),
            )
        } else {
            (EN_TEMPLATES, EN_DAYS, EN_QTY, format!("{pesos} pesos"))
        };
        let template = templates.choose(&mut rng).copied().unwrap_or("{amount}");
        let name = format!(
            "{} {}",
            content.pick(content.first_names, &mut rng),
            content.pick(content.last_names, &mut rng)
        );
        let mut text = template.to_owned();
        for (slot, value) in [
            ("{amount}", amount),
            ("{product}", product),
            ("{store}", content.pick(content.stores, &mut rng).to_owned()),
            ("{city}", content.pick(content.cities, &mut rng).to_owned()),
            ("{name}", name),
            (
                "{payment}",
                EN_PAYMENTS
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("cash")
                    .to_owned(),
            ),
            (
                "{qty}",
                qty.choose(&mut rng).copied().unwrap_or("two").to_owned(),
            ),
            (
                "{day}",
                days.choose(&mut rng).copied().unwrap_or("").to_owned(),
            ),
        ] {
            text = text.replace(slot, &value);
        }
        SpokenPhrase { text, locale }
    }

    /// Phrases `0..n`.
    pub fn phrases(&self, n: u64) -> impl Iterator<Item = SpokenPhrase> + '_ {
        (0..n).map(|i| self.phrase(i))
    }
}

/// A Tagalog number or adjective joined to the word after it with the linker: `-ng`
/// after a vowel, `-g` after `n`, ` na` after another consonant ("limampung piso",
/// "isang daang piso", "apat na piso").
fn tagalog_linked(word: &str, next: &str) -> String {
    if word.ends_with(['a', 'e', 'i', 'o', 'u']) {
        format!("{word}ng {next}")
    } else if word.ends_with('n') {
        format!("{word}g {next}")
    } else {
        format!("{word} na {next}")
    }
}

/// `n` in Tagalog words, as said aloud ("dalawang daan at limampu't lima" for 255);
/// 0 to 999,999.
///
/// ```
/// assert_eq!(whet_synth_docs::tagalog_number(1_250), "isang libo dalawang daan at limampu");
/// ```
pub fn tagalog_number(n: u64) -> String {
    const ONES: [&str; 10] = [
        "", "isa", "dalawa", "tatlo", "apat", "lima", "anim", "pito", "walo", "siyam",
    ];
    const TEENS: [&str; 10] = [
        "sampu",
        "labing-isa",
        "labindalawa",
        "labintatlo",
        "labing-apat",
        "labinlima",
        "labing-anim",
        "labimpito",
        "labingwalo",
        "labinsiyam",
    ];
    const TENS: [&str; 10] = [
        "",
        "",
        "dalawampu",
        "tatlumpu",
        "apatnapu",
        "limampu",
        "animnapu",
        "pitumpu",
        "walumpu",
        "siyamnapu",
    ];
    // A number before a unit ("daan", "libo") takes the linker: -ng after a vowel, "na"
    // after a consonant (and "daan" becomes "raan" after "na").
    fn linked(word: &str, unit: &str) -> String {
        let s = tagalog_linked(word, unit);
        match s.strip_suffix(" na daan") {
            Some(head) => format!("{head} na raan"),
            None => s,
        }
    }
    fn below_100(n: u64) -> String {
        match n {
            0 => String::new(),
            1..=9 => ONES[n as usize].to_owned(),
            10..=19 => TEENS[(n - 10) as usize].to_owned(),
            _ if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_owned(),
            _ => format!("{}'t {}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
        }
    }
    fn below_1000(n: u64) -> String {
        let (h, rest) = (n / 100, n % 100);
        let rest = below_100(rest);
        if h == 0 {
            return rest;
        }
        let head = linked(ONES[h as usize], "daan");
        if rest.is_empty() {
            head
        } else {
            format!("{head} at {rest}")
        }
    }
    if n == 0 {
        return "wala".into();
    }
    let n = n.min(999_999);
    let (th, rest) = (n / 1000, n % 1000);
    let rest = below_1000(rest);
    if th == 0 {
        return rest;
    }
    let head = linked(&below_1000(th), "libo");
    match rest.as_str() {
        "" => head,
        _ if n % 1000 < 100 => format!("{head} at {rest}"),
        _ => format!("{head} {rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagalog_numbers() {
        for (n, want) in [
            (1, "isa"),
            (10, "sampu"),
            (14, "labing-apat"),
            (21, "dalawampu't isa"),
            (50, "limampu"),
            (100, "isang daan"),
            (150, "isang daan at limampu"),
            (255, "dalawang daan at limampu't lima"),
            (400, "apat na raan"),
            (999, "siyam na raan at siyamnapu't siyam"),
            (1000, "isang libo"),
            (1005, "isang libo at lima"),
            (2350, "dalawang libo tatlong daan at limampu"),
            (4000, "apat na libo"),
        ] {
            assert_eq!(tagalog_number(n), want, "{n}");
        }
        assert_eq!(
            tagalog_linked("limampu't anim", "piso"),
            "limampu't anim na piso"
        );
        assert_eq!(tagalog_linked("isang daan", "piso"), "isang daang piso");
        assert_eq!(tagalog_linked("limampu", "piso"), "limampung piso");
    }

    #[test]
    fn phrases_are_seeded_and_mixed() {
        let a: Vec<_> = PhraseGenerator::new(1).phrases(200).collect();
        let b: Vec<_> = PhraseGenerator::new(1).phrases(200).collect();
        assert_eq!(a, b);
        let tl = a.iter().filter(|p| p.language() == "tl").count();
        assert!((70..130).contains(&tl), "{tl} Tagalog of 200");
        assert!(
            a.iter()
                .all(|p| !p.text.contains('{') && !p.text.contains('('))
        );
        let other: Vec<_> = PhraseGenerator::new(2).phrases(200).collect();
        let shared = a.iter().filter(|p| other.contains(p)).count();
        assert!(shared < 10, "{shared} phrases shared between seeds");
        let distinct: std::collections::HashSet<_> = a.iter().map(|p| &p.text).collect();
        assert!(distinct.len() > 190);
    }
}

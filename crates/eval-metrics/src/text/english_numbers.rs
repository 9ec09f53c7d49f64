//! Whisper's `EnglishNumberNormalizer` (`whisper/normalizers/english.py`): spelled-out
//! numbers to digits ("twenty five dollars" -> "$25", "one oh one" -> "101"), with the same
//! rules in the same order. `\d` is read as ASCII digits here (Python also accepts other
//! scripts' decimal digits).

use std::sync::OnceLock;

use num_bigint::BigUint;
use num_traits::Zero;
use regex::{Captures, Regex};

use super::wer::py_is_whitespace;

/// Python's `s.split()`: words between runs of whitespace.
pub(super) fn py_split(s: &str) -> Vec<&str> {
    s.split(py_is_whitespace)
        .filter(|w| !w.is_empty())
        .collect()
}

pub(super) fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

/// A number being built: Python's `value`, an `int` or a `str`.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(BigUint),
    Str(String),
}

impl Value {
    /// `Some(self)` when it is a string satisfying `pred`.
    fn filter_str(self, pred: impl Fn(&str) -> bool) -> Option<Value> {
        match &self {
            Value::Str(s) if pred(s) => Some(self),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
        }
    }
}

/// `Fraction(s)` for the strings the normaliser builds (`[0-9.]*`): numerator and a power
/// of ten, or `None` where Python's `Fraction` raises.
fn decimal_fraction(s: &str) -> Option<(BigUint, u32)> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let n: BigUint = format!("{int}{frac}").parse().ok()?;
    Some((n, frac.len() as u32))
}

/// `Fraction(s)`'s value when it is an integer.
fn fraction_integer(s: &str) -> Option<BigUint> {
    let (n, scale) = decimal_fraction(s)?;
    let d = BigUint::from(10u32).pow(scale);
    (&n % &d).is_zero().then(|| n / d)
}

/// `Fraction(value) * multiplier` when it is an integer; `None` when `value` is not a
/// fraction or the product is not whole.
fn times_multiplier(value: &Value, multiplier: &BigUint) -> Option<BigUint> {
    let (n, scale) = match value {
        Value::Int(i) => (i.clone(), 0),
        Value::Str(s) => decimal_fraction(s)?,
    };
    let d = BigUint::from(10u32).pow(scale);
    let p = n * multiplier;
    (&p % &d).is_zero().then(|| p / d)
}

fn is_number(s: &str) -> bool {
    // re.match(r"^\d+(\.\d+)?$", s)
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

struct Vocabulary {
    ones: Vec<(&'static str, u32)>,
    ones_suffixed: Vec<(String, (u32, &'static str))>,
    tens: Vec<(&'static str, u32)>,
    tens_suffixed: Vec<(String, (u32, &'static str))>,
    multipliers: Vec<(&'static str, BigUint)>,
    multipliers_suffixed: Vec<(String, (BigUint, &'static str))>,
}

const ZEROS: [&str; 3] = ["o", "oh", "zero"];
const ONES: [&str; 19] = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [(&str, u32); 8] = [
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];
const MULTIPLIERS: [(&str, u32); 12] = [
    ("hundred", 2),
    ("thousand", 3),
    ("million", 6),
    ("billion", 9),
    ("trillion", 12),
    ("quadrillion", 15),
    ("quintillion", 18),
    ("sextillion", 21),
    ("septillion", 24),
    ("octillion", 27),
    ("nonillion", 30),
    ("decillion", 33),
];
const PRECEDING_PREFIXERS: [(&str, &str); 4] = [
    ("minus", "-"),
    ("negative", "-"),
    ("plus", "+"),
    ("positive", "+"),
];
const FOLLOWING_PREFIXERS: [(&str, &str); 8] = [
    ("pound", "£"),
    ("pounds", "£"),
    ("euro", "€"),
    ("euros", "€"),
    ("dollar", "$"),
    ("dollars", "$"),
    ("cent", "¢"),
    ("cents", "¢"),
];
const PREFIXES: [char; 6] = ['-', '+', '£', '€', '$', '¢'];
const SPECIALS: [&str; 4] = ["and", "double", "triple", "point"];

fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| {
        let ones: Vec<(&str, u32)> = ONES
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, i as u32 + 1))
            .collect();
        let mut ones_suffixed: Vec<(String, (u32, &str))> = ones
            .iter()
            .map(|&(n, v)| {
                (
                    if n == "six" {
                        "sixes".to_owned()
                    } else {
                        format!("{n}s")
                    },
                    (v, "s"),
                )
            })
            .collect();
        ones_suffixed.extend([
            ("zeroth".to_owned(), (0, "th")),
            ("first".to_owned(), (1, "st")),
            ("second".to_owned(), (2, "nd")),
            ("third".to_owned(), (3, "rd")),
            ("fifth".to_owned(), (5, "th")),
            ("twelfth".to_owned(), (12, "th")),
        ]);
        for &(n, v) in &ones {
            if v > 3 && v != 5 && v != 12 {
                let name = format!("{n}{}", if n.ends_with('t') { "h" } else { "th" });
                ones_suffixed.push((name, (v, "th")));
            }
        }
        let tens: Vec<(&str, u32)> = TENS.to_vec();
        let mut tens_suffixed: Vec<(String, (u32, &str))> = tens
            .iter()
            .map(|&(n, v)| (n.replace('y', "ies"), (v, "s")))
            .collect();
        tens_suffixed.extend(
            tens.iter()
                .map(|&(n, v)| (n.replace('y', "ieth"), (v, "th"))),
        );
        let multipliers: Vec<(&str, BigUint)> = MULTIPLIERS
            .iter()
            .map(|&(n, p)| (n, BigUint::from(10u32).pow(p)))
            .collect();
        let mut multipliers_suffixed: Vec<(String, (BigUint, &str))> = multipliers
            .iter()
            .map(|(n, v)| (format!("{n}s"), (v.clone(), "s")))
            .collect();
        multipliers_suffixed.extend(
            multipliers
                .iter()
                .map(|(n, v)| (format!("{n}th"), (v.clone(), "th"))),
        );
        Vocabulary {
            ones,
            ones_suffixed,
            tens,
            tens_suffixed,
            multipliers,
            multipliers_suffixed,
        }
    })
}

impl Vocabulary {
    fn ones(&self, w: &str) -> Option<u32> {
        self.ones.iter().find(|(n, _)| *n == w).map(|&(_, v)| v)
    }
    fn ones_suffixed(&self, w: &str) -> Option<(u32, &'static str)> {
        self.ones_suffixed
            .iter()
            .find(|(n, _)| n == w)
            .map(|(_, v)| *v)
    }
    fn tens(&self, w: &str) -> Option<u32> {
        self.tens.iter().find(|(n, _)| *n == w).map(|&(_, v)| v)
    }
    fn tens_suffixed(&self, w: &str) -> Option<(u32, &'static str)> {
        self.tens_suffixed
            .iter()
            .find(|(n, _)| n == w)
            .map(|(_, v)| *v)
    }
    fn multiplier(&self, w: &str) -> Option<&BigUint> {
        self.multipliers
            .iter()
            .find(|(n, _)| *n == w)
            .map(|(_, v)| v)
    }
    fn multiplier_suffixed(&self, w: &str) -> Option<(&BigUint, &'static str)> {
        self.multipliers_suffixed
            .iter()
            .find(|(n, _)| n == w)
            .map(|(_, (v, s))| (v, *s))
    }
    fn is_zero(w: &str) -> bool {
        ZEROS.contains(&w)
    }
    fn is_decimal_word(&self, w: &str) -> bool {
        self.ones(w).is_some() || self.tens(w).is_some() || Self::is_zero(w)
    }
    /// `self.words`: every word the number normaliser treats specially.
    fn is_word(&self, w: &str) -> bool {
        Self::is_zero(w)
            || self.ones(w).is_some()
            || self.ones_suffixed(w).is_some()
            || self.tens(w).is_some()
            || self.tens_suffixed(w).is_some()
            || self.multiplier(w).is_some()
            || self.multiplier_suffixed(w).is_some()
            || PRECEDING_PREFIXERS.iter().any(|(n, _)| *n == w)
            || FOLLOWING_PREFIXERS.iter().any(|(n, _)| *n == w)
            || w == "per"
            || w == "percent"
            || SPECIALS.contains(&w)
    }
}

/// `EnglishNumberNormalizer.process_words`.
fn process_number_words(words: &[&str]) -> Vec<String> {
    let v = vocabulary();
    let mut out: Vec<String> = Vec::new();
    let mut prefix: Option<String> = None;
    let mut value: Option<Value> = None;
    let mut skip = false;

    let emit = |out: &mut Vec<String>,
                prefix: &mut Option<String>,
                value: &mut Option<Value>,
                result: String| {
        let result = match prefix.take() {
            Some(p) => p + &result,
            None => result,
        };
        *value = None;
        out.push(result);
    };

    for i in 0..words.len() {
        let prev = if i == 0 { None } else { Some(words[i - 1]) };
        let current = words[i];
        let next = words.get(i + 1).copied();
        if skip {
            skip = false;
            continue;
        }
        let next_is_numeric = next.is_some_and(is_number);
        let first = current.chars().next().unwrap_or(' ');
        let has_prefix = PREFIXES.contains(&first);
        let without_prefix = if has_prefix {
            &current[first.len_utf8()..]
        } else {
            current
        };
        let prev_in_ones = prev.is_some_and(|p| v.ones(p).is_some());
        let prev_in_tens = prev.is_some_and(|p| v.tens(p).is_some());

        if is_number(without_prefix) {
            if let Some(val) = &value {
                if let Some(Value::Str(s)) = val.clone().filter_str(|s| s.ends_with('.')) {
                    value = Some(Value::Str(format!("{s}{current}")));
                    continue;
                }
                let text = val.text();
                emit(&mut out, &mut prefix, &mut value, text);
            }
            if has_prefix {
                prefix = Some(first.to_string());
            }
            value = Some(match fraction_integer(without_prefix) {
                Some(n) => Value::Int(n),
                None => Value::Str(without_prefix.to_owned()),
            });
        } else if !v.is_word(current) {
            if let Some(val) = value.take() {
                emit(&mut out, &mut prefix, &mut value, val.text());
            }
            emit(&mut out, &mut prefix, &mut value, current.to_owned());
        } else if Vocabulary::is_zero(current) {
            let base = value.as_ref().map_or(String::new(), |val| match val {
                // str(value or ""): an int 0 is false-y
                Value::Int(n) if n.is_zero() => String::new(),
                other => other.text(),
            });
            value = Some(Value::Str(base + "0"));
        } else if let Some(ones) = v.ones(current) {
            value = Some(match value.take() {
                None => Value::Int(BigUint::from(ones)),
                Some(Value::Str(s)) => join_digit(&s, ones, prev_in_tens),
                Some(Value::Int(n)) if prev_in_ones => {
                    join_digit(&n.to_string(), ones, prev_in_tens)
                }
                Some(Value::Int(n)) => {
                    let m = if ones < 10 { 10u32 } else { 100 };
                    if (&n % m).is_zero() {
                        Value::Int(n + ones)
                    } else {
                        Value::Str(format!("{n}{ones}"))
                    }
                }
            });
        } else if let Some((ones, suffix)) = v.ones_suffixed(current) {
            let text = match value.take() {
                None => format!("{ones}{suffix}"),
                Some(Value::Str(s)) => suffixed_digit(&s, ones, suffix, prev_in_tens),
                Some(Value::Int(n)) if prev_in_ones => {
                    suffixed_digit(&n.to_string(), ones, suffix, prev_in_tens)
                }
                Some(Value::Int(n)) => {
                    let m = if ones < 10 { 10u32 } else { 100 };
                    if (&n % m).is_zero() {
                        format!("{}{suffix}", n + ones)
                    } else {
                        format!("{n}{ones}{suffix}")
                    }
                }
            };
            emit(&mut out, &mut prefix, &mut value, text);
            value = None;
        } else if let Some(tens) = v.tens(current) {
            value = Some(match value.take() {
                None => Value::Int(BigUint::from(tens)),
                Some(Value::Str(s)) => Value::Str(format!("{s}{tens}")),
                Some(Value::Int(n)) => {
                    if (&n % 100u32).is_zero() {
                        Value::Int(n + tens)
                    } else {
                        Value::Str(format!("{n}{tens}"))
                    }
                }
            });
        } else if let Some((tens, suffix)) = v.tens_suffixed(current) {
            let text = match value.take() {
                None => format!("{tens}{suffix}"),
                Some(Value::Str(s)) => format!("{s}{tens}{suffix}"),
                Some(Value::Int(n)) => {
                    if (&n % 100u32).is_zero() {
                        format!("{}{suffix}", n + tens)
                    } else {
                        format!("{n}{tens}{suffix}")
                    }
                }
            };
            emit(&mut out, &mut prefix, &mut value, text);
        } else if let Some(multiplier) = v.multiplier(current) {
            let multiplier = multiplier.clone();
            match value.take() {
                None => value = Some(Value::Int(multiplier)),
                Some(val @ Value::Str(_)) => match times_multiplier(&val, &multiplier) {
                    Some(p) => value = Some(Value::Int(p)),
                    None => {
                        emit(&mut out, &mut prefix, &mut value, val.text());
                        value = Some(Value::Int(multiplier));
                    }
                },
                Some(Value::Int(n)) if n.is_zero() => value = Some(Value::Int(BigUint::zero())),
                Some(Value::Int(n)) => {
                    let before = &n / 1000u32 * 1000u32;
                    let residual = &n % 1000u32;
                    value = Some(Value::Int(before + residual * multiplier));
                }
            }
        } else if let Some((multiplier, suffix)) = v.multiplier_suffixed(current) {
            let multiplier = multiplier.clone();
            match value.take() {
                None => emit(
                    &mut out,
                    &mut prefix,
                    &mut value,
                    format!("{multiplier}{suffix}"),
                ),
                Some(val @ Value::Str(_)) => match times_multiplier(&val, &multiplier) {
                    Some(p) => emit(&mut out, &mut prefix, &mut value, format!("{p}{suffix}")),
                    None => {
                        emit(&mut out, &mut prefix, &mut value, val.text());
                        emit(
                            &mut out,
                            &mut prefix,
                            &mut value,
                            format!("{multiplier}{suffix}"),
                        );
                    }
                },
                Some(Value::Int(n)) => {
                    let before = &n / 1000u32 * 1000u32;
                    let residual = &n % 1000u32;
                    let total = before + residual * multiplier;
                    emit(
                        &mut out,
                        &mut prefix,
                        &mut value,
                        format!("{total}{suffix}"),
                    );
                }
            }
            value = None;
        } else if let Some(&(_, sign)) = PRECEDING_PREFIXERS.iter().find(|(n, _)| *n == current) {
            if let Some(val) = value.take() {
                emit(&mut out, &mut prefix, &mut value, val.text());
            }
            if next.is_some_and(|n| v.is_word(n)) || next_is_numeric {
                prefix = Some(sign.to_owned());
            } else {
                emit(&mut out, &mut prefix, &mut value, current.to_owned());
            }
        } else if let Some(&(_, sign)) = FOLLOWING_PREFIXERS.iter().find(|(n, _)| *n == current) {
            match value.take() {
                Some(val) => {
                    prefix = Some(sign.to_owned());
                    emit(&mut out, &mut prefix, &mut value, val.text());
                }
                None => emit(&mut out, &mut prefix, &mut value, current.to_owned()),
            }
        } else if current == "per" || current == "percent" {
            match value.take() {
                Some(val) => {
                    if current == "per" {
                        if next == Some("cent") {
                            emit(
                                &mut out,
                                &mut prefix,
                                &mut value,
                                format!("{}%", val.text()),
                            );
                            skip = true;
                        } else {
                            emit(&mut out, &mut prefix, &mut value, val.text());
                            emit(&mut out, &mut prefix, &mut value, current.to_owned());
                        }
                    } else {
                        emit(
                            &mut out,
                            &mut prefix,
                            &mut value,
                            format!("{}%", val.text()),
                        );
                    }
                }
                None => emit(&mut out, &mut prefix, &mut value, current.to_owned()),
            }
        } else {
            // and, double, triple, point
            let next_can_be_numeric = next.is_some_and(|n| v.is_word(n)) || next_is_numeric;
            if !next_can_be_numeric {
                if let Some(val) = value.take() {
                    emit(&mut out, &mut prefix, &mut value, val.text());
                }
                emit(&mut out, &mut prefix, &mut value, current.to_owned());
            } else if current == "and" {
                if prev.is_none_or(|p| v.multiplier(p).is_none()) {
                    if let Some(val) = value.take() {
                        emit(&mut out, &mut prefix, &mut value, val.text());
                    }
                    emit(&mut out, &mut prefix, &mut value, current.to_owned());
                }
            } else if current == "double" || current == "triple" {
                let next_word = next.unwrap_or("");
                if v.ones(next_word).is_some() || Vocabulary::is_zero(next_word) {
                    let repeats = if current == "double" { 2 } else { 3 };
                    let ones = v.ones(next_word).unwrap_or(0);
                    let base = match &value {
                        None => String::new(),
                        Some(Value::Int(n)) if n.is_zero() => String::new(),
                        Some(other) => other.text(),
                    };
                    value = Some(Value::Str(base + &ones.to_string().repeat(repeats)));
                    skip = true;
                } else {
                    if let Some(val) = value.take() {
                        emit(&mut out, &mut prefix, &mut value, val.text());
                    }
                    emit(&mut out, &mut prefix, &mut value, current.to_owned());
                }
            } else if current == "point" {
                let next_word = next.unwrap_or("");
                if v.is_decimal_word(next_word) || next_is_numeric {
                    let base = match &value {
                        None => String::new(),
                        Some(Value::Int(n)) if n.is_zero() => String::new(),
                        Some(other) => other.text(),
                    };
                    value = Some(Value::Str(base + "."));
                }
            }
        }
    }
    if let Some(val) = value.take() {
        emit(&mut out, &mut prefix, &mut value, val.text());
    }
    out
}

/// A digit word after a string (or after another digit word): concatenated, or replacing
/// the trailing zero of a tens word ("twenty" "three" -> "23").
fn join_digit(s: &str, ones: u32, prev_in_tens: bool) -> Value {
    if prev_in_tens && ones < 10 && s.ends_with('0') {
        Value::Str(format!("{}{ones}", &s[..s.len() - 1]))
    } else {
        Value::Str(format!("{s}{ones}"))
    }
}

fn suffixed_digit(s: &str, ones: u32, suffix: &str, prev_in_tens: bool) -> String {
    if prev_in_tens && ones < 10 && s.ends_with('0') {
        format!("{}{ones}{suffix}", &s[..s.len() - 1])
    } else {
        format!("{s}{ones}{suffix}")
    }
}

/// `EnglishNumberNormalizer.preprocess`.
fn preprocess_numbers(s: &str) -> String {
    static AND_A_HALF: OnceLock<Regex> = OnceLock::new();
    static LETTER_DIGIT: OnceLock<Regex> = OnceLock::new();
    static DIGIT_LETTER: OnceLock<Regex> = OnceLock::new();
    static SUFFIX: OnceLock<Regex> = OnceLock::new();
    let v = vocabulary();
    let segments: Vec<&str> = re(&AND_A_HALF, r"\band[\s\x1c-\x1f]+a[\s\x1c-\x1f]+half\b")
        .split(s)
        .collect();
    let mut results: Vec<String> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if segment.trim_matches(py_is_whitespace).is_empty() {
            continue;
        }
        results.push((*segment).to_owned());
        if i != segments.len() - 1 {
            let last_word = py_split(segment).last().copied().unwrap_or("");
            if v.is_decimal_word(last_word) || v.multiplier(last_word).is_some() {
                results.push("point five".into());
            } else {
                results.push("and a half".into());
            }
        }
    }
    let s = results.join(" ");
    let s = re(&LETTER_DIGIT, "([a-z])([0-9])").replace_all(&s, "$1 $2");
    let s = re(&DIGIT_LETTER, "([0-9])([a-z])").replace_all(&s, "$1 $2");
    re(&SUFFIX, r"([0-9])[\s\x1c-\x1f]+(st|nd|rd|th|s)\b")
        .replace_all(&s, "$1$2")
        .into_owned()
}

/// `EnglishNumberNormalizer.postprocess`.
fn postprocess_numbers(s: &str) -> String {
    static CENTS: OnceLock<Regex> = OnceLock::new();
    static ONLY_CENTS: OnceLock<Regex> = OnceLock::new();
    static ONE: OnceLock<Regex> = OnceLock::new();
    let s = re(&CENTS, r"([€£$])([0-9]+) (?:and )?¢([0-9]{1,2})\b").replace_all(
        s,
        |c: &Captures<'_>| {
            let cents: u32 = c[3].parse().unwrap_or(0);
            format!("{}{}.{cents:02}", &c[1], &c[2])
        },
    );
    let s = re(&ONLY_CENTS, r"[€£$]0.([0-9]{1,2})\b").replace_all(&s, |c: &Captures<'_>| {
        format!("¢{}", c[1].parse::<u32>().unwrap_or(0))
    });
    re(&ONE, r"\b1(s?)\b").replace_all(&s, "one$1").into_owned()
}

/// Whisper's `EnglishNumberNormalizer`: spelled-out numbers to digits.
///
/// ```
/// use whet_eval_metrics::text::english_numbers;
/// assert_eq!(english_numbers("twenty five dollars"), "$25");
/// assert_eq!(english_numbers("one oh one"), "101");
/// assert_eq!(english_numbers("two point five million"), "2500000");
/// ```
pub fn english_numbers(s: &str) -> String {
    let s = preprocess_numbers(s);
    let words = py_split(&s);
    let s = process_number_words(&words).join(" ");
    postprocess_numbers(&s)
}

//! Normalisers for comparing extracted values: text (whitespace and case), amounts
//! (currency, separators, minor units) and dates (ISO, numeric, English and Tagalog month
//! names).

use crate::text::py_is_whitespace;

/// Whitespace collapsed to single spaces, trimmed, lower-cased.
///
/// ```
/// use whet_eval_metrics::extraction::normalize_text;
/// assert_eq!(normalize_text("  Café\tNIÑA \n"), "café niña");
/// ```
pub fn normalize_text(s: &str) -> String {
    s.split(py_is_whitespace)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

const CURRENCY: &[&str] = &[
    "PHP", "Php", "PhP", "php", "USD", "EUR", "GBP", "JPY", "SGD", "MYR", "IDR", "THB", "VND", "₱",
    "$", "€", "£", "¥", "Rp", "RM", "S$", "US$",
];

/// An amount in minor units (hundredths): `"₱1,250.00"`, `"PHP 1250"`, `"1.250,50"`,
/// `"(12.50)"`, `"-3"`. With both `,` and `.`, the last one is the decimal point; a
/// separator that occurs more than once groups thousands; a single `.` is a decimal
/// point, and so is a single `,` unless exactly three digits follow it (`"1,250"` is
/// 1250.00, `"12,50"` is 12.50). More than two decimals are rounded half away from zero. `None` when the text
/// holds no amount.
///
/// ```
/// use whet_eval_metrics::extraction::parse_amount;
/// assert_eq!(parse_amount("₱1,250.00"), Some(125_000));
/// assert_eq!(parse_amount("PHP 1.250,5"), Some(125_050));
/// assert_eq!(parse_amount("(12.345)"), Some(-1_235));
/// assert_eq!(parse_amount("n/a"), None);
/// ```
pub fn parse_amount(s: &str) -> Option<i64> {
    let mut t = s.trim_matches(py_is_whitespace).to_owned();
    let mut negative = false;
    if t.starts_with('(') && t.ends_with(')') && t.len() >= 2 {
        negative = true;
        t = t[1..t.len() - 1].to_owned();
    }
    let mut t = t.trim_matches(py_is_whitespace).to_owned();
    if let Some(rest) = t.strip_prefix('-') {
        negative = !negative;
        t = rest.to_owned();
    }
    for c in CURRENCY {
        if let Some(rest) = t.strip_prefix(c) {
            t = rest.to_owned();
            break;
        }
        if let Some(rest) = t.strip_suffix(c) {
            t = rest.to_owned();
            break;
        }
    }
    // A bare "P" before digits is the peso sign as receipts print it.
    if let Some(rest) = t
        .strip_prefix('P')
        .filter(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
    {
        t = rest.to_owned();
    }
    let mut t = t.trim_matches(py_is_whitespace).to_owned();
    if let Some(rest) = t.strip_prefix('-') {
        negative = !negative;
        t = rest.to_owned();
    }
    let t: String = t
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\'' | '_'))
        .collect();
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return None;
    }
    if !t.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == ',') {
        return None;
    }
    let last_comma = t.rfind(',');
    let last_dot = t.rfind('.');
    let decimal_at = match (last_comma, last_dot) {
        (Some(c), Some(d)) => Some(c.max(d)),
        (Some(p), None) | (None, Some(p)) => {
            let sep = t.as_bytes()[p];
            let count = t.bytes().filter(|&b| b == sep).count();
            let digits_after = t.len() - p - 1;
            // One '.' is a decimal point; one ',' is one too unless three digits follow.
            let decimal = count == 1 && (sep == b'.' || digits_after != 3);
            decimal.then_some(p)
        }
        (None, None) => None,
    };
    let (int_part, frac_part) = match decimal_at {
        Some(p) => (&t[..p], &t[p + 1..]),
        None => (t.as_str(), ""),
    };
    let int_digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    let mixed = decimal_at.is_some_and(|p| int_part.contains(t.as_bytes()[p] as char));
    if mixed || frac_part.contains([',', '.']) || (int_digits.is_empty() && frac_part.is_empty()) {
        return None;
    }
    let whole: i64 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let frac: Vec<u32> = frac_part.chars().filter_map(|c| c.to_digit(10)).collect();
    let mut minor = whole.checked_mul(100)?;
    minor += i64::from(frac.first().copied().unwrap_or(0)) * 10
        + i64::from(frac.get(1).copied().unwrap_or(0));
    if frac.get(2).is_some_and(|&d| d >= 5) {
        minor += 1;
    }
    Some(if negative { -minor } else { minor })
}

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("enero", 1),
    ("february", 2),
    ("feb", 2),
    ("pebrero", 2),
    ("peb", 2),
    ("march", 3),
    ("mar", 3),
    ("marso", 3),
    ("april", 4),
    ("apr", 4),
    ("abril", 4),
    ("abr", 4),
    ("may", 5),
    ("mayo", 5),
    ("june", 6),
    ("jun", 6),
    ("hunyo", 6),
    ("hun", 6),
    ("july", 7),
    ("jul", 7),
    ("hulyo", 7),
    ("hul", 7),
    ("august", 8),
    ("aug", 8),
    ("agosto", 8),
    ("ago", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("setyembre", 9),
    ("set", 9),
    ("october", 10),
    ("oct", 10),
    ("oktubre", 10),
    ("okt", 10),
    ("november", 11),
    ("nov", 11),
    ("nobyembre", 11),
    ("nob", 11),
    ("december", 12),
    ("dec", 12),
    ("disyembre", 12),
    ("dis", 12),
];

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn valid(y: i32, m: u32, d: u32) -> Option<(i32, u32, u32)> {
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

fn year(s: &str) -> Option<i32> {
    let y: i32 = s.parse().ok()?;
    match s.len() {
        2 => Some(2000 + y),
        4 => Some(y),
        _ => None,
    }
}

/// A calendar date as `(year, month, day)`: ISO `2026-11-26` (or with `/` or `.`),
/// numeric `11/26/2026` (month first, as Philippine documents write it, unless the first
/// number cannot be a month), two-digit years as 20xx, and month names in English or
/// Tagalog, full or abbreviated (`Nov 26, 2026`, `26 Nobyembre 2026`).
///
/// ```
/// use whet_eval_metrics::extraction::parse_date;
/// assert_eq!(parse_date("2026-11-26"), Some((2026, 11, 26)));
/// assert_eq!(parse_date("11/26/26"), Some((2026, 11, 26)));
/// assert_eq!(parse_date("26/11/2026"), Some((2026, 11, 26)));
/// assert_eq!(parse_date("Nobyembre 26, 2026"), Some((2026, 11, 26)));
/// assert_eq!(parse_date("Feb 30 2026"), None);
/// ```
pub fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let lower = s.trim_matches(py_is_whitespace).to_lowercase();
    let parts: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '/' | '.' | ','))
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    let month_of = |p: &str| MONTHS.iter().find(|(n, _)| *n == p).map(|&(_, m)| m);
    let num = |p: &str| -> Option<u32> {
        p.chars()
            .all(|c| c.is_ascii_digit())
            .then(|| p.parse().ok())
            .flatten()
    };
    // Month names.
    if let Some(m) = month_of(parts[0]) {
        return valid(year(parts[2])?, m, num(parts[1])?);
    }
    if let Some(m) = month_of(parts[1]) {
        return if parts[0].len() == 4 {
            valid(year(parts[0])?, m, num(parts[2])?)
        } else {
            valid(year(parts[2])?, m, num(parts[0])?)
        };
    }
    let (a, b, c) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if parts[0].len() == 4 {
        return valid(year(parts[0])?, b, c);
    }
    let y = year(parts[2])?;
    if a > 12 {
        valid(y, b, a)
    } else {
        valid(y, a, b).or_else(|| valid(y, b, a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_many_shapes() {
        for (s, want) in [
            ("1,250", Some(125_000)),
            ("12,50", Some(1_250)),
            ("1.250.000", Some(125_000_000)),
            ("P 99.95", Some(9_995)),
            ("-₱5", Some(-500)),
            ("0.005", Some(1)),
            (".5", Some(50)),
            ("", None),
            ("12a", None),
            ("1,2,3.4.5", None),
        ] {
            assert_eq!(parse_amount(s), want, "{s:?}");
        }
    }

    #[test]
    fn dates_in_many_shapes() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("5 Hulyo 2025"), Some((2025, 7, 5)));
        assert_eq!(parse_date("2025 Sept 5"), Some((2025, 9, 5)));
        assert_eq!(parse_date("03.04.2025"), Some((2025, 3, 4)));
        assert_eq!(parse_date("today"), None);
    }
}

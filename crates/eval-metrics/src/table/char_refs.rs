//! HTML5 character references (named, decimal, hex, with the legacy no-semicolon forms and
//! the C1 remapping) and the text normalisation the parser applies to character data.

use super::entities::ENTITIES;

/// Raw text with only line breaks and NULs normalised.
pub(super) fn normalise_raw(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\0', "\u{fffd}")
}

/// Character data with references decoded (text rules), line breaks normalised and
/// NUL replaced.
pub(super) fn decode_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let c = rest.chars().next().unwrap_or('\0');
        match c {
            '&' => {
                let (decoded, used) = char_ref(rest, false);
                out.push_str(&decoded);
                i += used;
            }
            '\r' => {
                out.push('\n');
                i += if rest.as_bytes().get(1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            '\0' => {
                out.push('\u{fffd}');
                i += 1;
            }
            c => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Windows-1252 meanings of the C1 code points in numeric references.
const C1_REMAP: [u32; 32] = [
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
];

/// A character reference at the start of `s` (which begins with `&`): its replacement and
/// the bytes used (1 and "&" when it is not a reference). HTML5 rules as libxml2 2.14
/// applies them: numeric references with or without `;` (C1 remapped, invalid code
/// points replaced); the longest named reference, bare legacy names allowed in text and
/// in attributes unless followed by an alphanumeric or `=`.
pub(super) fn char_ref(s: &str, attr: bool) -> (String, usize) {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'#') {
        let (radix, start) = match b.get(2) {
            Some(b'x' | b'X') if b.get(3).is_some_and(u8::is_ascii_hexdigit) => (16, 3),
            Some(d) if d.is_ascii_digit() => (10, 2),
            _ => return ("&".into(), 1),
        };
        let mut cp: u32 = 0;
        let mut i = start;
        while let Some(d) = b.get(i).and_then(|&c| (c as char).to_digit(radix)) {
            cp = (cp * radix + d).min(0x11_0000);
            i += 1;
        }
        if b.get(i) == Some(&b';') {
            i += 1;
        }
        let cp = match cp {
            0x80..=0x9F => C1_REMAP[(cp - 0x80) as usize],
            0 | 0xD800..=0xDFFF => 0xFFFD,
            c if c > 0x10FFFF => 0xFFFD,
            c => c,
        };
        return (char::from_u32(cp).unwrap_or('\u{fffd}').to_string(), i);
    }
    let name_len = b[1..]
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if name_len == 0 || !b[1].is_ascii_alphabetic() {
        return ("&".into(), 1);
    }
    for len in (1..=name_len).rev() {
        let name = &s[1..1 + len];
        let next = b.get(1 + len).copied();
        if let Some(v) = (next == Some(b';'))
            .then(|| lookup(&format!("{name};")))
            .flatten()
        {
            return (v.to_owned(), len + 2);
        }
        if let Some(v) = lookup(name) {
            let blocked = attr && next.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'=');
            if !blocked {
                return (v.to_owned(), len + 1);
            }
        }
    }
    ("&".into(), 1)
}

fn lookup(name: &str) -> Option<&'static str> {
    ENTITIES
        .binary_search_by(|(n, _)| n.as_bytes().cmp(name.as_bytes()))
        .ok()
        .map(|i| ENTITIES[i].1)
}

//! libxml2 2.14's element rules the HTML parser (`html.rs`) applies, as data: which
//! elements are void, which start tags close which open elements (`htmlStartClose`), how
//! far an end tag may close (`htmlEndPriority`), and which elements hold raw text.

/// Elements without content (libxml2's HTML 4 table, `empty` set).
pub(super) const VOID: &[&str] = &[
    "area", "base", "basefont", "br", "col", "embed", "frame", "hr", "img", "input", "isindex",
    "link", "meta", "param", "wbr",
];

/// `(open element, new start tag)` pairs where the start tag closes the open element:
/// libxml2's `htmlStartClose` table, as data.
const START_CLOSE: &[(&str, &[&str])] = &[
    ("a", &["a", "fieldset", "table", "td", "th"]),
    ("address", &["dd", "dl", "dt", "form", "li", "ul"]),
    ("b", &["center", "p", "td", "th"]),
    ("big", &["p"]),
    (
        "caption",
        &["col", "colgroup", "tbody", "tfoot", "thead", "tr"],
    ),
    ("col", &["col", "colgroup", "tbody", "tfoot", "thead", "tr"]),
    ("colgroup", &["colgroup", "tbody", "tfoot", "thead", "tr"]),
    ("dd", &["dt"]),
    ("dir", &["dd", "dl", "dt", "form", "ul"]),
    ("dl", &["form", "li"]),
    ("dt", &["dd", "dl"]),
    ("font", &["center", "td", "th"]),
    ("form", &["form"]),
    ("h1", &["fieldset", "form", "li", "p", "table"]),
    ("h2", &["fieldset", "form", "li", "p", "table"]),
    ("h3", &["fieldset", "form", "li", "p", "table"]),
    ("h4", &["fieldset", "form", "li", "p", "table"]),
    ("h5", &["fieldset", "form", "li", "p", "table"]),
    ("h6", &["fieldset", "form", "li", "p", "table"]),
    (
        "head",
        &[
            "a",
            "abbr",
            "acronym",
            "address",
            "b",
            "bdo",
            "big",
            "blockquote",
            "body",
            "br",
            "center",
            "cite",
            "code",
            "dd",
            "dfn",
            "dir",
            "div",
            "dl",
            "dt",
            "em",
            "fieldset",
            "font",
            "form",
            "frameset",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "i",
            "iframe",
            "img",
            "kbd",
            "li",
            "listing",
            "map",
            "menu",
            "ol",
            "p",
            "pre",
            "q",
            "s",
            "samp",
            "small",
            "span",
            "strike",
            "strong",
            "sub",
            "sup",
            "table",
            "tt",
            "u",
            "ul",
            "var",
            "xmp",
        ],
    ),
    ("hr", &["form"]),
    ("i", &["center", "p", "td", "th"]),
    ("legend", &["fieldset"]),
    ("li", &["li"]),
    ("link", &["body", "frameset"]),
    (
        "listing",
        &["dd", "dl", "dt", "fieldset", "form", "li", "table", "ul"],
    ),
    ("menu", &["dd", "dl", "dt", "form", "ul"]),
    ("ol", &["form"]),
    ("option", &["optgroup", "option"]),
    (
        "p",
        &[
            "address",
            "blockquote",
            "body",
            "caption",
            "center",
            "col",
            "colgroup",
            "dd",
            "dir",
            "div",
            "dl",
            "dt",
            "fieldset",
            "form",
            "frameset",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "head",
            "hr",
            "li",
            "listing",
            "menu",
            "ol",
            "p",
            "pre",
            "table",
            "tbody",
            "td",
            "tfoot",
            "th",
            "title",
            "tr",
            "ul",
            "xmp",
        ],
    ),
    (
        "pre",
        &["dd", "dl", "dt", "fieldset", "form", "li", "table", "ul"],
    ),
    ("s", &["p"]),
    ("script", &["noscript"]),
    ("small", &["p"]),
    ("span", &["td", "th"]),
    ("strike", &["p"]),
    ("style", &["body", "frameset"]),
    ("tbody", &["tbody", "tfoot"]),
    ("td", &["tbody", "td", "tfoot", "th", "tr"]),
    ("tfoot", &["tbody"]),
    ("th", &["tbody", "td", "tfoot", "th", "tr"]),
    ("thead", &["tbody", "tfoot"]),
    ("title", &["body", "frameset"]),
    ("tr", &["tbody", "tfoot", "tr"]),
    ("tt", &["p"]),
    ("u", &["p", "td", "th"]),
    ("ul", &["address", "form", "menu", "pre"]),
    (
        "xmp",
        &["dd", "dl", "dt", "fieldset", "form", "li", "table", "ul"],
    ),
];

pub(super) fn start_closes(new: &str, open: &str) -> bool {
    START_CLOSE
        .iter()
        .find(|(old, _)| *old == open)
        .is_some_and(|(_, news)| news.contains(&new))
}

/// libxml2's `htmlEndPriority`: an end tag only closes open elements of lower or equal
/// priority above its match.
pub(super) fn end_priority(tag: &str) -> u8 {
    match tag {
        "div" => 150,
        "td" | "th" => 160,
        "tr" => 170,
        "thead" | "tbody" | "tfoot" => 180,
        "table" => 190,
        "head" | "body" => 200,
        "html" => 220,
        _ => 100,
    }
}

/// How an element's content is tokenised.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum DataMode {
    Normal,
    /// Text up to the matching end tag, references decoded (`title`, `textarea`).
    RcData,
    /// Text up to the matching end tag, as written (`script`, `style`, `xmp`, ...).
    RawText,
    /// Everything to the end of input is text.
    PlainText,
}

pub(super) fn data_mode(tag: &str) -> DataMode {
    match tag {
        "title" | "textarea" => DataMode::RcData,
        "script" | "style" | "xmp" | "iframe" | "noembed" | "noframes" => DataMode::RawText,
        "plaintext" => DataMode::PlainText,
        _ => DataMode::Normal,
    }
}

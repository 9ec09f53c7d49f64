//! A forgiving HTML parser that builds the tree libxml2 2.14 builds (lxml, and so
//! PubTabNet's TEDS, parse with it): HTML5 tokenisation (tag and attribute names, bogus
//! comments, the WHATWG character references with their legacy forms), and libxml2's own
//! tree construction (`html`, `head` and `body` implied; elements closed by the start tags
//! of its `htmlStartClose` table; end tags that only close what their priority allows;
//! comments dropped).
//!
//! It never fails on malformed markup; what it cannot make sense of is kept as text.

use super::char_refs::{char_ref, decode_text, normalise_raw};
use super::html_rules::{DataMode, VOID, data_mode, end_priority, start_closes};

/// An element: lxml's `text` / `tail` model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// Lower-cased tag name.
    pub tag: String,
    /// Attributes in document order, names lower-cased, values decoded.
    pub attrs: Vec<(String, String)>,
    /// Text before the first child.
    pub text: String,
    /// Child elements.
    pub children: Vec<Element>,
    /// Text after this element's end tag, before the next sibling.
    pub tail: String,
}

impl Element {
    fn new(tag: &str, attrs: Vec<(String, String)>) -> Self {
        Element {
            tag: tag.to_owned(),
            attrs,
            ..Element::default()
        }
    }

    /// The value of attribute `name` (lower-case).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Number of descendant elements (lxml's `len(e.xpath(".//*"))`).
    pub fn descendant_count(&self) -> usize {
        self.children.iter().map(|c| 1 + c.descendant_count()).sum()
    }

    /// The first direct child with tag `tag`.
    pub fn child(&self, tag: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.tag == tag)
    }
}

/// libxml2's insertion state: whether a `head` / `body` was ever opened.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Insert {
    Initial,
    InHead,
    InBody,
}

struct Builder {
    /// The open elements, outermost first.
    stack: Vec<Element>,
    /// The finished root, once `html` is closed.
    root: Option<Element>,
    state: Insert,
    /// Misplaced `html` / `head` / `body` start tags ignored (their end tags are too).
    depth: usize,
}

impl Builder {
    fn name(&self) -> Option<&str> {
        self.stack.last().map(|e| e.tag.as_str())
    }

    fn push(&mut self, e: Element) {
        if e.tag == "head" && self.state < Insert::InHead {
            self.state = Insert::InHead;
        }
        if e.tag == "body" && self.state < Insert::InBody {
            self.state = Insert::InBody;
        }
        self.stack.push(e);
    }

    fn pop(&mut self) {
        if let Some(done) = self.stack.pop() {
            match self.stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => {
                    if self.root.is_none() {
                        self.root = Some(done);
                    }
                }
            }
        }
    }

    fn auto_close(&mut self, new: &str) {
        while self.name().is_some_and(|open| start_closes(new, open)) {
            self.pop();
        }
    }

    fn check_implied(&mut self, new: &str) {
        if new == "html" {
            return;
        }
        if self.stack.is_empty() {
            self.push(Element::new("html", Vec::new()));
        }
        if new == "body" || new == "head" {
            return;
        }
        if self.stack.len() <= 1
            && matches!(new, "script" | "style" | "meta" | "link" | "title" | "base")
        {
            if self.state >= Insert::InHead {
                return;
            }
            self.push(Element::new("head", Vec::new()));
        } else if !matches!(new, "noframes" | "frame" | "frameset") {
            if self.state >= Insert::InBody {
                return;
            }
            if self
                .stack
                .iter()
                .any(|e| e.tag == "body" || e.tag == "head")
            {
                return;
            }
            self.push(Element::new("body", Vec::new()));
        }
    }

    /// Character data (already decoded).
    fn text(&mut self, s: &str) {
        if s.is_empty() || self.root.is_some() {
            return;
        }
        let at_top = matches!(self.name(), None | Some("html" | "head"));
        let mut s = s;
        if at_top {
            let blanks = s.len() - s.trim_start_matches(is_ws).len();
            if blanks > 0 {
                if self.stack.is_empty() {
                    // Blanks before any element are dropped.
                } else {
                    self.append(&s[..blanks]);
                }
                s = &s[blanks..];
            }
            if s.is_empty() {
                return;
            }
            // htmlStartCharData: text implies a body.
            if self.name() == Some("head") {
                self.auto_close("p");
            }
            self.check_implied("p");
        }
        self.append(s);
    }

    fn append(&mut self, s: &str) {
        if let Some(top) = self.stack.last_mut() {
            match top.children.last_mut() {
                Some(last) => last.tail.push_str(s),
                None => top.text.push_str(s),
            }
        }
    }

    /// A start tag; returns whether an element was pushed (and is still open).
    fn start(&mut self, tag: &str, attrs: Vec<(String, String)>, self_closing: bool) -> bool {
        if self.root.is_some() {
            return false;
        }
        self.auto_close(tag);
        self.check_implied(tag);
        let misplaced = (tag == "html" && !self.stack.is_empty())
            || (tag == "head" && self.stack.len() != 1)
            || (tag == "body" && self.stack.iter().any(|e| e.tag == "body"));
        if misplaced {
            self.depth += 1;
            return false;
        }
        self.push(Element::new(tag, attrs));
        if self_closing || VOID.contains(&tag) {
            self.pop();
            return false;
        }
        true
    }

    fn end(&mut self, tag: &str) {
        if self.depth > 0 && matches!(tag, "html" | "body" | "head") {
            self.depth -= 1;
            return;
        }
        let Some(i) = self.stack.iter().rposition(|e| e.tag == tag) else {
            return;
        };
        let priority = end_priority(tag);
        if self.stack[i + 1..]
            .iter()
            .any(|e| end_priority(&e.tag) > priority)
        {
            return;
        }
        while self.stack.len() > i {
            self.pop();
        }
    }

    fn finish(mut self) -> Element {
        while !self.stack.is_empty() {
            self.pop();
        }
        self.root
            .unwrap_or_else(|| Element::new("html", Vec::new()))
    }
}

/// HTML's whitespace (libxml2's `IS_WS_HTML`).
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{c}' | '\r')
}

/// Input with line breaks normalised (CR LF and CR become LF), as the tokeniser sees it.
struct Input<'a> {
    s: &'a str,
    pos: usize,
}

impl Input<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn peek_at(&self, n: usize) -> Option<u8> {
        self.s.as_bytes().get(self.pos + n).copied()
    }
    fn bump(&mut self, bytes: usize) {
        self.pos = (self.pos + bytes).min(self.s.len());
    }
    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn skip_blanks(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek_at(0) {
            self.pos += 1;
        }
    }
    /// Skips to just after the next `>` (a bogus comment), or to the end.
    fn skip_past_gt(&mut self) {
        match self.rest().find('>') {
            Some(i) => self.bump(i + 1),
            None => self.pos = self.s.len(),
        }
    }

    /// libxml2's `htmlParseHTMLName`: at least one character, then up to `/`, `>`,
    /// whitespace (or `=` for attribute names); ASCII lower-cased, NUL replaced.
    fn name(&mut self, attr: bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if !out.is_empty() && (c == '/' || c == '>' || is_ws(c) || (attr && c == '=')) {
                break;
            }
            out.push(match c {
                '\0' => '\u{fffd}',
                c => c.to_ascii_lowercase(),
            });
            self.bump(c.len_utf8());
        }
        out
    }

    /// Data up to (not including) a character in `stop`, references decoded when
    /// `refs` (attribute rules), NUL replaced, line breaks normalised.
    fn data_until(&mut self, stop: &[char], refs: bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if stop.contains(&c) {
                break;
            }
            match c {
                '&' if refs => {
                    let (decoded, used) = char_ref(self.rest(), true);
                    out.push_str(&decoded);
                    self.bump(used);
                }
                '\0' => {
                    out.push('\u{fffd}');
                    self.bump(1);
                }
                '\r' => {
                    out.push('\n');
                    self.bump(if self.peek_at(1) == Some(b'\n') { 2 } else { 1 });
                }
                c => {
                    out.push(c);
                    self.bump(c.len_utf8());
                }
            }
        }
        out
    }

    /// The attributes of a tag, up to its `>` or `/>` (not consumed). `None` at the end
    /// of input (the tag is dropped).
    fn attributes(&mut self) -> Option<Vec<(String, String)>> {
        let mut attrs: Vec<(String, String)> = Vec::new();
        self.skip_blanks();
        loop {
            match self.peek() {
                None => return None,
                Some('>') => return Some(attrs),
                Some('/') if self.peek_at(1) == Some(b'>') => return Some(attrs),
                Some('/') => {
                    self.bump(1);
                    self.skip_blanks();
                    continue;
                }
                Some(_) => {}
            }
            let name = self.name(true);
            self.skip_blanks();
            let mut value = String::new();
            if self.peek() == Some('=') {
                self.bump(1);
                self.skip_blanks();
                value = match self.peek() {
                    Some(q @ ('"' | '\'')) => {
                        self.bump(1);
                        let v = self.data_until(&[q], true);
                        if self.peek() == Some(q) {
                            self.bump(1);
                        }
                        v
                    }
                    _ => self.data_until(&[' ', '\t', '\n', '\u{c}', '\r', '>'], true),
                };
            }
            if !attrs.iter().any(|(k, _)| *k == name) {
                attrs.push((name, value));
            }
            self.skip_blanks();
        }
    }
}

/// Parses `input` into an `html` element (with a `head` and `body` where the markup
/// implies them), as libxml2 2.14's HTML parser does (lxml's `html.fromstring` on a
/// document): HTML5 tokenisation, libxml2's own tree building.
///
/// ```
/// use whet_eval_metrics::table::parse_html;
/// let html = parse_html("<table><tr><td>a<td>b &amp; c</table>");
/// let table = html.child("body").and_then(|b| b.child("table")).unwrap();
/// let row = &table.children[0];
/// assert_eq!(row.children.len(), 2);
/// assert_eq!(row.children[1].text, "b & c");
/// ```
pub fn parse_html(input: &str) -> Element {
    let mut b = Builder {
        stack: Vec::new(),
        root: None,
        state: Insert::Initial,
        depth: 0,
    };
    let mut inp = Input { s: input, pos: 0 };
    let mut mode = DataMode::Normal;
    let mut text = String::new();
    while !inp.eof() {
        if mode != DataMode::Normal {
            // Raw text, RCDATA or plain text: up to `</name` followed by `>`, `/` or blank.
            let open = b.name().unwrap_or("").to_owned();
            let rest = inp.rest();
            let mut end = rest.len();
            if mode != DataMode::PlainText {
                let mut from = 0;
                while let Some(i) = rest[from..].find("</") {
                    let at = from + i;
                    let after = &rest[at + 2..];
                    let matches = after.len() >= open.len()
                        && after.as_bytes()[..open.len()].eq_ignore_ascii_case(open.as_bytes())
                        && after[open.len()..]
                            .chars()
                            .next()
                            .is_some_and(|c| c == '>' || c == '/' || is_ws(c));
                    if matches {
                        end = at;
                        break;
                    }
                    from = at + 2;
                }
            }
            let chunk = &rest[..end];
            let decoded = if mode == DataMode::RcData {
                decode_text(chunk)
            } else {
                normalise_raw(chunk)
            };
            b.text(&decoded);
            inp.bump(end);
            mode = DataMode::Normal;
            continue;
        }
        if inp.peek() != Some('<') {
            let end = inp.rest().find('<').unwrap_or(inp.rest().len());
            text.push_str(&decode_text(&inp.rest()[..end]));
            inp.bump(end);
            continue;
        }
        // A '<': flush the text before it.
        b.text(&std::mem::take(&mut text));
        let next = inp.peek_at(1);
        match next {
            Some(b'/') => {
                inp.bump(2);
                match inp.peek() {
                    None => text.push_str("</"),
                    Some('>') => inp.bump(1),
                    Some(c) if !c.is_ascii_alphabetic() => inp.skip_past_gt(),
                    Some(_) => {
                        let name = inp.name(false);
                        if inp.attributes().is_none() {
                            continue; // end of input inside the tag
                        }
                        inp.bump(if inp.peek() == Some('/') { 2 } else { 1 });
                        b.end(&name);
                    }
                }
            }
            Some(b'!') => {
                let rest = inp.rest();
                if rest.len() >= 9 && rest.as_bytes()[2..9].eq_ignore_ascii_case(b"doctype") {
                    inp.skip_past_gt();
                } else if rest.starts_with("<!--") {
                    inp.bump(4);
                    skip_comment(&mut inp);
                } else {
                    inp.bump(2);
                    inp.skip_past_gt();
                }
            }
            Some(b'?') => {
                inp.bump(1);
                inp.skip_past_gt();
            }
            Some(c) if c.is_ascii_alphabetic() => {
                inp.bump(1);
                let name = inp.name(false);
                // Auto-closing and implied elements happen before the attributes are read.
                let attrs = inp.attributes();
                let Some(attrs) = attrs else {
                    b.auto_close(&name);
                    b.check_implied(&name);
                    continue; // end of input inside the tag: dropped
                };
                let self_closing = inp.peek() == Some('/');
                inp.bump(if self_closing { 2 } else { 1 });
                if b.start(&name, attrs, self_closing) {
                    mode = data_mode(&name);
                }
            }
            _ => {
                text.push('<');
                inp.bump(1);
            }
        }
    }
    b.text(&text);
    b.finish()
}

/// After `<!--`: `<!-->` and `<!--->` are empty comments; otherwise up to `-->` or
/// `--!>`, or the end of input.
fn skip_comment(inp: &mut Input<'_>) {
    let rest = inp.rest();
    if rest.starts_with('>') {
        inp.bump(1);
        return;
    }
    if rest.starts_with("->") {
        inp.bump(2);
        return;
    }
    let mut from = 0;
    while let Some(i) = rest[from..].find("--") {
        let at = from + i;
        let after = &rest[at + 2..];
        if after.starts_with('>') {
            inp.bump(at + 3);
            return;
        }
        if after.starts_with("!>") {
            inp.bump(at + 4);
            return;
        }
        from = at + 1;
    }
    inp.pos = inp.s.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(html: &str) -> Element {
        parse_html(html)
            .child("body")
            .and_then(|b| b.child("table"))
            .cloned()
            .expect("a table")
    }

    #[test]
    fn implied_ends_of_cells_and_rows() {
        let t = table("<html><body><table><tr><td>a<td>b<tr><td>c</table></body></html>");
        assert_eq!(t.children.len(), 2);
        assert_eq!(t.children[0].children.len(), 2);
        assert_eq!(t.descendant_count(), 5);
    }

    #[test]
    fn stray_end_tags_are_ignored() {
        let t = table("<table><tr><td>a</td></tr></thead><tr><td>b</tr></table>");
        assert_eq!(t.children.len(), 2);
        assert_eq!(t.children[1].children[0].text, "b");
    }

    #[test]
    fn inline_markup_and_entities_in_cells() {
        let t = table("<table><tr><td> <b>y</b> z&nbsp;&#8369;&bogus;</td></tr></table>");
        let td = &t.children[0].children[0];
        assert_eq!(td.text, " ");
        assert_eq!(td.children[0].tag, "b");
        assert_eq!(td.children[0].tail, " z\u{a0}₱&bogus;");
    }

    #[test]
    fn attributes_any_quoting() {
        let t = table("<TABLE><TR><TD COLSPAN=2 rowspan='3' x>a</TD></TR></TABLE>");
        let td = &t.children[0].children[0];
        assert_eq!(td.attr("colspan"), Some("2"));
        assert_eq!(td.attr("rowspan"), Some("3"));
        assert_eq!(td.attr("x"), Some("")); // a bare attribute is empty, as in lxml
    }

    #[test]
    fn never_panics_on_garbage() {
        for s in [
            "<",
            "</",
            "<<>>",
            "<td",
            "<a b='",
            "&#xFFFFFFFF;",
            "</table></td>",
            "<!--",
            "é<é>",
        ] {
            let _ = parse_html(s);
        }
    }
}

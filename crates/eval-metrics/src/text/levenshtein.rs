//! Levenshtein distance and alignment with rapidfuzz's choice among minimal alignments.
//!
//! rapidfuzz (`Levenshtein_py.py::editops`, mirrored by its C++ core) strips the common
//! prefix and suffix, fills the vertical-difference bit matrices of Hyyrö's algorithm, and
//! walks back from the bottom-right corner preferring, at each cell, a deletion, then an
//! insertion, then a match or substitution. This module fills the same matrices with the
//! plain dynamic programme (the bits are the same numbers) and walks back the same way,
//! so its edit operations are rapidfuzz's, one for one.

/// One edit operation's kind, in rapidfuzz's terms (`s1` is the source, `s2` the target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditKind {
    /// `s1[src]` is replaced by `s2[dest]`.
    Replace,
    /// `s2[dest]` is inserted before `s1[src]`.
    Insert,
    /// `s1[src]` is deleted.
    Delete,
}

/// One edit operation, as rapidfuzz's `Editop`: positions are in the full sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Editop {
    /// What is done.
    pub kind: EditKind,
    /// Position in the source.
    pub src: usize,
    /// Position in the target.
    pub dest: usize,
}

/// The kind of an alignment block, in jiwer's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkKind {
    /// The spans are equal.
    Equal,
    /// The reference span is replaced by the hypothesis span, element for element.
    Substitute,
    /// The reference span is missing from the hypothesis.
    Delete,
    /// The hypothesis span is not in the reference.
    Insert,
}

/// A block of the alignment: jiwer's `AlignmentChunk`, rapidfuzz's `Opcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AlignmentChunk {
    /// What the block is.
    pub kind: ChunkKind,
    /// Start of the reference span.
    pub ref_start: usize,
    /// End (exclusive) of the reference span.
    pub ref_end: usize,
    /// Start of the hypothesis span.
    pub hyp_start: usize,
    /// End (exclusive) of the hypothesis span.
    pub hyp_end: usize,
}

fn common_affix<T: PartialEq>(a: &[T], b: &[T]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (prefix, suffix)
}

/// The Levenshtein distance (unit costs) between `a` and `b`.
///
/// ```
/// use whet_eval_metrics::text::distance;
/// assert_eq!(distance(&['l','e','w','e','n'], &['l','e','v','e','n','s']), 2);
/// ```
pub fn distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let (prefix, suffix) = common_affix(a, b);
    let a = &a[prefix..a.len() - suffix];
    let b = &b[prefix..b.len() - suffix];
    if a.is_empty() {
        return b.len();
    }
    if b.is_empty() {
        return a.len();
    }
    // One row over `a`, updated for each element of `b`.
    let mut row: Vec<usize> = (0..=a.len()).collect();
    for (j, y) in b.iter().enumerate() {
        let mut diag = row[0];
        row[0] = j + 1;
        for (i, x) in a.iter().enumerate() {
            let sub = diag + usize::from(x != y);
            diag = row[i + 1];
            row[i + 1] = sub.min(row[i + 1] + 1).min(row[i] + 1);
        }
    }
    row[a.len()]
}

/// `distance / max(len a, len b)`, 0 when both are empty: rapidfuzz's
/// `Levenshtein.normalized_distance` with unit weights.
pub fn normalized_distance<T: PartialEq>(a: &[T], b: &[T]) -> f64 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        0.0
    } else {
        distance(a, b) as f64 / longest as f64
    }
}

/// Vertical-difference bits of the DP matrix: for each element of `s2` (row) and each
/// position `i` of `s1` (bit), whether `D[i+1][row+1] - D[i][row+1]` is +1 (`vp`) or -1
/// (`vn`), `D[i][j]` being the distance between `s1[..i]` and `s2[..j]`.
struct DeltaBits {
    words: usize,
    vp: Vec<u64>,
    vn: Vec<u64>,
}

impl DeltaBits {
    fn fill<T: PartialEq>(s1: &[T], s2: &[T]) -> (usize, Self) {
        let words = s1.len().div_ceil(64);
        let mut vp = vec![0u64; words * s2.len()];
        let mut vn = vec![0u64; words * s2.len()];
        let mut row: Vec<usize> = (0..=s1.len()).collect();
        for (j, y) in s2.iter().enumerate() {
            let mut diag = row[0];
            row[0] = j + 1;
            let base = j * words;
            for (i, x) in s1.iter().enumerate() {
                let sub = diag + usize::from(x != y);
                diag = row[i + 1];
                let value = sub.min(row[i + 1] + 1).min(row[i] + 1);
                row[i + 1] = value;
                let bit = 1u64 << (i % 64);
                if value > row[i] {
                    vp[base + i / 64] |= bit;
                } else if value < row[i] {
                    vn[base + i / 64] |= bit;
                }
            }
        }
        (row[s1.len()], DeltaBits { words, vp, vn })
    }

    /// Bit `col - 1` of row `row - 1` (1-based row and column, as rapidfuzz indexes them).
    fn vp(&self, row: usize, col: usize) -> bool {
        let i = col - 1;
        self.vp[(row - 1) * self.words + i / 64] >> (i % 64) & 1 == 1
    }

    fn vn(&self, row: usize, col: usize) -> bool {
        let i = col - 1;
        self.vn[(row - 1) * self.words + i / 64] >> (i % 64) & 1 == 1
    }
}

/// The edit operations turning `s1` into `s2`, exactly as rapidfuzz's
/// `Levenshtein.editops(s1, s2)` returns them (matches are not listed).
///
/// ```
/// use whet_eval_metrics::text::{editops, EditKind};
/// let a: Vec<char> = "qabxcd".chars().collect();
/// let b: Vec<char> = "abycdf".chars().collect();
/// let kinds: Vec<_> = editops(&a, &b).iter().map(|e| (e.kind, e.src, e.dest)).collect();
/// // rapidfuzz 3.14.6 returns the same (its docstring's `delete s1[1]` is out of date)
/// assert_eq!(kinds, [(EditKind::Delete, 0, 0), (EditKind::Replace, 3, 2), (EditKind::Insert, 6, 5)]);
/// ```
pub fn editops<T: PartialEq>(s1: &[T], s2: &[T]) -> Vec<Editop> {
    let (prefix, suffix) = common_affix(s1, s2);
    let a = &s1[prefix..s1.len() - suffix];
    let b = &s2[prefix..s2.len() - suffix];
    let (mut dist, bits) = if a.is_empty() {
        (
            b.len(),
            DeltaBits {
                words: 0,
                vp: Vec::new(),
                vn: Vec::new(),
            },
        )
    } else {
        DeltaBits::fill(a, b)
    };
    let mut ops = vec![
        Editop {
            kind: EditKind::Replace,
            src: 0,
            dest: 0
        };
        dist
    ];
    let mut col = a.len();
    let mut row = b.len();
    let mut put = |dist: usize, kind, col: usize, row: usize| {
        ops[dist] = Editop {
            kind,
            src: col + prefix,
            dest: row + prefix,
        };
    };
    while row != 0 && col != 0 {
        if bits.vp(row, col) {
            dist -= 1;
            col -= 1;
            put(dist, EditKind::Delete, col, row);
        } else {
            row -= 1;
            if row != 0 && bits.vn(row, col) {
                dist -= 1;
                put(dist, EditKind::Insert, col, row);
            } else {
                col -= 1;
                if a[col] != b[row] {
                    dist -= 1;
                    put(dist, EditKind::Replace, col, row);
                }
            }
        }
    }
    while col != 0 {
        dist -= 1;
        col -= 1;
        put(dist, EditKind::Delete, col, row);
    }
    while row != 0 {
        dist -= 1;
        row -= 1;
        put(dist, EditKind::Insert, col, row);
    }
    debug_assert_eq!(dist, 0);
    ops
}

/// The alignment of `reference` and `hypothesis` as blocks: rapidfuzz's
/// `Levenshtein.opcodes`, which jiwer reports as `AlignmentChunk`s.
pub fn opcodes<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> Vec<AlignmentChunk> {
    let ops = editops(reference, hypothesis);
    let mut blocks = Vec::with_capacity(2 * ops.len() + 1);
    let (mut src, mut dest) = (0usize, 0usize);
    let mut i = 0;
    while i < ops.len() {
        if src < ops[i].src || dest < ops[i].dest {
            blocks.push(AlignmentChunk {
                kind: ChunkKind::Equal,
                ref_start: src,
                ref_end: ops[i].src,
                hyp_start: dest,
                hyp_end: ops[i].dest,
            });
            src = ops[i].src;
            dest = ops[i].dest;
        }
        let (src_begin, dest_begin) = (src, dest);
        let kind = ops[i].kind;
        while i < ops.len() && ops[i].kind == kind && src == ops[i].src && dest == ops[i].dest {
            match kind {
                EditKind::Replace => {
                    src += 1;
                    dest += 1;
                }
                EditKind::Insert => dest += 1,
                EditKind::Delete => src += 1,
            }
            i += 1;
        }
        blocks.push(AlignmentChunk {
            kind: match kind {
                EditKind::Replace => ChunkKind::Substitute,
                EditKind::Insert => ChunkKind::Insert,
                EditKind::Delete => ChunkKind::Delete,
            },
            ref_start: src_begin,
            ref_end: src,
            hyp_start: dest_begin,
            hyp_end: dest,
        });
    }
    if src < reference.len() || dest < hypothesis.len() {
        blocks.push(AlignmentChunk {
            kind: ChunkKind::Equal,
            ref_start: src,
            ref_end: reference.len(),
            hyp_start: dest,
            hyp_end: hypothesis.len(),
        });
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn distance_matches_editops_count() {
        for (a, b) in [
            ("", ""),
            ("", "abc"),
            ("abc", ""),
            ("kitten", "sitting"),
            ("ab", "ba"),
        ] {
            let (a, b) = (chars(a), chars(b));
            assert_eq!(distance(&a, &b), editops(&a, &b).len());
        }
    }

    #[test]
    fn swapped_pair_walks_back_as_rapidfuzz() {
        // rapidfuzz 3.14: editops("ab", "ba") == [insert s1[0] s2[0], delete s1[1] s2[2]]
        let ops = editops(&chars("ab"), &chars("ba"));
        assert_eq!(
            ops,
            [
                Editop {
                    kind: EditKind::Insert,
                    src: 0,
                    dest: 0
                },
                Editop {
                    kind: EditKind::Delete,
                    src: 1,
                    dest: 2
                },
            ]
        );
    }

    #[test]
    fn long_inputs_cross_word_boundaries() {
        let a: Vec<u32> = (0..150).map(|i| i % 7).collect();
        let b: Vec<u32> = (0..140).map(|i| (i * 3) % 7).collect();
        let ops = editops(&a, &b);
        assert_eq!(ops.len(), distance(&a, &b));
        // Replaying the operations turns a into b.
        let mut out = Vec::new();
        let mut src = 0;
        for op in &ops {
            while src < op.src {
                out.push(a[src]);
                src += 1;
            }
            match op.kind {
                EditKind::Replace => {
                    out.push(b[op.dest]);
                    src += 1;
                }
                EditKind::Insert => out.push(b[op.dest]),
                EditKind::Delete => src += 1,
            }
        }
        out.extend_from_slice(&a[src..]);
        assert_eq!(out, b);
    }
}

//! Exact tree edit distance between ordered labelled trees (Zhang & Shasha 1989), with
//! caller-supplied costs.
//!
//! This is the algorithm of the `zss` package, which Donut's tree-edit accuracy uses; the
//! distance is the exact optimum, so it is also what APTED (PubTabNet's TEDS) returns for
//! the same costs: the two algorithms differ in speed on deep trees, not in result.

/// An ordered tree with labels of type `L`.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode<L> {
    /// The node's label.
    pub label: L,
    /// Its children, in order.
    pub children: Vec<TreeNode<L>>,
}

impl<L> TreeNode<L> {
    /// A leaf.
    pub fn leaf(label: L) -> Self {
        TreeNode {
            label,
            children: Vec::new(),
        }
    }

    /// A node with children.
    pub fn new(label: L, children: Vec<TreeNode<L>>) -> Self {
        TreeNode { label, children }
    }

    /// Number of nodes, this one included.
    pub fn size(&self) -> usize {
        1 + self.children.iter().map(TreeNode::size).sum::<usize>()
    }
}

/// The costs of the three edit operations.
pub trait EditCosts<L> {
    /// Cost of inserting `node`.
    fn insert(&self, node: &L) -> f64;
    /// Cost of deleting `node`.
    fn delete(&self, node: &L) -> f64;
    /// Cost of relabelling `a` as `b`.
    fn rename(&self, a: &L, b: &L) -> f64;
}

/// A tree in postorder with each node's leftmost leaf descendant and the key roots.
struct Annotated<'a, L> {
    labels: Vec<&'a L>,
    lmd: Vec<usize>,
    keyroots: Vec<usize>,
}

impl<'a, L> Annotated<'a, L> {
    fn new(root: &'a TreeNode<L>) -> Self {
        let mut a = Annotated {
            labels: Vec::new(),
            lmd: Vec::new(),
            keyroots: Vec::new(),
        };
        // Iterative postorder (trees from model output can be deep).
        let mut stack: Vec<(&'a TreeNode<L>, usize, usize)> = vec![(root, 0, usize::MAX)];
        while let Some((node, next_child, first_lmd)) = stack.pop() {
            if next_child < node.children.len() {
                stack.push((node, next_child + 1, first_lmd));
                stack.push((&node.children[next_child], 0, usize::MAX));
            } else {
                let index = a.labels.len();
                let lmd = if node.children.is_empty() {
                    index
                } else {
                    first_lmd
                };
                a.labels.push(&node.label);
                a.lmd.push(lmd);
                // The parent's first child gives the parent its leftmost leaf.
                if let Some(parent) = stack.last_mut().filter(|p| p.1 == 1) {
                    parent.2 = lmd;
                }
            }
        }
        // Key roots: the highest node of each distinct leftmost leaf.
        let n = a.labels.len();
        let mut seen = vec![false; n];
        for i in (0..n).rev() {
            if !seen[a.lmd[i]] {
                seen[a.lmd[i]] = true;
                a.keyroots.push(i);
            }
        }
        a.keyroots.sort_unstable();
        a
    }
}

/// The minimum total cost of edits turning `a` into `b`.
///
/// ```
/// use whet_eval_metrics::extraction::{EditCosts, TreeNode, tree_edit_distance};
/// struct Unit;
/// impl EditCosts<&'static str> for Unit {
///     fn insert(&self, _: &&str) -> f64 { 1.0 }
///     fn delete(&self, _: &&str) -> f64 { 1.0 }
///     fn rename(&self, a: &&str, b: &&str) -> f64 { f64::from(u8::from(a != b)) }
/// }
/// let a = TreeNode::new("f", vec![TreeNode::leaf("a"), TreeNode::leaf("b")]);
/// let b = TreeNode::new("f", vec![TreeNode::leaf("a"), TreeNode::leaf("c"), TreeNode::leaf("b")]);
/// assert_eq!(tree_edit_distance(&a, &b, &Unit), 1.0);
/// ```
pub fn tree_edit_distance<L, C: EditCosts<L> + ?Sized>(
    a: &TreeNode<L>,
    b: &TreeNode<L>,
    costs: &C,
) -> f64 {
    let ta = Annotated::new(a);
    let tb = Annotated::new(b);
    let (na, nb) = (ta.labels.len(), tb.labels.len());
    let del: Vec<f64> = ta.labels.iter().map(|l| costs.delete(l)).collect();
    let ins: Vec<f64> = tb.labels.iter().map(|l| costs.insert(l)).collect();
    let mut treedist = vec![0.0f64; na * nb];
    let mut fd: Vec<f64> = Vec::new();
    for &i in &ta.keyroots {
        for &j in &tb.keyroots {
            let (li, lj) = (ta.lmd[i], tb.lmd[j]);
            let m = i - li + 2;
            let n = j - lj + 2;
            fd.clear();
            fd.resize(m * n, 0.0);
            let ioff = li as isize - 1;
            let joff = lj as isize - 1;
            let at = |x: usize, y: usize| x * n + y;
            for x in 1..m {
                let node = (x as isize + ioff) as usize;
                fd[at(x, 0)] = fd[at(x - 1, 0)] + del[node];
            }
            for y in 1..n {
                let node = (y as isize + joff) as usize;
                fd[at(0, y)] = fd[at(0, y - 1)] + ins[node];
            }
            for x in 1..m {
                let ax = (x as isize + ioff) as usize;
                for y in 1..n {
                    let by = (y as isize + joff) as usize;
                    let remove = fd[at(x - 1, y)] + del[ax];
                    let insert = fd[at(x, y - 1)] + ins[by];
                    if ta.lmd[ax] == li && tb.lmd[by] == lj {
                        let rename =
                            fd[at(x - 1, y - 1)] + costs.rename(ta.labels[ax], tb.labels[by]);
                        let v = remove.min(insert).min(rename);
                        fd[at(x, y)] = v;
                        treedist[ax * nb + by] = v;
                    } else {
                        let p = (ta.lmd[ax] as isize - 1 - ioff) as usize;
                        let q = (tb.lmd[by] as isize - 1 - joff) as usize;
                        let sub = fd[at(p, q)] + treedist[ax * nb + by];
                        fd[at(x, y)] = remove.min(insert).min(sub);
                    }
                }
            }
        }
    }
    treedist[na * nb - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Unit;
    impl EditCosts<char> for Unit {
        fn insert(&self, _: &char) -> f64 {
            1.0
        }
        fn delete(&self, _: &char) -> f64 {
            1.0
        }
        fn rename(&self, a: &char, b: &char) -> f64 {
            f64::from(u8::from(a != b))
        }
    }

    fn t(label: char, children: Vec<TreeNode<char>>) -> TreeNode<char> {
        TreeNode::new(label, children)
    }

    #[test]
    fn classic_zhang_shasha_example() {
        // The example of the zss README: distance 2.
        let a = t(
            'f',
            vec![
                t(
                    'd',
                    vec![TreeNode::leaf('a'), t('c', vec![TreeNode::leaf('b')])],
                ),
                TreeNode::leaf('e'),
            ],
        );
        let b = t(
            'f',
            vec![
                t(
                    'c',
                    vec![t('d', vec![TreeNode::leaf('a'), TreeNode::leaf('b')])],
                ),
                TreeNode::leaf('e'),
            ],
        );
        assert_eq!(tree_edit_distance(&a, &b, &Unit), 2.0);
        assert_eq!(tree_edit_distance(&a, &a, &Unit), 0.0);
    }

    #[test]
    fn distance_to_a_single_node_is_size_minus_one_plus_rename() {
        let a = t(
            'r',
            vec![TreeNode::leaf('x'), t('y', vec![TreeNode::leaf('z')])],
        );
        let b = TreeNode::leaf('r');
        assert_eq!(tree_edit_distance(&a, &b, &Unit), 3.0);
        assert_eq!(tree_edit_distance(&b, &a, &Unit), 3.0);
    }

    #[test]
    fn deep_chain_does_not_overflow_the_stack() {
        let mut deep = TreeNode::leaf('a');
        for _ in 0..5_000 {
            deep = t('a', vec![deep]);
        }
        // Annotation is iterative; a chain against a leaf is all deletions.
        assert_eq!(Annotated::new(&deep).labels.len(), 5_001);
        let small = TreeNode::leaf('a');
        assert_eq!(tree_edit_distance(&deep, &small, &Unit), 5_000.0);
    }
}

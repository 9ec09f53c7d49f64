//! Minimum-cost assignment: SciPy's `linear_sum_assignment`.
//!
//! The shortest-augmenting-path algorithm of Crouse (2016) as SciPy implements it
//! (`scipy/optimize/_lsap.py`, `rectangular_lsap.cpp`), with the same scan order and tie
//! rules, so that among several optimal assignments it returns SciPy's.

/// The solver's state for an `nr x nc` problem with `nr <= nc`.
struct Lsap<'a> {
    nc: usize,
    cost: &'a [f64],
    u: Vec<f64>,
    v: Vec<f64>,
    shortest: Vec<f64>,
    path: Vec<usize>,
    col4row: Vec<Option<usize>>,
    row4col: Vec<Option<usize>>,
    sr: Vec<bool>,
    sc: Vec<bool>,
    remaining: Vec<usize>,
}

impl<'a> Lsap<'a> {
    fn new(cost: &'a [f64], nr: usize, nc: usize) -> Self {
        Lsap {
            nc,
            cost,
            u: vec![0.0; nr],
            v: vec![0.0; nc],
            shortest: vec![0.0; nc],
            path: vec![usize::MAX; nc],
            col4row: vec![None; nr],
            row4col: vec![None; nc],
            sr: vec![false; nr],
            sc: vec![false; nc],
            remaining: vec![0; nc],
        }
    }

    /// The sink column of the shortest augmenting path from row `i`, and its length.
    fn augmenting_path(&mut self, mut i: usize) -> Option<(usize, f64)> {
        let nc = self.nc;
        let mut min_val = 0.0;
        let mut num_remaining = nc;
        for (it, r) in self.remaining.iter_mut().enumerate() {
            // Reverse order, so a constant matrix gives the identity (SciPy #11602).
            *r = nc - it - 1;
        }
        self.sr.fill(false);
        self.sc.fill(false);
        self.shortest.fill(f64::INFINITY);
        loop {
            let mut index = usize::MAX;
            let mut lowest = f64::INFINITY;
            self.sr[i] = true;
            for (it, &j) in self.remaining[..num_remaining].iter().enumerate() {
                let r = min_val + self.cost[i * nc + j] - self.u[i] - self.v[j];
                if r < self.shortest[j] {
                    self.path[j] = i;
                    self.shortest[j] = r;
                }
                if self.shortest[j] < lowest
                    || (self.shortest[j] == lowest && self.row4col[j].is_none())
                {
                    lowest = self.shortest[j];
                    index = it;
                }
            }
            min_val = lowest;
            if min_val == f64::INFINITY {
                return None;
            }
            let j = self.remaining[index];
            self.sc[j] = true;
            num_remaining -= 1;
            self.remaining[index] = self.remaining[num_remaining];
            match self.row4col[j] {
                None => return Some((j, min_val)),
                Some(row) => i = row,
            }
        }
    }

    fn solve(&mut self) -> Option<()> {
        let nr = self.u.len();
        for cur in 0..nr {
            let (sink, min_val) = self.augmenting_path(cur)?;
            self.u[cur] += min_val;
            for i in 0..nr {
                if let (true, Some(c)) = (self.sr[i] && i != cur, self.col4row[i]) {
                    self.u[i] += min_val - self.shortest[c];
                }
            }
            for j in 0..self.nc {
                if self.sc[j] {
                    self.v[j] -= min_val - self.shortest[j];
                }
            }
            let mut j = sink;
            loop {
                let i = self.path[j];
                self.row4col[j] = Some(i);
                let prev = self.col4row[i].replace(j);
                if i == cur {
                    break;
                }
                j = prev?;
            }
        }
        Some(())
    }
}

/// Solves the rectangular assignment problem for `cost` (`rows` x `cols`, row-major):
/// returns `(row, col)` pairs, `min(rows, cols)` of them, sorted by row, minimising the
/// summed cost, as SciPy's `linear_sum_assignment(cost)` does. `None` when a cost is NaN
/// or minus infinity, or no finite assignment exists.
///
/// # Panics
/// When `cost.len() != rows * cols`.
///
/// ```
/// use whet_eval_metrics::ocr::linear_sum_assignment;
/// let cost = [4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 3.0, 2.0, 2.0];
/// assert_eq!(linear_sum_assignment(&cost, 3, 3).unwrap(), [(0, 1), (1, 0), (2, 2)]);
/// ```
pub fn linear_sum_assignment(
    cost: &[f64],
    rows: usize,
    cols: usize,
) -> Option<Vec<(usize, usize)>> {
    assert_eq!(cost.len(), rows * cols, "cost must hold rows * cols values");
    if rows == 0 || cols == 0 {
        return Some(Vec::new());
    }
    let transpose = cols < rows;
    let (nr, nc) = if transpose {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let transposed: Vec<f64>;
    let cost: &[f64] = if transpose {
        let mut t = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                t[j * rows + i] = cost[i * cols + j];
            }
        }
        transposed = t;
        &transposed
    } else {
        cost
    };
    if cost.iter().any(|c| c.is_nan() || *c == f64::NEG_INFINITY) {
        return None;
    }
    let mut lsap = Lsap::new(cost, nr, nc);
    lsap.solve()?;
    let mut pairs: Vec<(usize, usize)> = lsap
        .col4row
        .iter()
        .enumerate()
        .filter_map(|(r, c)| c.map(|c| if transpose { (c, r) } else { (r, c) }))
        .collect();
    pairs.sort_unstable();
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangular_both_ways() {
        // 2 x 3 and its transpose give the same pairs.
        let c = [1.0, 2.0, 0.5, 0.0, 9.0, 9.0];
        assert_eq!(linear_sum_assignment(&c, 2, 3).unwrap(), [(0, 2), (1, 0)]);
        let t = [1.0, 0.0, 2.0, 9.0, 0.5, 9.0];
        assert_eq!(linear_sum_assignment(&t, 3, 2).unwrap(), [(0, 1), (2, 0)]);
    }

    #[test]
    fn constant_matrix_gives_identity() {
        let c = [0.0; 9];
        assert_eq!(
            linear_sum_assignment(&c, 3, 3).unwrap(),
            [(0, 0), (1, 1), (2, 2)]
        );
    }

    #[test]
    fn nan_is_refused() {
        assert!(linear_sum_assignment(&[f64::NAN], 1, 1).is_none());
    }
}

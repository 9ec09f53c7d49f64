//! The Munkres (Hungarian) algorithm as the `munkres` package (1.1.4) runs it, step for
//! step, so that among equally good assignments it picks the same one: ANLS* matches list
//! items with it, and its choice among ties decides which ground truth is reported.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    None,
    Star,
    Prime,
}

struct State {
    c: Vec<Vec<f64>>,
    n: usize,
    row_covered: Vec<bool>,
    col_covered: Vec<bool>,
    marked: Vec<Vec<Mark>>,
    z0: (usize, usize),
}

impl State {
    fn clear_covers(&mut self) {
        self.row_covered.fill(false);
        self.col_covered.fill(false);
    }

    fn step1(&mut self) {
        for row in &mut self.c {
            let min = row.iter().copied().fold(f64::INFINITY, f64::min);
            for v in row.iter_mut() {
                *v -= min;
            }
        }
    }

    fn step2(&mut self) {
        for i in 0..self.n {
            for j in 0..self.n {
                if self.c[i][j] == 0.0 && !self.col_covered[j] && !self.row_covered[i] {
                    self.marked[i][j] = Mark::Star;
                    self.col_covered[j] = true;
                    self.row_covered[i] = true;
                    break;
                }
            }
        }
        self.clear_covers();
    }

    /// Covers starred columns; true when the assignment is complete.
    fn step3(&mut self) -> bool {
        let mut count = 0;
        for i in 0..self.n {
            for j in 0..self.n {
                if self.marked[i][j] == Mark::Star && !self.col_covered[j] {
                    self.col_covered[j] = true;
                    count += 1;
                }
            }
        }
        count >= self.n
    }

    /// `__find_a_zero`: scans rows from `i0` and, in the first row with an uncovered zero,
    /// columns from `j0`, keeping the last uncovered zero of that row's scan.
    fn find_a_zero(&self, i0: usize, j0: usize) -> Option<(usize, usize)> {
        let n = self.n;
        let mut found = None;
        let mut i = i0;
        loop {
            let mut j = j0;
            loop {
                if self.c[i][j] == 0.0 && !self.row_covered[i] && !self.col_covered[j] {
                    found = Some((i, j));
                }
                j = (j + 1) % n;
                if j == j0 {
                    break;
                }
            }
            if found.is_some() {
                return found;
            }
            i = (i + 1) % n;
            if i == i0 {
                return None;
            }
        }
    }

    fn find_in_row(&self, row: usize, mark: Mark) -> Option<usize> {
        (0..self.n).find(|&j| self.marked[row][j] == mark)
    }

    fn find_star_in_col(&self, col: usize) -> Option<usize> {
        (0..self.n).find(|&i| self.marked[i][col] == Mark::Star)
    }

    /// Step 4: returns true to go to step 5, false for step 6.
    fn step4(&mut self) -> bool {
        let (mut row, mut col) = (0, 0);
        loop {
            match self.find_a_zero(row, col) {
                None => return false,
                Some((r, c)) => {
                    row = r;
                    self.marked[r][c] = Mark::Prime;
                    match self.find_in_row(r, Mark::Star) {
                        Some(star_col) => {
                            col = star_col;
                            self.row_covered[r] = true;
                            self.col_covered[star_col] = false;
                        }
                        None => {
                            self.z0 = (r, c);
                            return true;
                        }
                    }
                }
            }
        }
    }

    fn step5(&mut self) {
        let mut path = vec![self.z0];
        while let Some(row) = self.find_star_in_col(path[path.len() - 1].1) {
            let col = path[path.len() - 1].1;
            path.push((row, col));
            let prime = self.find_in_row(row, Mark::Prime).unwrap_or(usize::MAX);
            path.push((row, prime));
        }
        for &(r, c) in &path {
            if c == usize::MAX {
                continue;
            }
            self.marked[r][c] = if self.marked[r][c] == Mark::Star {
                Mark::None
            } else {
                Mark::Star
            };
        }
        self.clear_covers();
        for row in &mut self.marked {
            for m in row.iter_mut() {
                if *m == Mark::Prime {
                    *m = Mark::None;
                }
            }
        }
    }

    /// Step 6; false when the matrix cannot be solved (no change possible).
    fn step6(&mut self) -> bool {
        let mut min = f64::MAX;
        for i in 0..self.n {
            for j in 0..self.n {
                if !self.row_covered[i] && !self.col_covered[j] && min > self.c[i][j] {
                    min = self.c[i][j];
                }
            }
        }
        let mut events = 0i64;
        for i in 0..self.n {
            for j in 0..self.n {
                if self.row_covered[i] {
                    self.c[i][j] += min;
                    events += 1;
                }
                if !self.col_covered[j] {
                    self.c[i][j] -= min;
                    events += 1;
                }
                if self.row_covered[i] && !self.col_covered[j] {
                    events -= 2;
                }
            }
        }
        events != 0
    }
}

/// `Munkres().compute(make_cost_matrix(profit))`: the assignment maximising the summed
/// profit of a (possibly rectangular) `rows x cols` profit matrix, as `(row, col)` pairs
/// in row order. Empty for an empty matrix.
pub(crate) fn maximise(profit: &[Vec<f64>]) -> Vec<(usize, usize)> {
    let rows = profit.len();
    let cols = profit.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    // make_cost_matrix: cost = max(profit) - value; pad_matrix: square, padded with 0.
    let maximum = profit
        .iter()
        .map(|r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .fold(f64::NEG_INFINITY, f64::max);
    let n = rows.max(cols);
    let mut c = vec![vec![0.0; n]; n];
    for (i, row) in profit.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            c[i][j] = maximum - v;
        }
    }
    let mut s = State {
        c,
        n,
        row_covered: vec![false; n],
        col_covered: vec![false; n],
        marked: vec![vec![Mark::None; n]; n],
        z0: (0, 0),
    };
    s.step1();
    s.step2();
    loop {
        if s.step3() {
            break;
        }
        loop {
            if s.step4() {
                s.step5();
                break;
            }
            if !s.step6() {
                // The package raises UnsolvableMatrix; finite matrices never get here.
                return Vec::new();
            }
        }
    }
    let mut out = Vec::new();
    for i in 0..rows {
        for j in 0..cols {
            if s.marked[i][j] == Mark::Star {
                out.push((i, j));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::maximise;

    #[test]
    fn picks_the_best_total() {
        let p = vec![vec![1.0, 0.9], vec![0.95, 0.0]];
        assert_eq!(maximise(&p), [(0, 1), (1, 0)]);
        let tall = vec![vec![0.1], vec![0.8], vec![0.3]];
        assert_eq!(maximise(&tall), [(1, 0)]);
    }
}

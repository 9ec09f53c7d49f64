//! The order in which samples are read: a seeded shuffle per epoch, cut into batches.
//! A [`DataCursor`] (epoch, batch) fully determines what comes next, which is what makes
//! resuming exact.

use rand::seq::SliceRandom;

use super::checkpoint::DataCursor;
use crate::seed::Seed;

/// Batches of sample indices, epoch after epoch.
#[derive(Debug)]
pub(crate) struct DataOrder {
    seed: Seed,
    len: usize,
    batch_size: usize,
    drop_last: bool,
    epoch: Option<(usize, Vec<usize>)>,
}

impl DataOrder {
    pub(crate) fn new(seed: Seed, len: usize, batch_size: usize, drop_last: bool) -> Self {
        DataOrder {
            seed,
            len,
            batch_size,
            drop_last,
            epoch: None,
        }
    }

    /// Batches per epoch.
    pub(crate) fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.len / self.batch_size
        } else {
            self.len.div_ceil(self.batch_size)
        }
    }

    fn permutation(&mut self, epoch: usize) -> &[usize] {
        if self.epoch.as_ref().map(|(e, _)| *e) != Some(epoch) {
            let mut order: Vec<usize> = (0..self.len).collect();
            order.shuffle(
                &mut self
                    .seed
                    .derive("data-order")
                    .derive(&epoch.to_string())
                    .rng(),
            );
            self.epoch = Some((epoch, order));
        }
        self.epoch
            .as_ref()
            .map(|(_, o)| o.as_slice())
            .unwrap_or(&[])
    }

    /// The indices of the batch at `cursor`, and advances it. `None` when an epoch has no
    /// batch at all (fewer samples than a batch with `drop_last`).
    pub(crate) fn next(&mut self, cursor: &mut DataCursor) -> Option<Vec<usize>> {
        let per_epoch = self.batches_per_epoch();
        if per_epoch == 0 {
            return None;
        }
        if cursor.batch >= per_epoch {
            cursor.epoch += 1;
            cursor.batch = 0;
        }
        let batch_size = self.batch_size;
        let start = cursor.batch * batch_size;
        let order = self.permutation(cursor.epoch);
        let end = (start + batch_size).min(order.len());
        let batch = order[start..end].to_vec();
        cursor.batch += 1;
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_cover_every_sample_once_and_differ() {
        let mut order = DataOrder::new(Seed::new(1), 10, 3, false);
        let mut cursor = DataCursor::default();
        let mut epoch0: Vec<usize> = (0..4)
            .flat_map(|_| order.next(&mut cursor).unwrap())
            .collect();
        let mut epoch1: Vec<usize> = (0..4)
            .flat_map(|_| order.next(&mut cursor).unwrap())
            .collect();
        assert_eq!(cursor, DataCursor { epoch: 1, batch: 4 });
        assert_ne!(epoch0, epoch1);
        epoch0.sort();
        epoch1.sort();
        assert_eq!(epoch0, (0..10).collect::<Vec<_>>());
        assert_eq!(epoch1, epoch0);
    }

    #[test]
    fn a_cursor_replays_the_same_batches() {
        let mut a = DataOrder::new(Seed::new(5), 17, 4, true);
        let mut cursor = DataCursor::default();
        let all: Vec<Vec<usize>> = (0..10).map(|_| a.next(&mut cursor).unwrap()).collect();
        // A fresh order started from a saved cursor continues identically.
        let mut saved = DataCursor { epoch: 1, batch: 2 };
        let mut b = DataOrder::new(Seed::new(5), 17, 4, true);
        assert_eq!(b.next(&mut saved).unwrap(), all[6]);
        assert!(
            DataOrder::new(Seed::new(5), 3, 4, true)
                .next(&mut DataCursor::default())
                .is_none()
        );
    }
}

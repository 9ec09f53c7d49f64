//! Batches in the run's data order, prepared on the training thread or ahead of it on a
//! worker, each with a generator seeded by its place in that order.

use std::sync::mpsc::{Receiver, SyncSender};

use burn::tensor::Device;

use super::checkpoint::DataCursor;
use super::order::DataOrder;
use super::step::{Batcher, Dataset};
use crate::error::{Error, Result};
use crate::seed::Seed;

/// A batch ready for the step.
pub(crate) struct Prepared<B> {
    pub(crate) batch: B,
    /// Samples in it.
    pub(crate) samples: usize,
    /// The data position after it.
    pub(crate) cursor: DataCursor,
}

/// Reads samples in the run's order and batches them, each batch with a generator
/// seeded by its position in that order.
pub(crate) struct Loader {
    pub(crate) order: DataOrder,
    pub(crate) seed: Seed,
    pub(crate) cursor: DataCursor,
    pub(crate) device: Device,
}

impl Loader {
    pub(crate) fn next<I, B>(
        &mut self,
        data: &dyn Dataset<I>,
        batcher: &(dyn Batcher<I, B> + Sync),
    ) -> Result<Prepared<B>> {
        let indices = self
            .order
            .next(&mut self.cursor)
            .ok_or_else(|| Error::Dataset {
                reason: "no batch available".into(),
            })?;
        // The batch just read: `next` left the cursor one past it.
        let (epoch, batch) = (self.cursor.epoch, self.cursor.batch - 1);
        let items = indices
            .iter()
            .map(|&i| {
                data.get(i).ok_or_else(|| Error::Dataset {
                    reason: format!(
                        "sample {i} missing (dataset reports {} samples)",
                        data.len()
                    ),
                })
            })
            .collect::<Result<Vec<I>>>()?;
        let mut rng = self
            .seed
            .derive("batch")
            .derive(&format!("{epoch}/{batch}"))
            .rng();
        Ok(Prepared {
            batch: batcher.batch_with_rng(items, &mut rng, &self.device),
            samples: indices.len(),
            cursor: self.cursor,
        })
    }

    /// Sends batches until the receiver hangs up or a batch fails.
    pub(crate) fn produce<I, B>(
        mut self,
        data: &dyn Dataset<I>,
        batcher: &(dyn Batcher<I, B> + Sync),
        tx: &SyncSender<Result<Prepared<B>>>,
    ) {
        loop {
            let next = self.next(data, batcher);
            let failed = next.is_err();
            if tx.send(next).is_err() || failed {
                return;
            }
        }
    }
}

/// Where the loop takes its batches from.
pub(crate) enum Batches<B> {
    /// Prepared on the training thread when needed.
    Inline(Loader),
    /// Prepared ahead on a worker thread.
    Prefetched(Receiver<Result<Prepared<B>>>),
}

impl<B> Batches<B> {
    pub(crate) fn next<I>(
        &mut self,
        data: &dyn Dataset<I>,
        batcher: &(dyn Batcher<I, B> + Sync),
    ) -> Result<Prepared<B>> {
        match self {
            Batches::Inline(loader) => loader.next(data, batcher),
            Batches::Prefetched(rx) => rx.recv().map_err(|_| Error::Dataset {
                reason: "the batch worker stopped (a batcher panicked?)".into(),
            })?,
        }
    }
}

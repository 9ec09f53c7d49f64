//! Documents to train and measure extraction on: synthetic documents printed by
//! synth-docs, each with its OCR lines and its grounded answer; their instruction pairs;
//! and Donut's field F1 of a model's extractions against the answers.

use std::time::Instant;

use burn::tensor::Device;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use whet_core::burn;
use whet_eval_metrics::extraction::{DonutF1, donut_f1};
use whet_synth_docs::{
    DocKind, Document, FontSet, Generator, GeneratorConfig, ReceiptLayout, render_receipt,
};

use crate::constrain::Grammars;
use crate::error::{Error, Result};
use crate::extract::{ExtractConfig, Extraction, extract};
use crate::layout::OcrPage;
use crate::model::LlamaForCausalLM;
use crate::pairs::{InstructionPair, instruction_pairs};
use crate::target::{grounded_target, strip_grounding};
use crate::tokenizer::Tokenizer;

/// One document to extract: its kind, its lines, the true grounded answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractionDoc {
    /// The synthetic document.
    pub document: Document,
    /// Its printed lines.
    pub page: OcrPage,
    /// The grounded answer ([`grounded_target`]).
    pub target: Value,
}

/// Documents with true answers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtractionSet {
    /// The documents.
    pub docs: Vec<ExtractionDoc>,
}

/// How a model extracts a set: Donut's field F1 over the plain values, and what the
/// checks made of its answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractionReport {
    /// Field F1 (micro over documents) of the plain answers.
    pub f1: DonutF1,
    /// Documents read.
    pub documents: usize,
    /// Answers that did not parse (counted as empty).
    pub failed: usize,
    /// Documents sent to review.
    pub needs_review: usize,
    /// Values not printed on the page (confidence 0).
    pub not_on_page: usize,
    /// Values in all.
    pub values: usize,
    /// Mean seconds per document.
    pub seconds_per_document: f64,
}

impl ExtractionSet {
    /// `n` documents of `config` from `seed` (documents `0..n` of synth-docs' generator),
    /// printed on 58 mm receipt paper in the first font of `fonts`, with their true lines.
    ///
    /// # Errors
    /// [`Error::Input`] for a generator config synth-docs refuses or a page it cannot
    /// render.
    pub fn synthetic(seed: u64, n: u64, config: &GeneratorConfig, fonts: &FontSet) -> Result<Self> {
        Self::synthetic_in(seed, n, config, fonts, &[ReceiptLayout::THERMAL_58MM])
    }

    /// As [`ExtractionSet::synthetic`], document `i` printed in `layouts[i % len]`: the
    /// same documents on other papers and type sizes, where long names, addresses and
    /// descriptions wrap onto two or more lines (as on most real receipts), or in
    /// capitals ([`ExtractionSet::training_layouts`]).
    ///
    /// # Errors
    /// As [`ExtractionSet::synthetic`]; [`Error::Input`] for no layouts.
    pub fn synthetic_in(
        seed: u64,
        n: u64,
        config: &GeneratorConfig,
        fonts: &FontSet,
        layouts: &[ReceiptLayout],
    ) -> Result<Self> {
        let bad = |e: whet_synth_docs::Error| Error::Input {
            reason: format!("synthetic documents: {e}"),
        };
        if layouts.is_empty() {
            return Err(Error::Input {
                reason: "synthetic documents: no receipt layout given".into(),
            });
        }
        let generator = Generator::new(seed, config.clone()).map_err(bad)?;
        let docs = generator
            .documents(n)
            .zip(layouts.iter().cycle())
            .map(|(mut document, layout)| {
                if layout.style.upper_case {
                    document.upper_case();
                }
                let printed = render_receipt(&document, fonts, *layout).map_err(bad)?;
                let page = OcrPage::from_synthetic(&printed);
                let target = grounded_target(&document, &page);
                Ok(ExtractionDoc {
                    document,
                    page,
                    target,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ExtractionSet { docs })
    }

    /// The layouts training documents are printed in: 58 mm paper in its regular type
    /// (twice: the layout held-out documents use), in large type (addresses wrap onto
    /// two lines), in capitals on a narrower roll (names, addresses and descriptions
    /// wrap, as on many shop receipts), and 80 mm paper.
    pub fn training_layouts() -> Vec<ReceiptLayout> {
        let base = ReceiptLayout::THERMAL_58MM;
        let mut capitals = ReceiptLayout {
            width: 320,
            font_px: 22.0,
            ..base
        };
        capitals.style.upper_case = true;
        vec![
            base,
            ReceiptLayout {
                font_px: 26.0,
                ..base
            },
            base,
            capitals,
            ReceiptLayout::THERMAL_80MM,
        ]
    }

    /// Five instruction pairs per document ([`instruction_pairs`]).
    pub fn pairs(&self, rng: &mut impl Rng) -> Vec<InstructionPair> {
        self.docs
            .iter()
            .flat_map(|d| instruction_pairs(&d.document, &d.page, rng))
            .collect()
    }

    /// Extracts every document with `model` ([`extract`]) and scores the plain values
    /// with Donut's field F1; `on_doc` sees each extraction (or `None` for an answer that
    /// did not parse).
    ///
    /// # Errors
    /// As [`extract`], but an answer that does not parse counts as empty.
    pub fn evaluate(
        &self,
        model: &LlamaForCausalLM,
        tokenizer: &Tokenizer,
        grammars: &Grammars,
        config: &ExtractConfig,
        device: &Device,
        mut on_doc: impl FnMut(usize, Option<&Extraction>),
    ) -> Result<ExtractionReport> {
        let started = Instant::now();
        let (mut preds, mut truths) = (Vec::new(), Vec::new());
        let (mut failed, mut review, mut absent, mut values) = (0, 0, 0, 0);
        for (i, d) in self.docs.iter().enumerate() {
            let kind: DocKind = d.document.kind;
            match extract(model, tokenizer, grammars, &d.page, kind, config, device) {
                Ok(x) => {
                    review += usize::from(x.needs_review);
                    values += x.values.len();
                    absent += x
                        .values
                        .iter()
                        .filter(|v| v.flags.contains(&crate::extract::Flag::NotOnPage))
                        .count();
                    on_doc(i, Some(&x));
                    preds.push(x.json);
                }
                Err(Error::Grammar { reason }) => {
                    tracing::warn!(document = i, reason, "answer did not parse");
                    failed += 1;
                    on_doc(i, None);
                    preds.push(Value::Null);
                }
                Err(e) => return Err(e),
            }
            truths.push(strip_grounding(&d.target));
        }
        Ok(ExtractionReport {
            f1: donut_f1(&preds, &truths),
            documents: self.docs.len(),
            failed,
            needs_review: review,
            not_on_page: absent,
            values,
            seconds_per_document: started.elapsed().as_secs_f64() / self.docs.len().max(1) as f64,
        })
    }
}

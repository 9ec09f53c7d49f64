//! The grounded grammar of a page lets through every true answer of synth-docs'
//! documents (so decoding under it can write them) and nothing a model could get wrong
//! about the page: a value with a line's coordinates copied on, an item below the
//! subtotal, a number field holding more than a number, a value the page does not print,
//! a line cited for a value it does not hold, an item repeated, an item skipped, a
//! time taken into a date. The
//! documents are printed in every training layout (wrapped names, addresses and
//! descriptions; capitals).

use std::path::Path;

use serde_json::{Value, json};
use whet_core::gguf::Gguf;
use whet_synth_docs::{FontSet, GeneratorConfig};
use whet_vlm_lora::{ExtractionSet, Grammars, Tokenizer, grounded_grammar};

fn tokenizer() -> Tokenizer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf");
    let file = Gguf::open(path).expect("scripts/assets.sh fetches SmolLM2-135M-Instruct");
    Tokenizer::from_gguf(&file).unwrap()
}

/// Whether the grammar of `doc`'s page takes `answer` (serialised compactly) whole.
fn accepts(
    grammars: &Grammars,
    tok: &Tokenizer,
    doc: &whet_vlm_lora::ExtractionDoc,
    answer: &Value,
) -> bool {
    let mut c = grammars
        .lark(&grounded_grammar(doc.document.kind, &doc.page))
        .unwrap();
    let text = serde_json::to_string(answer).unwrap();
    for t in tok.encode(&text, false).unwrap() {
        if c.consume(t).is_err() {
            return false;
        }
    }
    c.is_accepting()
}

#[test]
fn true_answers_pass_and_ungrounded_ones_do_not() {
    let tok = tokenizer();
    let grammars = Grammars::new(&tok, tok.vocab_size()).unwrap();
    let fonts = FontSet::system().expect("a TrueType font (Debian: fonts-dejavu-core)");
    let set = ExtractionSet::synthetic_in(
        77,
        40,
        &GeneratorConfig::philippine_receipts(),
        &fonts,
        &ExtractionSet::training_layouts(),
    )
    .unwrap();
    let mut skipped = 0;
    let mut wrapped = 0;
    for doc in &set.docs {
        assert!(accepts(&grammars, &tok, doc, &doc.target), "{}", doc.target);
        wrapped += usize::from(
            doc.target["seller_address"]
                .as_array()
                .is_some_and(|a| a.len() > 2),
        );

        // The seller's name with its line's coordinates copied on.
        let mut bad = doc.target.clone();
        let line = bad["seller_name"][1].as_u64().unwrap() as usize;
        let [x, y] = doc.page.centre(line).unwrap();
        let name = bad["seller_name"][0].as_str().unwrap().to_owned();
        bad["seller_name"][0] = json!(format!("{name} {x}|{y}"));
        assert!(!accepts(&grammars, &tok, doc, &bad), "{bad}");

        // A quantity with its unit price copied on (`4 x 16.25`): on the page, not a number.
        let mut bad = doc.target.clone();
        let q = &bad["items"][0]["quantity"];
        let row = doc.page.lines[q[1].as_u64().unwrap() as usize].text.clone();
        if row != q[0].as_str().unwrap() {
            bad["items"][0]["quantity"][0] = json!(row);
            assert!(!accepts(&grammars, &tok, doc, &bad), "{bad}");
        }

        // A total the page does not print.
        let mut bad = doc.target.clone();
        bad["total"][0] = json!("123,456.78");
        assert!(!accepts(&grammars, &tok, doc, &bad));

        // The right total cited to the seller's line.
        let mut bad = doc.target.clone();
        bad["total"][1] = json!(line);
        assert!(!accepts(&grammars, &tok, doc, &bad));

        // An item described from the total's line, below the subtotal.
        let mut bad = doc.target.clone();
        let total = bad["total"].clone();
        let items = bad["items"].as_array_mut().unwrap();
        let mut extra = items[items.len() - 1].clone();
        extra["description"] = total;
        items.push(extra);
        assert!(!accepts(&grammars, &tok, doc, &bad), "{bad}");

        // The second item described inside the first one's rows (its quantity row, above
        // its amount).
        let mut bad = doc.target.clone();
        if bad["items"].as_array().unwrap().len() > 1 {
            let q = bad["items"][0]["quantity"][1].as_u64().unwrap() as usize;
            let a = bad["items"][0]["amount"][1].as_u64().unwrap() as usize;
            if q < a {
                bad["items"][1]["description"] = json!([doc.page.lines[q].text, q]);
                assert!(!accepts(&grammars, &tok, doc, &bad), "{bad}");
            }
        }

        // The second item left out, when more than three lines lie between the first
        // item's amount and the third item's description.
        let mut bad = doc.target.clone();
        let items = bad["items"].as_array_mut().unwrap();
        if items.len() > 2 {
            let line = |v: &Value| v[1].as_u64().unwrap();
            let gap = line(&items[2]["description"]) - line(&items[0]["amount"]);
            if gap > 3 {
                items.remove(1);
                assert!(!accepts(&grammars, &tok, doc, &bad), "{bad}");
                skipped += 1;
            }
        }

        // A date printed with a time after it (`25/12/2018 8:13:39 PM`): the date is
        // the date alone.
        let mut timed = doc.clone();
        let d = doc.target["date"][1].as_u64().unwrap() as usize;
        timed.page.lines[d].text = "25/12/2018 8:13:39 PM".into();
        let mut good = doc.target.clone();
        good["date"][0] = json!("25/12/2018");
        assert!(accepts(&grammars, &tok, &timed, &good), "{good}");
        let mut bad = good.clone();
        bad["date"][0] = json!("25/12/2018 8:13:39 PM");
        assert!(!accepts(&grammars, &tok, &timed, &bad), "{bad}");
        // Nor the year alone.
        bad["date"][0] = json!("2018");
        assert!(!accepts(&grammars, &tok, &timed, &bad), "{bad}");

        // The first item written again at the end.
        let mut bad = doc.target.clone();
        let items = bad["items"].as_array_mut().unwrap();
        let first = items[0].clone();
        items.push(first);
        assert!(!accepts(&grammars, &tok, doc, &bad));
    }
    assert!(skipped > 10, "only {skipped} documents test a skipped item");
    assert!(
        wrapped > 0,
        "no wrapped address among the 40: the runs went untested"
    );
}

//! Completion-only supervised fine-tuning of SmolLM2-135M with LoRA: labels mask the
//! prompt, the loss scores exactly the completion under left padding, training lowers
//! it, and a stopped run resumes bit-exactly.

use std::path::PathBuf;

use whet_core::burn::tensor::{Device, Tensor};
use whet_core::gguf::Gguf;
use whet_core::run::RunDir;
use whet_core::train::{Control, ScheduleConfig, Trainer};
use whet_vlm_lora::{
    ChatMessage, IGNORE_INDEX, LlamaForCausalLM, Precision, SftBatch, SftConfig, SftExample,
    Tokenizer, completion_loss, finetune_with,
};

fn gguf() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
}

fn conversation(q: &str, a: &str) -> Vec<ChatMessage> {
    vec![
        ChatMessage::new("user", q),
        ChatMessage::new("assistant", a),
    ]
}

fn examples(tokenizer: &Tokenizer) -> Vec<SftExample> {
    [
        ("Total of: 0: TOTAL 12.50", "[\"12.50\", 0]"),
        ("Date of: 0: No. 41 1: 2024-03-09", "[\"2024-03-09\", 1]"),
        (
            "Seller of: 0: ALING NENA STORE 1: Quezon City",
            "[\"ALING NENA STORE\", 0]",
        ),
        (
            "Total of: 0: SUBTOTAL 1: 99.00 2: TOTAL 3: 99.00",
            "[\"99.00\", 3]",
        ),
    ]
    .iter()
    .map(|(q, a)| SftExample::from_messages(tokenizer, &conversation(q, a), None).unwrap())
    .collect()
}

#[test]
fn labels_mask_the_prompt_and_keep_the_answer_and_its_end() {
    let file = Gguf::open(gguf()).unwrap();
    let tokenizer = Tokenizer::from_gguf(&file).unwrap();
    let messages = conversation("What is the total?", "{\"total\": \"12.50\"}");
    let ex = SftExample::from_messages(&tokenizer, &messages, None).unwrap();
    let prompt = tokenizer.apply_chat_template(&messages[..1], true).unwrap();
    let prompt_ids = tokenizer.encode(&prompt, true).unwrap();
    assert_eq!(ex.input_ids.len(), ex.labels.len());
    assert!(
        ex.labels[..prompt_ids.len()]
            .iter()
            .all(|&l| l == IGNORE_INDEX)
    );
    let completion: Vec<u32> = ex.labels[prompt_ids.len()..]
        .iter()
        .map(|&l| u32::try_from(l).unwrap())
        .collect();
    assert_eq!(completion, ex.input_ids[prompt_ids.len()..]);
    assert_eq!(
        tokenizer.decode(&completion, false).unwrap(),
        "{\"total\": \"12.50\"}<|im_end|>\n"
    );
    assert_eq!(ex.scored_tokens(), completion.len());
    let cut = SftExample::from_messages(&tokenizer, &messages, Some(prompt_ids.len() + 2)).unwrap();
    assert_eq!(cut.scored_tokens(), 2);
    assert!(SftExample::from_messages(&tokenizer, &messages[..1], None).is_err());
}

#[test]
fn the_loss_scores_exactly_the_completion_under_left_padding_and_padding_free() {
    let device = Device::flex();
    let file = Gguf::open(gguf()).unwrap();
    let tokenizer = Tokenizer::from_gguf(&file).unwrap();
    let model = LlamaForCausalLM::from_gguf_file(&file, Precision::F32, &device).unwrap();
    let exs = examples(&tokenizer);
    let batch = SftBatch::new(&exs[..2]);
    let (loss, n) = completion_loss(&model, &batch, &device).unwrap();
    let loss = loss.into_scalar::<f32>() as f64;
    // The same from each row alone, through the whole output head.
    let (mut want, mut count) = (0.0f64, 0);
    for ex in &exs[..2] {
        let logits: Tensor<3> = model
            .forward(std::slice::from_ref(&ex.input_ids), None, &device)
            .unwrap();
        let [_, s, v] = logits.dims();
        let values = logits
            .reshape([s, v])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for t in 1..s {
            if ex.labels[t] == IGNORE_INDEX {
                continue;
            }
            let row = &values[(t - 1) * v..t * v];
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse = max
                + row
                    .iter()
                    .map(|&x| (x as f64 - max).exp())
                    .sum::<f64>()
                    .ln();
            want += lse - row[ex.labels[t] as usize] as f64;
            count += 1;
        }
    }
    assert_eq!(n, count);
    assert!((loss - want).abs() <= 1e-3 * want, "{loss} vs {want}");

    // Padding-free: the same examples back to back in one row, positions restarting.
    let packed = SftBatch::padding_free(&exs[..2]);
    assert_eq!(packed.ids.len(), 1);
    assert_eq!(packed.targets, batch.targets);
    let (packed_loss, packed_n) = completion_loss(&model, &packed, &device).unwrap();
    let packed_loss = packed_loss.into_scalar::<f32>() as f64;
    assert_eq!(packed_n, count);
    assert!(
        (packed_loss - want).abs() <= 1e-3 * want,
        "{packed_loss} vs {want}"
    );
    // Without the restart and the mask the second example would see the first.
    let joined = SftBatch {
        segments: Some(vec![packed.ids[0].len()]),
        ..packed.clone()
    };
    let (joined_loss, _) = completion_loss(&model, &joined, &device).unwrap();
    let joined_loss = joined_loss.into_scalar::<f32>() as f64;
    assert!(
        (joined_loss - want).abs() > 1e-2 * want,
        "{joined_loss} vs {want}"
    );
}

/// `steps` steps on the four examples (constant rate), stopping at `stop_at`; the
/// adapters' weights and the losses.
fn train(run: RunDir, steps: usize, stop_at: Option<usize>) -> (Vec<Vec<f32>>, Vec<f64>) {
    train_over(Precision::F32, run, steps, stop_at)
}

/// [`train`] over the base held in `precision`.
fn train_over(
    precision: Precision,
    run: RunDir,
    steps: usize,
    stop_at: Option<usize>,
) -> (Vec<Vec<f32>>, Vec<f64>) {
    let device = Device::flex().autodiff();
    let file = Gguf::open(gguf()).unwrap();
    let tokenizer = Tokenizer::from_gguf(&file).unwrap();
    let model = LlamaForCausalLM::from_gguf_file(&file, precision, &device).unwrap();
    let mut config = SftConfig::new(steps, 2, 2e-3);
    config.lora.r = 4;
    config.lora.lora_alpha = 8.0;
    config.train.schedule = ScheduleConfig::Constant;
    config.train.checkpoint_every = 2;
    let losses = std::sync::Mutex::new(Vec::new());
    let trainer = Trainer::new(config.train.clone(), &device, run)
        .unwrap()
        .with_progress(false)
        .on_step(|r| {
            losses.lock().unwrap().push(r.loss);
            if Some(r.step) == stop_at {
                Control::Stop
            } else {
                Control::Continue
            }
        });
    let out = finetune_with(model, examples(&tokenizer), &config, trainer).unwrap();
    let weights = whet_core::lora::LoraModel::lora_layers(&out.model)
        .into_iter()
        .filter_map(|(_, l)| l.adapter("sft").map(|a| a.b.val()))
        .map(|b| b.into_data().try_to_vec::<f32>().unwrap())
        .collect();
    (weights, losses.into_inner().unwrap())
}

#[test]
fn training_lowers_the_loss_and_a_stopped_run_resumes_bit_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (straight, losses) = train(
        RunDir::create(tmp.path(), "sft", "straight").unwrap(),
        8,
        None,
    );
    assert_eq!(losses.len(), 8);
    let first = (losses[0] + losses[1]) / 2.0;
    let last = (losses[6] + losses[7]) / 2.0;
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    assert!(
        straight.iter().flatten().any(|&w| w != 0.0),
        "B moved from zero"
    );

    let run = RunDir::create(tmp.path(), "sft", "stopped").unwrap();
    let path = run.path().to_owned();
    let (_, before) = train(run, 8, Some(4));
    assert_eq!(before.len(), 4);
    let (resumed, after) = train(RunDir::open(&path).unwrap(), 8, None);
    let bits =
        |w: &Vec<Vec<f32>>| -> Vec<u32> { w.iter().flatten().map(|x| x.to_bits()).collect() };
    assert_eq!(
        bits(&resumed),
        bits(&straight),
        "the resumed adapter differs"
    );
    let joined: Vec<f64> = before.into_iter().chain(after).collect();
    assert_eq!(joined, losses);
}

/// QLoRA: the adapters train over the base kept in its Q4_1 blocks (decoded only for
/// each product), and the loss falls as it does over the f32 base.
#[test]
fn qlora_over_the_packed_base_lowers_the_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let run = RunDir::create(tmp.path(), "sft", "qlora").unwrap();
    let (weights, losses) = train_over(Precision::Packed, run, 8, None);
    let first = (losses[0] + losses[1]) / 2.0;
    let last = (losses[6] + losses[7]) / 2.0;
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    assert!(
        weights.iter().flatten().any(|&w| w != 0.0),
        "B moved from zero"
    );
}

#[derive(serde::Deserialize)]
struct TrlCase {
    messages: Vec<ChatMessage>,
    max_length: Option<usize>,
    input_ids: Option<Vec<u32>>,
    labels: Option<Vec<i64>>,
}

#[derive(serde::Deserialize)]
struct TrlFixture {
    cases: Vec<TrlCase>,
}

/// `scripts/golden/trl.sh`: what TRL 1.16.0's `SFTTrainer` prepares for prompt-completion
/// conversations (system prompts, several turns, Tagalog, `₱`, emoji, a completion ending
/// in spaces, truncation that cuts the completion or leaves none, which TRL drops).
#[test]
fn input_ids_and_labels_are_trls() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/trl_labels.json");
    let fixture: TrlFixture = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let file = Gguf::open(gguf()).unwrap();
    let tokenizer = Tokenizer::from_gguf(&file).unwrap();
    assert!(fixture.cases.len() >= 6);
    for (i, case) in fixture.cases.iter().enumerate() {
        let ex = SftExample::from_messages(&tokenizer, &case.messages, case.max_length).unwrap();
        match (&case.input_ids, &case.labels) {
            (Some(ids), Some(labels)) => {
                assert_eq!(&ex.input_ids, ids, "case {i}: input ids");
                assert_eq!(&ex.labels, labels, "case {i}: labels");
            }
            _ => assert_eq!(ex.scored_tokens(), 0, "case {i}: TRL dropped it"),
        }
    }
}

//! GGUF files never panic the reader: whatever it accepts (keys and tensor names unique),
//! every tensor it lists decodes (or is a typed error for a type it does not read), and
//! writing what it read gives a file it reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_core::gguf::{Gguf, GgufWriter};

fuzz_target!(|bytes: &[u8]| {
    let Ok(file) = Gguf::from_bytes(bytes.to_vec().into(), "fuzz.gguf") else {
        return;
    };
    let mut w = GgufWriter::new();
    for (k, v) in &file.metadata {
        w.set(k.clone(), v.clone());
    }
    let _ = file.alignment();
    let mut all_read = true;
    for t in &file.tensors {
        match file.tensor_bytes(&t.name) {
            Ok((b, ty)) => {
                let values = file.tensor_f32(&t.name).expect("a tensor whose bytes read decodes");
                assert_eq!(values.len() as u64, t.len());
                all_read &= w.add_tensor(t.name.clone(), &t.dims, ty, b.to_vec()).is_ok();
            }
            Err(_) => all_read = false,
        }
    }
    // Tensors of types the reader does not decode are not copied.
    if all_read {
        let again = Gguf::from_bytes(w.to_bytes().into(), "again.gguf").expect("what was written reads");
        assert_eq!(again.metadata.len(), file.metadata.len());
        assert_eq!(again.tensors.len(), file.tensors.len());
        for t in &file.tensors {
            assert_eq!(file.tensor_bytes(&t.name).unwrap().0, again.tensor_bytes(&t.name).unwrap().0);
        }
    }
});

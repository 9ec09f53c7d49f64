//! CTranslate2 model files never panic the reader nor make it allocate more than the
//! bytes hold; a model it returns has payloads that fit their shapes and aliases that
//! name variables.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_whisper_ft::Ct2Model;

fuzz_target!(|bytes: &[u8]| {
    match Ct2Model::parse(bytes, "fuzz.bin") {
        Ok(m) => {
            for v in m.variables.values() {
                let n: usize = v.shape.iter().product();
                assert_eq!(v.bytes.len(), n * v.dtype.size());
                assert_eq!(v.to_f32().len(), n);
            }
            for alias in m.aliases.keys() {
                assert!(m.get(alias).is_some());
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.bin"), "{e}"),
    }
});

//! `DeviceSpec` parsing never panics, and whatever parses round-trips through `Display`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_core::DeviceSpec;

fuzz_target!(|input: &str| {
    if let Ok(spec) = input.parse::<DeviceSpec>() {
        let again: DeviceSpec = spec.to_string().parse().expect("canonical form parses");
        assert_eq!(again, spec);
    }
});

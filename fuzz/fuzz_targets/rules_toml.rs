//! Arbitrary text as a rule set or a product specification: loading must refuse bad
//! input with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saisei_domain::quality::Catalogue;
use saisei_domain::regulation::RuleSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = RuleSet::from_toml_str("fuzz", text);
    if let Ok(mut c) = Catalogue::embedded() {
        let _ = c.add_specification_toml("fuzz", text);
    }
});

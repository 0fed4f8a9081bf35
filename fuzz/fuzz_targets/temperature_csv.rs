//! Arbitrary text as a temperature-log upload: parsing and excursion finding must never
//! panic, and excursions must lie within the log.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saisei_domain::quality::{StorageRange, TemperatureLog, find_excursions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(log) = TemperatureLog::parse_csv(text) {
        let range = StorageRange::new(-196.0, -150.0).expect("valid range");
        for e in find_excursions(&log, &range) {
            assert!(e.end >= e.start);
        }
    }
});

//! Arbitrary bytes into every JSON input the API parses: parsing and validation must
//! never panic, whatever arrives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saisei_domain::Validate;
use saisei_domain::registry::*;
use saisei_domain::regulation::TherapyDescription;

fn parse<T: serde::de::DeserializeOwned + Validate>(v: &serde_json::Value) {
    if let Ok(x) = serde_json::from_value::<T>(v.clone()) {
        let _ = x.validate();
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    parse::<Organisation>(&v);
    parse::<Practitioner>(&v);
    parse::<Plan>(&v);
    parse::<Product>(&v);
    parse::<Enrollment>(&v);
    parse::<Consent>(&v);
    parse::<FollowUpSchedule>(&v);
    parse::<Treatment>(&v);
    parse::<Visit>(&v);
    parse::<Observation>(&v);
    parse::<AdverseEvent>(&v);
    let _ = serde_json::from_value::<NewPatient>(v.clone());
    let _ = serde_json::from_value::<TherapyDescription>(v.clone());
    if let Ok(s) = serde_json::from_value::<FollowUpSchedule>(v) {
        if s.validate().is_ok() {
            let _ = s.plan_visits(time::macros::date!(2024 - 02 - 29));
        }
    }
});

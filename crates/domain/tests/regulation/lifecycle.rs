//! Plan lifecycle checks: committee kind per class, the class 1 waiting period, retention.

use saisei_domain::regulation::{
    CommitteeKind, LifecycleError, RecordClass, RiskClass, check_activation, check_committee,
    earliest_activation, required_committees, retain_until, retention_years,
};
use time::macros::date;

use crate::common::{book, set};

#[test]
fn class_1_and_2_need_a_specially_certified_committee() {
    for rules in book().rule_sets() {
        for class in [RiskClass::One, RiskClass::Two] {
            assert_eq!(
                required_committees(rules, class),
                [CommitteeKind::SpeciallyCertified]
            );
            assert!(check_committee(rules, class, CommitteeKind::SpeciallyCertified).is_ok());
            let err = check_committee(rules, class, CommitteeKind::Certified).unwrap_err();
            assert!(matches!(
                err,
                LifecycleError::WrongCommittee {
                    given: CommitteeKind::Certified,
                    ..
                }
            ));
        }
        for kind in CommitteeKind::ALL {
            assert!(check_committee(rules, RiskClass::Three, *kind).is_ok());
        }
    }
    let err =
        check_committee(set("asrm-2025"), RiskClass::Two, CommitteeKind::Certified).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "a class 2 plan must be reviewed by a committee of kind specially_certified, not certified (rule set asrm-2025: "
        ),
        "{err}"
    );
}

#[test]
fn class_1_plans_wait_ninety_days_from_filing() {
    let rules = set("asrm-2025");
    let filed = date!(2025 - 01 - 10);
    assert_eq!(
        earliest_activation(rules, RiskClass::One, filed),
        Ok(date!(2025 - 04 - 10))
    );
    assert!(check_activation(rules, RiskClass::One, filed, date!(2025 - 04 - 10)).is_ok());
    let err = check_activation(rules, RiskClass::One, filed, date!(2025 - 04 - 09)).unwrap_err();
    assert!(matches!(
        err,
        LifecycleError::WaitingPeriod { earliest, requested, .. }
            if earliest == date!(2025-04-10) && requested == date!(2025-04-09)
    ));
    // Across a leap day.
    assert_eq!(
        earliest_activation(rules, RiskClass::One, date!(2024 - 01 - 01)),
        Ok(date!(2024 - 03 - 31))
    );
    for class in [RiskClass::Two, RiskClass::Three] {
        assert_eq!(earliest_activation(rules, class, filed), Ok(filed));
        assert!(check_activation(rules, class, filed, filed).is_ok());
    }
}

#[test]
fn records_are_kept_ten_or_thirty_years() {
    let rules = set("asrm-2025");
    assert_eq!(retention_years(rules, RecordClass::ClinicalRecord), 10);
    assert_eq!(retention_years(rules, RecordClass::SpecifiedProduct), 30);
    assert_eq!(
        retain_until(rules, RecordClass::ClinicalRecord, date!(2025 - 04 - 01)),
        Ok(date!(2035 - 03 - 31))
    );
    assert_eq!(
        retain_until(rules, RecordClass::SpecifiedProduct, date!(2024 - 02 - 29)),
        Ok(date!(2054 - 02 - 28))
    );
}

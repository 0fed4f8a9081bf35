//! Properties over the whole description space: every valid description gets exactly one
//! class from the first matching rule under every embedded set, parsing never panics, and
//! each amendment changes only what it is about.

use proptest::prelude::*;
use saisei_domain::regulation::{
    AdverseEventFacts, ApprovedProductUse, Classification, Material, Procedure, RuleSet,
    SourceCellsInput, TherapyDescription, TherapyInput, adverse_event_deadline, classify,
    periodic_period,
};
use time::{Date, Duration, macros::date};

use crate::common::{book, set};

#[test]
fn every_valid_description_gets_exactly_one_class_under_every_rule_set() {
    let all = TherapyDescription::all_valid();
    for rules in book().rule_sets() {
        for d in &all {
            let result = classify(rules, d);
            let first = rules
                .rules()
                .iter()
                .find(|r| r.matches(d))
                .expect("the fallback matches everything");
            assert_eq!(result.deciding_rule(), first.qualified_id());
            assert_eq!(result.class, first.class());
            for reason in &result.reasons {
                let rule = rules
                    .rules()
                    .iter()
                    .find(|r| r.qualified_id() == reason.rule)
                    .expect("reasons name rules of the set");
                assert_eq!(rule.class(), result.class);
                assert!(rule.matches(d));
                assert!(reason.text.contains(&reason.rule), "{}", reason.text);
            }
        }
    }
}

/// Which descriptions each amendment moves, over the whole space.
#[test]
fn each_amendment_changes_only_what_it_is_about() {
    let all = TherapyDescription::all_valid();
    let pairs = [
        ("asrm-2014", "asrm-2020-genome-editing"),
        ("asrm-2020-genome-editing", "asrm-2025"),
        ("asrm-2025", "proposal-ev-supernatant"),
    ];
    for (before, after) in pairs {
        let mut changed = 0;
        for d in &all {
            let (a, b) = (
                classify(set(before), d).class,
                classify(set(after), d).class,
            );
            if a == b {
                continue;
            }
            changed += 1;
            match after {
                "asrm-2020-genome-editing" => {
                    assert_eq!(d.genome_edited(), Some(true), "{d:?}");
                    assert_eq!(d.gene_introduced(), Some(false), "{d:?}");
                    assert_eq!(b, Classification::One);
                }
                "asrm-2025" => match d.material() {
                    // In vivo gene therapy, and vesicles carrying a nucleic acid, come in.
                    Material::NucleicAcid => {
                        assert_eq!((a, b), (Classification::Outside, Classification::One))
                    }
                    Material::Ev | Material::CultureSupernatant => {
                        assert_eq!(d.carries_nucleic_acid(), Some(true), "{d:?}");
                        assert_eq!((a, b), (Classification::Outside, Classification::One));
                    }
                    // Approved products used off-label but no riskier, and cells prepared
                    // with an approved device, go out.
                    Material::Cells => {
                        assert_eq!(b, Classification::Outside, "{d:?}");
                        assert!(
                            d.approved_product_use()
                                == Some(ApprovedProductUse::OffLabelNotRiskier)
                                || d.prepared_with_approved_device() == Some(true),
                            "{d:?}"
                        );
                    }
                },
                _ => {
                    assert!(d.material().is_cell_derived(), "{d:?}");
                    assert_eq!(a, Classification::Outside);
                    assert_ne!(b, Classification::Outside);
                }
            }
        }
        assert!(changed > 0, "{before} → {after} changes something");
    }
}

fn text_option(valid: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(valid).prop_map(|s| Some(s.to_owned())),
        "[a-z_]{0,12}".prop_map(Some),
    ]
}

fn input() -> impl Strategy<Value = TherapyInput> {
    let source = proptest::option::of((
        text_option(&["autologous", "allogeneic", "xenogeneic"]),
        text_option(&[
            "somatic",
            "somatic_stem",
            "es",
            "ips",
            "ips_like",
            "hematopoietic_stem",
        ]),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    ))
    .prop_map(|s| {
        s.map(
            |(cell_source, cell_kind, gene_introduced, genome_edited, cultured)| SourceCellsInput {
                cell_source,
                cell_kind,
                gene_introduced,
                genome_edited,
                cultured,
            },
        )
    });
    (
        text_option(&["cells", "ev", "culture_supernatant", "nucleic_acid"]),
        text_option(&["autologous", "allogeneic", "xenogeneic"]),
        text_option(&[
            "somatic",
            "somatic_stem",
            "es",
            "ips",
            "ips_like",
            "hematopoietic_stem",
        ]),
        proptest::array::uniform4(proptest::option::of(any::<bool>())),
        text_option(&["reconstruction", "treatment"]),
        text_option(&[
            "blood_transfusion",
            "hsc_transplant",
            "assisted_reproduction",
        ]),
        source,
        (
            text_option(&["within_approval", "off_label_not_riskier", "off_label"]),
            text_option(&["gene_transfer", "genome_editing", "mrna", "oligonucleotide"]),
            proptest::array::uniform4(proptest::option::of(any::<bool>())),
        ),
    )
        .prop_map(
            |(material, cell_source, cell_kind, flags, purpose, procedure, source, edges)| {
                TherapyInput {
                    material,
                    cell_source,
                    cell_kind,
                    gene_introduced: flags[0],
                    genome_edited: flags[1],
                    cultured: flags[2],
                    homologous_use: flags[3],
                    purpose,
                    procedure,
                    source,
                    approved_product_use: edges.0,
                    nucleic_acid_kind: edges.1,
                    minimally_manipulated: edges.2[0],
                    prepared_with_approved_device: edges.2[1],
                    designated_vaccine: edges.2[2],
                    carries_nucleic_acid: edges.2[3],
                }
            },
        )
}

fn civil_date() -> impl Strategy<Value = Date> {
    (0i64..40_000).prop_map(|days| date!(2000 - 01 - 01) + Duration::days(days))
}

proptest! {
    #[test]
    fn any_input_parses_or_names_a_field_and_parsed_ones_classify(input in input()) {
        match TherapyDescription::try_from(input) {
            Ok(d) => {
                let json = serde_json::to_string(&d).unwrap();
                let back: TherapyDescription = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(&back, &d);
                prop_assert!(TherapyDescription::all_valid().contains(&d));
                for rules in book().rule_sets() {
                    let r = classify(rules, &d);
                    prop_assert!(!r.reasons.is_empty());
                }
            }
            Err(e) => {
                prop_assert!(!e.field.is_empty());
                prop_assert!(e.to_string().contains(e.field));
            }
        }
    }

    #[test]
    fn non_serious_cycles_contain_the_event_and_are_due_ten_days_after(
        anchor in civil_date(),
        offset in 0i64..5_000,
    ) {
        let known_on = anchor + Duration::days(offset);
        let facts = AdverseEventFacts {
            death_or_possible_death: false,
            serious: false,
            known_on,
            cycle_anchor: Some(anchor),
            causality: None,
        };
        let d = adverse_event_deadline(set("asrm-2025"), &facts).unwrap();
        let p = d.period.unwrap();
        prop_assert!(p.contains(known_on));
        prop_assert_eq!((p.end - p.start).whole_days(), 59);
        prop_assert_eq!((p.start - anchor).whole_days() % 60, 0);
        prop_assert_eq!(d.due_on, p.end + Duration::days(10));
    }

    #[test]
    fn periodic_periods_tile_the_calendar_a_year_at_a_time(filed in civil_date(), n in 1u32..60) {
        let rules = set("asrm-2025");
        let this = periodic_period(rules, filed, None, n).unwrap().period.unwrap();
        let next = periodic_period(rules, filed, None, n + 1).unwrap().period.unwrap();
        prop_assert_eq!(this.end + Duration::days(1), next.start);
        let days = (this.end - this.start).whole_days() + 1;
        prop_assert!(days == 365 || days == 366, "{} days", days);
        prop_assert_eq!(periodic_period(rules, filed, None, n).unwrap().due_on, this.end + Duration::days(90));
    }
}

/// The rule sets as they were before the scope-edge answers existed, kept to prove that
/// every plan stored then keeps its class now.
const BEFORE_SCOPE_EDGES: [(&str, &str); 4] = [
    (
        "asrm-2014",
        include_str!("data/before-scope-edges/asrm-2014.toml"),
    ),
    (
        "asrm-2020-genome-editing",
        include_str!("data/before-scope-edges/asrm-2020-genome-editing.toml"),
    ),
    (
        "asrm-2025",
        include_str!("data/before-scope-edges/asrm-2025.toml"),
    ),
    (
        "proposal-ev-supernatant",
        include_str!("data/before-scope-edges/proposal-ev-supernatant.toml"),
    ),
];

/// Every description that could be stored before the scope-edge answers existed (they are
/// all at their defaults) keeps its class under every rule set, with one deliberate
/// correction: a transfusion or HSC transplant of *cultured* (expanded) cells was wrongly
/// outside the Act, since culture changes the cells' nature; it now takes the class its
/// cells give.
#[test]
fn no_stored_plan_changes_class_under_the_new_defaults() {
    let old_space: Vec<TherapyDescription> = TherapyDescription::all_valid()
        .into_iter()
        .filter(|d| {
            d.minimally_manipulated() != Some(true)
                && d.approved_product_use().is_none()
                && d.prepared_with_approved_device() != Some(true)
                && d.nucleic_acid_kind().is_none()
                && d.designated_vaccine() != Some(true)
                && d.carries_nucleic_acid() != Some(true)
        })
        .collect();
    assert!(old_space.len() > 2000, "{}", old_space.len());
    for (id, text) in BEFORE_SCOPE_EDGES {
        let before = RuleSet::from_toml_str(id, text).expect("the earlier rule set loads");
        let now = set(id);
        let mut corrected = 0;
        for d in &old_space {
            let (was, is) = (classify(&before, d).class, classify(now, d).class);
            if was == is {
                continue;
            }
            let excluded_procedure = matches!(
                d.procedure(),
                Some(Procedure::HscTransplant | Procedure::BloodTransfusion)
            );
            assert!(
                excluded_procedure && d.cultured() == Some(true),
                "{id}: {d:?} moved from {was} to {is}"
            );
            assert_eq!(was, Classification::Outside);
            corrected += 1;
        }
        assert!(corrected > 0, "{id}: the cultured-HSC correction applies");
    }
}

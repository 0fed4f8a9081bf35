//! Tests of specification parsing, resolution and the tightening rule.
use super::*;

fn key(s: &str) -> SpecKey {
    s.parse().unwrap()
}

const BASE: &str = r#"
[specification]
id = "base"
version = 1
title = "Base"
category = "reference"
effective_from = 2020-01-01
[[specification.source]]
citation = "Somebody 2020"

[[rule]]
id = "b.viability"
title = "Viability"
kind = "numeric"
attribute = "viability"
comparator = ">="
limit = 70
unit = "%"
methods = ["trypan_blue", "flow_7aad"]

[[rule]]
id = "b.endotoxin"
title = "Endotoxin"
kind = "dose_normalised"
attribute = "endotoxin"
unit = "EU/mL"
threshold_per_kg = 5.0
intrathecal_threshold_per_kg = 0.2
reference_body_mass_kg = 60

[[rule]]
id = "b.sterility"
title = "Sterility"
kind = "qualitative"
attribute = "sterility"
accept = ["no_growth"]

[[rule]]
id = "b.monocyte"
title = "CD14 or CD11b"
kind = "any_of"
[[rule.alternative]]
attribute = "cd14_positive"
comparator = "<="
limit = 2
unit = "%"
[[rule.alternative]]
attribute = "cd11b_positive"
comparator = "<="
limit = 2
unit = "%"

[[rule]]
id = "b.markers"
title = "Markers"
kind = "distinct_count"
attributes = ["m1", "m2", "m3"]
distinct = "attribute"
min = 1
qualifying = ["present", "detected"]
"#;

fn product(rules: &str) -> String {
    format!(
        r#"
[specification]
id = "prod"
version = 1
title = "Product"
category = "product"
effective_from = 2025-01-01
extends = [{{ id = "base", version = 1 }}]
[[specification.source]]
citation = "Our dossier"
{rules}
"#
    )
}

fn resolve_product(rules: &str) -> Result<ResolvedSpecification, SpecError> {
    let base = Specification::from_toml("base.toml", BASE).unwrap();
    let prod = Specification::from_toml("prod.toml", &product(rules))?;
    let lookup = |k: &SpecKey| (k == base.key()).then_some(&base);
    resolve(&prod, &lookup)
}

#[test]
fn base_parses() {
    let base = Specification::from_toml("base.toml", BASE).unwrap();
    assert_eq!(base.key(), &key("base@1"));
    assert_eq!(base.own_rules().len(), 5);
    assert_eq!(base.effective_from(), time::macros::date!(2020 - 01 - 01));
    let r = &base.own_rules()[0];
    assert_eq!(
        r.describe(),
        "viability ≥ 70 %; by trypan_blue or flow_7aad"
    );
}

#[test]
fn adding_and_tightening_is_allowed() {
    let resolved = resolve_product(
        r#"
[[rule]]
id = "b.viability"
title = "Viability (product)"
kind = "numeric"
attribute = "viability"
comparator = ">="
limit = 80
unit = "%"
methods = ["flow_7aad"]

[[rule]]
id = "b.endotoxin"
title = "Endotoxin"
kind = "dose_normalised"
attribute = "endotoxin"
unit = "EU/mL"
threshold_per_kg = 2.5
intrathecal_threshold_per_kg = 0.2
reference_body_mass_kg = 50

[[rule]]
id = "b.monocyte"
title = "CD14 only, stricter"
kind = "any_of"
policy = "all_measured"
[[rule.alternative]]
attribute = "cd14_positive"
comparator = "<"
limit = 1
unit = "%"
[[rule.alternative]]
attribute = "cd11b_positive"
comparator = "<="
limit = 2
unit = "%"

[[rule]]
id = "b.markers"
title = "Two markers"
kind = "distinct_count"
attributes = ["m1", "m2"]
distinct = "attribute"
min = 2
qualifying = ["present"]

[[rule]]
id = "p.potency"
title = "Potency"
kind = "numeric"
attribute = "ido_activity"
comparator = ">="
limit = 10
unit = "ng/mL"
"#,
    )
    .unwrap();
    assert_eq!(resolved.rules().len(), 6);
    let v = resolved.rule(&"b.viability".parse().unwrap()).unwrap();
    assert_eq!(v.introduced_by, key("base@1"));
    assert_eq!(v.defined_by, key("prod@1"));
    assert_eq!(resolved.lineage(), &[key("base@1")]);
    assert_eq!(resolved.rules()[5].rule.id.as_str(), "p.potency");
    // Same limit but strict comparator is tighter; identical rule is fine too.
    resolve_product(
        r#"
[[rule]]
id = "b.viability"
title = "Viability"
kind = "numeric"
attribute = "viability"
comparator = ">"
limit = 70
unit = "%"
methods = ["trypan_blue", "flow_7aad"]
"#,
    )
    .unwrap();
}

#[test]
fn loosening_is_refused() {
    let cases = [
        // lower minimum
        (
            "b.viability",
            "kind = \"numeric\"\nattribute = \"viability\"\ncomparator = \">=\"\nlimit = 60\nunit = \"%\"\nmethods = [\"flow_7aad\"]",
            "looser",
        ),
        // strict → non-strict at the same limit is looser: base is >=, so > then >= ok; test >= to > handled above
        // any method where the base restricts methods
        (
            "b.viability",
            "kind = \"numeric\"\nattribute = \"viability\"\ncomparator = \">=\"\nlimit = 90\nunit = \"%\"",
            "any method",
        ),
        // a method the base does not accept
        (
            "b.viability",
            "kind = \"numeric\"\nattribute = \"viability\"\ncomparator = \">=\"\nlimit = 90\nunit = \"%\"\nmethods = [\"eye\"]",
            "acceptable methods",
        ),
        // flip to an upper bound
        (
            "b.viability",
            "kind = \"numeric\"\nattribute = \"viability\"\ncomparator = \"<=\"\nlimit = 90\nunit = \"%\"\nmethods = [\"flow_7aad\"]",
            "turns the lower limit",
        ),
        // change unit
        (
            "b.viability",
            "kind = \"numeric\"\nattribute = \"viability\"\ncomparator = \">=\"\nlimit = 90\nunit = \"cells\"\nmethods = [\"flow_7aad\"]",
            "unit",
        ),
        // change kind
        (
            "b.sterility",
            "kind = \"evidence\"\nattribute = \"sterility\"",
            "kind",
        ),
        // accept more readings
        (
            "b.sterility",
            "kind = \"qualitative\"\nattribute = \"sterility\"\naccept = [\"no_growth\", \"growth\"]",
            "growth",
        ),
        // raise K
        (
            "b.endotoxin",
            "kind = \"dose_normalised\"\nattribute = \"endotoxin\"\nunit = \"EU/mL\"\nthreshold_per_kg = 10\nintrathecal_threshold_per_kg = 0.2\nreference_body_mass_kg = 60",
            "raises K",
        ),
        // drop the intrathecal K
        (
            "b.endotoxin",
            "kind = \"dose_normalised\"\nattribute = \"endotoxin\"\nunit = \"EU/mL\"\nthreshold_per_kg = 5\nreference_body_mass_kg = 60",
            "intrathecal",
        ),
        // intrathecal K above the base's intrathecal K
        (
            "b.endotoxin",
            "kind = \"dose_normalised\"\nattribute = \"endotoxin\"\nunit = \"EU/mL\"\nthreshold_per_kg = 5\nintrathecal_threshold_per_kg = 0.5\nreference_body_mass_kg = 60",
            "raises the intrathecal K",
        ),
        // heavier reference body mass (higher per-patient limit)
        (
            "b.endotoxin",
            "kind = \"dose_normalised\"\nattribute = \"endotoxin\"\nunit = \"EU/mL\"\nthreshold_per_kg = 5\nintrathecal_threshold_per_kg = 0.2\nreference_body_mass_kg = 70",
            "body mass",
        ),
        // relax policy
        (
            "b.monocyte",
            "kind = \"any_of\"\npolicy = \"any_passing\"\n[[rule.alternative]]\nattribute = \"cd14_positive\"\ncomparator = \"<=\"\nlimit = 2\nunit = \"%\"\n[[rule.alternative]]\nattribute = \"cd11b_positive\"\ncomparator = \"<=\"\nlimit = 2\nunit = \"%\"",
            "policy",
        ),
        // new alternative
        (
            "b.monocyte",
            "kind = \"any_of\"\n[[rule.alternative]]\nattribute = \"cd14_positive\"\ncomparator = \"<=\"\nlimit = 2\nunit = \"%\"\n[[rule.alternative]]\nattribute = \"cd68_positive\"\ncomparator = \"<=\"\nlimit = 2\nunit = \"%\"",
            "cd68_positive",
        ),
        // looser alternative
        (
            "b.monocyte",
            "kind = \"any_of\"\n[[rule.alternative]]\nattribute = \"cd14_positive\"\ncomparator = \"<=\"\nlimit = 5\nunit = \"%\"\n[[rule.alternative]]\nattribute = \"cd11b_positive\"\ncomparator = \"<=\"\nlimit = 2\nunit = \"%\"",
            "cd14_positive",
        ),
        // lower count
        (
            "b.markers",
            "kind = \"distinct_count\"\nattributes = [\"m1\"]\ndistinct = \"attribute\"\nmin = 1",
            "qualifying",
        ),
        (
            "b.markers",
            "kind = \"distinct_count\"\nattributes = [\"m1\", \"m4\"]\ndistinct = \"attribute\"\nmin = 1\nqualifying = [\"present\"]",
            "m4",
        ),
        (
            "b.markers",
            "kind = \"distinct_count\"\nattributes = [\"m1\", \"m2\"]\ndistinct = \"method\"\nmin = 1\nqualifying = [\"present\"]",
            "counted",
        ),
    ];
    for (id, body, needle) in cases {
        let rules = format!("[[rule]]\nid = \"{id}\"\ntitle = \"t\"\n{body}\n");
        match resolve_product(&rules) {
            Err(e @ SpecError::Loosening { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(needle), "{id}: {msg}");
                assert!(msg.contains("prod@1") && msg.contains(id), "{msg}");
            }
            other => panic!("{id} / {needle}: expected Loosening, got {other:?}"),
        }
    }
}

#[test]
fn field_errors_name_the_field() {
    let cases = [
        (
            "kind = \"numeric\"\nattribute = \"a\"\ncomparator = \">=\"\nunit = \"%\"",
            "rule[p.x].limit",
            "required",
        ),
        (
            "kind = \"numeric\"\nattribute = \"a\"\ncomparator = \">=\"\nlimit = 101\nunit = \"%\"",
            "rule[p.x].limit",
            "0–100",
        ),
        (
            "kind = \"qualitative\"\nattribute = \"a\"\naccept = []",
            "rule[p.x].accept",
            "at least one",
        ),
        (
            "kind = \"qualitative\"\nattribute = \"a\"\naccept = [\"negative\"]\nlimit = 3",
            "rule[p.x].limit",
            "does not apply",
        ),
        (
            "kind = \"distinct_count\"\nattributes = [\"a\"]\ndistinct = \"attribute\"\nmin = 2",
            "rule[p.x].min",
            "never",
        ),
        (
            "kind = \"dose_normalised\"\nattribute = \"e\"\nunit = \"EU/kg\"\nthreshold_per_kg = 5\nreference_body_mass_kg = 60",
            "rule[p.x].unit",
            "EU/mL",
        ),
        (
            "kind = \"dose_normalised\"\nattribute = \"e\"\nunit = \"EU/mL\"\nthreshold_per_kg = 0\nreference_body_mass_kg = 60",
            "rule[p.x].threshold_per_kg",
            "positive",
        ),
        (
            "kind = \"any_of\"\nalternative = []",
            "rule[p.x].alternative",
            "at least one",
        ),
    ];
    for (body, field, needle) in cases {
        let rules = format!("[[rule]]\nid = \"p.x\"\ntitle = \"t\"\n{body}\n");
        match Specification::from_toml("prod.toml", &product(&rules)) {
            Err(SpecError::InvalidField {
                field: f, problem, ..
            }) => {
                assert_eq!(f, field, "{body}");
                assert!(problem.contains(needle), "{problem}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    // Unknown keys and units are syntax errors with a position.
    let e = Specification::from_toml("x.toml", &product("[[rule]]\nid = \"p.x\"\ntitle = \"t\"\nkind = \"numeric\"\nattribute = \"a\"\ncomparator = \">=\"\nlimit = 1\nunit = \"fraction\"\n")).unwrap_err();
    assert!(matches!(e, SpecError::Syntax { .. }), "{e}");
    let e = Specification::from_toml("x.toml", &product("[[rule]]\nid = \"p.x\"\ntitle = \"t\"\nkind = \"evidence\"\nattribute = \"a\"\nlimt = 1\n")).unwrap_err();
    assert!(e.to_string().contains("limt"), "{e}");
    let dup = "[[rule]]\nid = \"p.x\"\ntitle = \"t\"\nkind = \"evidence\"\nattribute = \"a\"\n";
    let e = Specification::from_toml("x.toml", &product(&format!("{dup}{dup}"))).unwrap_err();
    assert!(matches!(e, SpecError::DuplicateRule { .. }));
}

#[test]
fn unknown_base_and_conflicts() {
    let prod = Specification::from_toml("prod.toml", &product("")).unwrap();
    let none = |_: &SpecKey| None;
    assert!(matches!(
        resolve(&prod, &none),
        Err(SpecError::UnknownBase { .. })
    ));
    let keys: Vec<SpecKey> = vec![key("base@1")];
    assert_eq!(prod.extends(), keys.as_slice());
}

#[test]
fn spec_keys() {
    assert_eq!(key("isct-msc@2").to_string(), "isct-msc@2");
    assert!("isct-msc".parse::<SpecKey>().is_err());
    assert!("isct-msc@x".parse::<SpecKey>().is_err());
}

//! The classifier over realistic therapies, table-driven: the class and the deciding rule
//! under asrm-2014, and what changes under the later in-force sets and the EV proposal.

use saisei_domain::regulation::{Classification, TransitionSummary, classify, reclassify};
use serde_json::{Value, json};

use crate::common::{CHRONOLOGY, Cells, derived, set, therapy};

/// Administered cells, positionally: source, kind, gene introduced, genome edited,
/// cultured, homologous use, purpose, excluded procedure.
#[allow(clippy::too_many_arguments)]
fn cells(
    source: &'static str,
    kind: &'static str,
    gene_introduced: bool,
    genome_edited: bool,
    cultured: bool,
    homologous_use: bool,
    purpose: &'static str,
    procedure: Option<&'static str>,
) -> Value {
    Cells {
        source,
        kind,
        gene_introduced,
        genome_edited,
        cultured,
        homologous_use,
        purpose,
        procedure,
    }
    .json()
}

struct Case {
    name: &'static str,
    therapy: Value,
    /// `"class rule-id"` under asrm-2014.
    expect_2014: &'static str,
    /// Later sets (in chronological order) where the expectation changes; a set not listed
    /// keeps the expectation of the set before it.
    changes: &'static [(&'static str, &'static str)],
}

const GENOME_2020: (&str, &str) = ("asrm-2020-genome-editing", "1 gene-modified");

fn cases() -> Vec<Case> {
    use self::cells as c;
    let (t, f) = (true, false);
    vec![
        Case {
            name: "autologous cultured adipose MSC given IV",
            therapy: c("autologous", "somatic_stem", f, f, t, f, "treatment", None),
            expect_2014: "2 cultured-stem-cells",
            changes: &[],
        },
        Case {
            name: "autologous cultured bone-marrow MSC for spinal cord injury (outside approval)",
            therapy: c("autologous", "somatic_stem", f, f, t, f, "treatment", None),
            expect_2014: "2 cultured-stem-cells",
            changes: &[],
        },
        Case {
            name: "PRP injected into facial skin",
            therapy: c("autologous", "somatic", f, f, f, t, "reconstruction", None),
            expect_2014: "3 class-3",
            changes: &[],
        },
        Case {
            name: "PRP injected into the knee for osteoarthritis",
            therapy: c("autologous", "somatic", f, f, f, t, "treatment", None),
            expect_2014: "3 class-3",
            changes: &[],
        },
        Case {
            name: "allogeneic (cadaveric) islet transplantation",
            therapy: c("allogeneic", "somatic", f, f, t, t, "treatment", None),
            expect_2014: "1 allogeneic",
            changes: &[],
        },
        Case {
            name: "autologous iPS-derived retinal pigment epithelium sheet",
            therapy: c("autologous", "ips", f, f, t, t, "reconstruction", None),
            expect_2014: "1 pluripotent",
            changes: &[],
        },
        Case {
            name: "allogeneic iPS-derived dopaminergic progenitors for Parkinson's disease",
            therapy: c("allogeneic", "ips", f, f, t, f, "treatment", None),
            expect_2014: "1 pluripotent",
            changes: &[],
        },
        Case {
            name: "autologous iPS-derived cardiomyocyte sheets",
            therapy: c("autologous", "ips", f, f, t, f, "reconstruction", None),
            expect_2014: "1 pluripotent",
            changes: &[],
        },
        Case {
            name: "ES cell-derived hepatocytes for urea cycle disorder",
            therapy: c("allogeneic", "es", f, f, t, f, "treatment", None),
            expect_2014: "1 pluripotent",
            changes: &[],
        },
        Case {
            name: "iPS-like (directly reprogrammed) cells",
            therapy: c("autologous", "ips_like", f, f, t, f, "treatment", None),
            expect_2014: "1 pluripotent",
            changes: &[],
        },
        Case {
            name: "genome-edited autologous T cells (Cas9 RNP knock-out, no gene introduced)",
            therapy: c("autologous", "somatic", f, t, t, t, "treatment", None),
            expect_2014: "3 class-3",
            changes: &[GENOME_2020],
        },
        Case {
            name: "genome-edited autologous MSC",
            therapy: c("autologous", "somatic_stem", f, t, t, f, "treatment", None),
            expect_2014: "2 cultured-stem-cells",
            changes: &[GENOME_2020],
        },
        Case {
            name: "CAR-T cells used outside their PMD Act approval",
            therapy: c("autologous", "somatic", t, f, t, t, "treatment", None),
            expect_2014: "1 gene-introduced",
            changes: &[GENOME_2020],
        },
        Case {
            name: "lentivirally gene-modified autologous HSC transplantation",
            therapy: c(
                "autologous",
                "hematopoietic_stem",
                t,
                f,
                t,
                t,
                "treatment",
                Some("hsc_transplant"),
            ),
            expect_2014: "1 gene-introduced",
            changes: &[GENOME_2020],
        },
        Case {
            name: "xenogeneic porcine islets",
            therapy: c("xenogeneic", "somatic", f, f, t, t, "treatment", None),
            expect_2014: "1 xenogeneic",
            changes: &[],
        },
        Case {
            name: "allogeneic umbilical-cord MSC given IV for ARDS",
            therapy: c("allogeneic", "somatic_stem", f, f, t, f, "treatment", None),
            expect_2014: "1 allogeneic",
            changes: &[],
        },
        Case {
            name: "allogeneic cultured keratinocyte sheets for burns",
            therapy: c("allogeneic", "somatic", f, f, t, t, "reconstruction", None),
            expect_2014: "1 allogeneic",
            changes: &[],
        },
        Case {
            name: "allogeneic bone marrow transplantation (HSC transplant)",
            therapy: c(
                "allogeneic",
                "hematopoietic_stem",
                f,
                f,
                f,
                t,
                "treatment",
                Some("hsc_transplant"),
            ),
            expect_2014: "outside hsc-transplant",
            changes: &[],
        },
        Case {
            name: "autologous peripheral blood stem cell transplantation",
            therapy: c(
                "autologous",
                "hematopoietic_stem",
                f,
                f,
                f,
                t,
                "treatment",
                Some("hsc_transplant"),
            ),
            expect_2014: "outside hsc-transplant",
            changes: &[],
        },
        Case {
            name: "red cell transfusion",
            therapy: c(
                "allogeneic",
                "somatic",
                f,
                f,
                f,
                t,
                "treatment",
                Some("blood_transfusion"),
            ),
            expect_2014: "outside blood-transfusion",
            changes: &[],
        },
        Case {
            name: "iPS-derived platelet transfusion",
            therapy: c(
                "allogeneic",
                "ips",
                f,
                f,
                t,
                t,
                "treatment",
                Some("blood_transfusion"),
            ),
            expect_2014: "1 pluripotent",
            changes: &[],
        },
        Case {
            name: "in vitro fertilisation and embryo transfer",
            therapy: c(
                "autologous",
                "somatic",
                f,
                f,
                t,
                t,
                "treatment",
                Some("assisted_reproduction"),
            ),
            expect_2014: "outside assisted-reproduction",
            changes: &[],
        },
        Case {
            name: "autologous non-cultured bone marrow mononuclear cells for limb ischemia",
            therapy: c("autologous", "somatic_stem", f, f, f, f, "treatment", None),
            expect_2014: "2 non-homologous",
            changes: &[],
        },
        Case {
            name: "autologous non-cultured CD34+ cells for limb ischemia (not a transplant)",
            therapy: c(
                "autologous",
                "hematopoietic_stem",
                f,
                f,
                f,
                f,
                "treatment",
                None,
            ),
            expect_2014: "2 non-homologous",
            changes: &[],
        },
        Case {
            name: "autologous cultured chondrocytes for cartilage repair",
            therapy: c("autologous", "somatic", f, f, t, t, "reconstruction", None),
            expect_2014: "2 cultured-reconstruction",
            changes: &[],
        },
        Case {
            name: "autologous cultured fibroblasts for wrinkles",
            therapy: c("autologous", "somatic", f, f, t, t, "reconstruction", None),
            expect_2014: "2 cultured-reconstruction",
            changes: &[],
        },
        Case {
            name: "autologous cultured epidermal sheets for burns (outside approval)",
            therapy: c("autologous", "somatic", f, f, t, t, "reconstruction", None),
            expect_2014: "2 cultured-reconstruction",
            changes: &[],
        },
        Case {
            name: "autologous NK cell immunotherapy (cultured)",
            therapy: c("autologous", "somatic", f, f, t, t, "treatment", None),
            expect_2014: "3 class-3",
            changes: &[],
        },
        Case {
            name: "autologous dendritic cell vaccine",
            therapy: c("autologous", "somatic", f, f, t, t, "treatment", None),
            expect_2014: "3 class-3",
            changes: &[],
        },
        Case {
            name: "autologous activated alpha-beta T lymphocytes for cancer",
            therapy: c("autologous", "somatic", f, f, t, t, "treatment", None),
            expect_2014: "3 class-3",
            changes: &[],
        },
        Case {
            name: "autologous fat grafting enriched with non-cultured SVF (breast)",
            therapy: c(
                "autologous",
                "somatic_stem",
                f,
                f,
                f,
                f,
                "reconstruction",
                None,
            ),
            expect_2014: "2 non-homologous",
            changes: &[],
        },
        Case {
            name: "autologous non-cultured SVF injected into the knee",
            therapy: c("autologous", "somatic_stem", f, f, f, f, "treatment", None),
            expect_2014: "2 non-homologous",
            changes: &[],
        },
        Case {
            name: "autologous bone marrow aspirate concentrate into a bone non-union",
            therapy: c(
                "autologous",
                "somatic_stem",
                f,
                f,
                f,
                t,
                "reconstruction",
                None,
            ),
            expect_2014: "3 class-3",
            changes: &[],
        },
        Case {
            name: "culture supernatant of allogeneic dental-pulp stem cells, injected",
            therapy: derived(
                "culture_supernatant",
                "allogeneic",
                "somatic_stem",
                false,
                true,
                "treatment",
            ),
            expect_2014: "outside no-processed-cells",
            changes: &[("proposal-ev-supernatant", "1 derived-allogeneic")],
        },
        Case {
            name: "culture supernatant of autologous cultured fibroblasts for hair loss",
            therapy: derived(
                "culture_supernatant",
                "autologous",
                "somatic",
                false,
                true,
                "reconstruction",
            ),
            expect_2014: "outside no-processed-cells",
            changes: &[("proposal-ev-supernatant", "2 derived-reconstruction")],
        },
        Case {
            name: "EVs from autologous cultured adipose MSC, injected",
            therapy: derived("ev", "autologous", "somatic_stem", false, true, "treatment"),
            expect_2014: "outside no-processed-cells",
            changes: &[("proposal-ev-supernatant", "2 derived-cultured-stem-cells")],
        },
        Case {
            name: "EVs from allogeneic iPS cells",
            therapy: derived("ev", "allogeneic", "ips", false, true, "treatment"),
            expect_2014: "outside no-processed-cells",
            changes: &[("proposal-ev-supernatant", "1 derived-pluripotent")],
        },
        Case {
            name: "EVs from immortalised (gene-introduced) autologous cells",
            therapy: derived("ev", "autologous", "somatic", true, true, "treatment"),
            expect_2014: "outside no-processed-cells",
            changes: &[("proposal-ev-supernatant", "1 derived-gene-modified")],
        },
        Case {
            name: "EVs isolated from the patient's own plasma (no culture)",
            therapy: derived("ev", "autologous", "somatic", false, false, "treatment"),
            expect_2014: "outside no-processed-cells",
            changes: &[("proposal-ev-supernatant", "3 class-3")],
        },
        Case {
            name: "in vivo AAV gene therapy outside approval",
            therapy: json!({"material": "nucleic_acid", "purpose": "treatment", "gene_introduced": true}),
            expect_2014: "outside nucleic-acid-not-covered",
            changes: &[("asrm-2025", "1 nucleic-acid")],
        },
        Case {
            name: "in vivo CRISPR genome editing (lipid nanoparticles)",
            therapy: json!({"material": "nucleic_acid", "purpose": "treatment", "genome_edited": true}),
            expect_2014: "outside nucleic-acid-not-covered",
            changes: &[("asrm-2025", "1 nucleic-acid")],
        },
        Case {
            name: "plasmid injection for limb ischemia (reconstruction of blood flow)",
            therapy: json!({"material": "nucleic_acid", "purpose": "reconstruction"}),
            expect_2014: "outside nucleic-acid-not-covered",
            changes: &[("asrm-2025", "1 nucleic-acid")],
        },
        // ---- scope at the edges ----------------------------------------------------
        Case {
            name: "autologous bone marrow, only separated and concentrated, back into bone",
            therapy: with(
                c(
                    "autologous",
                    "somatic_stem",
                    f,
                    f,
                    f,
                    t,
                    "reconstruction",
                    None,
                ),
                json!({"minimally_manipulated": true}),
            ),
            expect_2014: "outside minimal-manipulation",
            changes: &[],
        },
        Case {
            name: "autologous minimally manipulated SVF injected into the knee (non-homologous)",
            therapy: with(
                c("autologous", "somatic_stem", f, f, f, f, "treatment", None),
                json!({"minimally_manipulated": true}),
            ),
            expect_2014: "2 non-homologous",
            changes: &[],
        },
        Case {
            name: "allogeneic minimally manipulated cells, homologous use",
            therapy: with(
                c("allogeneic", "somatic", f, f, f, t, "treatment", None),
                json!({"minimally_manipulated": true}),
            ),
            expect_2014: "1 allogeneic",
            changes: &[],
        },
        Case {
            name: "approved autologous cultured cartilage used within its approval",
            therapy: with(
                c("autologous", "somatic", f, f, t, t, "reconstruction", None),
                json!({"approved_product_use": "within_approval"}),
            ),
            expect_2014: "outside approved-product",
            changes: &[],
        },
        Case {
            name: "approved MSC product used off-label, no riskier by the ordinance",
            therapy: with(
                c("autologous", "somatic_stem", f, f, t, f, "treatment", None),
                json!({"approved_product_use": "off_label_not_riskier"}),
            ),
            expect_2014: "2 cultured-stem-cells",
            changes: &[(
                "asrm-2025",
                "outside approved-product-off-label-not-riskier",
            )],
        },
        Case {
            name: "approved MSC product used off-label otherwise",
            therapy: with(
                c("autologous", "somatic_stem", f, f, t, f, "treatment", None),
                json!({"approved_product_use": "off_label"}),
            ),
            expect_2014: "2 cultured-stem-cells",
            changes: &[],
        },
        Case {
            name: "PRP prepared with a device approved for that use, used as approved",
            therapy: with(
                c("autologous", "somatic", f, f, f, t, "treatment", None),
                json!({"prepared_with_approved_device": true}),
            ),
            expect_2014: "3 class-3",
            changes: &[("asrm-2025", "outside approved-device")],
        },
        Case {
            name: "expanded (cultured) autologous HSC transplantation",
            therapy: c(
                "autologous",
                "hematopoietic_stem",
                f,
                f,
                t,
                t,
                "treatment",
                Some("hsc_transplant"),
            ),
            expect_2014: "2 cultured-stem-cells",
            changes: &[],
        },
        Case {
            name: "expanded allogeneic cord-blood HSC transplantation",
            therapy: c(
                "allogeneic",
                "hematopoietic_stem",
                f,
                f,
                t,
                t,
                "treatment",
                Some("hsc_transplant"),
            ),
            expect_2014: "1 allogeneic",
            changes: &[],
        },
        Case {
            name: "transfusion of red cells cultured from donor progenitors",
            therapy: c(
                "allogeneic",
                "somatic",
                f,
                f,
                t,
                t,
                "treatment",
                Some("blood_transfusion"),
            ),
            expect_2014: "1 allogeneic",
            changes: &[],
        },
        Case {
            name: "siRNA drug (oligonucleotide)",
            therapy: json!({"material": "nucleic_acid", "purpose": "treatment",
                "nucleic_acid_kind": "oligonucleotide"}),
            expect_2014: "outside nucleic-acid-not-covered",
            changes: &[("asrm-2025", "outside oligonucleotide")],
        },
        Case {
            name: "in vivo mRNA therapy",
            therapy: json!({"material": "nucleic_acid", "purpose": "treatment",
                "nucleic_acid_kind": "mrna"}),
            expect_2014: "outside nucleic-acid-not-covered",
            changes: &[("asrm-2025", "1 nucleic-acid")],
        },
        Case {
            name: "an mRNA vaccine the notice designates",
            therapy: json!({"material": "nucleic_acid", "purpose": "treatment",
                "nucleic_acid_kind": "mrna", "designated_vaccine": true}),
            expect_2014: "outside nucleic-acid-not-covered",
            changes: &[("asrm-2025", "outside designated-vaccine")],
        },
        Case {
            name: "approved AAV gene therapy used within its approval",
            therapy: json!({"material": "nucleic_acid", "purpose": "treatment",
                "nucleic_acid_kind": "gene_transfer", "gene_introduced": true,
                "approved_product_use": "within_approval"}),
            expect_2014: "outside approved-product",
            changes: &[],
        },
        Case {
            name: "in vivo genome editing with an approved device, used as approved",
            therapy: json!({"material": "nucleic_acid", "purpose": "treatment",
                "nucleic_acid_kind": "genome_editing", "genome_edited": true,
                "prepared_with_approved_device": true}),
            expect_2014: "outside nucleic-acid-not-covered",
            changes: &[("asrm-2025", "outside approved-device")],
        },
        Case {
            name: "EVs from autologous MSC loaded with mRNA",
            therapy: with(
                derived("ev", "autologous", "somatic_stem", false, true, "treatment"),
                json!({"carries_nucleic_acid": true}),
            ),
            expect_2014: "outside no-processed-cells",
            changes: &[("asrm-2025", "1 derived-carrying-nucleic-acid")],
        },
    ]
}

/// A description with extra answers (the scope-edge keys) set on top.
fn with(mut v: Value, extra: Value) -> Value {
    for (k, x) in extra.as_object().expect("an object") {
        v[k] = x.clone();
    }
    v
}

fn split(expect: &str) -> (Classification, &str) {
    let (class, rule) = expect.split_once(' ').expect("\"class rule\"");
    (class.parse().expect("a classification"), rule)
}

#[test]
fn the_therapy_table_classifies_as_expected_under_every_rule_set() {
    let cases = cases();
    assert!(
        cases.len() >= 30,
        "at least 30 therapies, got {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let d = therapy(case.therapy.clone());
        let mut expect = case.expect_2014;
        for id in CHRONOLOGY {
            if let Some((_, changed)) = case.changes.iter().find(|(set_id, _)| *set_id == id) {
                expect = changed;
            }
            let (class, rule) = split(expect);
            let result = classify(set(id), &d);
            let want_rule = format!("{id}/{rule}");
            if result.class != class || result.deciding_rule() != want_rule {
                failures.push(format!(
                    "{} under {id}: expected {class} by {want_rule}, got {} by {}\n  {}",
                    case.name,
                    result.class,
                    result.deciding_rule(),
                    result.reasons[0].text
                ));
            }
            assert_eq!(result.rule_set, id);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_table_change_is_a_real_change_of_rule() {
    for case in cases() {
        let mut prev = case.expect_2014;
        for (_, changed) in case.changes {
            assert_ne!(prev, *changed, "{}: listed change is no change", case.name);
            prev = changed;
        }
    }
}

#[test]
fn reasons_cite_the_rule_the_provision_and_the_facts_used() {
    let d = therapy(json!({
        "material": "cells", "cell_source": "allogeneic", "cell_kind": "somatic",
        "gene_introduced": false, "genome_edited": false, "cultured": true,
        "homologous_use": true, "purpose": "treatment", "procedure": null
    }));
    let result = classify(set("asrm-2014"), &d);
    assert_eq!(result.class, Classification::One);
    assert_eq!(result.reasons.len(), 1);
    assert_eq!(result.reasons[0].rule, "asrm-2014/allogeneic");
    assert_eq!(
        result.reasons[0].text,
        "cell_source = allogeneic: cells of a person other than the recipient → class 1 \
         (asrm-2014/allogeneic; 施行規則 第2条第4号 (投与を受ける者以外の人の細胞))"
    );
}

#[test]
fn later_rules_reaching_the_same_class_are_listed_after_the_deciding_one() {
    // Allogeneic iPS cells: class 1 as pluripotent (deciding) and also as allogeneic.
    let d = therapy(cells(
        "allogeneic",
        "ips",
        false,
        false,
        true,
        false,
        "treatment",
        None,
    ));
    let result = classify(set("asrm-2025"), &d);
    let rules: Vec<&str> = result.reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(rules, ["asrm-2025/pluripotent", "asrm-2025/allogeneic"]);
    assert!(
        result.reasons[0].text.starts_with("cell_kind = ips: "),
        "{}",
        result.reasons[0].text
    );
    // An HSC transplant of allogeneic cells is outside: the class 1 allogeneic rule is
    // not given as a reason, since it did not decide the class.
    let d = therapy(cells(
        "allogeneic",
        "hematopoietic_stem",
        false,
        false,
        false,
        true,
        "treatment",
        Some("hsc_transplant"),
    ));
    let result = classify(set("asrm-2025"), &d);
    assert_eq!(result.class, Classification::Outside);
    assert_eq!(result.reasons.len(), 1);
    assert!(
        result.reasons[0].text.starts_with(
            "procedure = hsc_transplant, cell_source = allogeneic, cell_kind = hematopoietic_stem, gene_introduced = false, genome_edited = false, cultured = false: "
        ),
        "{}",
        result.reasons[0].text
    );
}

#[test]
fn the_fallback_reason_lists_the_whole_description() {
    let d = therapy(cells(
        "autologous",
        "somatic",
        false,
        false,
        true,
        true,
        "treatment",
        None,
    ));
    let result = classify(set("asrm-2014"), &d);
    assert_eq!(result.class, Classification::Three);
    assert_eq!(
        result.reasons[0].text,
        "no class 1 or class 2 criterion applies (material = cells, cell_source = autologous, \
         cell_kind = somatic, gene_introduced = false, genome_edited = false, cultured = true, \
         homologous_use = true, purpose = treatment) → class 3 (asrm-2014/class-3; \
         法 第2条第7項 (第一種・第二種以外の再生医療等技術))"
    );
}

#[test]
fn source_facts_are_cited_for_derived_products_under_the_proposal() {
    let d = therapy(derived(
        "culture_supernatant",
        "allogeneic",
        "somatic_stem",
        false,
        true,
        "treatment",
    ));
    let result = classify(set("proposal-ev-supernatant"), &d);
    assert!(
        result.reasons[0]
            .text
            .starts_with("material = culture_supernatant, source.cell_source = allogeneic: made from cells of a person other than the recipient → class 1"),
        "{}",
        result.reasons[0].text
    );
}

#[test]
fn the_result_serialises_in_the_published_shape() {
    let d = therapy(derived(
        "ev",
        "autologous",
        "somatic_stem",
        false,
        true,
        "treatment",
    ));
    let value = serde_json::to_value(classify(set("asrm-2025"), &d)).unwrap();
    assert_eq!(value["class"], "outside");
    assert_eq!(value["rule_set"], "asrm-2025");
    assert_eq!(value["reasons"][0]["rule"], "asrm-2025/no-processed-cells");
    assert!(value["reasons"][0]["text"].is_string());
    assert_eq!(value.as_object().unwrap().len(), 3);
}

#[test]
fn what_if_the_proposal_applied_to_the_table() {
    let current = set("asrm-2025");
    let proposal = set("proposal-ev-supernatant");
    let results: Vec<_> = cases()
        .into_iter()
        .map(|c| reclassify(current, proposal, &therapy(c.therapy)))
        .collect();
    let summary = TransitionSummary::tally(&results);
    assert_eq!(summary.total, results.len());
    // Exactly the six EV / culture supernatant rows move, all from outside.
    assert_eq!(summary.changed, 6);
    let from_outside: usize = summary
        .transitions
        .iter()
        .filter(|t| t.from == Classification::Outside && t.to != Classification::Outside)
        .map(|t| t.count)
        .sum();
    assert_eq!(from_outside, 6);
    for r in results.iter().filter(|r| r.changed()) {
        assert_eq!(r.before.class, Classification::Outside);
        assert!(
            r.after.deciding_rule().contains("/derived-")
                || r.after.deciding_rule().ends_with("/class-3")
        );
    }
}

#[test]
fn nucleic_acid_reasons_do_not_cite_cell_rules() {
    // Regression: `gene_introduced` on a nucleic acid once also matched the cell rule
    // "gene-modified", adding "cells into which a gene was introduced" as a reason.
    let d = therapy(json!({"material": "nucleic_acid", "purpose": "treatment",
        "gene_introduced": true, "genome_edited": true}));
    for id in CHRONOLOGY {
        let result = classify(set(id), &d);
        assert_eq!(result.reasons.len(), 1, "{id}: {:?}", result.reasons);
        assert!(result.reasons[0].rule.contains("nucleic-acid"), "{id}");
    }
}

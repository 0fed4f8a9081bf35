//! Loading and validating rule sets: the embedded catalogue, selection by date and id, and
//! rejection of broken files (overlaps, unknown keys, unreachable rules, missing fallback).

use saisei_domain::regulation::{
    CatalogueError, Confidence, RuleBook, RuleSet, RuleSetProblem, RuleSetStatus,
};
use time::macros::date;

use crate::common::{ASRM_2014, CHRONOLOGY, book, set};

fn load(text: &str) -> Result<RuleSet, saisei_domain::regulation::RuleSetError> {
    RuleSet::from_toml_str("test.toml", text)
}

fn problem(text: &str) -> RuleSetProblem {
    match load(text) {
        Ok(_) => panic!("expected the rule set to be rejected"),
        Err(e) => {
            assert_eq!(e.origin, "test.toml");
            assert!(e.to_string().starts_with("rule set test.toml: "), "{e}");
            e.problem
        }
    }
}

#[test]
fn every_embedded_rule_set_loads_with_sources() {
    let ids: Vec<&str> = book().rule_sets().iter().map(|s| s.id()).collect();
    assert_eq!(ids, CHRONOLOGY);
    for s in book().rule_sets() {
        assert!(!s.title().is_empty());
        assert!(!s.source().citation.is_empty());
        assert!(!s.source().note.is_empty());
        let p = s.parameters();
        for source in [
            &p.committee.source,
            &p.waiting_period.source,
            &p.periodic_report.source,
            &p.adverse_events.death_or_possible_death.source,
            &p.adverse_events.serious.source,
            &p.adverse_events.non_serious.source,
            &p.calendar.source,
            &p.retention.source,
        ] {
            assert!(!source.is_empty(), "{}", s.id());
        }
        assert!(s.rules().last().is_some_and(|r| r.condition().is_none()));
        assert!(s.origin().starts_with("rules/asrm/"));
    }
    assert_eq!(
        set("proposal-ev-supernatant").status(),
        RuleSetStatus::Proposal
    );
    assert_eq!(
        set("proposal-ev-supernatant").source().confidence,
        Confidence::Low
    );
}

#[test]
fn the_shipped_parameters_match_the_facts_table() {
    for s in book().rule_sets() {
        let p = s.parameters();
        assert_eq!(p.waiting_period.class_1_days, 90);
        assert_eq!(p.periodic_report.period_months, 12);
        assert_eq!(p.periodic_report.due_days_after_period_end, 90);
        assert_eq!(p.adverse_events.death_or_possible_death.days, 7);
        assert_eq!(p.adverse_events.serious.days, 15);
        assert_eq!(p.adverse_events.non_serious.cycle_days, 60);
        assert_eq!(p.adverse_events.non_serious.due_days_after_cycle_end, 10);
        assert!(!p.calendar.weekends_extend_deadlines);
        assert_eq!(p.retention.clinical_record_years, 10);
        assert_eq!(p.retention.specified_product_years, 30);
    }
}

#[test]
fn in_force_sets_are_contiguous_from_the_act_commencement() {
    let in_force: Vec<&RuleSet> = book()
        .rule_sets()
        .iter()
        .filter(|s| s.status() == RuleSetStatus::InForce)
        .collect();
    assert_eq!(in_force[0].effective_from(), date!(2014 - 11 - 25));
    for pair in in_force.windows(2) {
        let end = pair[0]
            .effective_to()
            .expect("only the last set is open-ended");
        assert_eq!(
            end.next_day(),
            Some(pair[1].effective_from()),
            "{}",
            pair[0].id()
        );
    }
    assert_eq!(in_force.last().unwrap().effective_to(), None);
}

#[test]
fn a_date_selects_the_set_in_force_and_never_a_proposal() {
    let b = book();
    assert_eq!(
        b.in_force_on(date!(2014 - 11 - 24)),
        Err(CatalogueError::NoneInForce {
            date: date!(2014 - 11 - 24)
        })
    );
    for (day, id) in [
        (date!(2014 - 11 - 25), "asrm-2014"),
        (date!(2020 - 06 - 25), "asrm-2014"),
        (date!(2020 - 06 - 26), "asrm-2020-genome-editing"),
        (date!(2025 - 05 - 30), "asrm-2020-genome-editing"),
        (date!(2025 - 05 - 31), "asrm-2025"),
        (date!(2040 - 01 - 01), "asrm-2025"),
    ] {
        assert_eq!(b.in_force_on(day).unwrap().id(), id, "{day}");
    }
    assert_eq!(
        b.get("proposal-ev-supernatant").unwrap().id(),
        "proposal-ev-supernatant"
    );
    assert!(matches!(
        b.get("asrm-1999"),
        Err(CatalogueError::UnknownId { .. })
    ));
}

#[test]
fn a_rule_set_file_text_loads_like_the_embedded_one() {
    let from_text = RuleSet::from_toml_str("/tmp/asrm-2014.toml", ASRM_2014).unwrap();
    assert_eq!(from_text.id(), "asrm-2014");
    assert_eq!(from_text.rules(), set("asrm-2014").rules());
    assert_eq!(from_text.origin(), "/tmp/asrm-2014.toml");
}

#[test]
fn overlapping_in_force_ranges_are_rejected() {
    let overlapping = ASRM_2014
        .replace("id = \"asrm-2014\"", "id = \"asrm-2014-bis\"")
        .replace("effective_from = 2014-11-25", "effective_from = 2019-01-01")
        .replace("effective_to = 2020-06-25", "effective_to = 2020-12-31");
    let extra = RuleSet::from_toml_str("bis.toml", &overlapping).unwrap();
    let err = book().clone().with(extra).unwrap_err();
    assert_eq!(
        err,
        CatalogueError::Overlap {
            first: "asrm-2014".to_owned(),
            second: "asrm-2014-bis".to_owned(),
            from: date!(2019 - 01 - 01),
        }
    );
    // The same range as a proposal is fine: proposals are not selected by date.
    let proposal = RuleSet::from_toml_str(
        "bis.toml",
        &overlapping.replace("status = \"in_force\"", "status = \"proposal\""),
    )
    .unwrap();
    let with = book().clone().with(proposal).unwrap();
    assert_eq!(
        with.in_force_on(date!(2019 - 06 - 01)).unwrap().id(),
        "asrm-2014"
    );
}

#[test]
fn duplicate_ids_are_rejected() {
    let again = RuleSet::from_toml_str("again.toml", ASRM_2014).unwrap();
    assert!(matches!(
        RuleBook::new(vec![set("asrm-2014").clone(), again]),
        Err(CatalogueError::DuplicateId { .. })
    ));
}

#[test]
fn unknown_keys_are_rejected_everywhere() {
    for (from, to) in [
        (
            "status = \"in_force\"",
            "status = \"in_force\"\nregion = \"JP\"",
        ),
        (
            "id = \"allogeneic\"\nclass = \"1\"",
            "id = \"allogeneic\"\nclas = \"1\"\nclass = \"1\"",
        ),
        ("class_1_days = 90", "class_1_days = 90\nclass_2_days = 0"),
        (
            "confidence = \"high\"",
            "confidence = \"high\"\nurl = \"x\"",
        ),
    ] {
        let text = ASRM_2014.replacen(from, to, 1);
        assert_ne!(text, ASRM_2014, "{from}");
        match problem(&text) {
            RuleSetProblem::Syntax(msg) => assert!(msg.contains("unknown field"), "{msg}"),
            other => panic!("{from}: {other:?}"),
        }
    }
}

#[test]
fn unknown_condition_fields_and_values_are_rejected_with_their_path() {
    let text = ASRM_2014.replace(
        "when = { field = \"cell_source\", eq = \"xenogeneic\" }",
        "when = { field = \"donor_species\", eq = \"pig\" }",
    );
    assert_eq!(
        problem(&text),
        RuleSetProblem::Invalid {
            field: "rules[9].when.field".to_owned(),
            message: "unknown field `donor_species`".to_owned(),
        }
    );
    let text = ASRM_2014.replace(
        "when = { field = \"cell_source\", eq = \"xenogeneic\" }",
        "when = { field = \"cell_source\", eq = \"porcine\" }",
    );
    match problem(&text) {
        RuleSetProblem::Invalid { field, message } => {
            assert_eq!(field, "rules[9].when.eq");
            assert!(
                message.contains("autologous, allogeneic, xenogeneic"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let text = ASRM_2014.replace(
        "when = { field = \"cell_source\", eq = \"xenogeneic\" }",
        "when = { field = \"cell_source\", is = \"xenogeneic\" }",
    );
    assert!(
        matches!(problem(&text), RuleSetProblem::Syntax(m) if m.contains("unknown field `is`"))
    );
}

#[test]
fn a_rule_shadowed_by_earlier_rules_is_rejected() {
    // A second "allogeneic"-like rule after the first can never decide.
    let text = ASRM_2014.replace(
        "[[rules]]\nid = \"cultured-stem-cells\"",
        "[[rules]]\nid = \"allogeneic-again\"\nclass = \"2\"\ncites = \"x\"\n\
         when = { all = [ { field = \"cell_source\", eq = \"allogeneic\" }, { field = \"cultured\", eq = true } ] }\n\
         reason = \"{facts}\"\n\n[[rules]]\nid = \"cultured-stem-cells\"",
    );
    assert_eq!(
        problem(&text),
        RuleSetProblem::Unreachable {
            rule: "allogeneic-again".to_owned(),
            field: "rules[11]".to_owned(),
        }
    );
    // A rule no valid description can satisfy is caught the same way.
    let text = ASRM_2014.replace(
        "when = { field = \"cell_source\", eq = \"xenogeneic\" }",
        "when = { all = [ { field = \"material\", eq = \"ev\" }, { field = \"cell_source\", eq = \"xenogeneic\" } ] }",
    );
    assert!(
        matches!(problem(&text), RuleSetProblem::Unreachable { rule, .. } if rule == "xenogeneic")
    );
}

#[test]
fn the_fallback_must_be_last_and_present() {
    let without_fallback = match ASRM_2014.find("[[rules]]\nid = \"class-3\"") {
        Some(i) => {
            let params = ASRM_2014.find("# ---- parameters").unwrap();
            format!("{}{}", &ASRM_2014[..i], &ASRM_2014[params..])
        }
        None => panic!("class-3 rule"),
    };
    assert!(matches!(
        problem(&without_fallback),
        RuleSetProblem::MissingFallback { rule, .. } if rule == "non-homologous"
    ));
    let early_fallback =
        ASRM_2014.replace("when = { field = \"homologous_use\", eq = false }\n", "");
    assert!(matches!(
        problem(&early_fallback),
        RuleSetProblem::FallbackNotLast { rule, .. } if rule == "non-homologous"
    ));
}

#[test]
fn bad_headers_templates_and_parameters_are_rejected() {
    let cases = [
        (
            "effective_to = 2020-06-25",
            "effective_to = 2014-01-01",
            "effective_to",
        ),
        (
            "effective_from = 2014-11-25",
            "effective_from = 2014-11-25T09:00:00",
            "effective_from",
        ),
        ("id = \"asrm-2014\"", "id = \"ASRM 2014\"", "id"),
        (
            "reason = \"{facts}: animal cells",
            "reason = \"{fact}: animal cells",
            "rules[9].reason",
        ),
        (
            "class_1 = [\"specially_certified\"]",
            "class_1 = []",
            "parameters.committee.class_1",
        ),
        (
            "cycle_days = 60",
            "cycle_days = 0",
            "parameters.adverse_events.non_serious.cycle_days",
        ),
        ("holidays = []", "holidays = [2025-13-01]", ""),
    ];
    for (from, to, field) in cases {
        let text = ASRM_2014.replacen(from, to, 1);
        assert_ne!(text, ASRM_2014, "{from}");
        match problem(&text) {
            RuleSetProblem::Invalid { field: got, .. } => assert_eq!(got, field, "{to}"),
            RuleSetProblem::Syntax(_) if field.is_empty() => {}
            other => panic!("{to}: {other:?}"),
        }
    }
    let duplicate = ASRM_2014.replace("id = \"xenogeneic\"", "id = \"allogeneic\"");
    assert!(
        matches!(problem(&duplicate), RuleSetProblem::DuplicateRule { rule, .. } if rule == "allogeneic")
    );
    let wrong_class = ASRM_2014.replace("class = \"outside\"", "class = \"4\"");
    assert!(matches!(problem(&wrong_class), RuleSetProblem::Syntax(_)));
}

#[test]
fn summaries_serialise_with_civil_dates() {
    let v = serde_json::to_value(set("asrm-2014").summary()).unwrap();
    assert_eq!(v["effective_from"], "2014-11-25");
    assert_eq!(v["effective_to"], "2020-06-25");
    assert_eq!(v["status"], "in_force");
    assert_eq!(v["rules"][10]["id"], "asrm-2014/allogeneic");
    assert_eq!(v["rules"][10]["when"], "cell_source = allogeneic");
    assert_eq!(v["rules"][14]["when"], serde_json::Value::Null);
    let v = serde_json::to_value(set("asrm-2025").summary()).unwrap();
    assert_eq!(v["effective_to"], serde_json::Value::Null);
    let v = serde_json::to_value(set("asrm-2025").parameters()).unwrap();
    assert_eq!(v["adverse_events"]["serious"]["days"], 15);
    assert_eq!(v["calendar"]["holidays"], serde_json::json!([]));
}

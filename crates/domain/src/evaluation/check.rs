//! The plan check: every point the MHLW evaluation index asks a post-marketing evaluation plan to
//! settle or justify that the plan leaves open.
//!
//! The guidance says the items (1)–(7) must be judged adequate before conditional
//! approval, and that a plan lacking them "cannot yield data that bear an approval
//! review". A reviewer should see the gaps at once, so each gap names the guidance item,
//! the field to fill and what is missing, in words. Gaps block agreement; warnings are
//! points the guidance asks the sponsor to think about but allows.

use super::plan::{
    Assessor, DataDirection, EndpointDefinition, EndpointRole, EvaluationPlan, Objectivity,
};
use crate::registry::ControlSource;
use serde::{Deserialize, Serialize};

/// The guidance item a finding belongs to (MHLW evaluation index, section 6).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GuidanceItem {
    /// (1) 症例数: number of cases.
    NumberOfCases,
    /// (2) 評価実施施設数: number of sites.
    NumberOfSites,
    /// (3) 評価項目の客観性: objective endpoints and pre-set success criteria.
    Endpoints,
    /// (4) 症例のランダム化: randomisation.
    Randomisation,
    /// (5) 評価の盲検化: blinding and a central adjudication committee.
    Blinding,
    /// (6) 対照群の設定と方向: the control group and its direction.
    ControlGroup,
    /// (7) 使用成績調査等の選択の妥当性: why a use-results survey suffices.
    UseResultsSurvey,
    /// (7) B: quality attributes against efficacy.
    QualityEfficacy,
    /// (1) interim analyses and sample-size re-estimation, fixed in advance.
    InterimAnalysis,
}

impl GuidanceItem {
    /// The item as the guidance numbers it.
    pub fn label(self) -> &'static str {
        match self {
            GuidanceItem::NumberOfCases => "(1) number of cases",
            GuidanceItem::NumberOfSites => "(2) number of sites",
            GuidanceItem::Endpoints => "(3) endpoints",
            GuidanceItem::Randomisation => "(4) randomisation",
            GuidanceItem::Blinding => "(5) blinding",
            GuidanceItem::ControlGroup => "(6) control group",
            GuidanceItem::UseResultsSurvey => "(7) use-results survey",
            GuidanceItem::QualityEfficacy => "(7-B) quality and efficacy",
            GuidanceItem::InterimAnalysis => "(1) interim analysis",
        }
    }
}

/// How much a finding matters.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The guidance asks for this to be settled or justified; the plan does not.
    Gap,
    /// The guidance asks the sponsor to consider this; the plan may still stand.
    Warning,
}

/// One open point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanGap {
    /// The guidance item.
    pub item: GuidanceItem,
    /// Gap or warning.
    pub severity: Severity,
    /// The plan field to fill or change.
    pub field: String,
    /// What is open, in words.
    pub message: String,
}

/// Lists what the plan leaves open, gaps first then warnings, in guidance order.
pub fn check_plan(plan: &EvaluationPlan) -> Vec<PlanGap> {
    let mut out = Vec::new();
    let mut gap = |item, field: &str, message: &str| {
        out.push(PlanGap {
            item,
            severity: Severity::Gap,
            field: field.into(),
            message: message.into(),
        })
    };
    use GuidanceItem::*;

    // (1) number of cases.
    let ss = &plan.sample_size;
    if ss.target_treated.is_none() {
        gap(
            NumberOfCases,
            "sample_size.target_treated",
            "no target number of treated cases",
        );
    }
    if ss.assumptions.is_none() {
        gap(
            NumberOfCases,
            "sample_size.assumptions",
            "no power calculation: the number of cases must be statistically evaluable on a clinically meaningful endpoint",
        );
    }
    if ss.target_controls.is_none() {
        gap(
            NumberOfCases,
            "sample_size.target_controls",
            "no target number of controls (the guidance stresses the control group's size for MSC products)",
        );
    }
    if ss.justification.is_none() {
        gap(
            NumberOfCases,
            "sample_size.justification",
            "no justification of the number against patients in Japan, severity, QOL and alternatives",
        );
    }
    if let Some(i) = &plan.interim
        && i.sample_size_reestimation
        && i.reestimation_procedure.is_none()
    {
        gap(
            InterimAnalysis,
            "interim.reestimation_procedure",
            "sample-size re-estimation at an interim look without a procedure fixed in advance",
        );
    }

    // (2) sites.
    match plan.sites.planned {
        None => gap(
            NumberOfSites,
            "sites.planned",
            "no number of evaluation sites",
        ),
        Some(1) if plan.sites.justification.is_none() => gap(
            NumberOfSites,
            "sites.justification",
            "a single site and no reason given (site differences cannot be examined)",
        ),
        _ => {}
    }

    // (3) endpoints.
    let primary = plan.primary();
    if primary.is_none() {
        gap(Endpoints, "endpoints", "no single primary endpoint");
    }
    for (i, e) in plan.endpoints.iter().enumerate() {
        let at = |f: &str| format!("endpoints[{i}].{f}");
        if e.success.is_none() && e.role == EndpointRole::Primary {
            gap(
                Endpoints,
                &at("success"),
                &format!(
                    "primary endpoint '{}' has no pre-specified success criterion",
                    e.key
                ),
            );
        }
        if e.objectivity == Objectivity::Subjective && e.objectivity_justification.is_none() {
            gap(
                Endpoints,
                &at("objectivity_justification"),
                &format!(
                    "endpoint '{}' is subjective and no reason is given why an objective, quantitative one is not used",
                    e.key
                ),
            );
        }
        if e.assessed_by == Assessor::TreatingPhysician && e.assessor_justification.is_none() {
            gap(
                Blinding,
                &at("assessor_justification"),
                &format!(
                    "endpoint '{}' is assessed by the treating physician and no reason is given",
                    e.key
                ),
            );
        }
        if e.adjudicated && !plan.blinding.central_adjudication {
            gap(
                Blinding,
                &at("adjudicated"),
                &format!(
                    "endpoint '{}' is to be adjudicated but the plan has no central adjudication committee",
                    e.key
                ),
            );
        }
    }

    // (4) randomisation.
    if !plan.randomisation.randomised && plan.randomisation.reason_not_randomised.is_none() {
        gap(
            Randomisation,
            "randomisation.reason_not_randomised",
            "not randomised and no reason given",
        );
    }

    // (5) blinding and central adjudication.
    let b = &plan.blinding;
    if !b.assessor_blinded && b.reason_not_blinded.is_none() {
        gap(
            Blinding,
            "blinding.reason_not_blinded",
            "assessment not blinded and no reason given",
        );
    }
    if !b.central_adjudication && b.reason_no_central_adjudication.is_none() {
        gap(
            Blinding,
            "blinding.reason_no_central_adjudication",
            "no central adjudication and no reason given",
        );
    }
    if b.central_adjudication && b.adjudicators.len() < 2 {
        gap(
            Blinding,
            "blinding.adjudicators",
            "a central adjudication committee needs at least two adjudicators",
        );
    }

    // (6) control group.
    let c = &plan.control;
    if !plan.randomisation.randomised {
        match c.source {
            None => gap(ControlGroup, "control.source", "no control group source"),
            Some(ControlSource::ConcurrentSameSites) => {}
            Some(src) if c.source_justification.is_none() => gap(
                ControlGroup,
                "control.source_justification",
                &format!(
                    "controls from {} and no reason given why concurrent controls at the same sites are not used",
                    match src {
                        ControlSource::ConcurrentOtherSites => "other sites",
                        ControlSource::Registry => "a registry",
                        ControlSource::Historical => "historical data",
                        ControlSource::ConcurrentSameSites => "the same sites",
                    }
                ),
            ),
            Some(_) => {}
        }
        if c.direction.is_none() {
            gap(
                ControlGroup,
                "control.direction",
                "no direction of control data collection (prospective or retrospective)",
            );
        }
        if c.direction == Some(DataDirection::Retrospective) && !c.data_availability_confirmed {
            gap(
                ControlGroup,
                "control.data_availability_confirmed",
                "retrospective controls without confirming beforehand that the data the evaluation needs exist",
            );
        }
        if c.method.is_none() {
            gap(
                ControlGroup,
                "control.method",
                "no method to make controls comparable (matching, weighting or stratification)",
            );
        }
        if c.covariates.is_empty() {
            gap(
                ControlGroup,
                "control.covariates",
                "no baseline covariates (prognostic factors) to adjust for",
            );
        }
    }

    // (7) use-results survey.
    if plan.use_results_rationale.is_none() {
        gap(
            UseResultsSurvey,
            "use_results_rationale",
            "no explanation why a use-results survey is adequate",
        );
    }
    if plan.quality_efficacy.is_none() {
        gap(
            QualityEfficacy,
            "quality_efficacy",
            "no plan to analyse product quality attributes against clinical efficacy",
        );
    }

    // Warnings: points to consider.
    let mut warn = |item, field: &str, message: String| {
        out.push(PlanGap {
            item,
            severity: Severity::Warning,
            field: field.into(),
            message,
        })
    };
    if let Some(p) = primary {
        if p.objectivity == Objectivity::Subjective && !b.assessor_blinded {
            warn(
                Endpoints,
                "endpoints",
                format!(
                    "the primary endpoint '{}' is subjective and assessed unblinded: open to bias",
                    p.key
                ),
            );
        }
        if matches!(p.definition, EndpointDefinition::TimeToEvent { .. })
            && !matches!(
                plan.sample_size.assumptions,
                Some(super::plan::PowerAssumptions::Survival { .. }) | None
            )
        {
            warn(
                NumberOfCases,
                "sample_size.assumptions",
                "the primary endpoint is time-to-event but the power calculation is not".into(),
            );
        }
    }
    if c.direction == Some(DataDirection::Retrospective) {
        warn(
            ControlGroup,
            "control.direction",
            "retrospective controls differ in period and background care; prospective collection is preferred when prognostic factors matter".into(),
        );
    }
    if c.source == Some(ControlSource::Historical) {
        warn(
            ControlGroup,
            "control.source",
            "historical controls may follow a different treatment regime".into(),
        );
    }
    if plan.interim.is_none() {
        warn(
            InterimAnalysis,
            "interim",
            "no interim analysis planned".into(),
        );
    }
    out.sort_by_key(|g| (g.severity, g.item));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::plan::tests::{complete, parse};
    use GuidanceItem::*;
    use serde_json::json;

    fn gaps(p: &EvaluationPlan) -> Vec<(GuidanceItem, String)> {
        check_plan(p)
            .into_iter()
            .filter(|g| g.severity == Severity::Gap)
            .map(|g| (g.item, g.field))
            .collect()
    }

    #[test]
    fn a_complete_plan_has_no_gaps() {
        let p = parse(complete()).unwrap();
        assert_eq!(gaps(&p), vec![]);
    }

    #[test]
    fn every_unsettled_point_is_listed() {
        let mut v = complete();
        v["blinding"] = json!({"assessor_blinded": false});
        v["randomisation"] = json!({"randomised": false});
        v["sites"] = json!({"planned": 1});
        v["sample_size"] = json!({"target_treated": 60});
        v["use_results_rationale"] = json!(null);
        v["quality_efficacy"] = json!(null);
        v["endpoints"][0]["objectivity_justification"] = json!(null);
        v["endpoints"][0]["success"] = json!(null);
        v["control"]["source_justification"] = json!(null);
        v["control"]["method"] = json!(null);
        let p = parse(v).unwrap();
        let found = check_plan(&p);
        let messages: Vec<&str> = found.iter().map(|g| g.message.as_str()).collect();
        assert!(
            messages.contains(&"no central adjudication and no reason given"),
            "{messages:?}"
        );
        assert!(messages.contains(&"not randomised and no reason given"));
        assert!(messages.contains(&"assessment not blinded and no reason given"));
        assert!(messages.contains(&"no explanation why a use-results survey is adequate"));
        let fields: Vec<String> = gaps(&p).into_iter().map(|(_, f)| f).collect();
        for f in [
            "sample_size.assumptions",
            "sample_size.target_controls",
            "sample_size.justification",
            "sites.justification",
            "endpoints[0].success",
            "endpoints[0].objectivity_justification",
            "endpoints[1].adjudicated",
            "randomisation.reason_not_randomised",
            "blinding.reason_not_blinded",
            "blinding.reason_no_central_adjudication",
            "control.source_justification",
            "control.method",
            "use_results_rationale",
            "quality_efficacy",
        ] {
            assert!(fields.contains(&f.to_string()), "missing {f} in {fields:?}");
        }
        // Gaps come before warnings.
        let first_warning = found
            .iter()
            .position(|g| g.severity == Severity::Warning)
            .unwrap();
        assert!(
            found[first_warning..]
                .iter()
                .all(|g| g.severity == Severity::Warning)
        );
    }

    #[test]
    fn retrospective_controls_need_confirmed_data() {
        let mut v = complete();
        v["control"]["direction"] = json!("retrospective");
        let p = parse(v).unwrap();
        assert!(gaps(&p).contains(&(ControlGroup, "control.data_availability_confirmed".into())));
        let mut v = complete();
        v["blinding"]["adjudicators"] = json!(["only-one"]);
        let p = parse(v).unwrap();
        assert!(gaps(&p).contains(&(Blinding, "blinding.adjudicators".into())));
        let mut v = complete();
        v["interim"]["sample_size_reestimation"] = json!(true);
        let p = parse(v).unwrap();
        assert!(gaps(&p).contains(&(InterimAnalysis, "interim.reestimation_procedure".into())));
    }
}

//! The plan's own consistency (as opposed to the guidance's gaps, which `check_plan`
//! lists): each part checked by its own function, every problem named by its field.

use super::*;
use crate::error::{Validate, ValidationErrors};

/// The most endpoints one plan holds.
const MAX_ENDPOINTS: usize = 20;

impl Validate for EvaluationPlan {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.check_size(&mut errors);
        self.check_endpoints(&mut errors);
        self.check_blinding(&mut errors);
        self.check_control(&mut errors);
        self.check_interim(&mut errors);
        self.check_quality_efficacy(&mut errors);
        errors.into_result()
    }
}

impl EvaluationPlan {
    /// The data cut, the targets and the power assumptions.
    fn check_size(&self, errors: &mut ValidationErrors) {
        if let Some(d) = self.data_cut {
            crate::dates::check_plausible("data_cut", d, errors);
        }
        if let Some(a) = &self.sample_size.assumptions {
            a.check(errors);
        }
        if self.sample_size.target_treated == Some(0) {
            errors.push("sample_size.target_treated", "must be at least 1");
        }
        if self.sites.planned == Some(0) {
            errors.push("sites.planned", "must be at least 1");
        }
    }

    /// One primary endpoint among at most [`MAX_ENDPOINTS`], distinct keys, definitions
    /// and criteria that fit each other.
    fn check_endpoints(&self, errors: &mut ValidationErrors) {
        if self.endpoints.is_empty() {
            errors.push("endpoints", "a plan has at least one endpoint");
        }
        if self.endpoints.len() > MAX_ENDPOINTS {
            errors.push("endpoints", format!("at most {MAX_ENDPOINTS} endpoints"));
        }
        let primaries = self
            .endpoints
            .iter()
            .filter(|e| e.role == EndpointRole::Primary)
            .count();
        if !self.endpoints.is_empty() && primaries != 1 {
            errors.push(
                "endpoints",
                format!("a plan has exactly one primary endpoint (found {primaries})"),
            );
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            let at = |f: &str| format!("endpoints[{i}].{f}");
            if self.endpoints[..i].iter().any(|o| o.key == e.key) {
                errors.push(
                    at("key"),
                    format!("'{}' is used by another endpoint", e.key),
                );
            }
            match &e.definition {
                EndpointDefinition::TimeToEvent {
                    events,
                    horizon_days,
                } => {
                    if events.is_empty() {
                        errors.push(at("definition.events"), "name at least one kind of event");
                    }
                    if *horizon_days == Some(0) {
                        errors.push(at("definition.horizon_days"), "must be at least 1");
                    }
                    for (j, ev) in events.iter().enumerate() {
                        if let EventDefinition::ObservationThreshold { threshold, .. } = ev
                            && !threshold.is_finite()
                        {
                            errors.push(
                                at(&format!("definition.events[{j}].threshold")),
                                "must be finite",
                            );
                        }
                    }
                }
                EndpointDefinition::Binary { threshold, .. } => {
                    if !threshold.is_finite() {
                        errors.push(at("definition.threshold"), "must be finite");
                    }
                }
                EndpointDefinition::Continuous { .. } => {}
            }
            if e.adjudicated && !matches!(e.definition, EndpointDefinition::TimeToEvent { .. }) {
                errors.push(
                    at("adjudicated"),
                    "only time-to-event endpoints are adjudicated event by event",
                );
            }
            if let Some(s) = &e.success {
                let want = e.definition.effect_measure();
                if s.measure != want {
                    errors.push(
                        at("success.measure"),
                        format!(
                            "a {} endpoint is compared by {}",
                            match e.definition {
                                EndpointDefinition::TimeToEvent { .. } => "time-to-event",
                                EndpointDefinition::Binary { .. } => "binary",
                                EndpointDefinition::Continuous { .. } => "continuous",
                            },
                            want.as_str()
                        ),
                    );
                }
                s.check(&at("success"), errors);
            }
        }
    }

    /// Each adjudicator listed once, and only with central adjudication.
    fn check_blinding(&self, errors: &mut ValidationErrors) {
        let mut seen = Vec::new();
        for (i, a) in self.blinding.adjudicators.iter().enumerate() {
            if seen.contains(&a) {
                errors.push(format!("blinding.adjudicators[{i}]"), "is listed twice");
            }
            seen.push(a);
        }
        if !self.blinding.central_adjudication && !self.blinding.adjudicators.is_empty() {
            errors.push(
                "blinding.adjudicators",
                "adjudicators are named only with central_adjudication",
            );
        }
    }

    /// Eligibility ranges in order, the adjustment's parameters in range, each covariate
    /// once.
    fn check_control(&self, errors: &mut ValidationErrors) {
        let el = &self.control.eligibility;
        if let (Some(lo), Some(hi)) = (el.min_age, el.max_age)
            && lo > hi
        {
            errors.push("control.eligibility.max_age", "must not be below min_age");
        }
        if let (Some(from), Some(to)) = (el.index_from, el.index_to) {
            crate::dates::check_order(
                "control.eligibility.index_to",
                "index_from",
                from,
                to,
                errors,
            );
        }
        match &self.control.method {
            Some(AdjustmentMethod::Matching { ratio, caliper }) => {
                if !(1..=10).contains(ratio) {
                    errors.push("control.method.ratio", "must be 1 to 10");
                }
                if let Some(c) = caliper
                    && !(c.is_finite() && *c > 0.0)
                {
                    errors.push("control.method.caliper", "must be a positive number");
                }
            }
            Some(AdjustmentMethod::Weighting { truncate, .. }) => {
                if let Some(q) = truncate
                    && !(*q > 0.5 && *q < 1.0)
                {
                    errors.push("control.method.truncate", "must be between 0.5 and 1");
                }
            }
            Some(AdjustmentMethod::Stratification { strata }) if !(2..=20).contains(strata) => {
                errors.push("control.method.strata", "must be 2 to 20");
            }
            Some(AdjustmentMethod::Stratification { .. }) | None => {}
        }
        let mut cov_seen = Vec::new();
        for (i, c) in self.control.covariates.iter().enumerate() {
            if cov_seen.contains(&c) {
                errors.push(format!("control.covariates[{i}]"), "is listed twice");
            }
            cov_seen.push(c);
        }
    }

    /// Interim looks at increasing information fractions below 1, at most ten.
    fn check_interim(&self, errors: &mut ValidationErrors) {
        if let Some(interim) = &self.interim {
            let mut last = 0.0;
            for (i, t) in interim.looks.iter().enumerate() {
                if !(*t > last && *t < 1.0) {
                    errors.push(
                        format!("interim.looks[{i}]"),
                        "information fractions are increasing and between 0 and 1",
                    );
                }
                last = *t;
            }
            if interim.looks.len() > 10 {
                errors.push("interim.looks", "at most 10 interim looks");
            }
        }
    }

    /// A false discovery rate in (0, 1) and an endpoint the plan has.
    fn check_quality_efficacy(&self, errors: &mut ValidationErrors) {
        if let Some(q) = &self.quality_efficacy {
            if !(q.fdr > 0.0 && q.fdr < 1.0) {
                errors.push("quality_efficacy.fdr", "must be strictly between 0 and 1");
            }
            if !self.endpoints.is_empty() && self.endpoint(q.endpoint.as_str()).is_none() {
                errors.push(
                    "quality_efficacy.endpoint",
                    format!("no endpoint has the key '{}'", q.endpoint),
                );
            }
        }
    }
}

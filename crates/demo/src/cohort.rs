//! Patients and everything that happens to them: enrolment, consent, treatment,
//! follow-up visits with measurements, and adverse events, written one batch of
//! patients at a time.

use crate::quality::QualityScaffold;
use crate::scaffold::{Profile, Scaffold, product_profile};
use rand::rngs::StdRng;
use rand::{Rng, RngExt};
use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::registry::*;
use saisei_domain::regulation::{AdverseEventFacts, RuleBook, adverse_event_deadline};
use saisei_domain::text::{Code, Text, Title};
use saisei_store::{Batch, StoreError};
use time::{Date, Duration};
use uuid::Uuid;

/// The data cut: no event in the demo registry is later than this.
pub const DATA_CUT: Date = time::macros::date!(2026 - 09 - 30);

/// What one patient is in the demo.
enum Role {
    /// Treated under plan `plans[i]`.
    Plan(usize),
    /// Treated with the product at an institution.
    Product(usize),
    /// A registry control for the product at an institution.
    Control(usize),
}

fn code(s: &str) -> Result<Code, StoreError> {
    s.parse()
        .map_err(|e: String| StoreError::invalid("demo", e))
}

fn title(s: &str) -> Result<Title, StoreError> {
    s.parse()
        .map_err(|e: String| StoreError::invalid("demo", e))
}

fn text(s: &str) -> Result<Text, StoreError> {
    s.parse()
        .map_err(|e: String| StoreError::invalid("demo", e))
}

/// A normal deviate by Box–Muller (the demo needs no more than this).
fn normal<R: Rng + ?Sized>(rng: &mut R, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn day_between<R: Rng + ?Sized>(rng: &mut R, from: Date, to: Date) -> Date {
    let span = (to - from).whole_days().max(0);
    from + Duration::days(rng.random_range(0..=span))
}

fn choose_role<R: Rng + ?Sized>(rng: &mut R, scaffold: &Scaffold) -> Role {
    let active: Vec<(usize, u32)> = scaffold
        .plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.record.data.activated_on.is_some() && p.profile.weight > 0)
        .map(|(i, p)| (i, p.profile.weight))
        .collect();
    let r: f64 = rng.random_range(0.0..1.0);
    if r < 0.55 && !active.is_empty() {
        let total: u32 = active.iter().map(|(_, w)| w).sum();
        let mut pick = rng.random_range(0..total);
        for (i, w) in &active {
            if pick < *w {
                return Role::Plan(*i);
            }
            pick -= w;
        }
        Role::Plan(active[0].0)
    } else if r < 0.75 {
        // The product is used at the orthopaedic clinic, the general hospital and the
        // skin clinic.
        Role::Product([0usize, 1, 2][rng.random_range(0..3)])
    } else {
        Role::Control(rng.random_range(0..scaffold.institutions.len()))
    }
}

/// Adds patient number `n` and their records to `batch`.
pub fn add_patient(
    batch: &mut Batch,
    rng: &mut StdRng,
    scaffold: &Scaffold,
    quality: &QualityScaffold,
    rules: &RuleBook,
    key: &PseudonymKey,
    n: usize,
) -> Result<(), StoreError> {
    let role = choose_role(rng, scaffold);
    let (institution, profile, plan_id, product_id, start) = match role {
        Role::Plan(i) => {
            let p = &scaffold.plans[i];
            let start = p.record.data.activated_on.unwrap_or(DATA_CUT);
            (p.institution, p.profile, Some(p.record.id()), None, start)
        }
        Role::Product(inst) | Role::Control(inst) => (
            inst,
            product_profile(),
            None,
            Some(scaffold.product.id()),
            time::macros::date!(2022 - 01 - 10),
        ),
    };
    let treated = !matches!(role, Role::Control(_));
    let inst = &scaffold.institutions[institution];
    let end = match &role {
        Role::Plan(i) => scaffold.plans[*i]
            .record
            .data
            .activated_on
            .map(|_| DATA_CUT - Duration::days(20))
            .unwrap_or(DATA_CUT),
        _ => DATA_CUT - Duration::days(20),
    };
    let index = day_between(rng, start, end.max(start));
    let age = rng.random_range(profile.age.0..=profile.age.1);
    let birth_month = rng.random_range(1..=12u8);
    let birth = BirthYearMonth::new(index.year() - age, birth_month)
        .map_err(|e| StoreError::invalid("birth_year_month", e))?;
    let sex = if rng.random_bool(0.55) {
        Sex::Female
    } else {
        Sex::Male
    };
    let record_number = format!("MRN-{:07}", n + 1);
    let patient = batch.insert(Patient {
        institution_id: inst.id(),
        pseudonym: key.pseudonym(&inst.id().to_string(), &record_number),
        birth_year_month: birth,
        sex,
    })?;
    let pid = patient.id();
    batch.insert(Enrollment {
        patient_id: pid,
        arm: if treated { Arm::Treated } else { Arm::Control },
        plan_id,
        product_id,
        control_source: (!treated).then_some(ControlSource::Registry),
        enrolled_on: index - Duration::days(rng.random_range(0..21)),
        index_date: Some(index),
    })?;
    let consent_day = index - Duration::days(rng.random_range(1..30));
    let scopes: &[ConsentScope] = if treated {
        &[
            ConsentScope::Treatment,
            ConsentScope::Registry,
            ConsentScope::SecondaryResearch,
        ]
    } else {
        &[ConsentScope::Registry, ConsentScope::SecondaryResearch]
    };
    for scope in scopes {
        if *scope == ConsentScope::SecondaryResearch && rng.random_bool(0.3) {
            continue;
        }
        let withdrawn = *scope == ConsentScope::SecondaryResearch && rng.random_bool(0.02);
        batch.insert(Consent {
            patient_id: pid,
            scope: *scope,
            form_version: code(if consent_day.year() >= 2024 {
                "v3.0"
            } else {
                "v2.1"
            })?,
            given_on: consent_day,
            withdrawn_on: withdrawn.then(|| day_between(rng, index, DATA_CUT)),
            withdrawal_statement: if withdrawn {
                Some(text("研究へのデータ利用を希望しなくなった")?)
            } else {
                None
            },
        })?;
    }

    let treatment_id = if treated {
        let dose = profile.dose * rng.random_range(0.8..1.2);
        // Product patients receive a tracked unit of a released lot, so their adverse
        // events trace back to the lot, its bank and its donor.
        let unit_id = match role {
            Role::Product(_) => quality.add_unit(batch, inst, pid, index, n)?,
            _ => None,
        };
        let t = batch.insert(Treatment {
            patient_id: pid,
            plan_id,
            product_id,
            unit_id,
            schedule_id: Some(scaffold.schedule.id()),
            administered_on: index,
            dose: (dose * 100.0).round() / 100.0,
            dose_unit: code(profile.dose_unit)?,
            route: profile.route,
            site: profile
                .site
                .map(|s| s.parse())
                .transpose()
                .map_err(|e: String| StoreError::invalid("site", e))?,
        })?;
        Some(t.id())
    } else {
        None
    };
    add_follow_up(
        batch,
        rng,
        scaffold,
        &profile,
        pid,
        treatment_id,
        index,
        treated,
    )?;
    let filed_on = match &role {
        Role::Plan(i) => scaffold.plans[*i].record.data.filed_on,
        _ => None,
    };
    add_adverse_events(
        batch,
        rng,
        rules,
        filed_on,
        pid,
        treatment_id,
        index,
        treated,
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_follow_up(
    batch: &mut Batch,
    rng: &mut StdRng,
    scaffold: &Scaffold,
    profile: &Profile,
    pid: Uuid,
    treatment_id: Option<Uuid>,
    index: Date,
    treated: bool,
) -> Result<(), StoreError> {
    // A patient's own response: some respond well, some not at all.
    let responder = rng.random_range(0.0..1.0);
    let effect = if treated {
        profile.effect * (0.3 + 1.4 * responder)
    } else {
        profile.effect * 0.25 * responder
    };
    let baseline = normal(rng, profile.baseline, profile.sd * 0.6);
    let lost_after = if rng.random_bool(0.12) {
        Some(index + Duration::days(rng.random_range(30..900)))
    } else {
        None
    };
    let obs = |batch: &mut Batch,
               visit_id: Option<Uuid>,
               on: Date,
               value: f64|
     -> Result<(), StoreError> {
        batch.insert(Observation {
            patient_id: pid,
            visit_id,
            code: code(profile.measure)?,
            system: None,
            value_number: Some((value * 100.0).round() / 100.0),
            value_text: None,
            unit: Some(code(profile.unit)?),
            observed_on: on,
        })?;
        Ok(())
    };
    obs(batch, None, index, baseline)?;
    for planned in scaffold.schedule.data.plan_visits(index) {
        if planned.window_opens_on > DATA_CUT {
            // Visits not yet due at the data cut stay scheduled.
            batch.insert(Visit {
                patient_id: pid,
                treatment_id,
                label: code(&planned.label)?,
                due_on: planned.due_on,
                window_opens_on: planned.window_opens_on,
                window_closes_on: planned.window_closes_on,
                done_on: None,
                not_done_reason: None,
            })?;
            continue;
        }
        let lost = lost_after.is_some_and(|d| planned.due_on > d);
        let attended = !lost && rng.random_bool(0.9);
        let done_on = attended.then(|| {
            let shift = rng.random_range(
                -(planned.due_on - planned.window_opens_on).whole_days()
                    ..=(planned.window_closes_on - planned.due_on).whole_days() / 2,
            );
            (planned.due_on + Duration::days(shift)).min(DATA_CUT)
        });
        let not_done_reason = if lost && planned.window_closes_on < DATA_CUT {
            Some(text("追跡不能（転居）")?)
        } else {
            None
        };
        let visit = batch.insert(Visit {
            patient_id: pid,
            treatment_id,
            label: code(&planned.label)?,
            due_on: planned.due_on,
            window_opens_on: planned.window_opens_on,
            window_closes_on: planned.window_closes_on,
            done_on,
            not_done_reason,
        })?;
        if let Some(day) = done_on {
            let months = ((day - index).whole_days() as f64 / 30.4).min(24.0);
            let trajectory = (months / 12.0).min(1.0);
            let value = baseline + effect * trajectory + normal(rng, 0.0, profile.sd * 0.5);
            obs(batch, Some(visit.id()), day, value)?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_adverse_events(
    batch: &mut Batch,
    rng: &mut StdRng,
    rules: &RuleBook,
    plan_filed_on: Option<Date>,
    pid: Uuid,
    treatment_id: Option<Uuid>,
    index: Date,
    treated: bool,
) -> Result<(), StoreError> {
    let p_event = if treated { 0.14 } else { 0.05 };
    if !rng.random_bool(p_event) {
        return Ok(());
    }
    let onset =
        (index + Duration::days(rng.random_range(0..540))).min(DATA_CUT - Duration::days(1));
    let known = (onset + Duration::days(rng.random_range(0..6))).min(DATA_CUT);
    let roll: f64 = rng.random_range(0.0..1.0);
    let (term, ctcae, grade, seriousness, outcome): (
        &str,
        &str,
        u8,
        Vec<SeriousnessCriterion>,
        AeOutcome,
    ) = if roll < 0.35 {
        (
            "投与部位の疼痛と腫脹",
            "Injection site reaction",
            1,
            vec![],
            AeOutcome::Recovered,
        )
    } else if roll < 0.55 {
        ("投与翌日の発熱", "Fever", 1, vec![], AeOutcome::Recovered)
    } else if roll < 0.70 {
        (
            "関節水腫",
            "Joint effusion",
            2,
            vec![],
            AeOutcome::Recovered,
        )
    } else if roll < 0.80 {
        ("頭痛", "Headache", 1, vec![], AeOutcome::Recovered)
    } else if roll < 0.90 {
        (
            "化膿性関節炎で入院",
            "Joint infection",
            3,
            vec![SeriousnessCriterion::Hospitalisation],
            AeOutcome::RecoveredWithSequelae,
        )
    } else if roll < 0.95 {
        (
            "投与後の肺塞栓症",
            "Pulmonary embolism",
            4,
            vec![
                SeriousnessCriterion::LifeThreatening,
                SeriousnessCriterion::Hospitalisation,
            ],
            AeOutcome::Recovering,
        )
    } else if roll < 0.98 {
        (
            "心不全増悪で入院",
            "Heart failure",
            3,
            vec![SeriousnessCriterion::Hospitalisation],
            AeOutcome::Recovered,
        )
    } else {
        (
            "自宅での突然死",
            "Sudden death NOS",
            5,
            vec![SeriousnessCriterion::Death],
            AeOutcome::Fatal,
        )
    };
    let causality = if !treated {
        Causality::Unrelated
    } else {
        [
            Causality::Unlikely,
            Causality::Possible,
            Causality::Possible,
            Causality::Probable,
            Causality::Definite,
            Causality::NotAssessed,
        ][rng.random_range(0..6)]
    };
    let resolved = matches!(
        outcome,
        AeOutcome::Recovered | AeOutcome::RecoveredWithSequelae
    )
    .then(|| (onset + Duration::days(rng.random_range(1..45))).min(DATA_CUT));
    // Events under a plan are reported by their deadline under the Act, mostly on
    // time, some late, a few not at all; events with an approved product (no plan) are
    // reported under the PMD Act when serious.
    let facts = AdverseEventFacts {
        death_or_possible_death: seriousness.iter().any(|c| {
            matches!(
                c,
                SeriousnessCriterion::Death | SeriousnessCriterion::LifeThreatening
            )
        }),
        serious: !seriousness.is_empty(),
        known_on: known,
        cycle_anchor: plan_filed_on,
        causality: Some(causality),
    };
    let deadline = plan_filed_on
        .and_then(|_| rules.in_force_on(known).ok())
        .and_then(|set| adverse_event_deadline(set, &facts).ok());
    let reported_on = match deadline {
        Some(d) => {
            let roll: f64 = rng.random_range(0.0..1.0);
            let day = if roll < 0.88 {
                let earliest = if facts.serious {
                    known
                } else {
                    d.period.map(|p| p.end).unwrap_or(known)
                };
                day_between(
                    rng,
                    earliest + Duration::days(1),
                    d.due_on.max(earliest + Duration::days(1)),
                )
            } else if roll < 0.96 {
                d.due_on + Duration::days(rng.random_range(1..30))
            } else {
                DATA_CUT + Duration::days(1)
            };
            (day <= DATA_CUT).then_some(day)
        }
        None if !seriousness.is_empty() => {
            let day = known + Duration::days(rng.random_range(1..15));
            (day <= DATA_CUT).then_some(day)
        }
        None => None,
    };
    batch.insert(AdverseEvent {
        patient_id: pid,
        treatment_id,
        verbatim_term: title(term)?,
        ctcae_term: Some(title(ctcae)?),
        grade: Some(CtcaeGrade::try_from(grade).map_err(|e| StoreError::invalid("grade", e))?),
        seriousness,
        causality,
        onset_on: onset,
        known_on: known,
        outcome,
        resolved_on: resolved,
        description: None,
        reported_on,
    })?;
    Ok(())
}

/// A patient waiting at the bedside: enrolled for the product, consented, and with a
/// unit delivered to the ward but not yet given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitingUnit {
    /// The institution's own record number for the patient (never stored; typed to
    /// find them).
    pub record_number: String,
    /// The number on the unit's label.
    pub unit_number: String,
    /// The institution's name.
    pub institution: String,
}

/// Adds awaiting patient number `k` at the first institution (see [`AwaitingUnit`]);
/// `None` when no lot was released in time for them.
pub fn add_awaiting(
    batch: &mut Batch,
    scaffold: &Scaffold,
    quality: &QualityScaffold,
    key: &PseudonymKey,
    k: usize,
) -> Result<Option<AwaitingUnit>, StoreError> {
    let inst = &scaffold.institutions[0];
    let record_number = format!("MRN-W{:06}", k + 1);
    let ages = [67, 72, 58, 81, 63, 75];
    let birth = BirthYearMonth::new(
        DATA_CUT.year() - ages[k % ages.len()],
        u8::try_from(k % 12 + 1).unwrap_or(1),
    )
    .map_err(|e| StoreError::invalid("birth_year_month", e))?;
    let patient = batch.insert(Patient {
        institution_id: inst.id(),
        pseudonym: key.pseudonym(&inst.id().to_string(), &record_number),
        birth_year_month: birth,
        sex: if k.is_multiple_of(2) {
            Sex::Female
        } else {
            Sex::Male
        },
    })?;
    let pid = patient.id();
    let enrolled_on = DATA_CUT - Duration::days(14);
    batch.insert(Enrollment {
        patient_id: pid,
        arm: Arm::Treated,
        plan_id: None,
        product_id: Some(scaffold.product.id()),
        control_source: None,
        enrolled_on,
        index_date: None,
    })?;
    for scope in [ConsentScope::Treatment, ConsentScope::Registry] {
        batch.insert(Consent {
            patient_id: pid,
            scope,
            form_version: code("v3.0")?,
            given_on: enrolled_on,
            withdrawn_on: None,
            withdrawal_statement: None,
        })?;
    }
    let Some(unit_number) = quality.add_awaiting_unit(batch, inst, pid, k)? else {
        return Ok(None);
    };
    Ok(Some(AwaitingUnit {
        record_number,
        unit_number,
        institution: inst.data.name.to_string(),
    }))
}

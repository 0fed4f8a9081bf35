//! Lot status, release decisions with deviations, and whether a unit may leave or be used.
//!
//! A lot moves `in_process → quarantined → released | rejected`. A released lot can go
//! back to `quarantined` (a recall, an excursion, new information) and from there be
//! released again or rejected; `rejected` is final. The only way into `released` is a
//! [`ReleaseApproval`] from [`decide_release`]: [`LotStatus::transition`] refuses it.
//!
//! A lot whose conformance check has any failing or missing rule can only be released when each
//! such rule is covered by a [`Deviation`] for that lot, approved by a QA manager on or
//! before the decision date, with a reason. Otherwise [`decide_release`] returns a
//! [`ReleaseRefusal`] listing everything that blocks release.

use super::conformance::{Conformance, RuleOutcome};
use super::custody::{UnitCustodyState, UnitPhase, Unusable};
use super::identifiers::{LotNumber, RuleId};
use super::spec::SpecKey;
use crate::text::{Code, Name, Text};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;
use utoipa::ToSchema;

/// Where a lot stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LotStatus {
    /// Being manufactured.
    InProcess,
    /// Made, awaiting (or under) QA review; nothing may leave.
    Quarantined,
    /// Released by QA for use.
    Released,
    /// Rejected for use (final).
    Rejected,
}

impl LotStatus {
    /// The statuses this one may move to.
    pub fn next_allowed(self) -> &'static [LotStatus] {
        match self {
            LotStatus::InProcess => &[LotStatus::Quarantined, LotStatus::Rejected],
            LotStatus::Quarantined => &[LotStatus::Released, LotStatus::Rejected],
            LotStatus::Released => &[LotStatus::Quarantined],
            LotStatus::Rejected => &[],
        }
    }

    /// Moves to `to` when allowed. Moving to `released` is refused here: it needs
    /// [`decide_release`] and [`ReleaseApproval::status`].
    pub fn transition(self, to: LotStatus) -> Result<LotStatus, LotTransitionError> {
        if !self.next_allowed().contains(&to) {
            return Err(LotTransitionError::NotAllowed { from: self, to });
        }
        if to == LotStatus::Released {
            return Err(LotTransitionError::ReleaseNeedsDecision);
        }
        Ok(to)
    }
}

impl fmt::Display for LotStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LotStatus::InProcess => "in_process",
            LotStatus::Quarantined => "quarantined",
            LotStatus::Released => "released",
            LotStatus::Rejected => "rejected",
        })
    }
}

/// Why a lot cannot change status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LotTransitionError {
    /// The move is not in the life cycle.
    #[error("status: a lot cannot go from {from} to {to}")]
    NotAllowed {
        /// The current status.
        from: LotStatus,
        /// The requested status.
        to: LotStatus,
    },
    /// Release only through a release decision.
    #[error("status: a lot is released only by a release decision (decide_release)")]
    ReleaseNeedsDecision,
}

/// The quality roles that sign quality decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QualityRole {
    /// Quality assurance manager (品質保証責任者): the only role that may approve
    /// deviations and dispositions.
    QaManager,
    /// Quality-control analyst.
    QcAnalyst,
    /// Manufacturing (production) manager.
    ProductionManager,
    /// Anyone else.
    Other,
}

/// Who approved a quality decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approver {
    /// The person.
    pub person: Name,
    /// Their role.
    pub role: QualityRole,
}

/// A QA-approved decision to accept a lot although some rules are not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The deviation's reference number.
    pub reference: Code,
    /// The lot it concerns.
    pub lot: LotNumber,
    /// The rules it covers.
    pub rule_ids: Vec<RuleId>,
    /// Why accepting the lot is justified.
    pub reason: Text,
    /// Who approved it.
    pub approved_by: Approver,
    /// When.
    pub approved_on: Date,
}

/// Why a deviation does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum DeviationProblem {
    /// Approved by someone who is not a QA manager.
    NotApprovedByQaManager {
        /// The approver's role.
        role: QualityRole,
    },
    /// Written for another lot.
    ForAnotherLot {
        /// The lot it names.
        lot: LotNumber,
    },
    /// Approved after the release decision.
    ApprovedAfterDecision {
        /// Its approval date.
        approved_on: Date,
    },
}

impl fmt::Display for DeviationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviationProblem::NotApprovedByQaManager { role } => {
                write!(f, "approved by a {role:?}, not a QA manager")
            }
            DeviationProblem::ForAnotherLot { lot } => write!(f, "written for lot {lot}"),
            DeviationProblem::ApprovedAfterDecision { approved_on } => {
                write!(f, "approved on {approved_on}, after the decision")
            }
        }
    }
}

/// A deviation that names a blocking rule but does not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IneffectiveDeviation {
    /// Its reference.
    pub reference: Code,
    /// Why it does not count.
    pub problem: DeviationProblem,
}

/// One thing that stops a lot from being released.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "blocker", rename_all = "snake_case")]
pub enum ReleaseBlocker {
    /// Only a quarantined lot can be released.
    LotNotQuarantined {
        /// Its status.
        status: LotStatus,
    },
    /// A rule fails or is missing and no valid deviation covers it.
    RuleNotMet {
        /// The rule.
        rule_id: RuleId,
        /// Fail or missing.
        outcome: RuleOutcome,
        /// The conformance check's explanation.
        explanation: String,
        /// Deviations naming the rule that do not count.
        ineffective_deviations: Vec<IneffectiveDeviation>,
    },
}

/// The refusal to release a lot, with everything that blocks it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReleaseRefusal {
    /// The lot.
    pub lot: LotNumber,
    /// What blocks release (never empty).
    pub blockers: Vec<ReleaseBlocker>,
}

impl fmt::Display for ReleaseRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lot {} cannot be released: ", self.lot)?;
        let parts: Vec<String> = self
            .blockers
            .iter()
            .map(|b| match b {
                ReleaseBlocker::LotNotQuarantined { status } => {
                    format!("the lot is {status}, not quarantined")
                }
                ReleaseBlocker::RuleNotMet {
                    rule_id,
                    outcome,
                    ineffective_deviations,
                    ..
                } => {
                    let word = match outcome {
                        RuleOutcome::Fail => "fails",
                        RuleOutcome::Missing => "is missing",
                        RuleOutcome::Pass => "passes",
                    };
                    let devs: Vec<String> = ineffective_deviations
                        .iter()
                        .map(|d| format!("deviation {} {}", d.reference, d.problem))
                        .collect();
                    if devs.is_empty() {
                        format!("rule {rule_id} {word} and no approved deviation covers it")
                    } else {
                        format!("rule {rule_id} {word}; {}", devs.join("; "))
                    }
                }
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ReleaseRefusal {}

/// A rule released under a deviation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CoveredRule {
    /// The rule.
    pub rule_id: RuleId,
    /// Its outcome (fail or missing).
    pub outcome: RuleOutcome,
    /// The deviation that covers it.
    pub deviation: Code,
}

/// Permission to release a lot: the only way to obtain [`LotStatus::Released`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReleaseApproval {
    /// The lot.
    pub lot: LotNumber,
    /// The specification it was checked against.
    pub specification: SpecKey,
    /// The decision date.
    pub decided_on: Date,
    /// Rules not met but covered by deviations.
    pub covered: Vec<CoveredRule>,
}

impl ReleaseApproval {
    /// The status the lot takes.
    pub fn status(&self) -> LotStatus {
        LotStatus::Released
    }
}

/// Decides whether a lot may be released on `decided_on`, given its status, the
/// conformance check of its QC results and the deviations recorded for it.
pub fn decide_release(
    lot: &LotNumber,
    status: LotStatus,
    conformance: &Conformance,
    deviations: &[Deviation],
    decided_on: Date,
) -> Result<ReleaseApproval, ReleaseRefusal> {
    let mut blockers = Vec::new();
    if status != LotStatus::Quarantined {
        blockers.push(ReleaseBlocker::LotNotQuarantined { status });
    }
    let mut covered = Vec::new();
    for rule in conformance.unmet() {
        let naming: Vec<&Deviation> = deviations
            .iter()
            .filter(|d| d.rule_ids.contains(&rule.rule_id))
            .collect();
        let mut ineffective = Vec::new();
        let mut effective = None;
        for d in naming {
            let problem = if &d.lot != lot {
                Some(DeviationProblem::ForAnotherLot { lot: d.lot.clone() })
            } else if d.approved_by.role != QualityRole::QaManager {
                Some(DeviationProblem::NotApprovedByQaManager {
                    role: d.approved_by.role,
                })
            } else if d.approved_on > decided_on {
                Some(DeviationProblem::ApprovedAfterDecision {
                    approved_on: d.approved_on,
                })
            } else {
                None
            };
            match problem {
                Some(problem) => ineffective.push(IneffectiveDeviation {
                    reference: d.reference.clone(),
                    problem,
                }),
                None if effective.is_none() => effective = Some(d),
                None => {}
            }
        }
        match effective {
            Some(d) => covered.push(CoveredRule {
                rule_id: rule.rule_id.clone(),
                outcome: rule.outcome,
                deviation: d.reference.clone(),
            }),
            None => blockers.push(ReleaseBlocker::RuleNotMet {
                rule_id: rule.rule_id.clone(),
                outcome: rule.outcome,
                explanation: rule.explanation.clone(),
                ineffective_deviations: ineffective,
            }),
        }
    }
    if blockers.is_empty() {
        Ok(ReleaseApproval {
            lot: lot.clone(),
            specification: conformance.specification.clone(),
            decided_on,
            covered,
        })
    } else {
        Err(ReleaseRefusal {
            lot: lot.clone(),
            blockers,
        })
    }
}

/// What is about to be done with a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitUse {
    /// Pack and send it out.
    Ship,
    /// Give it to a patient.
    Administer,
}

/// Why a unit may not be shipped or administered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum UnitUseRefusal {
    /// The unit's lot is not released (in process, quarantined or rejected).
    #[error("the unit's lot is {status}, not released")]
    LotNotReleased {
        /// The lot's status.
        status: LotStatus,
    },
    /// The unit itself is not usable (hold, rejection, recall, release not recorded).
    #[error("the unit is {why}")]
    UnitNotUsable {
        /// Why.
        why: Unusable,
    },
    /// The unit has already been administered or destroyed.
    #[error("the unit is already {phase}")]
    UnitFinished {
        /// Its phase.
        phase: UnitPhase,
    },
}

/// Checks that a unit may be shipped or administered: its lot is released, and its own
/// log shows it released, with no hold open, neither rejected nor recalled, and not
/// finished. Call it before recording `packed` or `administered`.
pub fn check_unit_use(
    lot_status: LotStatus,
    unit: &UnitCustodyState,
    _use: UnitUse,
) -> Result<(), UnitUseRefusal> {
    if lot_status != LotStatus::Released {
        return Err(UnitUseRefusal::LotNotReleased { status: lot_status });
    }
    if matches!(unit.phase(), UnitPhase::Administered | UnitPhase::Destroyed) {
        return Err(UnitUseRefusal::UnitFinished {
            phase: unit.phase(),
        });
    }
    unit.usable()
        .map_err(|why| UnitUseRefusal::UnitNotUsable { why })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::catalogue::Catalogue;
    use crate::quality::conformance::{ConformanceContext, check_conformance};
    use crate::quality::custody::{CustodyAction, CustodyEvent, Party, Recipient, replay};
    use crate::quality::measure::Unit;
    use crate::quality::qc::{QcResult, QcValue, QualitativeResult};
    use time::macros::{date, datetime};
    use uuid::Uuid;

    fn lot() -> LotNumber {
        "EV-2025-007".parse().unwrap()
    }

    /// A safety-core conformance check where mycoplasma is missing and sterility fails.
    fn failing_conformance() -> Conformance {
        let c = Catalogue::embedded().unwrap();
        let spec = c.resolve(&"safety-core@1".parse().unwrap()).unwrap();
        let results = vec![
            QcResult {
                attribute: "sterility".parse().unwrap(),
                value: QcValue::Qualitative {
                    result: QualitativeResult::Growth,
                },
                method: "jp_sterility_direct_inoculation".parse().unwrap(),
                instrument: None,
                tested_on: date!(2025 - 05 - 01),
                sample_id: None,
            },
            QcResult {
                attribute: "endotoxin".parse().unwrap(),
                value: QcValue::numeric(0.5, Unit::EuPerMl).unwrap(),
                method: "lal_kinetic_turbidimetric".parse().unwrap(),
                instrument: None,
                tested_on: date!(2025 - 05 - 01),
                sample_id: None,
            },
        ];
        let ctx: ConformanceContext =
            serde_json::from_str(r#"{"dose":{"max_dose":{"basis":"per_patient","ml":5}}}"#)
                .unwrap();
        check_conformance(&spec, &results, &ctx)
    }

    fn deviation(reference: &str, rules: &[&str], role: QualityRole, on: Date) -> Deviation {
        Deviation {
            reference: Code::try_from(reference).unwrap(),
            lot: lot(),
            rule_ids: rules.iter().map(|r| r.parse().unwrap()).collect(),
            reason: Text::try_from("Contaminant identified as sampling artefact; retest and investigation INV-12 closed.").unwrap(),
            approved_by: Approver {
                person: Name::try_from("Dr. Tanaka").unwrap(),
                role,
            },
            approved_on: on,
        }
    }

    #[test]
    fn lot_life_cycle() {
        use LotStatus::*;
        assert_eq!(InProcess.transition(Quarantined), Ok(Quarantined));
        assert_eq!(Quarantined.transition(Rejected), Ok(Rejected));
        assert_eq!(Released.transition(Quarantined), Ok(Quarantined));
        assert_eq!(
            Quarantined.transition(Released),
            Err(LotTransitionError::ReleaseNeedsDecision)
        );
        assert!(matches!(
            InProcess.transition(Released),
            Err(LotTransitionError::NotAllowed { .. })
        ));
        assert!(Rejected.next_allowed().is_empty());
        assert!(Rejected.transition(Quarantined).is_err());
    }

    #[test]
    fn release_is_refused_with_every_blocker() {
        let ev = failing_conformance();
        let refusal = decide_release(
            &lot(),
            LotStatus::InProcess,
            &ev,
            &[],
            date!(2025 - 05 - 10),
        )
        .unwrap_err();
        assert_eq!(refusal.blockers.len(), 3, "{refusal}");
        assert!(matches!(
            refusal.blockers[0],
            ReleaseBlocker::LotNotQuarantined {
                status: LotStatus::InProcess
            }
        ));
        let text = refusal.to_string();
        assert!(text.contains("rule safety.sterility fails"), "{text}");
        assert!(text.contains("rule safety.mycoplasma is missing"), "{text}");
    }

    #[test]
    fn deviations_must_be_qa_approved_for_this_lot_in_time() {
        let ev = failing_conformance();
        let on = date!(2025 - 05 - 10);
        let mut other_lot = deviation("DEV-3", &["safety.mycoplasma"], QualityRole::QaManager, on);
        other_lot.lot = "EV-2025-008".parse().unwrap();
        let devs = vec![
            deviation(
                "DEV-1",
                &["safety.sterility"],
                QualityRole::ProductionManager,
                on,
            ),
            deviation(
                "DEV-2",
                &["safety.sterility"],
                QualityRole::QaManager,
                date!(2025 - 05 - 11),
            ),
            other_lot,
        ];
        let refusal = decide_release(&lot(), LotStatus::Quarantined, &ev, &devs, on).unwrap_err();
        assert_eq!(refusal.blockers.len(), 2);
        match &refusal.blockers[0] {
            ReleaseBlocker::RuleNotMet {
                rule_id,
                ineffective_deviations,
                ..
            } => {
                assert_eq!(rule_id.as_str(), "safety.sterility");
                assert_eq!(ineffective_deviations.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        let text = refusal.to_string();
        assert!(
            text.contains("not a QA manager") && text.contains("after the decision"),
            "{text}"
        );
        assert!(text.contains("written for lot EV-2025-008"), "{text}");
    }

    #[test]
    fn release_allowed_with_qa_approved_deviation() {
        let ev = failing_conformance();
        let on = date!(2025 - 05 - 10);
        let devs = vec![deviation(
            "DEV-9",
            &["safety.sterility", "safety.mycoplasma"],
            QualityRole::QaManager,
            on,
        )];
        let approval = decide_release(&lot(), LotStatus::Quarantined, &ev, &devs, on).unwrap();
        assert_eq!(approval.status(), LotStatus::Released);
        assert_eq!(approval.covered.len(), 2);
        assert_eq!(approval.covered[0].deviation.as_str(), "DEV-9");
        assert_eq!(approval.specification.to_string(), "safety-core@1");
    }

    #[test]
    fn units_of_unreleased_or_quarantined_lots_stay_put() {
        let by = Party {
            organisation_id: Uuid::from_u128(1),
            person: Name::try_from("QP").unwrap(),
        };
        let ev = |action| CustodyEvent {
            at: datetime!(2025-05-10 10:00 UTC),
            by: by.clone(),
            action,
        };
        let recipient = Recipient::Allogeneic { allocated_to: None };
        let released = replay(
            recipient,
            &[
                ev(CustodyAction::Collected),
                ev(CustodyAction::Released { hold: None }),
            ],
        )
        .unwrap();
        assert_eq!(
            check_unit_use(LotStatus::Released, &released, UnitUse::Ship),
            Ok(())
        );
        for status in [
            LotStatus::InProcess,
            LotStatus::Quarantined,
            LotStatus::Rejected,
        ] {
            assert_eq!(
                check_unit_use(status, &released, UnitUse::Administer),
                Err(UnitUseRefusal::LotNotReleased { status })
            );
        }
        let held = replay(
            recipient,
            &[
                ev(CustodyAction::Collected),
                ev(CustodyAction::Released { hold: None }),
                ev(CustodyAction::Quarantined {
                    hold: Code::try_from("EXC-7").unwrap(),
                    reason: Text::try_from("excursion").unwrap(),
                }),
            ],
        )
        .unwrap();
        let refusal = check_unit_use(LotStatus::Released, &held, UnitUse::Ship).unwrap_err();
        assert_eq!(refusal.to_string(), "the unit is on hold (EXC-7)");
    }
}

//! Who may take which step of a workflow: the rules a role carries beyond reading and
//! writing tables.
//!
//! Table-level access (may this role read or write plans, and which rows) is the
//! server's access policy; these are the finer rules of the workflows themselves, kept
//! here so that the store's workflows apply them for every caller: the API, the pages
//! and the command line cannot disagree about who may submit a plan or release a lot.

use super::{Role, SignatureMeaning};
use crate::registry::{Plan, PlanStatus};
use uuid::Uuid;

/// Whether a user of `role` acting for `organisation` may move `plan` to `to`: the
/// institution's physicians submit, withdraw, start, suspend and end their own plans
/// (and take a submitted plan back to draft); the reviewing committee's members review,
/// accept or return the plans submitted to it.
pub fn may_move_plan(role: Role, organisation: Option<Uuid>, plan: &Plan, to: PlanStatus) -> bool {
    use PlanStatus::*;
    match role {
        Role::Physician => {
            organisation == Some(plan.institution_id)
                && (matches!(to, Submitted | Withdrawn | Active | Suspended | Ended)
                    || (to == Draft && plan.status == Submitted))
        }
        Role::CommitteeMember => {
            organisation == Some(plan.committee_id) && matches!(to, UnderReview | Accepted | Draft)
        }
        _ => false,
    }
}

/// Whether a user of `role` acting for `organisation` may file `plan`'s periodic
/// reports: the providing institution's physicians.
pub fn may_file_periodic_report(role: Role, organisation: Option<Uuid>, plan: &Plan) -> bool {
    role == Role::Physician && organisation == Some(plan.institution_id)
}

/// Whether a user of `role` may release a lot: a QA manager (of the facility, which the
/// access policy's reach already ensures).
pub fn may_release_lot(role: Role) -> bool {
    role == Role::QaManager
}

/// Whether a user of `role` may see adjudication tasks unblinded (the coordinators):
/// adjudicators never do, whatever else they may read.
pub fn sees_unblinded_adjudication(role: Role) -> bool {
    role != Role::Adjudicator
}

/// The electronic signature a move to `to` needs: the responsible physician signs a
/// submission, a committee member an acceptance.
pub fn signature_for_move(to: PlanStatus) -> Option<SignatureMeaning> {
    match to {
        PlanStatus::Submitted => Some(SignatureMeaning::Responsibility),
        PlanStatus::Accepted => Some(SignatureMeaning::Approval),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(status: PlanStatus, institution: Uuid, committee: Uuid) -> Plan {
        let mut p: Plan = serde_json::from_value(serde_json::json!({
            "plan_number": "jRCTb000000001",
            "title": "A plan",
            "institution_id": institution,
            "responsible_physician_id": Uuid::nil(),
            "risk_class": "2",
            "target_disease": "Knee osteoarthritis",
            "material_description": "Autologous cells",
            "committee_id": committee,
        }))
        .unwrap();
        p.status = status;
        p
    }

    #[test]
    fn physicians_move_their_own_plans_and_committees_review_theirs() {
        let (inst, other, comm) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let draft = plan(PlanStatus::Draft, inst, comm);
        let submitted = plan(PlanStatus::Submitted, inst, comm);
        assert!(may_move_plan(
            Role::Physician,
            Some(inst),
            &draft,
            PlanStatus::Submitted
        ));
        assert!(!may_move_plan(
            Role::Physician,
            Some(other),
            &draft,
            PlanStatus::Submitted
        ));
        assert!(!may_move_plan(
            Role::Physician,
            Some(inst),
            &draft,
            PlanStatus::Accepted
        ));
        assert!(!may_move_plan(
            Role::Physician,
            Some(inst),
            &draft,
            PlanStatus::Draft
        ));
        assert!(may_move_plan(
            Role::Physician,
            Some(inst),
            &submitted,
            PlanStatus::Draft
        ));
        assert!(may_move_plan(
            Role::CommitteeMember,
            Some(comm),
            &submitted,
            PlanStatus::Accepted
        ));
        assert!(!may_move_plan(
            Role::CommitteeMember,
            Some(inst),
            &submitted,
            PlanStatus::Accepted
        ));
        assert!(!may_move_plan(
            Role::CommitteeMember,
            Some(comm),
            &submitted,
            PlanStatus::Active
        ));
        for role in [
            Role::InstitutionStaff,
            Role::Regulator,
            Role::Admin,
            Role::QaManager,
        ] {
            assert!(!may_move_plan(
                role,
                Some(inst),
                &draft,
                PlanStatus::Submitted
            ));
        }
    }

    #[test]
    fn only_the_institutions_physicians_file_reports() {
        let (inst, comm) = (Uuid::from_u128(1), Uuid::from_u128(3));
        let p = plan(PlanStatus::Active, inst, comm);
        assert!(may_file_periodic_report(Role::Physician, Some(inst), &p));
        assert!(!may_file_periodic_report(Role::Physician, Some(comm), &p));
        assert!(!may_file_periodic_report(
            Role::InstitutionStaff,
            Some(inst),
            &p
        ));
    }
}

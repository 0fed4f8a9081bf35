//! Who is acting, and what they may see and do: the one place every request asks.
//!
//! The policy is written per table and role (see the matrix in `docs/SECURITY.md`).
//! For each, a role has no access, access to every row, or access to the rows that
//! belong to its organisation — expressed as store filters that follow references
//! (a treatment → its patient → the patient's institution), or read the copy of that
//! organisation the store keeps on the row where the table declares one (the same rows,
//! found through an index). The same filters scope
//! lists, single reads (a row outside them is "not found", so its existence does not
//! leak), and writes (a record may only be written if it would then be readable).

use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use saisei_domain::audit::AuditActor;
use saisei_domain::auth::Role;
use saisei_domain::{FieldError, Record, ValidationErrors};
use saisei_store::tables::evaluation;
use saisei_store::tables::quality::{LOTS, TEMPERATURE_EXCURSIONS, UNITS};
use saisei_store::tables::*;
use saisei_store::{AccessClass, Filter, ScopeColumn, Stored, TableDef, Value};
use uuid::Uuid;

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read records.
    Read,
    /// Create records.
    Create,
    /// Change records.
    Update,
    /// Withdraw records.
    Withdraw,
    /// Export or report.
    Export,
}

impl Action {
    fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Withdraw)
    }
}

/// How the request was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A bearer token (its id).
    Token(Uuid),
    /// A web session (its id and CSRF token).
    Session {
        /// The session record.
        id: Uuid,
        /// The token unsafe requests must echo.
        csrf: String,
    },
}

/// The signed-in user a request acts as.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user.
    pub user_id: Uuid,
    /// E-mail, for messages.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Organisation acted for.
    pub organisation_id: Option<Uuid>,
    /// How they signed in.
    pub via: Via,
    /// The client's address (for throttling re-entered credentials), when known.
    pub address: Option<std::net::IpAddr>,
    /// The language the user saved for the pages, if any.
    pub language: Option<saisei_domain::auth::Language>,
}

impl Actor {
    /// How the audit trail records this actor.
    pub fn audit(&self) -> AuditActor {
        AuditActor {
            actor: self.user_id.to_string(),
            role: self.role.to_string(),
            organisation_id: self.organisation_id,
        }
    }

    fn org(&self) -> Uuid {
        // Organisation-bound roles always have one (users are validated so); a nil id
        // matches nothing, which is the safe failure.
        self.organisation_id.unwrap_or(Uuid::nil())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Actor>().cloned().ok_or_else(|| {
            ApiError::new(
                Code::Unauthenticated,
                "sign in: send Authorization: Bearer <token> (see POST /api/v1/auth/sign-in)",
            )
        })
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Actor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Actor>().cloned())
    }
}

/// Which rows of a table a role reaches.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// None: the table is closed to the role.
    None,
    /// Every row.
    All,
    /// The rows matching these filters.
    Rows(Vec<Filter>),
}

/// Read and write reach of a role on one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// Rows it may read.
    pub read: Scope,
    /// Rows it may create, change or withdraw.
    pub write: Scope,
}

const NONE: Access = Access {
    read: Scope::None,
    write: Scope::None,
};

fn eq(column: &'static str, org: Uuid) -> Filter {
    Filter::eq(column, Value::Uuid(org))
}

/// `column` points at a patient of the institution.
fn institution_patient(column: &'static str, org: Uuid) -> Filter {
    Filter::in_select(column, &PATIENTS, "id", vec![eq("institution_id", org)])
}

/// `column` points at a patient treated with, or enrolled as a control for, one of the
/// marketing-authorisation holder's products. Asked row by row (a probe of the
/// enrollments' index on the patient): a holder's reach is a large share of the registry,
/// and gathering all of it first made every page cost the whole reach.
fn mah_patient(column: &'static str, org: Uuid) -> Filter {
    Filter::probe_select(
        column,
        &ENROLLMENTS,
        "patient_id",
        vec![Filter::in_select(
            "product_id",
            &PRODUCTS,
            "id",
            vec![eq("mah_id", org)],
        )],
    )
}

/// Units for the institution's patients: made for or allocated to one of them, or
/// administered to one. The ward needs to see a unit before it arrives (to receive,
/// thaw and check it at the bedside), not only after it was given.
fn institution_unit(org: Uuid) -> Filter {
    let own = || vec![eq("institution_id", org)];
    Filter::any(vec![
        vec![Filter::in_select(
            "id",
            &TREATMENTS,
            "unit_id",
            vec![institution_records(&TREATMENTS, org)],
        )],
        vec![Filter::json_in_select(
            "recipient",
            "patient_id",
            &PATIENTS,
            "id",
            own(),
        )],
        vec![Filter::json_in_select(
            "recipient",
            "allocated_to",
            &PATIENTS,
            "id",
            own(),
        )],
    ])
}

/// The rows of `table` that belong to `org` through `scope`: the kept copy where the
/// table declares that scope (an index search, a page costs a page), otherwise the
/// references followed by `through`. Both select the same rows; the store refuses any
/// change that would make them differ.
fn scoped(
    table: &TableDef,
    scope: ScopeColumn,
    org: Uuid,
    through: impl FnOnce() -> Filter,
) -> Filter {
    if table.scope == Some(scope) {
        eq(scope.column, org)
    } else {
        through()
    }
}

/// `table`'s records about the institution's patients.
fn institution_records(table: &TableDef, org: Uuid) -> Filter {
    scoped(table, ScopeColumn::PATIENT_INSTITUTION, org, || {
        institution_patient("patient_id", org)
    })
}

fn plan_of(column: &'static str, owner: &'static str, org: Uuid) -> Filter {
    Filter::in_select(column, &PLANS, "id", vec![eq(owner, org)])
}

fn facility_lot(column: &'static str, org: Uuid) -> Filter {
    Filter::in_select(column, &LOTS, "id", vec![eq("facility_id", org)])
}

fn facility_unit(column: &'static str, org: Uuid) -> Filter {
    Filter::in_select(column, &UNITS, "id", vec![facility_lot("lot_id", org)])
}

fn mah_lot(column: &'static str, org: Uuid) -> Filter {
    Filter::in_select(
        column,
        &LOTS,
        "id",
        vec![Filter::in_select(
            "product_id",
            &PRODUCTS,
            "id",
            vec![eq("mah_id", org)],
        )],
    )
}

fn rows(f: Filter) -> Scope {
    Scope::Rows(vec![f])
}

fn same(scope: Scope) -> Access {
    Access {
        read: scope.clone(),
        write: scope,
    }
}

fn read_only(scope: Scope) -> Access {
    Access {
        read: scope,
        write: Scope::None,
    }
}

/// A role's reach on a table, decided by the table's access class (see
/// `saisei_store::AccessClass`): a new kind of an existing class needs nothing here.
pub fn access(actor: &Actor, table: &TableDef) -> Access {
    use AccessClass as C;
    let org = actor.org();
    match table.class {
        C::Credential => return NONE,
        C::Signature => {
            return match actor.role {
                Role::Regulator => read_only(Scope::All),
                _ => read_only(rows(eq("signer_id", actor.user_id))),
            };
        }
        _ => {}
    }
    let class = table.class;
    match actor.role {
        Role::Regulator => read_only(Scope::All),
        Role::Admin => match class {
            C::Reference | C::Product | C::CultureMedium => same(Scope::All),
            _ => NONE,
        },
        Role::Adjudicator => NONE,
        Role::InstitutionStaff | Role::Physician => {
            let physician = actor.role == Role::Physician;
            match class {
                C::Reference | C::Product => read_only(Scope::All),
                C::Patient => same(rows(eq("institution_id", org))),
                C::PatientRecord | C::Collection => same(rows(institution_records(table, org))),
                C::Plan => {
                    let s = rows(eq("institution_id", org));
                    if physician { same(s) } else { read_only(s) }
                }
                C::PlanRecord => read_only(rows(plan_of("plan_id", "institution_id", org))),
                C::Unit => read_only(rows(institution_unit(org))),
                _ => NONE,
            }
        }
        Role::FacilityStaff | Role::QaManager => match class {
            C::Reference | C::Product => read_only(Scope::All),
            C::CultureMedium => same(Scope::All),
            C::FacilityRecord | C::Lot => same(rows(eq("facility_id", org))),
            C::Collection => same(rows(eq("collected_by_id", org))),
            C::LotRecord | C::Unit => {
                same(rows(scoped(table, ScopeColumn::LOT_FACILITY, org, || {
                    facility_lot("lot_id", org)
                })))
            }
            C::UnitRecord => same(rows(scoped(table, ScopeColumn::UNIT_FACILITY, org, || {
                facility_unit("unit_id", org)
            }))),
            C::Disposition => same(rows(scoped(
                table,
                ScopeColumn::EXCURSION_FACILITY,
                org,
                || {
                    Filter::in_select(
                        "excursion_id",
                        &TEMPERATURE_EXCURSIONS,
                        "id",
                        vec![facility_unit("unit_id", org)],
                    )
                },
            ))),
            _ => NONE,
        },
        Role::CommitteeMember => match class {
            C::Reference | C::Product => read_only(Scope::All),
            C::Plan => read_only(rows(eq("committee_id", org))),
            C::PlanRecord => read_only(rows(plan_of("plan_id", "committee_id", org))),
            _ => NONE,
        },
        Role::MahAnalyst => {
            let own_product =
                || Filter::in_select("product_id", &PRODUCTS, "id", vec![eq("mah_id", org)]);
            let own_plan = || {
                Filter::in_select(
                    "plan_id",
                    &evaluation::EVALUATION_PLANS,
                    "id",
                    vec![own_product()],
                )
            };
            match class {
                C::EvaluationPlan | C::ChecklistAnswer => same(rows(own_product())),
                C::EvaluationRecord => same(rows(own_plan())),
                C::Assessment => read_only(rows(Filter::in_select(
                    "task_id",
                    &evaluation::ADJUDICATION_TASKS,
                    "id",
                    vec![own_plan()],
                ))),
                C::Product => Access {
                    read: Scope::All,
                    write: rows(eq("mah_id", org)),
                },
                C::Reference => read_only(Scope::All),
                C::Patient => read_only(rows(mah_patient("id", org))),
                C::PatientRecord => read_only(rows(mah_patient("patient_id", org))),
                C::Lot => read_only(rows(mah_lot("id", org))),
                C::LotRecord | C::Unit => read_only(rows(mah_lot("lot_id", org))),
                _ => NONE,
            }
        }
    }
}

/// What a role may point at when it writes a record of another table: what it may
/// read there, widened only where a job needs to name a record the role cannot read.
/// Each widening below says why; everything else a write names must be readable, so a
/// user can neither attach records to another organisation's nor probe for them.
pub fn reference_scope(actor: &Actor, table: &TableDef) -> Scope {
    let facility = matches!(actor.role, Role::FacilityStaff | Role::QaManager);
    match table.class {
        // A facility makes autologous units for, and allocates allogeneic units to, the
        // patients named in the treating institution's order; it never reads them.
        AccessClass::Patient if facility => Scope::All,
        // Starting material collected at a clinic or hospital arrives at the facility with
        // its collection record's id (and DIN); the facility names it in the banks and
        // lots made from it, without reading the donor's or patient's collection record.
        AccessClass::Collection if facility => Scope::All,
        _ => access(actor, table).read,
    }
}

fn forbidden(actor: &Actor, what: &str) -> ApiError {
    ApiError::new(
        Code::Forbidden,
        format!("the role {} may not {what}", actor.role),
    )
}

/// The table holding records of `kind`, if it is one.
fn table_of(kind: &str) -> Option<&'static TableDef> {
    saisei_store::tables::all()
        .into_iter()
        .find(|t| t.entity == kind)
}

/// Decides whether `actor` may do `action` on records of kind `entity`, before any row
/// is looked at. Kinds that are not tables are capabilities of their own.
pub fn authorize(actor: &Actor, action: Action, entity: &str) -> Result<(), ApiError> {
    // Users are managed through their own endpoints, by admins only.
    if entity == "user" {
        return if actor.role == Role::Admin {
            Ok(())
        } else {
            Err(forbidden(actor, &format!("{} users", verb(action))))
        };
    }
    if let Some(table) = table_of(entity) {
        let a = access(actor, table);
        let scope = if action.writes() { &a.write } else { &a.read };
        return if *scope == Scope::None {
            Err(forbidden(
                actor,
                &format!("{} {}", verb(action), table.name),
            ))
        } else {
            Ok(())
        };
    }
    let allowed = match entity {
        // Classifying a description and reading the rule sets discloses no record.
        "classification" | "rule_set" => actor.role != Role::Adjudicator,
        // The blinded adjudication endpoints; which tasks is decided by the plan's panel.
        "adjudication" => actor.role == Role::Adjudicator,
        "what_if" | "audit" | "access_log" => {
            matches!(actor.role, Role::Regulator | Role::Admin)
        }
        "deadline" => matches!(
            actor.role,
            Role::Regulator | Role::InstitutionStaff | Role::Physician
        ),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(forbidden(actor, &format!("{} {entity}", verb(action))))
    }
}

/// Unblinded adjudication data (a plan's task list and the panel's agreement) is for the
/// coordinators: an adjudicator sees tasks only blinded, whatever else their role may
/// read ([`saisei_domain::auth::duties::sees_unblinded_adjudication`]).
pub fn check_unblinded(actor: &Actor) -> Result<(), ApiError> {
    if saisei_domain::auth::duties::sees_unblinded_adjudication(actor.role) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            "adjudicators see tasks only blinded, at /api/v1/adjudication/tasks",
        ))
    }
}

/// The medical institution `actor` works at, for a role whose work is one institution's
/// patients (institution staff, physicians); `None` for the national and other roles.
pub fn own_institution(actor: &Actor) -> Option<Uuid> {
    matches!(actor.role, Role::InstitutionStaff | Role::Physician)
        .then_some(actor.organisation_id)
        .flatten()
}

/// The institution whose deadlines `actor` is shown, given the one asked for: institution
/// staff and physicians see their own institution's obligations only; the regulator sees
/// any or all.
pub fn deadline_institution(actor: &Actor, asked: Option<Uuid>) -> Result<Option<Uuid>, ApiError> {
    authorize(actor, Action::Read, "deadline")?;
    if matches!(actor.role, Role::InstitutionStaff | Role::Physician) {
        if asked.is_some_and(|i| Some(i) != actor.organisation_id) {
            return Err(ApiError::new(
                Code::Forbidden,
                "you may only see your own institution's deadlines",
            ));
        }
        return Ok(actor.organisation_id);
    }
    Ok(asked)
}

/// Whether `actor` may see and revoke an API token of `owner`: their own, and any for
/// an admin (a token of someone else is otherwise "not found").
pub fn may_manage_token(actor: &Actor, owner: Uuid) -> bool {
    owner == actor.user_id || actor.role == Role::Admin
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Read => "read",
        Action::Create => "create",
        Action::Update => "change",
        Action::Withdraw => "withdraw",
        Action::Export => "export",
    }
}

/// Filters that limit a list to what `actor` may read (403 when nothing).
pub fn read_filters<T: Stored>(actor: &Actor) -> Result<Vec<Filter>, ApiError> {
    match access(actor, T::table()).read {
        Scope::None => Err(forbidden(actor, &format!("read {}", T::table().name))),
        Scope::All => Ok(Vec::new()),
        Scope::Rows(f) => Ok(f),
    }
}

/// Reads one record if `actor` may see it; a record outside their reach is reported as
/// not found, with the same statements run as for a record that does not exist.
pub async fn visible<T: Stored>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<Record<T>, ApiError> {
    let filters = read_filters::<T>(actor)?;
    state
        .store
        .find_within::<T>(id, &filters)
        .await?
        .ok_or_else(|| {
            saisei_store::StoreError::NotFound {
                entity: T::KIND,
                id,
            }
            .into()
        })
}

/// Whether `actor` may read the record an audit entry describes, and so see the entry's
/// content (the record before and after, and the reason). Everyone who may read the
/// trail sees who did what kind of change to which record, and when.
pub async fn may_read_audited(
    state: &AppState,
    actor: &Actor,
    entity: &str,
    id: Option<Uuid>,
) -> Result<bool, ApiError> {
    // Accounts, their tokens and sessions: what an admin manages.
    if matches!(entity, "user" | "api_token" | "session" | "enrolment") {
        return Ok(actor.role == Role::Admin);
    }
    let Some(table) = table_of(entity) else {
        return Ok(false);
    };
    Ok(match access(actor, table).read {
        Scope::None => false,
        Scope::All => true,
        Scope::Rows(f) => match id {
            Some(id) => state.store.within(table, id, &f).await?,
            None => false,
        },
    })
}

/// The problem for a reference to a record that does not exist or is out of reach: the
/// same words either way (and the same as the store's own reference check).
pub fn no_such_reference(field: &str, entity: &str, id: Uuid) -> FieldError {
    FieldError::new(field, format!("no {entity} with id {id}"))
}

/// Checks every record `data` points at against what `actor` may reference (see
/// [`reference_scope`]). A record out of reach is answered exactly as one that does not
/// exist: 422 naming the field, the same message, the same statements run.
pub async fn check_references<T: Stored>(
    state: &AppState,
    actor: &Actor,
    data: &T,
) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::default();
    let mut seen = std::collections::HashSet::new();
    for r in data.references() {
        if !seen.insert((r.table.name, r.id)) {
            continue;
        }
        let filters = match reference_scope(actor, r.table) {
            Scope::All => Vec::new(),
            Scope::Rows(f) => f,
            // Nothing of the table is in reach: look the record up all the same, with a
            // condition no row meets.
            Scope::None => vec![Filter::one_of("id", [])],
        };
        if !state.store.within(r.table, r.id, &filters).await? {
            let e = no_such_reference(r.field, r.table.entity, r.id);
            errors.push(e.field, e.problem);
        }
    }
    errors.into_result().map_err(ApiError::from)
}

/// Checks that `actor` may write `data` (as record `id`): the role may write the table,
/// everything the record points at is within reach, and the record falls within its
/// organisation's reach.
pub async fn check_write<T: Stored>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    data: &T,
) -> Result<(), ApiError> {
    if access(actor, T::table()).write == Scope::None {
        return Err(forbidden(actor, &format!("write {}", T::table().name)));
    }
    check_references(state, actor, data).await?;
    check_may_change(state, actor, id, data).await
}

/// Checks that `actor` may change or withdraw the record `data` as it stands: the role
/// may write the table and the record is within its organisation's reach.
pub async fn check_may_change<T: Stored>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    data: &T,
) -> Result<(), ApiError> {
    match access(actor, T::table()).write {
        Scope::None => Err(forbidden(actor, &format!("write {}", T::table().name))),
        Scope::All => Ok(()),
        Scope::Rows(f) => {
            if state.store.satisfies(id, data, &f).await? {
                Ok(())
            } else {
                Err(ApiError::new(
                    Code::Forbidden,
                    format!(
                        "this {} is outside what a {} of your organisation may write",
                        T::KIND,
                        actor.role
                    ),
                ))
            }
        }
    }
}

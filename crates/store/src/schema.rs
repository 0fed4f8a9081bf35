//! The catalogue of kinds of record.
//!
//! Each kind is declared once, in its [`Stored`] impl: its table's name, its access
//! class, how the API exposes it, its unique constraints and the records it points at.
//! Its columns are not declared at all: they are derived from the type (see
//! [`crate::derive`]), so a field is written once, on the type. The access policy, the
//! API's mounting and document, the overview and the invariant tests all read the
//! catalogue; a test checks each backend's migrated schema against it.

use crate::value::ColumnType;
use saisei_domain::Entity;
use saisei_domain::registry::OrganisationKind;
use std::any::TypeId;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::RwLock;
use uuid::Uuid;

/// One data column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Column name, equal to the entity's field name.
    pub name: &'static str,
    /// Storage type.
    pub ty: ColumnType,
    /// Whether it may be NULL.
    pub nullable: bool,
}

/// Who may reach records of a kind. The access policy decides by class, so a new kind
/// of an existing class needs no change to the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessClass {
    /// Configuration every signed-in role reads (organisations, practitioners,
    /// follow-up schedules).
    Reference,
    /// Products: read by all; written by admins and their marketing-authorisation holder.
    Product,
    /// Culture media, shared by facilities.
    CultureMedium,
    /// A patient (`institution_id`).
    Patient,
    /// A record about one patient (`patient_id`).
    PatientRecord,
    /// A provision plan (`institution_id`, `committee_id`).
    Plan,
    /// A record of a plan (`plan_id`): transitions, periodic reports.
    PlanRecord,
    /// A collection of starting material (`collected_by_id`, `patient_id`).
    Collection,
    /// A record a facility owns (`facility_id`): donors, cell banks.
    FacilityRecord,
    /// A lot (`facility_id`, `product_id`).
    Lot,
    /// A record of a lot (`lot_id`).
    LotRecord,
    /// A unit (`lot_id`; made for or allocated to a patient in `recipient`).
    Unit,
    /// A record of a unit (`unit_id`).
    UnitRecord,
    /// A decision on a temperature excursion (`excursion_id`).
    Disposition,
    /// An answer to a product's checklist (`product_id`).
    ChecklistAnswer,
    /// An evaluation plan (`product_id`).
    EvaluationPlan,
    /// A record of an evaluation plan (`plan_id`): runs, adjudication tasks.
    EvaluationRecord,
    /// An adjudicator's assessment (`task_id`).
    Assessment,
    /// An electronic signature (`signer_id`).
    Signature,
    /// Credentials and keys: reached only through the sign-in and user endpoints.
    Credential,
}

/// How the API exposes a kind at `/api/v1/{path}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    /// Path segment, kebab-case plural (`adverse-events`).
    pub path: &'static str,
    /// The area it belongs to (the document's tag).
    pub tag: &'static str,
    /// Whether the generic create, change and withdraw operations are mounted.
    pub writable: bool,
    /// Fields fixed at creation (changing them would make it a different record).
    pub immutable: &'static [&'static str],
}

/// A column the store keeps beside a kind's fields: the organisation whose records
/// these are, copied at every write from the record the kind points at (a visit's
/// patient's institution, a custody event's unit's facility).
///
/// Why: the access policy scopes clinic and facility staff by organisation, and a
/// record's organisation often sits one or more references away. Asked as "patient in
/// (the institution's patients)" a page of visits costs as much as the institution's
/// visits, because the database must gather and sort them all; with the organisation
/// on the row, an index on `(column, id)` answers a page in the time of the page. The
/// copy cannot drift: `via` is fixed at creation and the store refuses to change a
/// column that another kind's scope copies (see [`TableDef::frozen_by_scope`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeColumn {
    /// The stored column (a UUID, NULL when `via` is).
    pub column: &'static str,
    /// The field that points at the parent record.
    pub via: &'static str,
    /// The parent's table.
    pub parent: &'static str,
    /// The parent's column copied (its organisation, or its own scope column).
    pub source: &'static str,
}

impl ScopeColumn {
    /// The institution of the patient a record is about.
    pub const PATIENT_INSTITUTION: ScopeColumn = ScopeColumn {
        column: "scope_institution_id",
        via: "patient_id",
        parent: "patients",
        source: "institution_id",
    };
    /// The facility that made the lot a record is about.
    pub const LOT_FACILITY: ScopeColumn = ScopeColumn {
        column: "scope_facility_id",
        via: "lot_id",
        parent: "lots",
        source: "facility_id",
    };
    /// The facility that made the unit a record is about (through its lot).
    pub const UNIT_FACILITY: ScopeColumn = ScopeColumn {
        column: "scope_facility_id",
        via: "unit_id",
        parent: "units",
        source: "scope_facility_id",
    };
    /// The facility of the unit whose temperature excursion a decision is about.
    pub const EXCURSION_FACILITY: ScopeColumn = ScopeColumn {
        column: "scope_facility_id",
        via: "excursion_id",
        parent: "temperature_excursions",
        source: "scope_facility_id",
    };

    /// The column as a filter sees it.
    pub fn col(&self) -> Col {
        Col {
            name: self.column,
            ty: ColumnType::Uuid,
            nullable: true,
        }
    }
}

/// A kind of record as declared in its [`Stored`] impl.
#[derive(Debug, Clone, Copy)]
pub struct KindDecl {
    /// Table name (plural, snake case).
    pub table: &'static str,
    /// Who may reach it.
    pub class: AccessClass,
    /// How the API exposes it generically, if it does.
    pub api: Option<Api>,
    /// Unique constraints: constraint name → the field a client should be told about.
    pub unique: &'static [(&'static str, &'static str)],
    /// The organisation column the store keeps for the access policy, if any.
    pub scope: Option<ScopeColumn>,
}

/// A table: the metadata columns every table has (`id`, `version`, `created_at`,
/// `updated_at`, `withdrawn_at`, `withdrawal_reason`) plus data columns derived from
/// the entity's type.
#[derive(Debug, PartialEq, Eq)]
pub struct TableDef {
    /// Table name (plural, snake case).
    pub name: &'static str,
    /// The entity's singular noun, for messages and audit entries (`Entity::KIND`).
    pub entity: &'static str,
    /// Data columns in storage order.
    pub columns: &'static [Col],
    /// Unique constraints: constraint name → the field a client should be told about.
    pub unique: &'static [(&'static str, &'static str)],
    /// Who may reach it.
    pub class: AccessClass,
    /// How the API exposes it generically, if it does.
    pub api: Option<Api>,
    /// The organisation column the store keeps for the access policy, if any.
    pub scope: Option<ScopeColumn>,
}

impl TableDef {
    /// The table of `T`, from its declaration and its type's fields.
    fn of<T: Stored>() -> TableDef {
        let columns: Vec<Col> = crate::derive::columns_of::<T>()
            .into_iter()
            .map(|c| Col {
                name: Box::leak(c.name.into_boxed_str()),
                ty: c.ty,
                nullable: c.nullable,
            })
            .collect();
        TableDef {
            name: T::DECL.table,
            entity: T::KIND,
            columns: Box::leak(columns.into_boxed_slice()),
            unique: T::DECL.unique,
            class: T::DECL.class,
            api: T::DECL.api,
            scope: T::DECL.scope,
        }
    }

    /// Whether the table keeps `column` as its scope column.
    pub fn scoped_by(&self, column: &str) -> bool {
        self.scope.is_some_and(|s| s.column == column)
    }

    /// The columns of this table that must never change once written: the field its
    /// own scope is copied through, and every column another table's scope copies from
    /// this one. Changing one would leave copies that tell the access policy a record
    /// belongs to an organisation it no longer belongs to.
    pub fn frozen_by_scope(&self) -> Vec<&'static str> {
        let mut frozen: Vec<&'static str> = self.scope.map(|s| s.via).into_iter().collect();
        for t in crate::tables::catalogue() {
            if let Some(s) = t.scope
                && s.parent == self.name
                && !frozen.contains(&s.source)
            {
                frozen.push(s.source);
            }
        }
        frozen
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Col> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The error for a unique-constraint violation, naming the field a client should be
    /// told about. `hint` is the constraint name (PostgreSQL) or the database's message
    /// (SQLite names the columns).
    pub fn duplicate(&self, hint: &str) -> crate::StoreError {
        let field = self
            .unique
            .iter()
            .find(|(constraint, field)| hint == *constraint || hint.contains(field))
            .or(self.unique.first())
            .map(|(_, f)| f.to_string())
            .unwrap_or_else(|| "id".to_string());
        crate::StoreError::Duplicate {
            entity: self.entity,
            field,
        }
    }
}

/// The tables built so far, one per type: built on first use, then read without
/// contention (a table is needed for every row read or written).
static TABLES: RwLock<Option<HashMap<TypeId, &'static TableDef>>> = RwLock::new(None);

/// The table of `T`, built once from its declaration and its fields.
fn table_of<T: Stored>() -> &'static TableDef {
    let id = TypeId::of::<T>();
    if let Some(t) = TABLES
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .and_then(|m| m.get(&id))
    {
        return t;
    }
    let mut guard = TABLES.write().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    map.entry(id)
        .or_insert_with(|| Box::leak(Box::new(TableDef::of::<T>())))
}

/// A named handle on a kind's table, for code that names tables (the access policy's
/// filters): it dereferences to the [`TableDef`].
pub struct TableRef<T>(PhantomData<fn() -> T>);

impl<T> TableRef<T> {
    /// The handle (usable in a `static`).
    pub const fn new() -> Self {
        TableRef(PhantomData)
    }
}

impl<T> Default for TableRef<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Stored> std::ops::Deref for TableRef<T> {
    type Target = TableDef;
    fn deref(&self) -> &TableDef {
        T::table()
    }
}

/// A reference from one record to another, checked before every write so that the
/// client hears which field points nowhere (the foreign keys are the backstop).
#[derive(Debug, Clone)]
pub struct Reference {
    /// The referring field.
    pub field: &'static str,
    /// The id it holds.
    pub id: Uuid,
    /// The table it must exist in.
    pub table: &'static TableDef,
    /// For organisations: the kinds that are acceptable (empty: any).
    pub kinds: &'static [OrganisationKind],
}

impl Reference {
    /// A reference to any record of `table`.
    pub fn to(field: &'static str, id: Uuid, table: &'static TableDef) -> Self {
        Reference {
            field,
            id,
            table,
            kinds: &[],
        }
    }

    /// A reference to an organisation of one of `kinds`.
    pub fn organisation(field: &'static str, id: Uuid, kinds: &'static [OrganisationKind]) -> Self {
        Reference {
            field,
            id,
            table: &crate::tables::ORGANISATIONS,
            kinds,
        }
    }

    /// A reference held in an optional field.
    pub fn optional(
        field: &'static str,
        id: Option<Uuid>,
        table: &'static TableDef,
    ) -> Option<Self> {
        id.map(|id| Reference::to(field, id, table))
    }
}

/// An entity with a table: the catalogue entry of a kind of record.
pub trait Stored: Entity {
    /// The kind's declaration.
    const DECL: KindDecl;

    /// Its table (built once from [`Stored::DECL`] and the type's fields).
    fn table() -> &'static TableDef {
        table_of::<Self>()
    }

    /// The records this one points at.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
}

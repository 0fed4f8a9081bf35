//! The map from entities to tables.
//!
//! Each stored entity names its table and columns here once. Column names equal the
//! entity's serde field names, so the generic row conversion in [`crate::value`] needs no
//! per-entity code; the conformance suite checks that every field has a column.

use crate::value::ColumnType;
use saisei_domain::Entity;
use saisei_domain::registry::OrganisationKind;
use uuid::Uuid;

/// One data column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Column name, equal to the entity's field name.
    pub name: &'static str,
    /// Storage type.
    pub ty: ColumnType,
}

/// A table: the metadata columns every table has (`id`, `version`, `created_at`,
/// `updated_at`, `withdrawn_at`, `withdrawal_reason`) plus these data columns.
#[derive(Debug, PartialEq, Eq)]
pub struct TableDef {
    /// Table name (plural, snake case).
    pub name: &'static str,
    /// The entity's singular noun, for messages and audit entries.
    pub entity: &'static str,
    /// Data columns in storage order.
    pub columns: &'static [Col],
    /// Unique constraints: constraint name → the field a client should be told about.
    pub unique: &'static [(&'static str, &'static str)],
}

impl TableDef {
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

/// An entity with a table.
pub trait Stored: Entity {
    /// Its table.
    const TABLE: &'static TableDef;

    /// The records this one points at.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
}

/// Shorthand for column lists.
#[macro_export]
macro_rules! cols {
    ($($name:ident : $ty:ident),* $(,)?) => {
        &[$($crate::schema::Col { name: stringify!($name), ty: $crate::value::ColumnType::$ty }),*]
    };
}

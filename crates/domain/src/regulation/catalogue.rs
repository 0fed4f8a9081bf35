//! The catalogue of rule sets: the ones embedded in the binary, selected by id or by date.
//!
//! The TOML files under `rules/asrm/` are compiled in with `include_str!` and parsed once,
//! on first use, by [`RuleBook::embedded`]. A book checks what no single file can: ids are
//! unique, and the effective ranges of in-force sets do not overlap, so a date selects at
//! most one set. Proposals are never selected by date, only by id.

use std::sync::OnceLock;

use time::Date;

use super::rule_set::{RuleSet, RuleSetError, RuleSetStatus};

/// The embedded rule set files: (origin, text).
const EMBEDDED: &[(&str, &str)] = &[
    (
        "rules/asrm/asrm-2014.toml",
        include_str!("../../../../rules/asrm/asrm-2014.toml"),
    ),
    (
        "rules/asrm/asrm-2020-genome-editing.toml",
        include_str!("../../../../rules/asrm/asrm-2020-genome-editing.toml"),
    ),
    (
        "rules/asrm/asrm-2025.toml",
        include_str!("../../../../rules/asrm/asrm-2025.toml"),
    ),
    (
        "rules/asrm/proposal-ev-supernatant.toml",
        include_str!("../../../../rules/asrm/proposal-ev-supernatant.toml"),
    ),
];

/// Why a catalogue could not be built or a set could not be selected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// A rule set failed to load.
    #[error(transparent)]
    RuleSet(#[from] RuleSetError),
    /// Two rule sets share an id.
    #[error("rule set id `{id}` is used by both {first} and {second}")]
    DuplicateId {
        /// The id.
        id: String,
        /// Origin of the first.
        first: String,
        /// Origin of the second.
        second: String,
    },
    /// Two in-force rule sets cover a common day.
    #[error("in-force rule sets `{first}` and `{second}` overlap from {from}")]
    Overlap {
        /// The earlier set.
        first: String,
        /// The later set.
        second: String,
        /// The first day both cover.
        from: Date,
    },
    /// No in-force rule set covers the date (e.g. before the Act took effect).
    #[error("no rule set is in force on {date}")]
    NoneInForce {
        /// The date asked for.
        date: Date,
    },
    /// No rule set has this id.
    #[error("no rule set has id `{id}`")]
    UnknownId {
        /// The id asked for.
        id: String,
    },
}

/// A validated catalogue of rule sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBook {
    sets: Vec<RuleSet>,
}

impl RuleBook {
    /// The rule sets embedded in the binary, parsed and validated once.
    ///
    /// An error here means a shipped file is broken; the tests load every embedded set, so
    /// it cannot reach a release.
    pub fn embedded() -> Result<&'static RuleBook, CatalogueError> {
        static BOOK: OnceLock<Result<RuleBook, CatalogueError>> = OnceLock::new();
        BOOK.get_or_init(|| {
            let sets = EMBEDDED
                .iter()
                .map(|(origin, text)| RuleSet::from_toml_str(origin, text))
                .collect::<Result<Vec<_>, _>>()?;
            RuleBook::new(sets)
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Builds a catalogue from rule sets, checking ids and in-force ranges.
    ///
    /// Sets are kept ordered by status (in force first), then effective date.
    pub fn new(mut sets: Vec<RuleSet>) -> Result<RuleBook, CatalogueError> {
        sets.sort_by(|a, b| {
            (a.status(), a.effective_from(), a.id()).cmp(&(b.status(), b.effective_from(), b.id()))
        });
        for (i, a) in sets.iter().enumerate() {
            if let Some(b) = sets[i + 1..].iter().find(|b| b.id() == a.id()) {
                return Err(CatalogueError::DuplicateId {
                    id: a.id().to_owned(),
                    first: a.origin().to_owned(),
                    second: b.origin().to_owned(),
                });
            }
        }
        let in_force: Vec<&RuleSet> = sets
            .iter()
            .filter(|s| s.status() == RuleSetStatus::InForce)
            .collect();
        for pair in in_force.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.covers(b.effective_from()) {
                return Err(CatalogueError::Overlap {
                    first: a.id().to_owned(),
                    second: b.id().to_owned(),
                    from: b.effective_from(),
                });
            }
        }
        Ok(RuleBook { sets })
    }

    /// Adds a rule set (e.g. one read from a file for a what-if), re-checking the book.
    pub fn with(self, set: RuleSet) -> Result<RuleBook, CatalogueError> {
        let mut sets = self.sets;
        sets.push(set);
        RuleBook::new(sets)
    }

    /// All rule sets: in force by date, then proposals.
    pub fn rule_sets(&self) -> &[RuleSet] {
        &self.sets
    }

    /// The rule set with this id, whatever its status.
    pub fn get(&self, id: &str) -> Result<&RuleSet, CatalogueError> {
        self.sets
            .iter()
            .find(|s| s.id() == id)
            .ok_or_else(|| CatalogueError::UnknownId { id: id.to_owned() })
    }

    /// The in-force rule set covering the date (proposals are never selected by date).
    pub fn in_force_on(&self, date: Date) -> Result<&RuleSet, CatalogueError> {
        self.sets
            .iter()
            .find(|s| s.in_force_on(date))
            .ok_or(CatalogueError::NoneInForce { date })
    }
}

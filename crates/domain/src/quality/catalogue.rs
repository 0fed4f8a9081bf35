//! The catalogue of specifications and checklists: the files under `specs/`, embedded in
//! the binary, plus any product specifications added at run time.
//!
//! The embedded files are compiled in with `include_str!`, so a deployed binary always
//! carries the reference criteria it was tested with. [`Catalogue::embedded`] parses and
//! checks them all (a test guarantees it succeeds). Product specifications uploaded later
//! go through [`Catalogue::add_specification_toml`], which refuses duplicates, unknown
//! bases and any override that loosens a base rule.

use super::checklist::{Checklist, ChecklistError};
use super::identifiers::{ChecklistId, SpecId};
use super::spec::{ResolvedSpecification, SpecError, SpecKey, Specification, resolve};
use std::collections::BTreeMap;
use time::Date;

/// The embedded specification files, bases before the files that extend them.
const EMBEDDED_SPECIFICATIONS: &[(&str, &str)] = &[
    (
        "specs/reference/isct-msc.toml",
        include_str!("../../../../specs/reference/isct-msc.toml"),
    ),
    (
        "specs/reference/misev-ev.toml",
        include_str!("../../../../specs/reference/misev-ev.toml"),
    ),
    (
        "specs/reference/safety-core.toml",
        include_str!("../../../../specs/reference/safety-core.toml"),
    ),
    (
        "specs/reference/safety-cellular.toml",
        include_str!("../../../../specs/reference/safety-cellular.toml"),
    ),
    (
        "specs/products/example-ucmsc.toml",
        include_str!("../../../../specs/products/example-ucmsc.toml"),
    ),
    (
        "specs/products/example-msc-ev.toml",
        include_str!("../../../../specs/products/example-msc-ev.toml"),
    ),
];

/// The embedded checklist files.
const EMBEDDED_CHECKLISTS: &[(&str, &str)] = &[(
    "specs/checklists/jsrm-ev-guidance.toml",
    include_str!("../../../../specs/checklists/jsrm-ev-guidance.toml"),
)];

/// Why the catalogue could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogueError {
    /// A specification file is invalid.
    #[error(transparent)]
    Specification(#[from] SpecError),
    /// A checklist file is invalid.
    #[error(transparent)]
    Checklist(#[from] ChecklistError),
    /// The same checklist id and version twice.
    #[error("checklist {id}@{version} is already loaded")]
    DuplicateChecklist {
        /// The id.
        id: ChecklistId,
        /// The version.
        version: u32,
    },
}

/// All loaded specifications and checklists, by id and version.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    specifications: BTreeMap<SpecKey, Specification>,
    checklists: BTreeMap<(ChecklistId, u32), Checklist>,
}

impl Catalogue {
    /// An empty catalogue (for tests, or to load specifications from elsewhere).
    pub fn empty() -> Self {
        Catalogue::default()
    }

    /// The file names and texts compiled into the binary, so a CLI or API can show the
    /// source of a specification exactly as it was loaded.
    pub fn embedded_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
        EMBEDDED_SPECIFICATIONS
            .iter()
            .chain(EMBEDDED_CHECKLISTS.iter())
            .copied()
    }

    /// The catalogue of everything under `specs/`, parsed and checked.
    pub fn embedded() -> Result<Self, CatalogueError> {
        let mut c = Catalogue::empty();
        for (name, text) in EMBEDDED_SPECIFICATIONS {
            c.add_specification_toml(name, text)?;
        }
        for (name, text) in EMBEDDED_CHECKLISTS {
            c.add_checklist_toml(name, text)?;
        }
        Ok(c)
    }

    /// Adds a specification whose bases are already loaded, after checking that it
    /// resolves (every override tightens). Returns its key.
    pub fn add_specification(&mut self, spec: Specification) -> Result<SpecKey, SpecError> {
        let key = spec.key().clone();
        if self.specifications.contains_key(&key) {
            return Err(SpecError::DuplicateSpecification { spec: key });
        }
        let lookup = |k: &SpecKey| self.specifications.get(k);
        resolve(&spec, &lookup)?;
        self.specifications.insert(key.clone(), spec);
        Ok(key)
    }

    /// Parses a specification file and adds it (see [`Catalogue::add_specification`]).
    pub fn add_specification_toml(
        &mut self,
        source_name: &str,
        text: &str,
    ) -> Result<SpecKey, SpecError> {
        let spec = Specification::from_toml(source_name, text)?;
        self.add_specification(spec)
    }

    /// Parses a checklist file and adds it.
    pub fn add_checklist_toml(
        &mut self,
        source_name: &str,
        text: &str,
    ) -> Result<(ChecklistId, u32), CatalogueError> {
        let checklist = Checklist::from_toml(source_name, text)?;
        let key = (checklist.id.clone(), checklist.version);
        if self.checklists.contains_key(&key) {
            return Err(CatalogueError::DuplicateChecklist {
                id: key.0,
                version: key.1,
            });
        }
        self.checklists.insert(key.clone(), checklist);
        Ok(key)
    }

    /// The specification with this id and version.
    pub fn specification(&self, key: &SpecKey) -> Option<&Specification> {
        self.specifications.get(key)
    }

    /// Every specification, ordered by id then version.
    pub fn specifications(&self) -> impl Iterator<Item = &Specification> {
        self.specifications.values()
    }

    /// The highest version of a specification.
    pub fn latest(&self, id: &SpecId) -> Option<&Specification> {
        self.specifications
            .values()
            .filter(|s| &s.key().id == id)
            .max_by_key(|s| s.key().version)
    }

    /// The highest version in effect on `date` (effective from that date or earlier),
    /// e.g. to know which criteria applied when a lot was made.
    pub fn effective_on(&self, id: &SpecId, date: Date) -> Option<&Specification> {
        self.specifications
            .values()
            .filter(|s| &s.key().id == id && s.effective_from() <= date)
            .max_by_key(|s| s.key().version)
    }

    /// The specification with all inherited rules merged: what a lot is checked against.
    pub fn resolve(&self, key: &SpecKey) -> Result<ResolvedSpecification, SpecError> {
        let spec = self
            .specifications
            .get(key)
            .ok_or_else(|| SpecError::NotFound { spec: key.clone() })?;
        let lookup = |k: &SpecKey| self.specifications.get(k);
        resolve(spec, &lookup)
    }

    /// The checklist with this id and version.
    pub fn checklist(&self, id: &ChecklistId, version: u32) -> Option<&Checklist> {
        self.checklists.get(&(id.clone(), version))
    }

    /// The highest version of a checklist.
    pub fn latest_checklist(&self, id: &ChecklistId) -> Option<&Checklist> {
        self.checklists
            .values()
            .filter(|c| &c.id == id)
            .max_by_key(|c| c.version)
    }

    /// Every checklist.
    pub fn checklists(&self) -> impl Iterator<Item = &Checklist> {
        self.checklists.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::spec::{Requirement, SpecCategory};
    use time::macros::date;

    fn key(s: &str) -> SpecKey {
        s.parse().unwrap()
    }

    #[test]
    fn every_embedded_file_loads_and_resolves() {
        let c = Catalogue::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.specifications().count(), EMBEDDED_SPECIFICATIONS.len());
        for s in c.specifications() {
            let r = c.resolve(s.key()).unwrap_or_else(|e| panic!("{e}"));
            assert!(!r.rules().is_empty(), "{}", s.key());
            assert!(!s.sources().is_empty(), "{}", s.key());
        }
        assert_eq!(c.checklists().count(), EMBEDDED_CHECKLISTS.len());
        assert_eq!(Catalogue::embedded_sources().count(), 7);
    }

    #[test]
    fn reference_ids_and_contents() {
        let c = Catalogue::embedded().unwrap();
        let isct = c.resolve(&key("isct-msc@1")).unwrap();
        assert_eq!(isct.rules().len(), 12);
        assert_eq!(isct.category(), SpecCategory::Reference);
        assert_eq!(isct.effective_from(), date!(2006 - 08 - 01));
        let misev = c.resolve(&key("misev-ev@1")).unwrap();
        assert_eq!(misev.rules().len(), 6);
        let cellular = c.resolve(&key("safety-cellular@1")).unwrap();
        assert_eq!(cellular.lineage(), &[key("safety-core@1")]);
        assert_eq!(cellular.rules().len(), 4);
        let endotoxin = cellular.rule(&"safety.endotoxin".parse().unwrap()).unwrap();
        assert!(matches!(
            endotoxin.rule.requirement,
            Requirement::DoseNormalised { threshold_per_kg, reference_body_mass_kg, .. }
                if threshold_per_kg == 5.0 && reference_body_mass_kg == 60.0
        ));
        let ucmsc = c.resolve(&key("example-ucmsc@1")).unwrap();
        assert_eq!(
            ucmsc.lineage(),
            &[
                key("isct-msc@1"),
                key("safety-core@1"),
                key("safety-cellular@1")
            ]
        );
        assert_eq!(ucmsc.rules().len(), 12 + 4 + 2);
        let viability = ucmsc.rule(&"safety.viability".parse().unwrap()).unwrap();
        assert_eq!(viability.introduced_by, key("safety-cellular@1"));
        assert_eq!(viability.defined_by, key("example-ucmsc@1"));
        let ev = c.resolve(&key("example-msc-ev@1")).unwrap();
        assert_eq!(ev.rules().len(), 6 + 3 + 2);
    }

    #[test]
    fn versions_and_effective_dates() {
        let mut c = Catalogue::embedded().unwrap();
        let v2 = include_str!("../../../../specs/reference/safety-cellular.toml")
            .replace("version = 1\ntitle", "version = 2\ntitle")
            .replace("effective_from = 2021-06-07", "effective_from = 2030-01-01")
            .replace("limit = 70", "limit = 75");
        assert_eq!(
            c.add_specification_toml("v2.toml", &v2).unwrap(),
            key("safety-cellular@2")
        );
        let id: SpecId = "safety-cellular".parse().unwrap();
        assert_eq!(c.latest(&id).unwrap().key().version, 2);
        assert_eq!(
            c.effective_on(&id, date!(2025 - 01 - 01))
                .unwrap()
                .key()
                .version,
            1
        );
        assert_eq!(
            c.effective_on(&id, date!(2030 - 01 - 01))
                .unwrap()
                .key()
                .version,
            2
        );
        assert!(c.effective_on(&id, date!(2000 - 01 - 01)).is_none());
        assert!(matches!(
            c.add_specification_toml("again.toml", &v2),
            Err(SpecError::DuplicateSpecification { .. })
        ));
        assert!(matches!(
            c.resolve(&key("nope@1")),
            Err(SpecError::NotFound { .. })
        ));
    }

    #[test]
    fn uploaded_product_specs_cannot_loosen_references() {
        let mut c = Catalogue::embedded().unwrap();
        let loose = r#"
[specification]
id = "clinic-msc"
version = 1
title = "A clinic's MSC"
category = "product"
effective_from = 2025-01-01
extends = [{ id = "isct-msc", version = 1 }]
[[specification.source]]
citation = "Clinic SOP 12"

[[rule]]
id = "isct.cd73"
title = "CD73 expression"
kind = "numeric"
attribute = "cd73_positive"
comparator = ">="
limit = 80
unit = "%"
methods = ["flow_cytometry"]
"#;
        let err = c.add_specification_toml("clinic.toml", loose).unwrap_err();
        assert_eq!(
            err.to_string(),
            "clinic-msc@1: rule `isct.cd73` would loosen isct-msc@1: ≥ 80 % is looser than \
             the base limit ≥ 95 %; a product may only add or tighten rules"
        );
        assert!(c.specification(&key("clinic-msc@1")).is_none());
        let unknown_base = loose.replace("isct-msc\", version = 1", "isct-msc\", version = 9");
        assert!(matches!(
            c.add_specification_toml("clinic.toml", &unknown_base),
            Err(SpecError::UnknownBase { .. })
        ));
    }
}

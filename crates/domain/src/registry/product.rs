//! Products: processed cells and other regenerative-medicine products.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Name, Text};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a product is made of, in the words the seeds use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Mesenchymal stem/stromal cells.
    Msc,
    /// Extracellular vesicles ("exosomes").
    Ev,
    /// Culture supernatant (培養上清).
    CultureSupernatant,
    /// Pancreatic islets.
    Islet,
    /// Organoids.
    Organoid,
    /// Cells derived from iPS cells.
    IpsDerived,
    /// Cells derived from ES cells.
    EsDerived,
    /// Genome-edited cells.
    GenomeEdited,
    /// CAR-T and other gene-modified T cells.
    CarT,
    /// Cell sheets and other tissue-engineered products.
    TissueEngineered,
    /// Platelet-rich plasma.
    Prp,
    /// Anything else.
    Other,
}

/// A regenerative-medicine product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Its name.
    pub name: Name,
    /// What it is made of.
    pub modality: Modality,
    /// The marketing-authorisation holder (an organisation).
    #[serde(default)]
    pub mah_id: Option<Uuid>,
    /// A description of the product.
    #[serde(default)]
    pub description: Option<Text>,
}

impl Validate for Product {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl Entity for Product {
    const KIND: &'static str = "product";
}

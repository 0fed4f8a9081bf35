//! What a provider answers about a therapy, parsed into a [`TherapyDescription`].
//!
//! The description is the input of classification. Its wire form (JSON in the API, the
//! CLI's `--input`) is [`TherapyInput`]: every key optional, unknown keys rejected. Turning
//! it into a [`TherapyDescription`] checks which answers the material needs, so holding a
//! description means it is consistent:
//!
//! | field | `cells` | `ev`, `culture_supernatant` | `nucleic_acid` |
//! |---|---|---|---|
//! | `material`, `purpose` | required | required | required |
//! | `cell_source`, `cell_kind`, `gene_introduced`, `genome_edited`, `cultured`, `homologous_use` | required | rejected (describe the source cells under `source`) | `gene_introduced`, `genome_edited` optional; the rest rejected |
//! | `procedure` | optional (`null` = none) | rejected | rejected |
//! | `source` | rejected | required: `cell_source`, `cell_kind`, `gene_introduced`, `genome_edited`, `cultured` | rejected |
//! | `minimally_manipulated` | optional (default `false`) | rejected | rejected |
//! | `approved_product_use`, `prepared_with_approved_device` | optional (default: not an approved product; `false`) | rejected | optional |
//! | `nucleic_acid_kind`, `designated_vaccine` | rejected | rejected | optional (default: not stated; `false`) |
//! | `carries_nucleic_acid` | rejected | optional (default `false`) | rejected |
//!
//! The optional answers came with the Act's 2024 revision and the scope edges of the
//! cabinet order. Each one's absence is the conservative answer (inside the Act, no
//! exclusion claimed), so a plan stored before they existed keeps its class. A minimal
//! manipulation cannot be claimed for cells that were cultured or gene-modified, and an
//! oligonucleotide cannot introduce a gene or edit a genome.
//!
//! ES, iPS and iPS-like cells are cultured by definition, so `cultured = false` with those
//! kinds (top level or under `source`) is rejected as inconsistent. Booleans are required
//! rather than defaulted because each one can change the class: a silent `false` would be
//! a silent classification.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::class::{UnknownVariant, wire_enum};

wire_enum! {
    /// What is administered: cells, or a cell-free product.
    pub enum Material {
        /// Processed cells (細胞加工物).
        Cells => "cells",
        /// Extracellular vesicles ("exosomes") isolated from cells.
        Ev => "ev",
        /// Culture supernatant (培養上清) of cells.
        CultureSupernatant => "culture_supernatant",
        /// Nucleic acids (or gene-editing agents) introduced in vivo (核酸等).
        NucleicAcid => "nucleic_acid",
    }
}

impl Material {
    /// Whether the material is cell-free but made from cells, so its source cells are
    /// described under `source`.
    pub const fn is_cell_derived(self) -> bool {
        matches!(self, Material::Ev | Material::CultureSupernatant)
    }
}

wire_enum! {
    /// Whose cells: the recipient's own, another person's, or an animal's.
    pub enum CellSource {
        /// 自家: the recipient's own cells.
        Autologous => "autologous",
        /// 同種: cells of a person other than the recipient.
        Allogeneic => "allogeneic",
        /// 異種: animal cells.
        Xenogeneic => "xenogeneic",
    }
}

wire_enum! {
    /// The kind of cell, as the risk classes distinguish them.
    pub enum CellKind {
        /// Differentiated somatic cells (fibroblasts, chondrocytes, lymphocytes, platelets…).
        Somatic => "somatic",
        /// Somatic stem cells (e.g. mesenchymal stem/stromal cells).
        SomaticStem => "somatic_stem",
        /// Embryonic stem cells or cells derived from them.
        Es => "es",
        /// Induced pluripotent stem cells or cells derived from them.
        Ips => "ips",
        /// iPS-like cells (人工多能性幹細胞様細胞) or cells derived from them.
        IpsLike => "ips_like",
        /// Hematopoietic stem cells.
        HematopoieticStem => "hematopoietic_stem",
    }
}

impl CellKind {
    /// Whether the kind is pluripotent (ES, iPS, iPS-like), which the rules treat alike.
    pub const fn is_pluripotent(self) -> bool {
        matches!(self, CellKind::Es | CellKind::Ips | CellKind::IpsLike)
    }
}

wire_enum! {
    /// What the therapy is for.
    pub enum Purpose {
        /// Rebuilding, repairing or forming a structure or function of the body (再建・修復・形成).
        Reconstruction => "reconstruction",
        /// Treating or preventing a disease (疾病の治療・予防).
        Treatment => "treatment",
    }
}

wire_enum! {
    /// A procedure the Act's cabinet order excludes (in its plain form).
    pub enum Procedure {
        /// Blood transfusion (輸血).
        BloodTransfusion => "blood_transfusion",
        /// Hematopoietic stem cell transplantation (造血幹細胞移植).
        HscTransplant => "hsc_transplant",
        /// Assisted reproduction with gametes or embryos (生殖補助医療).
        AssistedReproduction => "assisted_reproduction",
    }
}

wire_enum! {
    /// How an approved regenerative medical product (or approved nucleic-acid product) is
    /// used, when the therapy is one. Absent: the therapy is not an approved product.
    pub enum ApprovedProductUse {
        /// Within the approval (承認の内容に従って用いる).
        WithinApproval => "within_approval",
        /// Outside the approval, in a way the ordinance rates no riskier (since 2025-05-31).
        OffLabelNotRiskier => "off_label_not_riskier",
        /// Outside the approval, otherwise (適応外使用).
        OffLabel => "off_label",
    }
}

wire_enum! {
    /// Which nucleic-acid technique a nucleic-acid therapy uses (核酸等).
    pub enum NucleicAcidKind {
        /// In vivo gene transfer (e.g. AAV or plasmid vectors).
        GeneTransfer => "gene_transfer",
        /// In vivo genome editing (e.g. CRISPR delivered by lipid nanoparticles).
        GenomeEditing => "genome_editing",
        /// mRNA techniques.
        Mrna => "mrna",
        /// Oligonucleotide drugs: siRNA, antisense, miRNA (核酸医薬).
        Oligonucleotide => "oligonucleotide",
    }
}

/// The cells an EV or culture supernatant product is made from.
///
/// A proposal rule set classes cell-free products by these cells, so they are described
/// with the same answers as administered cells (minus use and purpose, which belong to the
/// product).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(
    try_from = "SourceCellsInput",
    into = "SourceCellsInput",
    deny_unknown_fields
)]
pub struct SourceCells {
    /// Whose cells.
    pub cell_source: CellSource,
    /// Which kind of cells.
    pub cell_kind: CellKind,
    /// Whether a gene was introduced into the cells.
    pub gene_introduced: bool,
    /// Whether the cells' genome was edited.
    pub genome_edited: bool,
    /// Whether the cells were cultured.
    pub cultured: bool,
}

/// The wire form of [`SourceCells`]: every key optional so that a missing or misspelt one
/// is reported with its field path (`source.cell_kind`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCellsInput {
    /// See [`SourceCells::cell_source`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_source: Option<String>,
    /// See [`SourceCells::cell_kind`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_kind: Option<String>,
    /// See [`SourceCells::gene_introduced`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gene_introduced: Option<bool>,
    /// See [`SourceCells::genome_edited`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genome_edited: Option<bool>,
    /// See [`SourceCells::cultured`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cultured: Option<bool>,
}

/// A therapy as the classifier sees it: the material, its source and manipulation, and
/// how it is used. Each material requires its own answers; a description that lacks one
/// is refused, naming the field.
// Built from JSON with serde, or from a `TherapyInput` with `TryFrom` for a typed
// `TherapyError`; consistent by construction (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "TherapyInput", into = "TherapyInput", deny_unknown_fields)]
#[schema(example = json!({
    "material": "cells",
    "cell_source": "autologous",
    "cell_kind": "somatic_stem",
    "gene_introduced": false,
    "genome_edited": false,
    "cultured": true,
    "homologous_use": false,
    "purpose": "treatment",
    "procedure": null
}))]
pub struct TherapyDescription {
    /// What is administered.
    material: Material,
    /// Whose cells (required for `cells`).
    cell_source: Option<CellSource>,
    /// Which kind of cells (required for `cells`).
    cell_kind: Option<CellKind>,
    /// Whether a gene was introduced (required for `cells`; optional for `nucleic_acid`).
    gene_introduced: Option<bool>,
    /// Whether the genome was edited (required for `cells`; optional for `nucleic_acid`).
    genome_edited: Option<bool>,
    /// Whether the cells were cultured (required for `cells`).
    cultured: Option<bool>,
    /// Whether the cells do at the site what they did where they came from (相同利用;
    /// required for `cells`).
    homologous_use: Option<bool>,
    /// What the therapy is for.
    purpose: Purpose,
    /// An excluded procedure this is, if any (only for `cells`).
    procedure: Option<Procedure>,
    /// The cells an EV or culture supernatant is made from (required for those materials).
    source: Option<SourceCells>,
    /// Only minimal manipulation (separation, washing, mincing, freezing…), which is not
    /// 加工 (`Some` exactly for cells; default false).
    minimally_manipulated: Option<bool>,
    /// How an approved product is used, if the therapy is one (cells and nucleic acids).
    approved_product_use: Option<ApprovedProductUse>,
    /// Prepared with a medical device approved for that use and used for it (`Some`
    /// exactly for cells and nucleic acids; default false).
    prepared_with_approved_device: Option<bool>,
    /// The nucleic-acid technique (only nucleic acids; `None` when not stated).
    nucleic_acid_kind: Option<NucleicAcidKind>,
    /// A vaccine the MHLW notice designates (`Some` exactly for nucleic acids; default
    /// false).
    designated_vaccine: Option<bool>,
    /// An EV or supernatant made to carry mRNA or a gene-editing payload (`Some` exactly
    /// for those materials; default false).
    carries_nucleic_acid: Option<bool>,
}

/// The wire form of [`TherapyDescription`]: every key optional, unknown keys rejected.
///
/// Deserialising this only fails on JSON syntax, types or unknown keys; the conversion to
/// [`TherapyDescription`] then reports a missing, misplaced or unknown value by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TherapyInput {
    /// `cells` | `ev` | `culture_supernatant` | `nucleic_acid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    /// `autologous` | `allogeneic` | `xenogeneic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_source: Option<String>,
    /// `somatic` | `somatic_stem` | `es` | `ips` | `ips_like` | `hematopoietic_stem`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_kind: Option<String>,
    /// Whether a gene was introduced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gene_introduced: Option<bool>,
    /// Whether the genome was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genome_edited: Option<bool>,
    /// Whether the cells were cultured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cultured: Option<bool>,
    /// Whether the use is homologous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homologous_use: Option<bool>,
    /// `reconstruction` | `treatment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// `null` | `blood_transfusion` | `hsc_transplant` | `assisted_reproduction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
    /// The source cells of an EV or culture supernatant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceCellsInput>,
    /// Whether the cells were only minimally manipulated (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimally_manipulated: Option<bool>,
    /// `within_approval` | `off_label_not_riskier` | `off_label`; absent: not an approved
    /// product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_product_use: Option<String>,
    /// Whether prepared with an approved device, used as approved (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepared_with_approved_device: Option<bool>,
    /// `gene_transfer` | `genome_editing` | `mrna` | `oligonucleotide`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nucleic_acid_kind: Option<String>,
    /// Whether a vaccine the notice designates (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designated_vaccine: Option<bool>,
    /// Whether an EV or supernatant carries a nucleic-acid payload (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carries_nucleic_acid: Option<bool>,
}

/// A therapy description that was rejected, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {problem}")]
pub struct TherapyError {
    /// The field path, e.g. `cell_kind` or `source.cultured`.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: TherapyProblem,
}

/// What is wrong with a field of a therapy description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TherapyProblem {
    /// The field is needed (for this material, when `material` is given).
    #[error("required{}", .material.map(|m| format!(" when material is {m}")).unwrap_or_default())]
    Missing {
        /// The material that needs it; `None` when every description needs it.
        material: Option<Material>,
    },
    /// The field does not apply to this material.
    #[error("not allowed when material is {material}{hint}")]
    NotAllowed {
        /// The material given.
        material: Material,
        /// Where the answer belongs instead, if anywhere.
        hint: &'static str,
    },
    /// The value is not one of the accepted ones.
    #[error(transparent)]
    Unknown(#[from] UnknownVariant),
    /// The value contradicts another answer.
    #[error("{0}")]
    Inconsistent(&'static str),
}

const PLURIPOTENT_CULTURED: &str =
    "ES, iPS and iPS-like cells are cultured by definition, so `cultured` must be true";
const SOURCE_HINT: &str = ": describe the source cells under `source`";
const CELLS_ONLY: &str = " (only for material cells)";
const DERIVED_ONLY: &str = " (only for material ev or culture_supernatant)";
const NUCLEIC_ONLY: &str = " (only for material nucleic_acid)";
const PRODUCTS_ONLY: &str = " (only for material cells or nucleic_acid)";
const MINIMAL_NOT_CULTURED: &str = "culture is not a minimal manipulation, so `minimally_manipulated` cannot be true for cultured cells";
const MINIMAL_NOT_MODIFIED: &str = "introducing a gene or editing the genome is not a minimal manipulation, so `minimally_manipulated` cannot be true for such cells";
const OLIGO_NOT_GENE: &str = "an oligonucleotide drug neither introduces a gene nor edits the genome, so `nucleic_acid_kind` cannot be oligonucleotide here";

/// Refuses the first answer given that does not apply to the material: each entry is
/// the field, whether it was answered, and where it belongs instead.
fn reject_all(
    material: Material,
    answers: &[(&'static str, bool, &'static str)],
) -> Result<(), TherapyError> {
    match answers.iter().find(|(_, given, _)| *given) {
        Some((field, _, hint)) => Err(TherapyError {
            field,
            problem: TherapyProblem::NotAllowed { material, hint },
        }),
        None => Ok(()),
    }
}

fn inconsistent(field: &'static str, why: &'static str) -> TherapyError {
    TherapyError {
        field,
        problem: TherapyProblem::Inconsistent(why),
    }
}

/// The approved-product answers shared by cells and nucleic acids.
fn product_answers(
    approved_product_use: Option<&str>,
    prepared_with_approved_device: Option<bool>,
) -> Result<(Option<ApprovedProductUse>, Option<bool>), TherapyError> {
    let approved = approved_product_use
        .map(|v| parse::<ApprovedProductUse>("approved_product_use", v))
        .transpose()?;
    Ok((
        approved,
        Some(prepared_with_approved_device.unwrap_or(false)),
    ))
}

fn parse<T: std::str::FromStr<Err = UnknownVariant>>(
    field: &'static str,
    value: &str,
) -> Result<T, TherapyError> {
    value.parse().map_err(|e: UnknownVariant| TherapyError {
        field,
        problem: e.into(),
    })
}

fn required<T>(
    field: &'static str,
    value: Option<T>,
    material: Material,
) -> Result<T, TherapyError> {
    value.ok_or(TherapyError {
        field,
        problem: TherapyProblem::Missing {
            material: Some(material),
        },
    })
}

fn reject<T>(
    field: &'static str,
    value: &Option<T>,
    material: Material,
    hint: &'static str,
) -> Result<(), TherapyError> {
    match value {
        Some(_) => Err(TherapyError {
            field,
            problem: TherapyProblem::NotAllowed { material, hint },
        }),
        None => Ok(()),
    }
}

impl TryFrom<SourceCellsInput> for SourceCells {
    type Error = TherapyError;

    fn try_from(input: SourceCellsInput) -> Result<Self, Self::Error> {
        let missing = |field| TherapyError {
            field,
            problem: TherapyProblem::Missing { material: None },
        };
        let cell_source = parse(
            "source.cell_source",
            &input
                .cell_source
                .ok_or_else(|| missing("source.cell_source"))?,
        )?;
        let cell_kind: CellKind = parse(
            "source.cell_kind",
            &input.cell_kind.ok_or_else(|| missing("source.cell_kind"))?,
        )?;
        let gene_introduced = input
            .gene_introduced
            .ok_or_else(|| missing("source.gene_introduced"))?;
        let genome_edited = input
            .genome_edited
            .ok_or_else(|| missing("source.genome_edited"))?;
        let cultured = input.cultured.ok_or_else(|| missing("source.cultured"))?;
        if cell_kind.is_pluripotent() && !cultured {
            return Err(TherapyError {
                field: "source.cultured",
                problem: TherapyProblem::Inconsistent(PLURIPOTENT_CULTURED),
            });
        }
        Ok(SourceCells {
            cell_source,
            cell_kind,
            gene_introduced,
            genome_edited,
            cultured,
        })
    }
}

impl From<SourceCells> for SourceCellsInput {
    fn from(s: SourceCells) -> Self {
        SourceCellsInput {
            cell_source: Some(s.cell_source.as_str().to_owned()),
            cell_kind: Some(s.cell_kind.as_str().to_owned()),
            gene_introduced: Some(s.gene_introduced),
            genome_edited: Some(s.genome_edited),
            cultured: Some(s.cultured),
        }
    }
}

impl TryFrom<TherapyInput> for TherapyDescription {
    type Error = TherapyError;

    fn try_from(input: TherapyInput) -> Result<Self, Self::Error> {
        let material: Material = parse(
            "material",
            input.material.as_deref().ok_or(TherapyError {
                field: "material",
                problem: TherapyProblem::Missing { material: None },
            })?,
        )?;
        let purpose: Purpose = parse(
            "purpose",
            input.purpose.as_deref().ok_or(TherapyError {
                field: "purpose",
                problem: TherapyProblem::Missing { material: None },
            })?,
        )?;
        match material {
            Material::Cells => {
                let cell_source = parse(
                    "cell_source",
                    &required("cell_source", input.cell_source, material)?,
                )?;
                let cell_kind: CellKind = parse(
                    "cell_kind",
                    &required("cell_kind", input.cell_kind, material)?,
                )?;
                let gene_introduced = required("gene_introduced", input.gene_introduced, material)?;
                let genome_edited = required("genome_edited", input.genome_edited, material)?;
                let cultured = required("cultured", input.cultured, material)?;
                let homologous_use = required("homologous_use", input.homologous_use, material)?;
                let procedure = input
                    .procedure
                    .as_deref()
                    .map(|p| parse::<Procedure>("procedure", p))
                    .transpose()?;
                reject("source", &input.source, material, DERIVED_ONLY)?;
                reject_all(
                    material,
                    &[
                        (
                            "nucleic_acid_kind",
                            input.nucleic_acid_kind.is_some(),
                            NUCLEIC_ONLY,
                        ),
                        (
                            "designated_vaccine",
                            input.designated_vaccine.is_some(),
                            NUCLEIC_ONLY,
                        ),
                        (
                            "carries_nucleic_acid",
                            input.carries_nucleic_acid.is_some(),
                            DERIVED_ONLY,
                        ),
                    ],
                )?;
                if cell_kind.is_pluripotent() && !cultured {
                    return Err(inconsistent("cultured", PLURIPOTENT_CULTURED));
                }
                let minimally_manipulated = input.minimally_manipulated.unwrap_or(false);
                if minimally_manipulated && cultured {
                    return Err(inconsistent("minimally_manipulated", MINIMAL_NOT_CULTURED));
                }
                if minimally_manipulated && (gene_introduced || genome_edited) {
                    return Err(inconsistent("minimally_manipulated", MINIMAL_NOT_MODIFIED));
                }
                let (approved_product_use, prepared_with_approved_device) = product_answers(
                    input.approved_product_use.as_deref(),
                    input.prepared_with_approved_device,
                )?;
                Ok(TherapyDescription {
                    material,
                    cell_source: Some(cell_source),
                    cell_kind: Some(cell_kind),
                    gene_introduced: Some(gene_introduced),
                    genome_edited: Some(genome_edited),
                    cultured: Some(cultured),
                    homologous_use: Some(homologous_use),
                    purpose,
                    procedure,
                    source: None,
                    minimally_manipulated: Some(minimally_manipulated),
                    approved_product_use,
                    prepared_with_approved_device,
                    nucleic_acid_kind: None,
                    designated_vaccine: None,
                    carries_nucleic_acid: None,
                })
            }
            Material::Ev | Material::CultureSupernatant => {
                reject("cell_source", &input.cell_source, material, SOURCE_HINT)?;
                reject("cell_kind", &input.cell_kind, material, SOURCE_HINT)?;
                reject(
                    "gene_introduced",
                    &input.gene_introduced,
                    material,
                    SOURCE_HINT,
                )?;
                reject("genome_edited", &input.genome_edited, material, SOURCE_HINT)?;
                reject("cultured", &input.cultured, material, SOURCE_HINT)?;
                reject(
                    "homologous_use",
                    &input.homologous_use,
                    material,
                    CELLS_ONLY,
                )?;
                reject("procedure", &input.procedure, material, CELLS_ONLY)?;
                reject_all(
                    material,
                    &[
                        (
                            "minimally_manipulated",
                            input.minimally_manipulated.is_some(),
                            CELLS_ONLY,
                        ),
                        (
                            "approved_product_use",
                            input.approved_product_use.is_some(),
                            PRODUCTS_ONLY,
                        ),
                        (
                            "prepared_with_approved_device",
                            input.prepared_with_approved_device.is_some(),
                            PRODUCTS_ONLY,
                        ),
                        (
                            "nucleic_acid_kind",
                            input.nucleic_acid_kind.is_some(),
                            NUCLEIC_ONLY,
                        ),
                        (
                            "designated_vaccine",
                            input.designated_vaccine.is_some(),
                            NUCLEIC_ONLY,
                        ),
                    ],
                )?;
                let carries_nucleic_acid = input.carries_nucleic_acid.unwrap_or(false);
                let source = SourceCells::try_from(required("source", input.source, material)?)?;
                Ok(TherapyDescription {
                    source: Some(source),
                    carries_nucleic_acid: Some(carries_nucleic_acid),
                    ..TherapyDescription::blank(material, purpose)
                })
            }
            Material::NucleicAcid => {
                reject("cell_source", &input.cell_source, material, CELLS_ONLY)?;
                reject("cell_kind", &input.cell_kind, material, CELLS_ONLY)?;
                reject("cultured", &input.cultured, material, CELLS_ONLY)?;
                reject(
                    "homologous_use",
                    &input.homologous_use,
                    material,
                    CELLS_ONLY,
                )?;
                reject("procedure", &input.procedure, material, CELLS_ONLY)?;
                reject("source", &input.source, material, DERIVED_ONLY)?;
                reject_all(
                    material,
                    &[
                        (
                            "minimally_manipulated",
                            input.minimally_manipulated.is_some(),
                            CELLS_ONLY,
                        ),
                        (
                            "carries_nucleic_acid",
                            input.carries_nucleic_acid.is_some(),
                            DERIVED_ONLY,
                        ),
                    ],
                )?;
                let nucleic_acid_kind = input
                    .nucleic_acid_kind
                    .as_deref()
                    .map(|v| parse::<NucleicAcidKind>("nucleic_acid_kind", v))
                    .transpose()?;
                if nucleic_acid_kind == Some(NucleicAcidKind::Oligonucleotide)
                    && (input.gene_introduced == Some(true) || input.genome_edited == Some(true))
                {
                    return Err(inconsistent("nucleic_acid_kind", OLIGO_NOT_GENE));
                }
                let (approved_product_use, prepared_with_approved_device) = product_answers(
                    input.approved_product_use.as_deref(),
                    input.prepared_with_approved_device,
                )?;
                Ok(TherapyDescription {
                    gene_introduced: input.gene_introduced,
                    genome_edited: input.genome_edited,
                    approved_product_use,
                    prepared_with_approved_device,
                    nucleic_acid_kind,
                    designated_vaccine: Some(input.designated_vaccine.unwrap_or(false)),
                    ..TherapyDescription::blank(material, purpose)
                })
            }
        }
    }
}

impl From<TherapyDescription> for TherapyInput {
    fn from(d: TherapyDescription) -> Self {
        TherapyInput {
            material: Some(d.material.as_str().to_owned()),
            cell_source: d.cell_source.map(|v| v.as_str().to_owned()),
            cell_kind: d.cell_kind.map(|v| v.as_str().to_owned()),
            gene_introduced: d.gene_introduced,
            genome_edited: d.genome_edited,
            cultured: d.cultured,
            homologous_use: d.homologous_use,
            purpose: Some(d.purpose.as_str().to_owned()),
            procedure: d.procedure.map(|v| v.as_str().to_owned()),
            source: d.source.map(SourceCellsInput::from),
            // The defaulted answers are written only when they differ from the default,
            // so a description stored before they existed reads back unchanged.
            minimally_manipulated: d.minimally_manipulated.filter(|v| *v),
            approved_product_use: d.approved_product_use.map(|v| v.as_str().to_owned()),
            prepared_with_approved_device: d.prepared_with_approved_device.filter(|v| *v),
            nucleic_acid_kind: d.nucleic_acid_kind.map(|v| v.as_str().to_owned()),
            designated_vaccine: d.designated_vaccine.filter(|v| *v),
            carries_nucleic_acid: d.carries_nucleic_acid.filter(|v| *v),
        }
    }
}

impl TherapyDescription {
    /// A description with only the material and purpose answered, for the constructors
    /// to fill in (not itself valid for every material).
    fn blank(material: Material, purpose: Purpose) -> TherapyDescription {
        TherapyDescription {
            material,
            cell_source: None,
            cell_kind: None,
            gene_introduced: None,
            genome_edited: None,
            cultured: None,
            homologous_use: None,
            purpose,
            procedure: None,
            source: None,
            minimally_manipulated: None,
            approved_product_use: None,
            prepared_with_approved_device: None,
            nucleic_acid_kind: None,
            designated_vaccine: None,
            carries_nucleic_acid: None,
        }
    }

    /// What is administered.
    pub fn material(&self) -> Material {
        self.material
    }

    /// Whose cells; `Some` exactly when the material is cells.
    pub fn cell_source(&self) -> Option<CellSource> {
        self.cell_source
    }

    /// Which kind of cells; `Some` exactly when the material is cells.
    pub fn cell_kind(&self) -> Option<CellKind> {
        self.cell_kind
    }

    /// Whether a gene was introduced; always `Some` for cells, optional for nucleic acids.
    pub fn gene_introduced(&self) -> Option<bool> {
        self.gene_introduced
    }

    /// Whether the genome was edited; always `Some` for cells, optional for nucleic acids.
    pub fn genome_edited(&self) -> Option<bool> {
        self.genome_edited
    }

    /// Whether the cells were cultured; `Some` exactly when the material is cells.
    pub fn cultured(&self) -> Option<bool> {
        self.cultured
    }

    /// Whether the use is homologous; `Some` exactly when the material is cells.
    pub fn homologous_use(&self) -> Option<bool> {
        self.homologous_use
    }

    /// What the therapy is for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The excluded procedure this is, if any (only ever set for cells).
    pub fn procedure(&self) -> Option<Procedure> {
        self.procedure
    }

    /// The source cells; `Some` exactly for EVs and culture supernatants.
    pub fn source(&self) -> Option<&SourceCells> {
        self.source.as_ref()
    }

    /// Whether only minimally manipulated; `Some` exactly for cells.
    pub fn minimally_manipulated(&self) -> Option<bool> {
        self.minimally_manipulated
    }

    /// How an approved product is used; `None` when it is not one.
    pub fn approved_product_use(&self) -> Option<ApprovedProductUse> {
        self.approved_product_use
    }

    /// Whether prepared with an approved device; `Some` exactly for cells and nucleic
    /// acids.
    pub fn prepared_with_approved_device(&self) -> Option<bool> {
        self.prepared_with_approved_device
    }

    /// The nucleic-acid technique, when stated (only nucleic acids).
    pub fn nucleic_acid_kind(&self) -> Option<NucleicAcidKind> {
        self.nucleic_acid_kind
    }

    /// Whether a designated vaccine; `Some` exactly for nucleic acids.
    pub fn designated_vaccine(&self) -> Option<bool> {
        self.designated_vaccine
    }

    /// Whether an EV or supernatant carries a nucleic acid; `Some` exactly for those.
    pub fn carries_nucleic_acid(&self) -> Option<bool> {
        self.carries_nucleic_acid
    }

    /// Every valid description (some twenty thousand), in a fixed order.
    ///
    /// The answers are finite, so rule sets can be checked exhaustively at load (every rule
    /// reachable, every description classified), and tests can sweep the whole space.
    pub fn all_valid() -> Vec<TherapyDescription> {
        let bools = [false, true];
        let approved: Vec<Option<ApprovedProductUse>> = std::iter::once(None)
            .chain(ApprovedProductUse::ALL.iter().copied().map(Some))
            .collect();
        let blank = TherapyDescription::blank;
        let mut out = Vec::new();
        for &purpose in Purpose::ALL {
            for &source in CellSource::ALL {
                for &kind in CellKind::ALL {
                    for gene_introduced in bools {
                        for genome_edited in bools {
                            for cultured in bools {
                                if kind.is_pluripotent() && !cultured {
                                    continue;
                                }
                                for homologous_use in bools {
                                    for procedure in
                                        std::iter::once(None).chain(Procedure::ALL.iter().map(Some))
                                    {
                                        for minimal in bools {
                                            if minimal
                                                && (cultured || gene_introduced || genome_edited)
                                            {
                                                continue;
                                            }
                                            for &use_ in &approved {
                                                for device in bools {
                                                    out.push(TherapyDescription {
                                                        cell_source: Some(source),
                                                        cell_kind: Some(kind),
                                                        gene_introduced: Some(gene_introduced),
                                                        genome_edited: Some(genome_edited),
                                                        cultured: Some(cultured),
                                                        homologous_use: Some(homologous_use),
                                                        procedure: procedure.copied(),
                                                        minimally_manipulated: Some(minimal),
                                                        approved_product_use: use_,
                                                        prepared_with_approved_device: Some(device),
                                                        ..blank(Material::Cells, purpose)
                                                    });
                                                }
                                            }
                                        }
                                    }
                                }
                                for material in [Material::Ev, Material::CultureSupernatant] {
                                    for carries in bools {
                                        out.push(TherapyDescription {
                                            source: Some(SourceCells {
                                                cell_source: source,
                                                cell_kind: kind,
                                                gene_introduced,
                                                genome_edited,
                                                cultured,
                                            }),
                                            carries_nucleic_acid: Some(carries),
                                            ..blank(material, purpose)
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let optional = [None, Some(false), Some(true)];
            let kinds: Vec<Option<NucleicAcidKind>> = std::iter::once(None)
                .chain(NucleicAcidKind::ALL.iter().copied().map(Some))
                .collect();
            for gene_introduced in optional {
                for genome_edited in optional {
                    for &kind in &kinds {
                        if kind == Some(NucleicAcidKind::Oligonucleotide)
                            && (gene_introduced == Some(true) || genome_edited == Some(true))
                        {
                            continue;
                        }
                        for &use_ in &approved {
                            for device in bools {
                                for vaccine in bools {
                                    out.push(TherapyDescription {
                                        gene_introduced,
                                        genome_edited,
                                        approved_product_use: use_,
                                        prepared_with_approved_device: Some(device),
                                        nucleic_acid_kind: kind,
                                        designated_vaccine: Some(vaccine),
                                        ..blank(Material::NucleicAcid, purpose)
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(v: serde_json::Value) -> Result<TherapyDescription, TherapyError> {
        let input: TherapyInput = serde_json::from_value(v).expect("wire form parses");
        TherapyDescription::try_from(input)
    }

    fn cells() -> serde_json::Value {
        json!({
            "material": "cells", "cell_source": "autologous", "cell_kind": "somatic_stem",
            "gene_introduced": false, "genome_edited": false, "cultured": true,
            "homologous_use": false, "purpose": "treatment", "procedure": null
        })
    }

    #[test]
    fn a_complete_cell_description_parses_and_round_trips() {
        let d: TherapyDescription = serde_json::from_value(cells()).unwrap();
        assert_eq!(d.material(), Material::Cells);
        assert_eq!(d.cell_kind(), Some(CellKind::SomaticStem));
        assert_eq!(d.procedure(), None);
        let back: TherapyDescription =
            serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let mut v = cells();
        v["dose"] = json!(3);
        let err = serde_json::from_value::<TherapyDescription>(v).unwrap_err();
        assert!(err.to_string().contains("unknown field `dose`"), "{err}");
        let mut v = json!({"material": "ev", "purpose": "treatment", "source": {
            "cell_source": "autologous", "cell_kind": "somatic", "gene_introduced": false,
            "genome_edited": false, "cultured": true, "homologous_use": true }});
        v["x"] = json!(1);
        assert!(serde_json::from_value::<TherapyDescription>(v).is_err());
    }

    #[test]
    fn cells_need_cell_kind() {
        let mut v = cells();
        v.as_object_mut().unwrap().remove("cell_kind");
        let err = parse_json(v).unwrap_err();
        assert_eq!(err.field, "cell_kind");
        assert_eq!(
            err.to_string(),
            "field `cell_kind`: required when material is cells"
        );
    }

    #[test]
    fn ev_needs_source_and_rejects_cell_fields() {
        let err = parse_json(json!({"material": "ev", "purpose": "treatment"})).unwrap_err();
        assert_eq!(err.field, "source");
        let err = parse_json(json!({"material": "ev", "purpose": "treatment",
            "cell_kind": "somatic_stem"}))
        .unwrap_err();
        assert_eq!(err.field, "cell_kind");
        assert!(err.to_string().contains("under `source`"), "{err}");
        let err = parse_json(
            json!({"material": "culture_supernatant", "purpose": "treatment",
            "source": {"cell_source": "allogeneic", "cell_kind": "somatic_stem",
                       "gene_introduced": false, "genome_edited": false}}),
        )
        .unwrap_err();
        assert_eq!(err.field, "source.cultured");
    }

    #[test]
    fn unknown_values_name_the_field() {
        let mut v = cells();
        v["cell_source"] = json!("porcine");
        let err = parse_json(v).unwrap_err();
        assert_eq!(err.field, "cell_source");
        assert!(
            err.to_string()
                .contains("autologous, allogeneic, xenogeneic")
        );
        let mut v = cells();
        v["procedure"] = json!("organ_transplant");
        assert_eq!(parse_json(v).unwrap_err().field, "procedure");
    }

    #[test]
    fn pluripotent_cells_must_be_cultured() {
        let mut v = cells();
        v["cell_kind"] = json!("ips");
        v["cultured"] = json!(false);
        let err = parse_json(v).unwrap_err();
        assert_eq!(err.field, "cultured");
    }

    #[test]
    fn nucleic_acid_rejects_cell_answers_and_procedures() {
        assert!(
            parse_json(json!({"material": "nucleic_acid", "purpose": "treatment",
            "genome_edited": true}))
            .is_ok()
        );
        let err = parse_json(json!({"material": "nucleic_acid", "purpose": "treatment",
            "cultured": true}))
        .unwrap_err();
        assert_eq!(err.field, "cultured");
        let mut v =
            json!({"material": "ev", "purpose": "treatment", "procedure": "hsc_transplant"});
        v["source"] = json!({"cell_source": "autologous", "cell_kind": "somatic",
            "gene_introduced": false, "genome_edited": false, "cultured": true});
        assert_eq!(parse_json(v).unwrap_err().field, "procedure");
    }

    #[test]
    fn scope_edge_answers_default_conservatively_and_are_checked() {
        // Absent answers read as the defaults, and the defaults are not written back, so a
        // description stored before they existed reads and writes unchanged.
        let d = parse_json(cells()).unwrap();
        assert_eq!(d.minimally_manipulated(), Some(false));
        assert_eq!(d.prepared_with_approved_device(), Some(false));
        assert_eq!(d.approved_product_use(), None);
        assert_eq!(serde_json::to_value(&d).unwrap(), {
            let mut v = cells();
            v.as_object_mut().unwrap().remove("procedure");
            v
        });
        // Culture is not a minimal manipulation.
        let mut v = cells();
        v["minimally_manipulated"] = json!(true);
        let err = parse_json(v).unwrap_err();
        assert_eq!(err.field, "minimally_manipulated");
        assert!(err.to_string().contains("cultured"), "{err}");
        let mut v = cells();
        v["approved_product_use"] = json!("sometimes");
        assert_eq!(parse_json(v).unwrap_err().field, "approved_product_use");
        // Each answer belongs to its materials.
        let mut v = cells();
        v["nucleic_acid_kind"] = json!("mrna");
        assert_eq!(parse_json(v).unwrap_err().field, "nucleic_acid_kind");
        let ev = json!({"material": "ev", "purpose": "treatment", "approved_product_use": "off_label",
            "source": {"cell_source": "autologous", "cell_kind": "somatic",
                       "gene_introduced": false, "genome_edited": false, "cultured": true}});
        assert_eq!(parse_json(ev).unwrap_err().field, "approved_product_use");
        // An oligonucleotide neither introduces a gene nor edits a genome.
        let err = parse_json(json!({"material": "nucleic_acid", "purpose": "treatment",
            "nucleic_acid_kind": "oligonucleotide", "genome_edited": true}))
        .unwrap_err();
        assert_eq!(err.field, "nucleic_acid_kind");
        let d = parse_json(json!({"material": "nucleic_acid", "purpose": "treatment",
            "nucleic_acid_kind": "mrna", "designated_vaccine": true}))
        .unwrap();
        assert_eq!(d.nucleic_acid_kind(), Some(NucleicAcidKind::Mrna));
        assert_eq!(d.designated_vaccine(), Some(true));
    }

    #[test]
    fn material_and_purpose_are_always_required() {
        assert_eq!(parse_json(json!({})).unwrap_err().field, "material");
        assert_eq!(
            parse_json(json!({"material": "nucleic_acid"}))
                .unwrap_err()
                .field,
            "purpose"
        );
    }

    #[test]
    fn every_enumerated_description_is_valid_and_distinct() {
        let all = TherapyDescription::all_valid();
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        for d in &all {
            let input = TherapyInput::from(d.clone());
            assert_eq!(TherapyDescription::try_from(input).as_ref(), Ok(d));
        }
        assert!(all.len() > 2000, "{}", all.len());
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;
    use crate::regulation::{Classification, DeadlineCategory, RiskClass};
    use utoipa::PartialSchema;

    fn json<T: PartialSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn schemas_publish_the_wire_values_and_required_fields() {
        assert_eq!(
            json::<RiskClass>()["enum"],
            serde_json::json!(["1", "2", "3"])
        );
        assert_eq!(
            json::<Classification>()["enum"],
            serde_json::json!(["1", "2", "3", "outside"])
        );
        assert_eq!(
            json::<CellKind>()["enum"],
            serde_json::json!([
                "somatic",
                "somatic_stem",
                "es",
                "ips",
                "ips_like",
                "hematopoietic_stem"
            ])
        );
        assert_eq!(
            json::<DeadlineCategory>()["enum"][0],
            "ae_death_or_possible_death"
        );
        let therapy = json::<TherapyDescription>();
        assert_eq!(
            therapy["required"],
            serde_json::json!(["material", "purpose"])
        );
        assert_eq!(therapy["additionalProperties"], false);
        assert!(therapy["properties"]["source"].is_object());
        let source = json::<SourceCells>();
        assert_eq!(source["additionalProperties"], false);
        assert_eq!(source["required"].as_array().map(Vec::len), Some(5));
    }
}

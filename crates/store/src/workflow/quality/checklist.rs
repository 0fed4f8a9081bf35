//! Guidance checklists per product: answers are only taken for items of a checklist that
//! exists and applies to the product (the JSRM EV guidance: EV and culture-supernatant
//! products), and the product's record shows what is still open.

use super::{by, catalogue};
use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::quality::records::ProductChecklistAnswer;
use saisei_domain::quality::{Checklist, ChecklistId, ChecklistStatus};
use saisei_domain::registry::{Modality, Product};
use serde::Serialize;
use uuid::Uuid;

/// The checklist EV and culture-supernatant products answer.
pub const EV_GUIDANCE: &str = "jsrm-ev-guidance";

/// Whether a product of this modality answers the EV guidance checklist.
pub fn answers_ev_guidance(modality: Modality) -> bool {
    matches!(modality, Modality::Ev | Modality::CultureSupernatant)
}

fn ev_guidance_id() -> Result<ChecklistId, StoreError> {
    EV_GUIDANCE
        .parse()
        .map_err(|e: saisei_domain::quality::IdentifierError| StoreError::Corrupt(e.to_string()))
}

/// Reads the product and refuses one the EV guidance does not apply to.
async fn ev_product(
    store: &Store,
    product_id: Uuid,
    field: &str,
) -> Result<Record<Product>, StoreError> {
    let product = store
        .find::<Product>(product_id)
        .await?
        .ok_or_else(|| StoreError::invalid(field, format!("no product with id {product_id}")))?;
    if !answers_ev_guidance(product.data.modality) {
        let modality = serde_json::to_value(product.data.modality)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        return Err(StoreError::invalid(
            field,
            format!(
                "{} is a {modality} product; the JSRM EV guidance checklist applies to EV and culture-supernatant products",
                product.data.name
            ),
        ));
    }
    Ok(product)
}

/// Stores a product's answer to a checklist item, after checking the checklist, the item
/// and the product.
pub async fn record_checklist_answer(
    store: &Store,
    actor: &AuditActor,
    answer: ProductChecklistAnswer,
) -> Result<Record<ProductChecklistAnswer>, StoreError> {
    let checklist = catalogue()?
        .checklist(&answer.checklist, answer.checklist_version)
        .ok_or_else(|| {
            StoreError::invalid(
                "checklist",
                format!(
                    "no checklist {}@{}",
                    answer.checklist, answer.checklist_version
                ),
            )
        })?;
    if checklist.item(&answer.item).is_none() {
        return Err(StoreError::invalid(
            "item",
            format!(
                "{} is not an item of checklist {}",
                answer.item, checklist.id
            ),
        ));
    }
    let product = ev_product(store, answer.product_id, "product_id").await?;
    let mut batch = Batch::new(actor);
    batch.check(&product);
    let record = batch.insert(answer)?;
    store.commit(batch).await?;
    Ok(record)
}

/// Where a product stands against the EV guidance checklist.
#[derive(Debug, Clone, Serialize)]
pub struct ProductChecklist {
    /// The product.
    pub product: Record<Product>,
    /// The checklist (latest version), with its items.
    pub checklist: Checklist,
    /// Each item's state and the ids still open.
    pub status: ChecklistStatus,
    /// The stored answers.
    pub answers: Vec<Record<ProductChecklistAnswer>>,
}

/// The product's answers to the latest EV guidance checklist and what is still open.
pub async fn product_checklist(
    store: &Store,
    product_id: Uuid,
) -> Result<ProductChecklist, StoreError> {
    store.get::<Product>(product_id).await?;
    let product = ev_product(store, product_id, "id").await?;
    let id = ev_guidance_id()?;
    let checklist = catalogue()?
        .latest_checklist(&id)
        .ok_or_else(|| StoreError::Corrupt(format!("checklist {EV_GUIDANCE} is not embedded")))?
        .clone();
    let answers: Vec<_> = store
        .all::<ProductChecklistAnswer>(by("product_id", product_id))
        .await?
        .into_iter()
        .filter(|a| {
            a.data.checklist == checklist.id && a.data.checklist_version == checklist.version
        })
        .collect();
    let plain: Vec<_> = answers.iter().map(|a| a.data.answer()).collect();
    let status = checklist.status(&plain).map_err(|e| {
        StoreError::Corrupt(format!("checklist answers of product {product_id}: {e}"))
    })?;
    Ok(ProductChecklist {
        product,
        checklist,
        status,
        answers,
    })
}

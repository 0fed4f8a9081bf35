//! Cell banks, checked against what they derive from: a working bank is expanded from a
//! master bank (never from another working bank), at a later passage and date; a master
//! bank is made from a collection on or after the day it was collected, and never from an
//! ineligible donor's material.

use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::quality::records::{BankTier, CellBank, Collection, Donor, DonorEligibility};

/// Stores a new cell bank after checking its lineage.
pub async fn register_cell_bank(
    store: &Store,
    actor: &AuditActor,
    bank: CellBank,
) -> Result<Record<CellBank>, StoreError> {
    let mut batch = Batch::new(actor);
    if let Some(parent_id) = bank.parent_bank_id {
        let parent = store.find::<CellBank>(parent_id).await?.ok_or_else(|| {
            StoreError::invalid(
                "parent_bank_id",
                format!("no cell bank with id {parent_id}"),
            )
        })?;
        if parent.data.tier != BankTier::Master {
            return Err(StoreError::invalid(
                "parent_bank_id",
                format!(
                    "{} is a working bank; a working bank is expanded from a master bank",
                    parent.data.bank_code
                ),
            ));
        }
        if bank.passage <= parent.data.passage {
            return Err(StoreError::invalid(
                "passage",
                format!(
                    "must be above the master bank's passage ({})",
                    parent.data.passage
                ),
            ));
        }
        if bank.established_on < parent.data.established_on {
            return Err(StoreError::invalid(
                "established_on",
                format!(
                    "must not be before the master bank was established ({})",
                    parent.data.established_on
                ),
            ));
        }
        batch.check(&parent);
    }
    if bank.tier == BankTier::Master
        && let Some(collection_id) = bank.collection_id
    {
        let collection = store
            .find::<Collection>(collection_id)
            .await?
            .ok_or_else(|| {
                StoreError::invalid(
                    "collection_id",
                    format!("no collection with id {collection_id}"),
                )
            })?;
        if bank.established_on < collection.data.collected_on {
            return Err(StoreError::invalid(
                "established_on",
                format!(
                    "must not be before the collection ({})",
                    collection.data.collected_on
                ),
            ));
        }
        if let Some(donor_id) = collection.data.donor_id {
            let donor = store.get::<Donor>(donor_id).await?;
            if donor.data.eligibility == DonorEligibility::Ineligible {
                return Err(StoreError::invalid(
                    "collection_id",
                    "the collection's donor is ineligible: no bank may be made from it",
                ));
            }
            batch.check(&donor);
        }
        batch.check(&collection);
    }
    let record = batch.insert(bank)?;
    store.commit(batch).await?;
    Ok(record)
}

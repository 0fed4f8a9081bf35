//! One demo user per role, `<role>@demo.example`, with a reproducible password and
//! second-factor secret so the printed sign-in instructions work every time.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::auth::secrets::SecretKey;
use saisei_domain::auth::{Role, User};
use saisei_domain::registry::{Organisation, OrganisationKind};
use saisei_store::workflow::auth::{NewUser, create_user};
use saisei_store::{Store, StoreError};

/// A demo user and how to sign in as them.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// The stored user.
    pub user: Record<User>,
    /// Their password (demo only).
    pub password: String,
    /// Their TOTP secret (demo only).
    pub totp_secret: String,
    /// The organisation they act for, by name.
    pub organisation: Option<String>,
}

/// The demo password of a role. Never use demo credentials for real data.
pub fn demo_password(role: Role) -> String {
    format!("saisei-demo-{role}")
}

fn secret_for(seed: u64, role: Role) -> String {
    let mut rng =
        StdRng::seed_from_u64(seed ^ (role as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let bytes: [u8; 20] = rng.random();
    // RFC 4648 base32, the form authenticator apps take.
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    out
}

/// Creates the demo users; organisations are picked by kind (the first of each).
pub async fn create(
    store: &Store,
    key: &SecretKey,
    seed: u64,
) -> Result<Vec<DemoUser>, StoreError> {
    let actor = AuditActor::system("demo");
    let orgs = store.all::<Organisation>(vec![]).await?;
    let first = |kind: OrganisationKind| orgs.iter().find(|o| o.data.kind == kind);
    let mut out = Vec::new();
    // Two adjudicators: a central adjudication committee needs at least two.
    let mut people: Vec<(Role, String)> = Role::ALL.iter().map(|r| (*r, r.to_string())).collect();
    people.push((Role::Adjudicator, "adjudicator-b".to_string()));
    for (role, local) in people {
        let org = match role {
            Role::InstitutionStaff | Role::Physician => first(OrganisationKind::MedicalInstitution),
            Role::FacilityStaff | Role::QaManager => {
                first(OrganisationKind::CellProcessingFacility)
            }
            Role::CommitteeMember => first(OrganisationKind::SpeciallyCertifiedCommittee),
            Role::MahAnalyst => first(OrganisationKind::MarketingAuthorisationHolder),
            Role::Regulator => first(OrganisationKind::Regulator),
            Role::Adjudicator | Role::Admin => None,
        };
        let secret = secret_for(seed ^ local.len() as u64, role);
        let (user, _) = create_user(
            store,
            &actor,
            key,
            NewUser {
                email: format!("{local}@demo.example")
                    .parse()
                    .map_err(|e: String| StoreError::invalid("email", e))?,
                display_name: format!("Demo {}", local.replace('_', " "))
                    .parse()
                    .map_err(|e: String| StoreError::invalid("display_name", e))?,
                role,
                organisation_id: org.map(|o| o.meta.id),
                password: demo_password(role),
                totp_secret: Some(secret.clone()),
            },
        )
        .await?;
        out.push(DemoUser {
            user,
            password: demo_password(role),
            totp_secret: secret,
            organisation: org.map(|o| o.data.name.to_string()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_reproducible_base32() {
        let a = secret_for(42, Role::Physician);
        assert_eq!(a, secret_for(42, Role::Physician));
        assert_ne!(a, secret_for(42, Role::Admin));
        assert_eq!(a.len(), 32);
        let code = saisei_domain::auth::credentials::totp_code(&a, 59).unwrap();
        assert_eq!(
            saisei_domain::auth::credentials::check_totp(&a, &code, 59),
            Some(1)
        );
    }
}

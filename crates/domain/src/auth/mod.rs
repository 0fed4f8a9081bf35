//! Trust: roles, credentials, and the records that carry them (users, tokens, sessions,
//! signatures). The access policy that uses them lives in the server.

pub mod credentials;
pub mod duties;
pub mod records;
pub mod role;
pub mod secrets;
pub mod throttle;

pub use records::{
    ApiToken, Email, Enrolment, KeyCheck, Language, Session, Signature, SignatureMeaning, User,
    UserView,
};
pub use role::Role;

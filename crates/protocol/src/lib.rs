//! Types and formats shared by wasp's management and worker roles.
#![forbid(unsafe_code)]

pub mod keys;
pub mod placement;
pub mod plans;
pub mod registry;
pub mod scopes;
pub mod service_token;

pub use keys::{KeyFormatError, KeyKind, SecretKey};
pub use plans::Plan;
pub use scopes::Scope;

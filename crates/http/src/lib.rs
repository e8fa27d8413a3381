//! HTTP pieces shared by wasp's roles: the error type with its JSON shape and stable codes,
//! the `{success,data}` envelope, and extractors that report bad input in that shape.
#![forbid(unsafe_code)]

pub mod error;
pub mod metrics;
pub mod sanitize;
pub mod serve;

pub use error::{Error, Result};

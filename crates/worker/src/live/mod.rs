//! The live WhatsApp driver, on the `whatsapp-rust` crate: its session store (our own
//! implementation of the library's storage traits on sqlx, in the shared database), the
//! mappings between the library's types and ours, and the driver itself.

pub mod mapping;
pub mod session;
pub mod store;

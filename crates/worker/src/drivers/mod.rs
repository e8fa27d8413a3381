//! The WhatsApp drivers: live (`live/`, on whatsapp-rust) and sandbox (`sandbox.rs`, the
//! simulated network). Each implements `session::driver::Driver`.

pub mod live;
pub mod sandbox;

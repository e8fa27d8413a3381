//! Sessions: the driver interface (`driver.rs`) and the instances that run one driver per
//! customer session with its lease (`manager.rs`).

pub mod driver;
pub mod instance;
pub mod manager;

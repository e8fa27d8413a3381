//! Sessions: the instances that run one driver per customer session on this worker, each
//! with its lease (`manager.rs`: create, restore, lease checks, shutdown) and its event loop
//! (`instance.rs`). The driver interface they run is `driver.rs`.

pub mod instance;
pub mod manager;

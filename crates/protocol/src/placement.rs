//! Management ↔ worker placement: management asks the worker a customer is assigned to to
//! hold its sessions (`POST /internal/instances`), or to give them up
//! (`DELETE /internal/instances/{customer_id}`), with a service token naming no customer.

use crate::service_token::Mode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The path of the worker's placement API; a customer's instances are under
/// `{INSTANCES_PATH}/{customer_id}`.
pub const INSTANCES_PATH: &str = "/internal/instances";

/// `POST /internal/instances` body: hold (create, or keep) a customer's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldInstances {
    pub customer_id: Uuid,
    /// `live` or `test`; both when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

/// `DELETE /internal/instances/{customer_id}` query: give up a customer's sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInstances {
    /// `live` or `test`; both when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Also delete the customer's media files on the worker (a GDPR erasure).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub purge: bool,
}

/// One instance a worker holds, as its answer to a hold (the `data` array of its
/// envelope) lists them. Fields the worker adds beyond these are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedInstance {
    pub customer_id: Uuid,
    pub mode: Mode,
    /// The lease epoch the worker holds the session under.
    pub epoch: i64,
    /// The session's state: disconnected, scanning, pairing, connected, logged_out.
    pub state: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_for_both_modes_is_the_customer_alone() {
        let id = Uuid::nil();
        let hold = HoldInstances {
            customer_id: id,
            mode: None,
        };
        assert_eq!(
            serde_json::to_value(&hold).unwrap(),
            serde_json::json!({ "customer_id": id })
        );
        let parsed: HoldInstances =
            serde_json::from_value(serde_json::json!({ "customer_id": id, "mode": "test" }))
                .unwrap();
        assert_eq!(parsed.mode, Some(Mode::Test));
        assert!(serde_json::from_value::<HoldInstances>(
            serde_json::json!({ "customer_id": id, "extra": 1 })
        )
        .is_err());
    }

    #[test]
    fn a_release_names_only_what_differs_from_the_default() {
        let plain = ReleaseInstances::default();
        assert_eq!(serde_json::to_value(&plain).unwrap(), serde_json::json!({}));
        let purge = ReleaseInstances {
            mode: None,
            purge: true,
        };
        assert_eq!(
            serde_json::to_value(&purge).unwrap(),
            serde_json::json!({ "purge": true })
        );
    }
}

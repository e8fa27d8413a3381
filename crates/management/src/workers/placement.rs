//! The placement calls: management asks a worker, through its internal API, to hold or
//! give up a customer's sessions (`wasp_protocol::placement`).

use super::Reach;
use crate::on_pool;
use uuid::Uuid;
use wasp_protocol::placement::{HoldInstances, ReleaseInstances, INSTANCES_PATH};

/// What management asks of a worker about a customer's sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Hold the sessions (create the instances; a logged-in session reconnects).
    Hold,
    /// Give them up (close the connections, release the lease) so another worker may
    /// take them, or because the customer is gone.
    Release,
    /// Give them up and delete the customer's media files there (GDPR erasure).
    Purge,
}

impl Reach<'_> {
    /// Tells the worker `server` to hold or release `customer`'s sessions, through its
    /// internal API. Best effort: a worker that is down restores what it owns when it
    /// starts, and creates an instance at the customer's first request; a release that fails
    /// is fenced by the lease epoch the next owner takes. Whether the worker acknowledged.
    pub async fn place(self, server: Uuid, customer: Uuid, what: Placement) -> bool {
        place(self, server, customer, what).await
    }
}

async fn place(reach: Reach<'_>, server: Uuid, customer: Uuid, what: Placement) -> bool {
    let api_url: Option<String> = match on_pool!(reach.db, |pool| sqlx::query_scalar(
        "SELECT api_url FROM servers WHERE id = $1 AND deleted_at IS NULL"
    )
    .bind(server)
    .fetch_optional(pool)
    .await)
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "placement: server lookup failed");
            return false;
        }
    };
    let Some(api_url) = api_url else {
        return false;
    };
    let base = api_url.trim_end_matches('/');
    let token = reach.tokens.for_request(server, None, None, None);
    let instances = format!("{base}{INSTANCES_PATH}");
    let request = match what {
        Placement::Hold => reach.http.post(instances).json(&HoldInstances {
            customer_id: customer,
            mode: None,
        }),
        Placement::Release => reach.http.delete(format!("{instances}/{customer}")),
        Placement::Purge => {
            reach
                .http
                .delete(format!("{instances}/{customer}"))
                .query(&ReleaseInstances {
                    mode: None,
                    purge: true,
                })
        }
    };
    match request.bearer_auth(token).send().await {
        Ok(resp) if resp.status().is_success() => true,
        Ok(resp) => {
            tracing::warn!(%server, %customer, status = %resp.status(), ?what, "worker refused a placement");
            false
        }
        Err(e) => {
            tracing::warn!(%server, %customer, error = %e, ?what, "worker unreachable for a placement");
            false
        }
    }
}

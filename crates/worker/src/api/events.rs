//! The live event stream (`/api/v1/events`): a session's events as server-sent events.

use crate::{
    api::Caller,
    events::{self},
    WorkerState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use utoipa::IntoParams;
use wasp_http::error::{Error, Query, Result};

/// `GET /api/v1/events` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Comma-separated event types or families (`message.*`); default all.
    pub events: Option<String>,
}

/// The live stream: Server-Sent Events of this session's events as they happen.
pub(super) async fn live_events(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<StreamQuery>,
) -> Result<Response> {
    use axum::response::sse::{Event as Sse, KeepAlive};
    let filter: Vec<String> = match q.events.as_deref() {
        None | Some("") => vec!["*".into()],
        Some(list) => {
            let filter: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
            if let Some(bad) = filter.iter().find(|e| !events::valid_filter(e)) {
                return Err(Error::validation(
                    "events",
                    format!("unknown event type `{bad}`"),
                ));
            }
            filter
        }
    };
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let key = caller.key;
    let rx = instances.stream.subscribe();
    let stream = futures_util::stream::unfold(rx, move |mut rx| {
        let filter = filter.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(e) if e.key == key && events::filter_matches(&filter, e.kind) => {
                        let sse = Sse::default()
                            .id(e.id.clone())
                            .event(e.kind)
                            .data(e.doc.to_string());
                        return Some((Ok::<_, std::convert::Infallible>(sse), rx));
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        let sse = Sse::default()
                            .event("stream.lagged")
                            .data(json!({ "missed": n }).to_string());
                        return Some((Ok(sse), rx));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(axum::response::sse::Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

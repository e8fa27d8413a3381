//! The internal API management uses to place instances (`/internal/instances`); not
//! documented. Its request types are the shared contract in `wasp_protocol::placement`.

use super::{app::status_json, Management};
use crate::{session::instance::Instance, store::SessionKey, WorkerState};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};
use uuid::Uuid;
use wasp_http::error::{created, ok, Error, Json, Path, Query, Result};
use wasp_protocol::{
    placement::{HoldInstances, ReleaseInstances},
    service_token::Mode,
};

pub(super) fn modes(mode: Option<Mode>) -> Vec<Mode> {
    mode.map(|m| vec![m])
        .unwrap_or_else(|| vec![Mode::Live, Mode::Test])
}

pub(super) fn instance_json(instance: &Instance) -> Value {
    let mut v = status_json(instance, &instance.status());
    v["customer_id"] = json!(instance.key.customer);
    v["epoch"] = json!(instance.epoch);
    v
}

pub(super) async fn create_instance(
    State(worker): State<WorkerState>,
    _: Management,
    Json(req): Json<HoldInstances>,
) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let mut out = Vec::new();
    for mode in modes(req.mode) {
        let key = SessionKey {
            customer: req.customer_id,
            mode,
        };
        let instance = instances.get_or_create(key).await?;
        out.push(instance_json(&instance));
    }
    Ok(created(out).into_response())
}

pub(super) async fn remove_instance(
    State(worker): State<WorkerState>,
    _: Management,
    Path(customer): Path<Uuid>,
    Query(q): Query<ReleaseInstances>,
) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let mut removed = 0;
    for mode in modes(q.mode) {
        removed += usize::from(instances.remove(SessionKey { customer, mode }).await?);
    }
    if q.purge {
        worker
            .media
            .purge(customer)
            .await
            .map_err(|e| Error::internal_source("media purge", e))?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if removed == 0 {
        return Err(Error::not_found("instance"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn list_instances(
    State(worker): State<WorkerState>,
    _: Management,
) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let mut all: Vec<Value> = instances.list().iter().map(|i| instance_json(i)).collect();
    all.sort_by(|a, b| a["customer_id"].as_str().cmp(&b["customer_id"].as_str()));
    Ok(ok(all).into_response())
}

pub(super) async fn get_instance(
    State(worker): State<WorkerState>,
    _: Management,
    Path(customer): Path<Uuid>,
) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let found: Vec<Value> = [Mode::Live, Mode::Test]
        .into_iter()
        .filter_map(|mode| instances.get(SessionKey { customer, mode }))
        .map(|i| instance_json(&i))
        .collect();
    if found.is_empty() {
        return Err(Error::not_found("instance"));
    }
    Ok(ok(found).into_response())
}

// ---- more kinds of message -------------------------------------------------------------

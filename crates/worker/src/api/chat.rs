//! The session's chats and one chat's messages and settings (`/api/v1/chats`, `/api/v1/chat`).

use super::send::DISAPPEARING;
use super::{fields::*, Caller};
use crate::{
    driver::Action,
    store::{self, ChatQuery, MessageQuery},
    WorkerState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use wasp_http::error::{ok, Error, Json, Path, Query, Result};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ChatsQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Chats to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Only chats whose name or JID contains this.
    search: Option<String>,
    /// Only chats with media messages.
    #[serde(default)]
    has_media: bool,
    /// Only archived (true) or only unarchived (false) chats.
    archived: Option<bool>,
}

pub(super) async fn list_chats(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<ChatsQuery>,
) -> Result<Response> {
    let (limit, offset) = page(q.limit, q.offset, 25)?;
    let query = ChatQuery {
        limit,
        offset,
        search: q.search.filter(|s| !s.is_empty()),
        archived: q.archived,
        has_media: q.has_media,
    };
    let (rows, total) = store::list_chats(worker.db(), caller.key, &query).await?;
    Ok(listing(rows, total, limit, offset))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct MessagesQuery {
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Messages to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Only messages sent at or after this time (RFC 3339).
    start_time: Option<DateTime<Utc>>,
    /// Only messages sent at or before this time (RFC 3339).
    end_time: Option<DateTime<Utc>>,
    /// Only media messages.
    #[serde(default)]
    media_only: bool,
    /// Only your own messages (true) or only the other side's (false).
    is_from_me: Option<bool>,
    /// Only messages whose text contains this.
    search: Option<String>,
}

pub(super) async fn chat_messages(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat_jid): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> Result<Response> {
    let chat = recipient("chat_jid", &chat_jid)?;
    let (limit, offset) = page(q.limit, q.offset, 50)?;
    let query = MessageQuery {
        limit,
        offset,
        start: q.start_time,
        end: q.end_time,
        media_only: q.media_only,
        // As in the current codebase: media_only wins over is_from_me=false.
        from_me: if q.media_only && q.is_from_me == Some(false) {
            None
        } else {
            q.is_from_me
        },
        search: q.search.filter(|s| !s.is_empty()),
    };
    let (rows, total) =
        store::list_messages(worker.db(), caller.key, &chat.to_string(), &query).await?;
    Ok(listing(rows, total, limit, offset))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PinChat)]
#[serde(deny_unknown_fields)]
pub(super) struct PinRequest {
    pinned: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ArchiveChat)]
#[serde(deny_unknown_fields)]
pub(super) struct ArchiveRequest {
    archived: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DisappearingChat)]
#[serde(deny_unknown_fields)]
pub(super) struct DisappearingRequest {
    /// 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = crate::api::doc::DisappearingTimer)]
    timer_seconds: u32,
}

pub(super) async fn change_chat(
    worker: &WorkerState,
    caller: &Caller,
    chat_jid: &str,
    change: store::ChatChange,
) -> Result<Response> {
    let chat = recipient("chat_jid", chat_jid)?;
    let row = store::change_chat(
        worker.db(),
        caller.key,
        &chat.to_string(),
        chat.kind(),
        &change,
    )
    .await?;
    Ok(ok(row).into_response())
}

pub(super) async fn pin_chat(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat): Path<String>,
    Json(req): Json<PinRequest>,
) -> Result<Response> {
    change_chat(
        &worker,
        &caller,
        &chat,
        store::ChatChange {
            pinned: Some(req.pinned),
            ..Default::default()
        },
    )
    .await
}

pub(super) async fn archive_chat(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat): Path<String>,
    Json(req): Json<ArchiveRequest>,
) -> Result<Response> {
    change_chat(
        &worker,
        &caller,
        &chat,
        store::ChatChange {
            archived: Some(req.archived),
            ..Default::default()
        },
    )
    .await
}

pub(super) async fn disappearing_chat(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat_jid): Path<String>,
    Json(req): Json<DisappearingRequest>,
) -> Result<Response> {
    if !DISAPPEARING.contains(&req.timer_seconds) {
        return Err(Error::validation(
            "timer_seconds",
            "must be 0, 86400, 604800 or 7776000",
        ));
    }
    let chat = recipient("chat_jid", &chat_jid)?;
    caller
        .instance
        .driver
        .act(&Action::Disappearing {
            chat,
            seconds: req.timer_seconds,
        })
        .await?;
    change_chat(
        &worker,
        &caller,
        &chat_jid,
        store::ChatChange {
            disappearing_secs: Some(req.timer_seconds as i32),
            ..Default::default()
        },
    )
    .await
}

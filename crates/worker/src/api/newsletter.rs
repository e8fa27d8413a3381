//! WhatsApp channels (newsletters) (`/api/v1/newsletter`).

use super::{fields::text_field, group::me, group::notify};
use super::{sandbox::sandbox, Caller};
use crate::{
    api::doc::{doc, Api},
    driver::{Event, Kind},
    jid::Jid,
    store, WorkerState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use wasp_http::error::{created, ok, Error, Json, Query, Result};

/// Newsletters (channels), as a table of the customer API.
pub(super) fn api() -> Api {
    use super::errors::{CONNECTED, SANDBOX};

    Api::default()
        .post(
            "/api/v1/sandbox/newsletter",
            sandbox_newsletter,
            doc("sandbox", "Simulate following a newsletter (channel), or a post in one")
                .describe("A sandbox control: works only on sandbox sessions (an `ak_test_` key, or any key on a sandbox worker); other sessions answer 403 FORBIDDEN. With `name`: the phone follows a new channel (`newsletter.joined`). With `newsletter_id` and `message`: the channel posts (`newsletter.message`).")
                .json::<NewsletterControl>()
                .created()
                .errors(SANDBOX)
                .errors(&[
                    wasp_http::error::code::NOT_FOUND,
                    crate::api::code::SESSION_NOT_CONNECTED,
                ]),
        )
        // ---- newsletters
        .post(
            "/api/v1/newsletter/unfollow",
            newsletter_unfollow,
            doc("newsletter", "Unfollow a newsletter")
                .json::<NewsletterRequest>()
                .errors(CONNECTED)
                .errors(&[wasp_http::error::code::NOT_FOUND]),
        )
        .get(
            "/api/v1/newsletter/messages",
            newsletter_messages,
            doc("newsletter", "A newsletter's messages")
                .query::<NewsletterQuery>()
                .returns_objects()
                .errors(CONNECTED)
                .errors(&[wasp_http::error::code::NOT_FOUND]),
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewsletterControl {
    /// Follow a new channel with this name (1 to 100 characters).
    name: Option<String>,
    /// A channel the session follows, for a post.
    #[schema(value_type = Option<crate::api::doc::NewsletterJid>)]
    newsletter_id: Option<String>,
    /// The post's text (1 to 4096 characters), with `newsletter_id`.
    message: Option<String>,
}

pub(super) async fn sandbox_newsletter(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<NewsletterControl>,
) -> Result<Response> {
    let session = sandbox(&caller)?;
    me(&caller)?;
    match (req.name, req.newsletter_id, req.message) {
        (Some(name), None, None) => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 || name.contains('\0') {
                return Err(Error::validation("name", "must be 1 to 100 characters"));
            }
            let jid = crate::drivers::sandbox::newsletter_jid();
            store::follow_newsletter(worker.db(), caller.key, &jid.to_string(), &name).await?;
            session.from_network(Event::NewsletterJoined {
                newsletter: jid.clone(),
                name: Some(name.clone()),
            })?;
            caller.instance.flush().await;
            Ok(created(json!({ "newsletter_id": jid.to_string(), "name": name })).into_response())
        }
        (None, Some(id), Some(text)) => {
            let jid = newsletter_jid(&id)?;
            let text = text_field("message", &text)?;
            followed(&worker, &caller, &jid).await?;
            let post = crate::driver::Incoming {
                id: crate::drivers::sandbox::phone_message_id(),
                chat: jid.clone(),
                sender: jid.clone(),
                sender_alt: None,
                chat_alt: None,
                push_name: None,
                from_me: false,
                kind: Kind::Text,
                body: Some(text),
                content: json!({}),
                reply_to: None,
                timestamp: Utc::now(),
            };
            session.from_network(Event::Message(post.clone()))?;
            caller.instance.flush().await;
            Ok(created(json!({
                "newsletter_id": jid.to_string(),
                "message_id": post.id,
                "timestamp": post.timestamp,
            }))
            .into_response())
        }
        _ => Err(Error::validation(
            "name",
            "give name (follow a channel), or newsletter_id and message (a post)",
        )),
    }
}

/// A newsletter the sandbox session follows, else 404.
pub(super) async fn followed(worker: &WorkerState, caller: &Caller, jid: &Jid) -> Result<String> {
    let list = store::newsletters(worker.db(), caller.key).await?;
    list.into_iter()
        .find(|n| n.jid == jid.to_string())
        .map(|n| n.name.unwrap_or_default())
        .ok_or_else(|| Error::not_found("newsletter (this account does not follow it)"))
}

/// A followed sandbox newsletter in the shape the live driver answers.
pub(super) fn sandbox_newsletter_json(jid: &str, name: Option<&str>) -> serde_json::Value {
    json!({
        "id": jid, "name": name, "description": null, "subscriber_count": 1, "verified": false,
        "state": "active", "role": "subscriber", "picture_url": null, "invite_code": null,
        "created_at": null,
    })
}

// ---- user ------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewsletterId)]
#[serde(deny_unknown_fields)]
pub(super) struct NewsletterRequest {
    /// The newsletter, such as `120363…@newsletter`.
    #[schema(value_type = crate::api::doc::NewsletterJid)]
    newsletter_id: String,
}

pub(super) fn newsletter_jid(value: &str) -> Result<Jid> {
    let jid = Jid::parse_recipient(value).map_err(|_| {
        Error::validation(
            "newsletter_id",
            "must be a newsletter id such as 120363…@newsletter",
        )
    })?;
    if jid.kind() != "newsletter" {
        return Err(Error::validation(
            "newsletter_id",
            "must be a newsletter id such as 120363…@newsletter",
        ));
    }
    Ok(jid)
}

pub(super) async fn newsletter_unfollow(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<NewsletterRequest>,
) -> Result<Response> {
    me(&caller)?;
    let jid = newsletter_jid(&req.newsletter_id)?;
    if let Some(live) = caller.instance.driver.live() {
        live.unfollow_newsletter(&jid).await?;
        return Ok(
            ok(json!({ "newsletter_id": jid.to_string(), "following": false })).into_response(),
        );
    }
    if !store::unfollow_newsletter(worker.db(), caller.key, &jid.to_string()).await? {
        return Err(Error::not_found(
            "newsletter (this account does not follow it)",
        ));
    }
    notify(
        &caller,
        Event::NewsletterLeft {
            newsletter: jid.clone(),
        },
    )
    .await;
    Ok(ok(json!({ "newsletter_id": jid.to_string(), "following": false })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct NewsletterQuery {
    /// The newsletter, such as `120363…@newsletter`.
    #[param(value_type = Option<crate::api::doc::NewsletterJid>, required = true)]
    newsletter_id: Option<String>,
    /// How many posts (live sessions; 1 to 100, default 20).
    count: Option<u32>,
    /// Only posts older than this post `server_id` (live sessions).
    before: Option<String>,
}

pub(super) async fn newsletter_messages(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<NewsletterQuery>,
) -> Result<Response> {
    me(&caller)?;
    let jid = newsletter_jid(q.newsletter_id.as_deref().unwrap_or(""))?;
    if let Some(live) = caller.instance.driver.live() {
        let count = q.count.unwrap_or(20).clamp(1, 100);
        let before = match q.before.as_deref() {
            Some(b) => Some(
                b.parse::<u64>()
                    .map_err(|_| Error::validation("before", "must be a post's server_id"))?,
            ),
            None => None,
        };
        let posts = live.newsletter_messages(&jid, count, before).await?;
        return Ok(ok(posts).into_response());
    }
    followed(&worker, &caller, &jid).await?;
    let query = store::MessageQuery {
        limit: i64::from(q.count.unwrap_or(20).clamp(1, 100)),
        offset: 0,
        start: None,
        end: None,
        media_only: false,
        from_me: None,
        search: None,
    };
    let (rows, _) = store::list_messages(worker.db(), caller.key, &jid.to_string(), &query).await?;
    let posts: Vec<serde_json::Value> = rows
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "server_id": null, "timestamp": m.timestamp, "from_me": m.from_me,
                "kind": m.kind, "body": m.body, "content": m.content,
            })
        })
        .collect();
    Ok(ok(posts).into_response())
}

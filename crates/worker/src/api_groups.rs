//! Customer API: groups (the 20 operations of the current codebase), the user's profile
//! and contacts, newsletters and passkey login. Sandbox sessions answer from the simulated
//! network; live sessions through their driver.

use crate::{
    api::{
        db_error, driver_error, media_error, phone_field, recipient, sandbox, status_json, Caller,
    },
    driver::{DriverError, Kind},
    groups::{self, Change, GroupError, Settings},
    jid::Jid,
    store, WorkerState,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use serde_json::json;
use wasp_http::error::{created, ok, Error, Json, Query, Result};

pub fn routes() -> Router<WorkerState> {
    Router::new()
        .route("/api/v1/group", post(create_group))
        .route("/api/v1/group/info", get(group_info))
        .route(
            "/api/v1/group/participants",
            get(list_participants).post(add_participants),
        )
        .route(
            "/api/v1/group/participants/export",
            get(export_participants),
        )
        .route(
            "/api/v1/group/participants/remove",
            post(remove_participants),
        )
        .route(
            "/api/v1/group/participants/promote",
            post(promote_participants),
        )
        .route(
            "/api/v1/group/participants/demote",
            post(demote_participants),
        )
        .route("/api/v1/group/join-with-link", post(join_with_link))
        .route("/api/v1/group/info-from-link", get(info_from_link))
        .route(
            "/api/v1/group/participant-requests",
            get(participant_requests),
        )
        .route(
            "/api/v1/group/participant-requests/approve",
            post(approve_requests),
        )
        .route(
            "/api/v1/group/participant-requests/reject",
            post(reject_requests),
        )
        .route("/api/v1/group/leave", post(leave_group))
        .route("/api/v1/group/photo", post(group_photo))
        .route("/api/v1/group/name", post(group_name))
        .route("/api/v1/group/locked", post(group_locked))
        .route("/api/v1/group/announce", post(group_announce))
        .route("/api/v1/group/topic", post(group_topic))
        .route("/api/v1/group/invite-link", get(group_invite_link))
        .route("/api/v1/sandbox/group-request", post(sandbox_group_request))
        .route("/api/v1/user/info", get(user_info))
        .route("/api/v1/user/avatar", get(user_avatar).post(set_avatar))
        .route("/api/v1/user/pushname", post(set_push_name))
        .route("/api/v1/user/my/privacy", get(my_privacy))
        .route("/api/v1/user/my/groups", get(my_groups))
        .route("/api/v1/user/my/newsletters", get(my_newsletters))
        .route("/api/v1/user/my/contacts", get(my_contacts))
        .route("/api/v1/user/check", get(user_check))
        .route("/api/v1/user/business-profile", get(business_profile))
        .route("/api/v1/newsletter/unfollow", post(newsletter_unfollow))
        .route("/api/v1/newsletter/messages", get(newsletter_messages))
        .route("/api/v1/app/passkey", get(passkey_status))
        .route("/api/v1/app/passkey/response", post(passkey_response))
        .route("/api/v1/app/passkey/confirm", post(passkey_confirm))
}

pub(crate) fn group_error(e: GroupError) -> Error {
    match e {
        GroupError::NotFound => Error::not_found("group"),
        GroupError::NotMember => Error::forbidden("you are not a member of this group"),
        GroupError::NotAdmin => Error::forbidden("only group admins can do this"),
        GroupError::Invalid(m) => match m.split_once(": ") {
            Some((field, msg)) if !field.contains(' ') => Error::validation(field, msg),
            _ => Error::validation("group_id", m),
        },
        GroupError::Database => Error::internal("group store"),
    }
}

/// The session's own JID; group operations need a connected session.
fn me(caller: &Caller) -> Result<String> {
    let status = caller.instance.status();
    if status.session.state != "connected" {
        return Err(driver_error(DriverError::NotConnected));
    }
    // Live sessions reach groups through their driver, which is not in this build yet.
    if caller.instance.driver.sandbox().is_none() {
        return Err(driver_error(DriverError::Unavailable(
            "groups need the live WhatsApp driver, which is not available on this worker yet"
                .into(),
        )));
    }
    Ok(status.session.jid.unwrap_or_default())
}

fn group_jid(value: &str) -> Result<String> {
    let jid = Jid::parse_recipient(value)
        .map_err(|_| Error::validation("group_id", "must be a group id such as 120363…@g.us"))?;
    if !jid.is_group() {
        return Err(Error::validation(
            "group_id",
            "must be a group id such as 120363…@g.us",
        ));
    }
    Ok(jid.to_string())
}

fn participant_list(values: &[String]) -> Result<Vec<Jid>> {
    if values.len() > groups::MAX_PARTICIPANTS {
        return Err(Error::validation("participants", "too many participants"));
    }
    values
        .iter()
        .map(|v| recipient("participants", v))
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateGroup {
    title: String,
    #[serde(default)]
    participants: Vec<String>,
}

async fn create_group(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<CreateGroup>,
) -> Result<Response> {
    let me = me(&caller)?;
    let members = participant_list(&req.participants)?;
    let (info, results) = groups::create(worker.db(), caller.key, &me, &req.title, &members)
        .await
        .map_err(|e| match e {
            GroupError::Invalid(m) if m.starts_with("name: ") => {
                Error::validation("title", m.trim_start_matches("name: "))
            }
            e => group_error(e),
        })?;
    Ok(
        created(json!({ "group_id": info.group_id, "group": info, "participants": results }))
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupQuery {
    group_id: Option<String>,
    reset: Option<bool>,
}

impl GroupQuery {
    fn jid(&self) -> Result<String> {
        group_jid(
            self.group_id
                .as_deref()
                .ok_or_else(|| Error::validation("group_id", "is required"))?,
        )
    }
}

async fn group_info(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    me(&caller)?;
    let info = groups::info(worker.db(), caller.key, &q.jid()?)
        .await
        .map_err(group_error)?;
    Ok(ok(info).into_response())
}

async fn list_participants(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    me(&caller)?;
    let info = groups::info(worker.db(), caller.key, &q.jid()?)
        .await
        .map_err(group_error)?;
    Ok(ok(
        json!({ "group_id": info.group_id, "name": info.name, "participants": info.participants }),
    )
    .into_response())
}

/// The members as CSV (jid, phone number, role).
async fn export_participants(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    me(&caller)?;
    let info = groups::info(worker.db(), caller.key, &q.jid()?)
        .await
        .map_err(group_error)?;
    let mut csv = String::from("jid,phone_number,role\n");
    for p in &info.participants {
        let phone = p
            .jid
            .strip_suffix("@s.whatsapp.net")
            .map(|u| format!("+{u}"))
            .unwrap_or_default();
        csv.push_str(&format!("{},{},{}\n", p.jid, phone, p.role));
    }
    let name = format!(
        "attachment; filename=\"participants-{}.csv\"",
        info.group_id.trim_end_matches("@g.us")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        csv,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantsRequest {
    group_id: String,
    participants: Vec<String>,
}

async fn participants(
    worker: WorkerState,
    caller: Caller,
    req: ParticipantsRequest,
    change: Change,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(&req.group_id)?;
    let who = participant_list(&req.participants)?;
    let results = groups::change_participants(worker.db(), caller.key, &me, &group, change, &who)
        .await
        .map_err(group_error)?;
    Ok(ok(results).into_response())
}

async fn add_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Add).await
}

async fn remove_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Remove).await
}

async fn promote_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Promote).await
}

async fn demote_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Demote).await
}

async fn approve_requests(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Approve).await
}

async fn reject_requests(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Reject).await
}

async fn participant_requests(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    let me = me(&caller)?;
    let list = groups::requests(worker.db(), caller.key, &me, &q.jid()?)
        .await
        .map_err(group_error)?;
    Ok(ok(list).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    link: String,
}

fn code_of(link: &str) -> Result<String> {
    groups::invite_code(link).ok_or_else(|| {
        Error::validation(
            "link",
            "must be an invite link such as https://chat.whatsapp.com/…",
        )
    })
}

async fn join_with_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<LinkRequest>,
) -> Result<Response> {
    let me = me(&caller)?;
    let code = code_of(&req.link)?;
    let jid = groups::join(worker.db(), caller.key, &me, &code)
        .await
        .map_err(group_error)?;
    Ok(ok(json!({ "group_id": jid })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkQuery {
    link: Option<String>,
}

async fn info_from_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<LinkQuery>,
) -> Result<Response> {
    me(&caller)?;
    let code = code_of(q.link.as_deref().unwrap_or(""))?;
    if let Some(jid) = groups::find_by_code(worker.db(), caller.key, &code)
        .await
        .map_err(group_error)?
    {
        let info = groups::info(worker.db(), caller.key, &jid)
            .await
            .map_err(group_error)?;
        return Ok(ok(json!({
            "group_id": info.group_id, "name": info.name, "topic": info.topic, "created_at": info.created_at,
            "is_announce": info.is_announce, "is_locked": info.is_locked, "is_ephemeral": info.is_ephemeral,
            "participant_count": info.participant_count,
        }))
        .into_response());
    }
    let (jid, name, members) = groups::simulated_for_code(&code);
    Ok(ok(json!({
        "group_id": jid.to_string(), "name": name, "topic": null, "is_announce": false, "is_locked": false,
        "is_ephemeral": false, "participant_count": members.len(),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupIdRequest {
    group_id: String,
}

async fn leave_group(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<GroupIdRequest>,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(&req.group_id)?;
    groups::leave(worker.db(), caller.key, &me, &group)
        .await
        .map_err(group_error)?;
    Ok(ok(json!({ "group_id": group, "left": true })).into_response())
}

async fn settings(
    worker: WorkerState,
    caller: Caller,
    group_id: &str,
    s: Settings,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(group_id)?;
    let info = groups::update(worker.db(), caller.key, &me, &group, &s)
        .await
        .map_err(group_error)?;
    Ok(ok(info).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameRequest {
    group_id: String,
    name: String,
}

async fn group_name(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<NameRequest>,
) -> Result<Response> {
    settings(
        w,
        caller,
        &req.group_id,
        Settings {
            subject: Some(req.name),
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LockedRequest {
    group_id: String,
    locked: bool,
}

async fn group_locked(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<LockedRequest>,
) -> Result<Response> {
    settings(
        w,
        caller,
        &req.group_id,
        Settings {
            locked: Some(req.locked),
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnnounceRequest {
    group_id: String,
    announce: bool,
}

async fn group_announce(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<AnnounceRequest>,
) -> Result<Response> {
    settings(
        w,
        caller,
        &req.group_id,
        Settings {
            announce: Some(req.announce),
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicRequest {
    group_id: String,
    topic: Option<String>,
}

async fn group_topic(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<TopicRequest>,
) -> Result<Response> {
    let topic = req.topic.filter(|t| !t.is_empty());
    settings(
        w,
        caller,
        &req.group_id,
        Settings {
            topic: Some(topic),
            ..Default::default()
        },
    )
    .await
}

/// Reads a multipart form holding `group_id` (optional) and an image in `field`.
async fn photo_form(
    mut form: axum::extract::Multipart,
    field: &str,
) -> Result<(Option<String>, Vec<u8>)> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::client(
            e.status(),
            wasp_http::error::code::VALIDATION_ERROR,
            format!("multipart form: {e}"),
        )
    };
    let (mut group, mut bytes) = (None, None);
    while let Some(mut f) = form.next_field().await.map_err(bad)? {
        match f.name().unwrap_or_default() {
            "group_id" => group = Some(f.text().await.map_err(bad)?),
            name if name == field => {
                let mut buf = Vec::new();
                while let Some(chunk) = f.chunk().await.map_err(bad)? {
                    if buf.len() + chunk.len() > crate::media::max_bytes(Kind::Image) {
                        return Err(media_error(
                            crate::media::MediaError::TooLarge(Kind::Image),
                            field,
                        ));
                    }
                    buf.extend_from_slice(&chunk);
                }
                bytes = Some(buf);
            }
            other => return Err(Error::validation(other, "unknown field")),
        }
    }
    let bytes = bytes
        .filter(|b| !b.is_empty())
        .ok_or_else(|| Error::validation(field, "is required"))?;
    let mime =
        crate::media::resolve_mime(Kind::Image, &bytes, None).map_err(|e| media_error(e, field))?;
    if mime == "image/webp" {
        return Err(Error::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            wasp_http::error::code::UNSUPPORTED_MEDIA_TYPE,
            "profile photos are JPEG or PNG",
        ));
    }
    Ok((group, bytes))
}

async fn group_photo(
    State(worker): State<WorkerState>,
    caller: Caller,
    form: axum::extract::Multipart,
) -> Result<Response> {
    let (group, bytes) = photo_form(form, "photo").await?;
    let group = group.ok_or_else(|| Error::validation("group_id", "is required"))?;
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    settings(
        worker,
        caller,
        &group,
        Settings {
            photo_sha256: Some(sha),
            ..Default::default()
        },
    )
    .await
}

async fn group_invite_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = q.jid()?;
    let link = groups::invite_link(
        worker.db(),
        caller.key,
        &me,
        &group,
        q.reset.unwrap_or(false),
    )
    .await
    .map_err(group_error)?;
    Ok(ok(json!({ "group_id": group, "invite_link": link })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupRequestControl {
    group_id: String,
    from: String,
}

/// Sandbox: a contact asks to join a group (for the approval flow).
async fn sandbox_group_request(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<GroupRequestControl>,
) -> Result<Response> {
    sandbox(&caller)?;
    let group = group_jid(&req.group_id)?;
    let from = Jid::user(&phone_field("from", Some(&req.from))?);
    groups::request_to_join(worker.db(), caller.key, &group, &from)
        .await
        .map_err(group_error)?;
    Ok(created(json!({ "group_id": group, "requested_by": from.to_string() })).into_response())
}

// ---- user ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneQuery {
    phone: Option<String>,
    #[allow(dead_code)]
    is_preview: Option<bool>,
    #[allow(dead_code)]
    is_community: Option<bool>,
}

async fn user_check(caller: Caller, Query(q): Query<PhoneQuery>) -> Result<Response> {
    let phone = phone_field("phone", q.phone.as_deref())?;
    let found = caller
        .instance
        .driver
        .on_whatsapp(std::slice::from_ref(&phone))
        .await
        .map_err(driver_error)?;
    Ok(ok(json!({ "phone_number": format!("+{phone}"), "is_on_whatsapp": found.first().copied().unwrap_or(false) })).into_response())
}

async fn registered_contact(caller: &Caller, phone: Option<&str>) -> Result<String> {
    let phone = phone_field("phone", phone)?;
    let found = caller
        .instance
        .driver
        .on_whatsapp(std::slice::from_ref(&phone))
        .await
        .map_err(driver_error)?;
    if !found.first().copied().unwrap_or(false) {
        return Err(driver_error(DriverError::NotOnWhatsApp(format!(
            "+{phone}"
        ))));
    }
    Ok(phone)
}

async fn user_info(caller: Caller, Query(q): Query<PhoneQuery>) -> Result<Response> {
    me(&caller)?;
    let phone = registered_contact(&caller, q.phone.as_deref()).await?;
    Ok(ok(json!({
        "jid": Jid::user(&phone).to_string(),
        "verified_name": null,
        "status": "Hey there! I am using WhatsApp.",
        "picture_id": null,
        "devices": [{ "User": phone, "Agent": 0, "Device": "UNKNOWN", "Server": "s.whatsapp.net", "AD": true }],
    }))
    .into_response())
}

async fn user_avatar(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<PhoneQuery>,
) -> Result<Response> {
    me(&caller)?;
    let phone = registered_contact(&caller, q.phone.as_deref()).await?;
    let own = caller.instance.status().session.phone;
    let row = store::session(worker.db(), caller.key)
        .await
        .map_err(db_error)?;
    let avatar = row
        .and_then(|r| r.avatar_sha256)
        .filter(|_| own.as_deref() == Some(phone.as_str()));
    match avatar {
        Some(sha) => {
            Ok(ok(json!({ "id": &sha[..10], "type": "image", "url": null })).into_response())
        }
        None => Err(Error::not_found("profile photo")),
    }
}

async fn set_avatar(
    State(worker): State<WorkerState>,
    caller: Caller,
    form: axum::extract::Multipart,
) -> Result<Response> {
    me(&caller)?;
    let (_, bytes) = photo_form(form, "avatar").await?;
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    store::set_avatar(worker.db(), caller.key, &sha)
        .await
        .map_err(db_error)?;
    Ok(ok(json!({ "picture_id": &sha[..10] })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushNameRequest {
    push_name: String,
}

async fn set_push_name(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<PushNameRequest>,
) -> Result<Response> {
    me(&caller)?;
    let name = req.push_name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 25 || name.contains('\0') {
        return Err(Error::validation("push_name", "must be 1 to 25 characters"));
    }
    caller
        .instance
        .set_push_name(worker.db(), &name)
        .await
        .map_err(db_error)?;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

async fn my_privacy(caller: Caller) -> Result<Response> {
    me(&caller)?;
    Ok(ok(json!({
        "group_add": "all", "last_seen": "all", "status": "all", "profile": "all", "read_receipts": "all",
        "online": "all", "call_add": "all",
    }))
    .into_response())
}

async fn my_groups(State(worker): State<WorkerState>, caller: Caller) -> Result<Response> {
    me(&caller)?;
    let list = groups::mine(worker.db(), caller.key)
        .await
        .map_err(group_error)?;
    Ok(ok(list).into_response())
}

async fn my_newsletters(caller: Caller) -> Result<Response> {
    me(&caller)?;
    Ok(ok(Vec::<serde_json::Value>::new()).into_response())
}

async fn my_contacts(State(worker): State<WorkerState>, caller: Caller) -> Result<Response> {
    me(&caller)?;
    let contacts = store::contacts(worker.db(), caller.key)
        .await
        .map_err(db_error)?;
    Ok(ok(contacts).into_response())
}

async fn business_profile(caller: Caller, Query(q): Query<PhoneQuery>) -> Result<Response> {
    me(&caller)?;
    registered_contact(&caller, q.phone.as_deref()).await?;
    Err(Error::not_found(
        "business profile (the number is not a business account)",
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewsletterRequest {
    newsletter_id: String,
}

fn newsletter_jid(value: &str) -> Result<Jid> {
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

async fn newsletter_unfollow(
    caller: Caller,
    Json(req): Json<NewsletterRequest>,
) -> Result<Response> {
    me(&caller)?;
    newsletter_jid(&req.newsletter_id)?;
    Err(Error::not_found("newsletter (this account follows none)"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewsletterQuery {
    newsletter_id: Option<String>,
    #[allow(dead_code)]
    count: Option<u32>,
    #[allow(dead_code)]
    before: Option<String>,
}

async fn newsletter_messages(caller: Caller, Query(q): Query<NewsletterQuery>) -> Result<Response> {
    me(&caller)?;
    newsletter_jid(q.newsletter_id.as_deref().unwrap_or(""))?;
    Err(Error::not_found("newsletter (this account follows none)"))
}

/// Passkey login is offered by WhatsApp to some accounts on the phone; no passkey
/// challenge is ever pending for a sandbox session or on this build's live driver.
async fn passkey_status(caller: Caller) -> Result<Response> {
    let status = caller.instance.status();
    Ok(ok(json!({
        "available": false,
        "challenge": null,
        "state": status.session.state,
        "message": "no passkey challenge is pending; log in with a QR code or a pair code",
    }))
    .into_response())
}

async fn passkey_response(_caller: Caller, _body: axum::body::Bytes) -> Result<Response> {
    Err(driver_error(DriverError::NoPendingLogin))
}

async fn passkey_confirm(_caller: Caller) -> Result<Response> {
    Err(driver_error(DriverError::NoPendingLogin))
}

//! Groups: creating, members, settings, invite links (`/api/v1/group`). Sandbox sessions answer from
//! the simulated network; live sessions through their driver.

use super::{answers, fields::*, media::media_error, sandbox::sandbox, Caller};
use crate::{
    api::doc::{doc, Api},
    driver::{DriverError, Event, GroupChange, Kind},
    groups::{self, Change, GroupError, GroupInfo, Settings},
    jid::Jid,
    WorkerState,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use wasp_http::error::{created, ok, Error, Json, Query, Result};

/// The group operations, as a table of the customer API.
pub(super) fn api() -> Api {
    use super::errors::{GROUP, SANDBOX};
    use crate::groups::{GroupInfo, Participant, ParticipantResult};
    use answers::*;
    use utoipa::openapi::path::HttpMethod::{Get, Post};
    const GROUP_ID: (&str, &str) = ("group_id", "The group, such as `120363025246125486@g.us`.");
    Api::default()
        // ---- groups
        .post(
            "/api/v1/group",
            create_group,
            doc("group", "Create a group")
                .json::<CreateGroup>()
                .created()
                .returns::<GroupCreated>()
                .errors(GROUP),
        )
        .get(
            "/api/v1/group/info",
            group_info,
            doc("group", "A group's details and members")
                .query::<GroupQuery>()
                .returns::<GroupInfo>()
                .errors(GROUP),
        )
        .on(
            &[Get],
            "/api/v1/group/participants",
            list_participants,
            doc("group", "A group's members")
                .query::<GroupQuery>()
                .returns::<GroupParticipants>()
                .errors(GROUP),
        )
        .on(
            &[Post],
            "/api/v1/group/participants",
            add_participants,
            doc("group", "Add members to a group")
                .describe("Admins only. Each participant gets its own result.")
                .json::<ParticipantsRequest>()
                .returns_list::<ParticipantResult>()
                .errors(GROUP),
        )
        .get(
            "/api/v1/group/participants/export",
            export_participants,
            doc("group", "A group's members as CSV")
                .query::<GroupQuery>()
                .returns_file("text/csv", "CSV with the columns jid, phone_number, role")
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/participants/remove",
            remove_participants,
            doc("group", "Remove members from a group")
                .describe("Admins only.")
                .json::<ParticipantsRequest>()
                .returns_list::<ParticipantResult>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/participants/promote",
            promote_participants,
            doc("group", "Make members admins")
                .describe("Admins only.")
                .json::<ParticipantsRequest>()
                .returns_list::<ParticipantResult>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/participants/demote",
            demote_participants,
            doc("group", "Make admins plain members")
                .describe("Admins only.")
                .json::<ParticipantsRequest>()
                .returns_list::<ParticipantResult>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/join-with-link",
            join_with_link,
            doc("group", "Join a group with an invite link")
                .json::<LinkRequest>()
                .returns::<GroupJoined>()
                .errors(GROUP),
        )
        .get(
            "/api/v1/group/info-from-link",
            info_from_link,
            doc("group", "A group's preview from its invite link, without joining")
                .query::<LinkQuery>()
                .returns::<GroupPreview>()
                .errors(GROUP),
        )
        .get(
            "/api/v1/group/participant-requests",
            participant_requests,
            doc("group", "Pending requests to join a group")
                .describe("Admins only.")
                .query::<GroupQuery>()
                .returns_list::<Participant>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/participant-requests/approve",
            approve_requests,
            doc("group", "Approve requests to join a group")
                .describe("Admins only.")
                .json::<ParticipantsRequest>()
                .returns_list::<ParticipantResult>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/participant-requests/reject",
            reject_requests,
            doc("group", "Reject requests to join a group")
                .describe("Admins only.")
                .json::<ParticipantsRequest>()
                .returns_list::<ParticipantResult>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/leave",
            leave_group,
            doc("group", "Leave a group")
                .json::<GroupIdRequest>()
                .returns::<GroupLeft>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/photo",
            group_photo,
            doc("group", "Set a group's photo")
                .describe("JPEG or PNG. Admins only when the group is locked.")
                .multipart("photo", false, &[GROUP_ID], &["group_id", "photo"])
                .returns::<GroupInfo>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/name",
            group_name,
            doc("group", "Rename a group")
                .describe("Admins only when the group is locked.")
                .json::<NameRequest>()
                .returns::<GroupInfo>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/locked",
            group_locked,
            doc("group", "Lock or unlock a group's info (name, topic, photo) to admins")
                .describe("Admins only.")
                .json::<LockedRequest>()
                .returns::<GroupInfo>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/announce",
            group_announce,
            doc("group", "Let only admins send (or everyone again)")
                .describe("Admins only.")
                .json::<AnnounceRequest>()
                .returns::<GroupInfo>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/group/topic",
            group_topic,
            doc("group", "Set or remove a group's description")
                .describe("Admins only when the group is locked.")
                .json::<TopicRequest>()
                .returns::<GroupInfo>()
                .errors(GROUP),
        )
        .get(
            "/api/v1/group/invite-link",
            group_invite_link,
            doc("group", "A group's invite link (`reset=true` makes a new one)")
                .describe("Admins only.")
                .query::<GroupQuery>()
                .returns::<InviteLink>()
                .errors(GROUP),
        )
        .post(
            "/api/v1/sandbox/group-request",
            sandbox_group_request,
            doc("sandbox", "Simulate someone asking to join a group")
                .describe("A sandbox control: works only on sandbox sessions (an `ak_test_` key, or any key on a sandbox worker); other sessions answer 403 FORBIDDEN. The request then waits for `/group/participant-requests/approve` or `/reject`.")
                .json::<GroupRequestControl>()
                .created()
                .returns::<JoinRequested>()
                .errors(SANDBOX)
                .errors(&[wasp_http::error::code::NOT_FOUND]),
        )
}

impl From<GroupError> for Error {
    fn from(e: GroupError) -> Error {
        group_error(e)
    }
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
/// What the simulated network pushes to a sandbox session after a group change it made
/// (WhatsApp notifies every member's devices, the actor's too); live sessions get
/// WhatsApp's own notification.
pub(super) async fn notify(caller: &Caller, event: Event) {
    if let Some(sandbox) = caller.instance.driver.sandbox() {
        if sandbox.from_network(event).is_ok() {
            caller.instance.flush().await;
        }
    }
}

pub(super) fn me(caller: &Caller) -> Result<String> {
    let status = caller.instance.status();
    if status.session.state != "connected" {
        return Err(DriverError::NotConnected.into());
    }
    // Live sessions reach groups through their driver; other drivers have no groups.
    if caller.instance.driver.sandbox().is_none() && caller.instance.driver.live().is_none() {
        return Err(DriverError::Unavailable(
            "groups need the live WhatsApp driver, which is not available on this worker".into(),
        )
        .into());
    }
    Ok(status.session.jid.unwrap_or_default())
}

pub(super) fn group_jid(value: &str) -> Result<String> {
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

/// The settings checks of `groups::update`, for the live path.
pub(super) fn live_settings(s: &Settings) -> Result<crate::drivers::live::groups::LiveSettings> {
    let subject = s
        .subject
        .as_deref()
        .map(groups::check_subject)
        .transpose()?;
    if let Some(Some(t)) = &s.topic {
        groups::check_topic(t)?;
    }
    Ok(crate::drivers::live::groups::LiveSettings {
        subject,
        topic: s.topic.clone(),
        announce: s.announce,
        locked: s.locked,
    })
}

pub(super) fn participant_list(values: &[String]) -> Result<Vec<Jid>> {
    if values.len() > groups::MAX_PARTICIPANTS {
        return Err(Error::validation("participants", "too many participants"));
    }
    values
        .iter()
        .map(|v| recipient("participants", v))
        .collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateGroup {
    /// The group's name (at most 100 characters).
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\\x00]")]
    title: String,
    /// Members to add: phone numbers or JIDs.
    #[serde(default)]
    #[schema(value_type = Vec<crate::api::doc::Recipient>, min_items = 1, required = true)]
    participants: Vec<String>,
}

pub(super) async fn create_group(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<CreateGroup>,
) -> Result<Response> {
    let me = me(&caller)?;
    let members = participant_list(&req.participants)?;
    let create_error = |e| match e {
        GroupError::Invalid(m) if m.starts_with("name: ") => {
            Error::validation("title", m.trim_start_matches("name: "))
        }
        e => group_error(e),
    };
    let (info, results) = if let Some(live) = caller.instance.driver.live() {
        let subject = groups::check_subject(&req.title).map_err(create_error)?;
        if members.is_empty() {
            return Err(create_error(GroupError::Invalid(
                "participants: add at least one participant".into(),
            )));
        }
        if members.len() + 1 > groups::MAX_PARTICIPANTS {
            return Err(create_error(GroupError::Invalid(format!(
                "participants: a group holds at most {} members",
                groups::MAX_PARTICIPANTS
            ))));
        }
        live.create_group(&subject, &members).await?
    } else {
        let (info, results) = groups::create(worker.db(), caller.key, &me, &req.title, &members)
            .await
            .map_err(create_error)?;
        // WhatsApp tells the creator's devices too.
        let group =
            Jid::parse_recipient(&info.group_id).map_err(|_| Error::internal("group id"))?;
        notify(
            &caller,
            Event::GroupJoined {
                group,
                subject: Some(info.name.clone()),
                by: Jid::parse_recipient(&me).ok(),
                at: Utc::now(),
            },
        )
        .await;
        (info, results)
    };
    Ok(
        created(json!({ "group_id": info.group_id, "group": info, "participants": results }))
            .into_response(),
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupQuery {
    /// The group, such as `120363025246125486@g.us`.
    #[param(value_type = Option<crate::api::doc::GroupJid>, required = true)]
    group_id: Option<String>,
    /// Invite link only: revoke the current link and make a new one.
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

/// A group's details: from WhatsApp on live sessions, from the simulated network on
/// sandbox ones.
pub(super) async fn group_details(
    worker: &WorkerState,
    caller: &Caller,
    group: &str,
) -> Result<GroupInfo> {
    if let Some(live) = caller.instance.driver.live() {
        return live.group_info(group).await.map_err(Error::from);
    }
    groups::info(worker.db(), caller.key, group)
        .await
        .map_err(group_error)
}

pub(super) async fn group_info(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    me(&caller)?;
    let info = group_details(&worker, &caller, &q.jid()?).await?;
    Ok(ok(info).into_response())
}

pub(super) async fn list_participants(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    me(&caller)?;
    let info = group_details(&worker, &caller, &q.jid()?).await?;
    Ok(ok(
        json!({ "group_id": info.group_id, "name": info.name, "participants": info.participants }),
    )
    .into_response())
}

/// The members as CSV (jid, phone number, role).
pub(super) async fn export_participants(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    me(&caller)?;
    let info = group_details(&worker, &caller, &q.jid()?).await?;
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ParticipantsRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::api::doc::GroupJid)]
    group_id: String,
    /// Phone numbers or JIDs.
    #[schema(value_type = Vec<crate::api::doc::Recipient>)]
    participants: Vec<String>,
}

pub(super) async fn participants(
    worker: WorkerState,
    caller: Caller,
    req: ParticipantsRequest,
    change: Change,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(&req.group_id)?;
    let who = participant_list(&req.participants)?;
    if let Some(live) = caller.instance.driver.live() {
        if who.is_empty() {
            return Err(group_error(GroupError::Invalid(
                "participants: name at least one participant".into(),
            )));
        }
        let results = live.change_participants(&group, change, &who).await?;
        return Ok(ok(results).into_response());
    }
    let results =
        groups::change_participants(worker.db(), caller.key, &me, &group, change, &who).await?;
    let changed: Vec<Jid> = results
        .iter()
        .filter(|r| r.status == "success")
        .filter_map(|r| Jid::parse_recipient(&r.participant).ok())
        .collect();
    let kind = match change {
        Change::Add | Change::Approve => Some(GroupChange::Join),
        Change::Remove => Some(GroupChange::Leave),
        Change::Promote => Some(GroupChange::Promote),
        Change::Demote => Some(GroupChange::Demote),
        Change::Reject => None,
    };
    if let (Some(kind), false) = (kind, changed.is_empty()) {
        notify(
            &caller,
            Event::GroupParticipants {
                group: Jid::parse_recipient(&group).map_err(|_| Error::internal("group id"))?,
                change: kind,
                participants: changed,
                by: Jid::parse_recipient(&me).ok(),
                at: Utc::now(),
            },
        )
        .await;
    }
    Ok(ok(results).into_response())
}

pub(super) async fn add_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Add).await
}

pub(super) async fn remove_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Remove).await
}

pub(super) async fn promote_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Promote).await
}

pub(super) async fn demote_participants(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Demote).await
}

pub(super) async fn approve_requests(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Approve).await
}

pub(super) async fn reject_requests(
    State(w): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ParticipantsRequest>,
) -> Result<Response> {
    participants(w, caller, req, Change::Reject).await
}

pub(super) async fn participant_requests(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = q.jid()?;
    if let Some(live) = caller.instance.driver.live() {
        let list = live.participant_requests(&group).await?;
        return Ok(ok(list).into_response());
    }
    let list = groups::requests(worker.db(), caller.key, &me, &group).await?;
    Ok(ok(list).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupLink)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkRequest {
    /// An invite link such as `https://chat.whatsapp.com/…`.
    #[schema(value_type = crate::api::doc::GroupInviteLink)]
    link: String,
}

pub(super) fn code_of(link: &str) -> Result<String> {
    groups::invite_code(link).ok_or_else(|| {
        Error::validation(
            "link",
            "must be an invite link such as https://chat.whatsapp.com/…",
        )
    })
}

pub(super) async fn join_with_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<LinkRequest>,
) -> Result<Response> {
    let me = me(&caller)?;
    let code = code_of(&req.link)?;
    if let Some(live) = caller.instance.driver.live() {
        let jid = live.join_with_code(&code).await?;
        return Ok(ok(json!({ "group_id": jid })).into_response());
    }
    let jid = groups::join(worker.db(), caller.key, &me, &code).await?;
    if let Ok(info) = groups::info(worker.db(), caller.key, &jid).await {
        if let Ok(group) = Jid::parse_recipient(&jid) {
            notify(
                &caller,
                Event::GroupJoined {
                    group,
                    subject: Some(info.name),
                    by: None,
                    at: Utc::now(),
                },
            )
            .await;
        }
    }
    Ok(ok(json!({ "group_id": jid })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkQuery {
    /// An invite link such as `https://chat.whatsapp.com/…`.
    #[param(value_type = Option<crate::api::doc::GroupInviteLink>, required = true)]
    link: Option<String>,
}

pub(super) async fn info_from_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<LinkQuery>,
) -> Result<Response> {
    me(&caller)?;
    let code = code_of(q.link.as_deref().unwrap_or(""))?;
    if let Some(live) = caller.instance.driver.live() {
        let preview = live.group_preview(&code).await?;
        return Ok(ok(preview).into_response());
    }
    if let Some(jid) = groups::find_by_code(worker.db(), caller.key, &code).await? {
        let info = groups::info(worker.db(), caller.key, &jid).await?;
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupId)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupIdRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::api::doc::GroupJid)]
    group_id: String,
}

pub(super) async fn leave_group(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<GroupIdRequest>,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(&req.group_id)?;
    if let Some(live) = caller.instance.driver.live() {
        live.leave_group(&group).await?;
        return Ok(ok(json!({ "group_id": group, "left": true })).into_response());
    }
    groups::leave(worker.db(), caller.key, &me, &group).await?;
    if let (Ok(jid), Ok(me)) = (Jid::parse_recipient(&group), Jid::parse_recipient(&me)) {
        notify(
            &caller,
            Event::GroupParticipants {
                group: jid,
                change: GroupChange::Leave,
                participants: vec![me.clone()],
                by: Some(me),
                at: Utc::now(),
            },
        )
        .await;
    }
    Ok(ok(json!({ "group_id": group, "left": true })).into_response())
}

pub(super) async fn settings(
    worker: WorkerState,
    caller: Caller,
    group_id: &str,
    s: Settings,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(group_id)?;
    if let Some(live) = caller.instance.driver.live() {
        let settings = live_settings(&s)?;
        let info = live.update_group(&group, &settings).await?;
        return Ok(ok(info).into_response());
    }
    let info = groups::update(worker.db(), caller.key, &me, &group, &s).await?;
    Ok(ok(info).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupName)]
#[serde(deny_unknown_fields)]
pub(super) struct NameRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::api::doc::GroupJid)]
    group_id: String,
    /// The new name (at most 100 characters).
    name: String,
}

pub(super) async fn group_name(
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupLocked)]
#[serde(deny_unknown_fields)]
pub(super) struct LockedRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::api::doc::GroupJid)]
    group_id: String,
    /// Only admins may edit the group's name, topic and photo.
    locked: bool,
}

pub(super) async fn group_locked(
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupAnnounce)]
#[serde(deny_unknown_fields)]
pub(super) struct AnnounceRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::api::doc::GroupJid)]
    group_id: String,
    /// Only admins may send messages.
    announce: bool,
}

pub(super) async fn group_announce(
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupTopic)]
#[serde(deny_unknown_fields)]
pub(super) struct TopicRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::api::doc::GroupJid)]
    group_id: String,
    /// The new description (at most 2048 characters); empty or absent removes it.
    topic: Option<String>,
}

pub(super) async fn group_topic(
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
pub(super) async fn photo_form(
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

pub(super) async fn group_photo(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    let (group, bytes) = photo_form(form, "photo").await?;
    let group = group.ok_or_else(|| Error::validation("group_id", "is required"))?;
    if let Some(live) = caller.instance.driver.live() {
        me(&caller)?;
        let group = group_jid(&group)?;
        let info = live.set_group_photo(&group, bytes).await?;
        return Ok(ok(info).into_response());
    }
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal_source("storing media", e))?;
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

pub(super) async fn group_invite_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = q.jid()?;
    if let Some(live) = caller.instance.driver.live() {
        let link = live.invite_link(&group, q.reset.unwrap_or(false)).await?;
        return Ok(ok(json!({ "group_id": group, "invite_link": link })).into_response());
    }
    let link = groups::invite_link(
        worker.db(),
        caller.key,
        &me,
        &group,
        q.reset.unwrap_or(false),
    )
    .await?;
    Ok(ok(json!({ "group_id": group, "invite_link": link })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxGroupRequest)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupRequestControl {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::api::doc::GroupJid)]
    group_id: String,
    /// Who asks to join: a phone number (international format).
    #[schema(value_type = crate::api::doc::Phone)]
    from: String,
}

/// Sandbox: a contact asks to join a group (for the approval flow).
pub(super) async fn sandbox_group_request(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<GroupRequestControl>,
) -> Result<Response> {
    sandbox(&caller)?;
    let group = group_jid(&req.group_id)?;
    let from = Jid::user(&phone_field("from", Some(&req.from))?);
    groups::request_to_join(worker.db(), caller.key, &group, &from).await?;
    Ok(created(json!({ "group_id": group, "requested_by": from.to_string() })).into_response())
}

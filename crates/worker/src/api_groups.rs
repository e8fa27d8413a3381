//! Customer API: groups (the 20 operations of the current codebase), the user's profile
//! and contacts, newsletters and passkey login. Sandbox sessions answer from the simulated
//! network; live sessions through their driver.

use crate::{
    api::{
        db_error, driver_error, media_error, phone_field, recipient, sandbox, status_json, Caller,
    },
    apidoc::{doc, Api},
    driver::{DriverError, Event, GroupChange, Kind},
    groups::{self, Change, GroupError, GroupInfo, Settings},
    jid::Jid,
    store, WorkerState,
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

/// Groups, the user, newsletters and passkey login, as a table of the customer API.
pub fn api() -> Api {
    use crate::api::{
        answers::SessionStatus,
        code,
        errors::{CONNECTED, DRIVER, GROUP, LOOKUP, SANDBOX},
    };
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
        // ---- user
        .get(
            "/api/v1/user/info",
            user_info,
            doc("user", "A WhatsApp user's profile")
                .query::<PhoneQuery>()
                .returns::<UserInfo>()
                .errors(LOOKUP),
        )
        .get(
            "/api/v1/user/avatar",
            user_avatar,
            doc("user", "A WhatsApp user's profile photo")
                .describe("404 when the user has none (or does not show it to you).")
                .query::<PhoneQuery>()
                .returns::<Avatar>()
                .errors(LOOKUP),
        )
        .post(
            "/api/v1/user/avatar",
            set_avatar,
            doc("user", "Set your profile photo")
                .describe("JPEG or PNG.")
                .multipart("avatar", false, &[], &["avatar"])
                .returns::<AvatarSet>()
                .errors(CONNECTED),
        )
        .post(
            "/api/v1/user/pushname",
            set_push_name,
            doc("user", "Set your display name")
                .json::<PushNameRequest>()
                .returns::<SessionStatus>()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/privacy",
            my_privacy,
            doc("user", "Your privacy settings")
                .returns::<Privacy>()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/groups",
            my_groups,
            doc("user", "The groups you are in")
                .returns_list::<GroupInfo>()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/newsletters",
            my_newsletters,
            doc("user", "The newsletters (channels) you follow")
                .returns_objects()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/contacts",
            my_contacts,
            doc("user", "Your contacts: everyone you have a one-to-one chat with")
                .returns_list::<crate::store::Contact>()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/check",
            user_check,
            doc("user", "Whether a phone number is on WhatsApp")
                .query::<PhoneQuery>()
                .returns::<UserCheck>()
                .errors(DRIVER),
        )
        .get(
            "/api/v1/user/business-profile",
            business_profile,
            doc("user", "A business account's profile")
                .describe("404 when the number is not a business account.")
                .query::<PhoneQuery>()
                .errors(LOOKUP),
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
        // ---- passkey login
        .get(
            "/api/v1/app/passkey",
            passkey_status,
            doc("app", "Whether a passkey challenge is pending")
                .describe("WhatsApp asks some accounts to confirm a login with a passkey on the phone.")
                .returns::<PasskeyStatus>(),
        )
        .post(
            "/api/v1/app/passkey/response",
            passkey_response,
            doc("app", "Answer a pending passkey challenge")
                .describe("The body is the passkey assertion as the authenticator produced it.")
                .optional_object_body()
                .errors(&[code::NO_PENDING_LOGIN]),
        )
        .post(
            "/api/v1/app/passkey/confirm",
            passkey_confirm,
            doc("app", "Confirm a passkey login")
                .errors(&[code::NO_PENDING_LOGIN]),
        )
}

/// Schemas of `data` in answers that have no type of their own in the code: each mirrors
/// the `json!` of its handler.
#[allow(dead_code)]
pub(crate) mod answers {
    use crate::groups::{GroupInfo, ParticipantResult};
    use chrono::{DateTime, Utc};
    use serde::Serialize;
    use utoipa::ToSchema;

    #[derive(Serialize, ToSchema)]
    pub struct GroupCreated {
        pub group_id: String,
        pub group: GroupInfo,
        /// The outcome for each participant asked for.
        pub participants: Vec<ParticipantResult>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GroupParticipants {
        pub group_id: String,
        pub name: String,
        pub participants: Vec<crate::groups::Participant>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GroupJoined {
        pub group_id: String,
    }

    /// What an invite link shows before joining.
    #[derive(Serialize, ToSchema)]
    pub struct GroupPreview {
        pub group_id: String,
        pub name: String,
        pub topic: Option<String>,
        /// When known.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub created_at: Option<DateTime<Utc>>,
        pub is_announce: bool,
        pub is_locked: bool,
        pub is_ephemeral: bool,
        pub participant_count: usize,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GroupLeft {
        pub group_id: String,
        pub left: bool,
    }

    #[derive(Serialize, ToSchema)]
    pub struct InviteLink {
        pub group_id: String,
        /// `https://chat.whatsapp.com/…`
        pub invite_link: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct JoinRequested {
        pub group_id: String,
        /// The JID of who asked.
        pub requested_by: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct UserInfo {
        pub jid: String,
        /// A business's verified name.
        pub verified_name: Option<String>,
        /// The user's about text.
        pub status: String,
        pub picture_id: Option<String>,
        /// The user's devices, as WhatsApp lists them.
        #[schema(value_type = Vec<Object>)]
        pub devices: Vec<serde_json::Value>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Avatar {
        /// The photo's id.
        pub id: String,
        /// image
        #[serde(rename = "type")]
        pub kind: String,
        /// A download URL, when WhatsApp gives one.
        pub url: Option<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct AvatarSet {
        /// The new photo's id.
        pub picture_id: String,
    }

    /// Who may see or do what: all, contacts, contact_blacklist, match_last_seen, known
    /// or none.
    #[derive(Serialize, ToSchema)]
    pub struct Privacy {
        pub group_add: String,
        pub last_seen: String,
        pub status: String,
        pub profile: String,
        pub read_receipts: String,
        pub online: String,
        pub call_add: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct UserCheck {
        pub phone_number: String,
        pub is_on_whatsapp: bool,
    }

    #[derive(Serialize, ToSchema)]
    pub struct PasskeyStatus {
        /// Whether a challenge is waiting for an answer.
        pub available: bool,
        /// The pending challenge, when there is one.
        #[schema(value_type = Option<Object>)]
        pub challenge: Option<serde_json::Value>,
        /// The session's state.
        pub state: String,
        pub message: String,
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
async fn notify(caller: &Caller, event: Event) {
    if let Some(sandbox) = caller.instance.driver.sandbox() {
        if sandbox.from_network(event).is_ok() {
            caller.instance.flush().await;
        }
    }
}

fn me(caller: &Caller) -> Result<String> {
    let status = caller.instance.status();
    if status.session.state != "connected" {
        return Err(driver_error(DriverError::NotConnected));
    }
    // Live sessions reach groups through their driver; other drivers have no groups.
    if caller.instance.driver.sandbox().is_none() && caller.instance.driver.live().is_none() {
        return Err(driver_error(DriverError::Unavailable(
            "groups need the live WhatsApp driver, which is not available on this worker".into(),
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

/// The settings checks of `groups::update`, for the live path.
fn live_settings(s: &Settings) -> Result<crate::live::groups::LiveSettings> {
    let subject = s
        .subject
        .as_deref()
        .map(groups::check_subject)
        .transpose()
        .map_err(group_error)?;
    if let Some(Some(t)) = &s.topic {
        groups::check_topic(t).map_err(group_error)?;
    }
    Ok(crate::live::groups::LiveSettings {
        subject,
        topic: s.topic.clone(),
        announce: s.announce,
        locked: s.locked,
    })
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateGroup {
    /// The group's name (at most 100 characters).
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\\x00]")]
    title: String,
    /// Members to add: phone numbers or JIDs.
    #[serde(default)]
    #[schema(value_type = Vec<crate::apidoc::Recipient>, min_items = 1, required = true)]
    participants: Vec<String>,
}

async fn create_group(
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
        live.create_group(&subject, &members)
            .await
            .map_err(driver_error)?
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
struct GroupQuery {
    /// The group, such as `120363025246125486@g.us`.
    #[param(value_type = Option<crate::apidoc::GroupJid>, required = true)]
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
async fn group_details(worker: &WorkerState, caller: &Caller, group: &str) -> Result<GroupInfo> {
    if let Some(live) = caller.instance.driver.live() {
        return live.group_info(group).await.map_err(driver_error);
    }
    groups::info(worker.db(), caller.key, group)
        .await
        .map_err(group_error)
}

async fn group_info(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<GroupQuery>,
) -> Result<Response> {
    me(&caller)?;
    let info = group_details(&worker, &caller, &q.jid()?).await?;
    Ok(ok(info).into_response())
}

async fn list_participants(
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
async fn export_participants(
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
struct ParticipantsRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::apidoc::GroupJid)]
    group_id: String,
    /// Phone numbers or JIDs.
    #[schema(value_type = Vec<crate::apidoc::Recipient>)]
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
    if let Some(live) = caller.instance.driver.live() {
        if who.is_empty() {
            return Err(group_error(GroupError::Invalid(
                "participants: name at least one participant".into(),
            )));
        }
        let results = live
            .change_participants(&group, change, &who)
            .await
            .map_err(driver_error)?;
        return Ok(ok(results).into_response());
    }
    let results = groups::change_participants(worker.db(), caller.key, &me, &group, change, &who)
        .await
        .map_err(group_error)?;
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
    let group = q.jid()?;
    if let Some(live) = caller.instance.driver.live() {
        let list = live
            .participant_requests(&group)
            .await
            .map_err(driver_error)?;
        return Ok(ok(list).into_response());
    }
    let list = groups::requests(worker.db(), caller.key, &me, &group)
        .await
        .map_err(group_error)?;
    Ok(ok(list).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupLink)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    /// An invite link such as `https://chat.whatsapp.com/…`.
    #[schema(value_type = crate::apidoc::GroupInviteLink)]
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
    if let Some(live) = caller.instance.driver.live() {
        let jid = live.join_with_code(&code).await.map_err(driver_error)?;
        return Ok(ok(json!({ "group_id": jid })).into_response());
    }
    let jid = groups::join(worker.db(), caller.key, &me, &code)
        .await
        .map_err(group_error)?;
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
struct LinkQuery {
    /// An invite link such as `https://chat.whatsapp.com/…`.
    #[param(value_type = Option<crate::apidoc::GroupInviteLink>, required = true)]
    link: Option<String>,
}

async fn info_from_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<LinkQuery>,
) -> Result<Response> {
    me(&caller)?;
    let code = code_of(q.link.as_deref().unwrap_or(""))?;
    if let Some(live) = caller.instance.driver.live() {
        let preview = live.group_preview(&code).await.map_err(driver_error)?;
        return Ok(ok(preview).into_response());
    }
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupId)]
#[serde(deny_unknown_fields)]
struct GroupIdRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::apidoc::GroupJid)]
    group_id: String,
}

async fn leave_group(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<GroupIdRequest>,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(&req.group_id)?;
    if let Some(live) = caller.instance.driver.live() {
        live.leave_group(&group).await.map_err(driver_error)?;
        return Ok(ok(json!({ "group_id": group, "left": true })).into_response());
    }
    groups::leave(worker.db(), caller.key, &me, &group)
        .await
        .map_err(group_error)?;
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

async fn settings(
    worker: WorkerState,
    caller: Caller,
    group_id: &str,
    s: Settings,
) -> Result<Response> {
    let me = me(&caller)?;
    let group = group_jid(group_id)?;
    if let Some(live) = caller.instance.driver.live() {
        let settings = live_settings(&s)?;
        let info = live
            .update_group(&group, &settings)
            .await
            .map_err(driver_error)?;
        return Ok(ok(info).into_response());
    }
    let info = groups::update(worker.db(), caller.key, &me, &group, &s)
        .await
        .map_err(group_error)?;
    Ok(ok(info).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupName)]
#[serde(deny_unknown_fields)]
struct NameRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::apidoc::GroupJid)]
    group_id: String,
    /// The new name (at most 100 characters).
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupLocked)]
#[serde(deny_unknown_fields)]
struct LockedRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::apidoc::GroupJid)]
    group_id: String,
    /// Only admins may edit the group's name, topic and photo.
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupAnnounce)]
#[serde(deny_unknown_fields)]
struct AnnounceRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::apidoc::GroupJid)]
    group_id: String,
    /// Only admins may send messages.
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupTopic)]
#[serde(deny_unknown_fields)]
struct TopicRequest {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::apidoc::GroupJid)]
    group_id: String,
    /// The new description (at most 2048 characters); empty or absent removes it.
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
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    let (group, bytes) = photo_form(form, "photo").await?;
    let group = group.ok_or_else(|| Error::validation("group_id", "is required"))?;
    if let Some(live) = caller.instance.driver.live() {
        me(&caller)?;
        let group = group_jid(&group)?;
        let info = live
            .set_group_photo(&group, bytes)
            .await
            .map_err(driver_error)?;
        return Ok(ok(info).into_response());
    }
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
    if let Some(live) = caller.instance.driver.live() {
        let link = live
            .invite_link(&group, q.reset.unwrap_or(false))
            .await
            .map_err(driver_error)?;
        return Ok(ok(json!({ "group_id": group, "invite_link": link })).into_response());
    }
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxGroupRequest)]
#[serde(deny_unknown_fields)]
struct GroupRequestControl {
    /// The group, such as `120363025246125486@g.us`.
    #[schema(value_type = crate::apidoc::GroupJid)]
    group_id: String,
    /// Who asks to join: a phone number (international format).
    #[schema(value_type = crate::apidoc::Phone)]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewsletterControl {
    /// Follow a new channel with this name (1 to 100 characters).
    name: Option<String>,
    /// A channel the session follows, for a post.
    #[schema(value_type = Option<crate::apidoc::NewsletterJid>)]
    newsletter_id: Option<String>,
    /// The post's text (1 to 4096 characters), with `newsletter_id`.
    message: Option<String>,
}

async fn sandbox_newsletter(
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
            let jid = crate::sandbox::newsletter_jid();
            store::follow_newsletter(worker.db(), caller.key, &jid.to_string(), &name)
                .await
                .map_err(db_error)?;
            session
                .from_network(Event::NewsletterJoined {
                    newsletter: jid.clone(),
                    name: Some(name.clone()),
                })
                .map_err(driver_error)?;
            caller.instance.flush().await;
            Ok(created(json!({ "newsletter_id": jid.to_string(), "name": name })).into_response())
        }
        (None, Some(id), Some(text)) => {
            let jid = newsletter_jid(&id)?;
            let text = crate::api::text_field("message", &text)?;
            followed(&worker, &caller, &jid).await?;
            let post = crate::driver::Incoming {
                id: crate::sandbox::phone_message_id(),
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
            session
                .from_network(Event::Message(post.clone()))
                .map_err(driver_error)?;
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
async fn followed(worker: &WorkerState, caller: &Caller, jid: &Jid) -> Result<String> {
    let list = store::newsletters(worker.db(), caller.key)
        .await
        .map_err(db_error)?;
    list.into_iter()
        .find(|n| n.jid == jid.to_string())
        .map(|n| n.name.unwrap_or_default())
        .ok_or_else(|| Error::not_found("newsletter (this account does not follow it)"))
}

/// A followed sandbox newsletter in the shape the live driver answers.
fn sandbox_newsletter_json(jid: &str, name: Option<&str>) -> serde_json::Value {
    json!({
        "id": jid, "name": name, "description": null, "subscriber_count": 1, "verified": false,
        "state": "active", "role": "subscriber", "picture_url": null, "invite_code": null,
        "created_at": null,
    })
}

// ---- user ------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PhoneQuery {
    /// A phone number (international format) or a JID.
    #[param(value_type = Option<crate::apidoc::Phone>, required = true)]
    phone: Option<String>,
    /// Accepted and ignored.
    #[allow(dead_code)]
    is_preview: Option<bool>,
    /// Accepted and ignored.
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
    if let Some(live) = caller.instance.driver.live() {
        let info = live.user_info(&phone).await.map_err(driver_error)?;
        return Ok(ok(info).into_response());
    }
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
    if let Some(live) = caller.instance.driver.live() {
        return match live.avatar(&phone).await.map_err(driver_error)? {
            Some(avatar) => Ok(ok(avatar).into_response()),
            None => Err(Error::not_found("profile photo")),
        };
    }
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
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    me(&caller)?;
    let (_, bytes) = photo_form(form, "avatar").await?;
    if let Some(live) = caller.instance.driver.live() {
        let id = live.set_avatar(bytes).await.map_err(driver_error)?;
        return Ok(ok(json!({ "picture_id": id })).into_response());
    }
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PushName)]
#[serde(deny_unknown_fields)]
struct PushNameRequest {
    /// The name others see, 1 to 25 characters.
    #[schema(
        min_length = 1,
        max_length = 25,
        pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    )]
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
    if let Some(live) = caller.instance.driver.live() {
        live.set_push_name(&name).await.map_err(driver_error)?;
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
    if let Some(live) = caller.instance.driver.live() {
        let privacy = live.privacy().await.map_err(driver_error)?;
        return Ok(ok(privacy).into_response());
    }
    Ok(ok(json!({
        "group_add": "all", "last_seen": "all", "status": "all", "profile": "all", "read_receipts": "all",
        "online": "all", "call_add": "all",
    }))
    .into_response())
}

async fn my_groups(State(worker): State<WorkerState>, caller: Caller) -> Result<Response> {
    me(&caller)?;
    if let Some(live) = caller.instance.driver.live() {
        let list = live.my_groups().await.map_err(driver_error)?;
        return Ok(ok(list).into_response());
    }
    let list = groups::mine(worker.db(), caller.key)
        .await
        .map_err(group_error)?;
    Ok(ok(list).into_response())
}

async fn my_newsletters(State(worker): State<WorkerState>, caller: Caller) -> Result<Response> {
    me(&caller)?;
    if let Some(live) = caller.instance.driver.live() {
        let list = live.newsletters().await.map_err(driver_error)?;
        return Ok(ok(list).into_response());
    }
    let list: Vec<serde_json::Value> = store::newsletters(worker.db(), caller.key)
        .await
        .map_err(db_error)?
        .iter()
        .map(|n| sandbox_newsletter_json(&n.jid, n.name.as_deref()))
        .collect();
    Ok(ok(list).into_response())
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
    let phone = registered_contact(&caller, q.phone.as_deref()).await?;
    if let Some(live) = caller.instance.driver.live() {
        if let Some(profile) = live.business_profile(&phone).await.map_err(driver_error)? {
            return Ok(ok(profile).into_response());
        }
    }
    Err(Error::not_found(
        "business profile (the number is not a business account)",
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewsletterId)]
#[serde(deny_unknown_fields)]
struct NewsletterRequest {
    /// The newsletter, such as `120363…@newsletter`.
    #[schema(value_type = crate::apidoc::NewsletterJid)]
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
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<NewsletterRequest>,
) -> Result<Response> {
    me(&caller)?;
    let jid = newsletter_jid(&req.newsletter_id)?;
    if let Some(live) = caller.instance.driver.live() {
        live.unfollow_newsletter(&jid).await.map_err(driver_error)?;
        return Ok(
            ok(json!({ "newsletter_id": jid.to_string(), "following": false })).into_response(),
        );
    }
    if !store::unfollow_newsletter(worker.db(), caller.key, &jid.to_string())
        .await
        .map_err(db_error)?
    {
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
struct NewsletterQuery {
    /// The newsletter, such as `120363…@newsletter`.
    #[param(value_type = Option<crate::apidoc::NewsletterJid>, required = true)]
    newsletter_id: Option<String>,
    /// How many posts (live sessions; 1 to 100, default 20).
    count: Option<u32>,
    /// Only posts older than this post `server_id` (live sessions).
    before: Option<String>,
}

async fn newsletter_messages(
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
        let posts = live
            .newsletter_messages(&jid, count, before)
            .await
            .map_err(driver_error)?;
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
    let (rows, _) = store::list_messages(worker.db(), caller.key, &jid.to_string(), &query)
        .await
        .map_err(db_error)?;
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

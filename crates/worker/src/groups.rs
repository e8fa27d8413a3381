//! Groups: their rules as WhatsApp applies them (who may add, remove, promote, rename,
//! send), kept in the shared database. For sandbox sessions these tables are the
//! simulated network's group state; for live sessions they are a cache of WhatsApp's.

use crate::{
    jid::{Jid, GROUP_SERVER},
    store::{now, SessionKey},
};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;
use wasp_db::{on_pool, on_tx, Db};

/// Most members a group can have.
pub const MAX_PARTICIPANTS: usize = 1024;
pub const MAX_SUBJECT_CHARS: usize = 100;
pub const MAX_TOPIC_CHARS: usize = 2048;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Participant {
    pub jid: String,
    /// member, admin or superadmin (the creator).
    pub role: String,
    /// active, or requested (waiting for an admin's approval).
    pub status: String,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct GroupRow {
    jid: String,
    subject: String,
    topic: Option<String>,
    owner_jid: Option<String>,
    announce: bool,
    locked: bool,
    ephemeral_secs: i32,
    invite_code: Option<String>,
    photo_sha256: Option<String>,
    is_member: bool,
    created_at: DateTime<Utc>,
}

/// A group as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupInfo {
    pub group_id: String,
    pub name: String,
    pub topic: Option<String>,
    pub owner_jid: Option<String>,
    pub is_announce: bool,
    pub is_locked: bool,
    pub is_ephemeral: bool,
    pub disappearing_secs: i32,
    pub picture_id: Option<String>,
    pub is_member: bool,
    pub participant_count: usize,
    pub participants: Vec<Participant>,
    pub created_at: DateTime<Utc>,
}

/// The outcome for one participant of a bulk change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParticipantResult {
    pub participant: String,
    /// success or error
    pub status: &'static str,
    pub message: String,
}

fn ok_result(jid: &str, message: &str) -> ParticipantResult {
    ParticipantResult {
        participant: jid.to_owned(),
        status: "success",
        message: message.to_owned(),
    }
}

fn err_result(jid: &str, message: &str) -> ParticipantResult {
    ParticipantResult {
        participant: jid.to_owned(),
        status: "error",
        message: message.to_owned(),
    }
}

/// Why a group operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    #[error("group not found")]
    NotFound,
    #[error("you are not a member of this group")]
    NotMember,
    #[error("only group admins can do this")]
    NotAdmin,
    #[error("{0}")]
    Invalid(String),
    #[error("database error")]
    Database,
}

impl From<sqlx::Error> for GroupError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "group store");
        GroupError::Database
    }
}

pub fn new_group_jid() -> Jid {
    let mut rng = rand::thread_rng();
    Jid {
        user: format!("120363{:012}", rng.gen_range(0..1_000_000_000_000u64)),
        server: GROUP_SERVER.to_owned(),
    }
}

/// An invite code as WhatsApp makes them (22 characters).
pub fn new_invite_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..22)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub const INVITE_PREFIX: &str = "https://chat.whatsapp.com/";

/// The code of an invite link (or of a bare code).
pub fn invite_code(link: &str) -> Option<String> {
    let code = link
        .trim()
        .strip_prefix(INVITE_PREFIX)
        .unwrap_or(link.trim());
    (code.len() >= 16 && code.len() <= 40 && code.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| code.to_owned())
}

const GROUP_COLUMNS: &str =
    "jid, subject, topic, owner_jid, announce, locked, ephemeral_secs, invite_code, photo_sha256, is_member, created_at";

async fn row(db: &Db, key: SessionKey, jid: &str) -> Result<Option<GroupRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM wa_groups WHERE customer_id = $1 AND mode = $2 AND jid = $3"
    );
    on_pool!(db, |pool| sqlx::query_as::<_, GroupRow>(&sql)
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(jid)
        .fetch_optional(pool)
        .await)
}

async fn participants(
    db: &Db,
    key: SessionKey,
    jid: &str,
) -> Result<Vec<Participant>, sqlx::Error> {
    on_pool!(db, |pool| {
        sqlx::query_as::<_, Participant>(
        "SELECT jid, role, status, added_at FROM wa_group_participants WHERE customer_id = $1 AND mode = $2 \
         AND group_jid = $3 ORDER BY CASE role WHEN 'superadmin' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, added_at, jid"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(jid)
    .fetch_all(pool)
    .await
    })
}

/// A group's information with its members.
pub async fn info(db: &Db, key: SessionKey, jid: &str) -> Result<GroupInfo, GroupError> {
    let g = row(db, key, jid).await?.ok_or(GroupError::NotFound)?;
    let all = participants(db, key, jid).await?;
    let active: Vec<Participant> = all.into_iter().filter(|p| p.status == "active").collect();
    Ok(GroupInfo {
        group_id: g.jid,
        name: g.subject,
        topic: g.topic,
        owner_jid: g.owner_jid,
        is_announce: g.announce,
        is_locked: g.locked,
        is_ephemeral: g.ephemeral_secs > 0,
        disappearing_secs: g.ephemeral_secs,
        picture_id: g.photo_sha256.map(|s| s[..10].to_owned()),
        is_member: g.is_member,
        participant_count: active.len(),
        participants: active,
        created_at: g.created_at,
    })
}

/// The groups the session belongs to.
pub async fn mine(db: &Db, key: SessionKey) -> Result<Vec<GroupInfo>, GroupError> {
    let jids: Vec<String> = on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT jid FROM wa_groups WHERE customer_id = $1 AND mode = $2 AND is_member = TRUE ORDER BY created_at, jid"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .fetch_all(pool)
    .await
    })?;
    let mut out = Vec::with_capacity(jids.len());
    for jid in jids {
        out.push(info(db, key, &jid).await?);
    }
    Ok(out)
}

/// The role of `me` in a group it is an active member of.
async fn my_role(db: &Db, key: SessionKey, group: &str, me: &str) -> Result<String, GroupError> {
    let g = row(db, key, group).await?.ok_or(GroupError::NotFound)?;
    if !g.is_member {
        return Err(GroupError::NotMember);
    }
    let role: Option<String> = on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT role FROM wa_group_participants WHERE customer_id = $1 AND mode = $2 AND group_jid = $3 AND jid = $4 \
         AND status = 'active'"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(group)
    .bind(me)
    .fetch_optional(pool)
    .await
    })?;
    role.ok_or(GroupError::NotMember)
}

async fn require_admin(db: &Db, key: SessionKey, group: &str, me: &str) -> Result<(), GroupError> {
    match my_role(db, key, group, me).await?.as_str() {
        "admin" | "superadmin" => Ok(()),
        _ => Err(GroupError::NotAdmin),
    }
}

/// Whether `me` may send to the group (a member; an admin when only admins send).
pub async fn check_can_send(
    db: &Db,
    key: SessionKey,
    group: &str,
    me: &str,
) -> Result<(), GroupError> {
    let role = my_role(db, key, group, me).await?;
    let g = row(db, key, group).await?.ok_or(GroupError::NotFound)?;
    if g.announce && role == "member" {
        return Err(GroupError::NotAdmin);
    }
    Ok(())
}

/// A group name as WhatsApp takes it: 1 to 100 characters once trimmed.
pub(crate) fn check_subject(subject: &str) -> Result<String, GroupError> {
    let s = subject.trim();
    if s.is_empty() || s.chars().count() > MAX_SUBJECT_CHARS || s.contains('\0') {
        return Err(GroupError::Invalid(format!(
            "name: must be 1 to {MAX_SUBJECT_CHARS} characters"
        )));
    }
    Ok(s.to_owned())
}

/// A group description: at most 2,048 characters.
pub(crate) fn check_topic(topic: &str) -> Result<(), GroupError> {
    if topic.chars().count() > MAX_TOPIC_CHARS || topic.contains('\0') {
        return Err(GroupError::Invalid(format!(
            "topic: must be at most {MAX_TOPIC_CHARS} characters"
        )));
    }
    Ok(())
}

async fn insert_participant(
    tx: &mut wasp_db::Tx,
    key: SessionKey,
    group: &str,
    jid: &str,
    role: &str,
    status: &str,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO wa_group_participants (customer_id, mode, group_jid, jid, role, status, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (customer_id, mode, group_jid, jid) \
         DO UPDATE SET status = $6, role = CASE WHEN wa_group_participants.status = 'active' THEN wa_group_participants.role ELSE $5 END"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(group)
    .bind(jid)
    .bind(role)
    .bind(status)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })
}

async fn insert_group(
    tx: &mut wasp_db::Tx,
    key: SessionKey,
    jid: &str,
    subject: &str,
    owner: Option<&str>,
    invite: &str,
) -> Result<(), sqlx::Error> {
    let now = now();
    on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO wa_groups (customer_id, mode, jid, subject, owner_jid, invite_code, is_member, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7) \
         ON CONFLICT (customer_id, mode, jid) DO UPDATE SET is_member = TRUE, updated_at = $7"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(jid)
    .bind(subject)
    .bind(owner)
    .bind(invite)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })?;
    // The group appears in the chat list.
    on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO wa_chats (customer_id, mode, jid, kind, name, created_at, updated_at) VALUES ($1, $2, $3, 'group', $4, $5, $5) \
         ON CONFLICT (customer_id, mode, jid) DO UPDATE SET name = $4, updated_at = $5"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(jid)
    .bind(subject)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })
}

/// Creates a group with `me` as its owner; members not on WhatsApp are reported, not added.
pub async fn create(
    db: &Db,
    key: SessionKey,
    me: &str,
    subject: &str,
    members: &[Jid],
) -> Result<(GroupInfo, Vec<ParticipantResult>), GroupError> {
    let subject = check_subject(subject)?;
    if members.is_empty() {
        return Err(GroupError::Invalid(
            "participants: add at least one participant".into(),
        ));
    }
    if members.len() + 1 > MAX_PARTICIPANTS {
        return Err(GroupError::Invalid(format!(
            "participants: a group holds at most {MAX_PARTICIPANTS} members"
        )));
    }
    let jid = new_group_jid().to_string();
    let mut tx = db.begin().await?;
    insert_group(&mut tx, key, &jid, &subject, Some(me), &new_invite_code()).await?;
    insert_participant(&mut tx, key, &jid, me, "superadmin", "active").await?;
    let mut results = Vec::with_capacity(members.len());
    for m in members {
        let id = m.to_string();
        if !crate::jid::on_sandbox_whatsapp(&m.user) {
            results.push(err_result(&id, "not on WhatsApp"));
        } else if id == me {
            results.push(err_result(&id, "you are already in the group"));
        } else {
            insert_participant(&mut tx, key, &jid, &id, "member", "active").await?;
            results.push(ok_result(&id, "participant added"));
        }
    }
    tx.commit().await?;
    Ok((info(db, key, &jid).await?, results))
}

/// What to do with a list of participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add,
    Remove,
    Promote,
    Demote,
    Approve,
    Reject,
}

/// Applies a participant change; each participant gets its own result.
pub async fn change_participants(
    db: &Db,
    key: SessionKey,
    me: &str,
    group: &str,
    change: Change,
    who: &[Jid],
) -> Result<Vec<ParticipantResult>, GroupError> {
    require_admin(db, key, group, me).await?;
    if who.is_empty() {
        return Err(GroupError::Invalid(
            "participants: name at least one participant".into(),
        ));
    }
    let current = participants(db, key, group).await?;
    let find = |jid: &str| current.iter().find(|p| p.jid == jid);
    let mut active = current.iter().filter(|p| p.status == "active").count();
    let mut results = Vec::with_capacity(who.len());
    let mut tx = db.begin().await?;
    for w in who {
        let id = w.to_string();
        let existing = find(&id);
        let result = match change {
            Change::Add => {
                if !crate::jid::on_sandbox_whatsapp(&w.user) {
                    err_result(&id, "not on WhatsApp")
                } else if existing.is_some_and(|p| p.status == "active") {
                    err_result(&id, "already a participant")
                } else if active >= MAX_PARTICIPANTS {
                    err_result(&id, "the group is full")
                } else {
                    insert_participant(&mut tx, key, group, &id, "member", "active").await?;
                    active += 1;
                    ok_result(&id, "participant added")
                }
            }
            Change::Remove => match existing {
                Some(p) if p.status == "active" && p.role == "superadmin" => {
                    err_result(&id, "the group's creator cannot be removed")
                }
                Some(p) if p.status == "active" => {
                    delete_participant(&mut tx, key, group, &id).await?;
                    ok_result(&id, "participant removed")
                }
                _ => err_result(&id, "not a participant"),
            },
            Change::Promote | Change::Demote => match existing {
                Some(p) if p.status == "active" && p.role == "superadmin" => {
                    err_result(&id, "the group's creator stays an admin")
                }
                Some(p) if p.status == "active" => {
                    let role = if change == Change::Promote {
                        "admin"
                    } else {
                        "member"
                    };
                    set_role(&mut tx, key, group, &id, role).await?;
                    ok_result(
                        &id,
                        if change == Change::Promote {
                            "participant promoted"
                        } else {
                            "participant demoted"
                        },
                    )
                }
                _ => err_result(&id, "not a participant"),
            },
            Change::Approve | Change::Reject => match existing {
                Some(p) if p.status == "requested" => {
                    if change == Change::Approve {
                        insert_participant(&mut tx, key, group, &id, "member", "active").await?;
                        active += 1;
                        ok_result(&id, "request approved")
                    } else {
                        delete_participant(&mut tx, key, group, &id).await?;
                        ok_result(&id, "request rejected")
                    }
                }
                _ => err_result(&id, "no pending request"),
            },
        };
        results.push(result);
    }
    tx.commit().await?;
    Ok(results)
}

async fn delete_participant(
    tx: &mut wasp_db::Tx,
    key: SessionKey,
    group: &str,
    jid: &str,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |conn| {
        sqlx::query(
        "DELETE FROM wa_group_participants WHERE customer_id = $1 AND mode = $2 AND group_jid = $3 AND jid = $4"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(group)
    .bind(jid)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })
}

async fn set_role(
    tx: &mut wasp_db::Tx,
    key: SessionKey,
    group: &str,
    jid: &str,
    role: &str,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |conn| {
        sqlx::query(
        "UPDATE wa_group_participants SET role = $1 WHERE customer_id = $2 AND mode = $3 AND group_jid = $4 AND jid = $5"
    )
    .bind(role)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(group)
    .bind(jid)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })
}

/// Pending join requests.
pub async fn requests(
    db: &Db,
    key: SessionKey,
    me: &str,
    group: &str,
) -> Result<Vec<Participant>, GroupError> {
    require_admin(db, key, group, me).await?;
    Ok(participants(db, key, group)
        .await?
        .into_iter()
        .filter(|p| p.status == "requested")
        .collect())
}

/// A contact asks to join (sandbox control).
pub async fn request_to_join(
    db: &Db,
    key: SessionKey,
    group: &str,
    who: &Jid,
) -> Result<(), GroupError> {
    row(db, key, group).await?.ok_or(GroupError::NotFound)?;
    let id = who.to_string();
    if participants(db, key, group)
        .await?
        .iter()
        .any(|p| p.jid == id && p.status == "active")
    {
        return Err(GroupError::Invalid("already a participant".into()));
    }
    let mut tx = db.begin().await?;
    insert_participant(&mut tx, key, group, &id, "member", "requested").await?;
    tx.commit().await?;
    Ok(())
}

/// What to change in a group's settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub subject: Option<String>,
    pub topic: Option<Option<String>>,
    pub announce: Option<bool>,
    pub locked: Option<bool>,
    pub photo_sha256: Option<String>,
}

/// Changes settings: admins only; when the group is not locked any member may change
/// its name, topic and photo, as on WhatsApp.
pub async fn update(
    db: &Db,
    key: SessionKey,
    me: &str,
    group: &str,
    s: &Settings,
) -> Result<GroupInfo, GroupError> {
    let role = my_role(db, key, group, me).await?;
    let g = row(db, key, group).await?.ok_or(GroupError::NotFound)?;
    let admin = role != "member";
    let info_change = s.subject.is_some() || s.topic.is_some() || s.photo_sha256.is_some();
    if !admin && (s.announce.is_some() || s.locked.is_some() || (info_change && g.locked)) {
        return Err(GroupError::NotAdmin);
    }
    let subject = match &s.subject {
        Some(n) => Some(check_subject(n)?),
        None => None,
    };
    if let Some(Some(t)) = &s.topic {
        check_topic(t)?;
    }
    let now = now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_groups SET subject = COALESCE($1, subject), topic = CASE WHEN $2 THEN $3 ELSE topic END, \
         announce = COALESCE($4, announce), locked = COALESCE($5, locked), photo_sha256 = COALESCE($6, photo_sha256), \
         updated_at = $7 WHERE customer_id = $8 AND mode = $9 AND jid = $10"
    )
    .bind(&subject)
    .bind(s.topic.is_some())
    .bind(s.topic.clone().flatten())
    .bind(s.announce)
    .bind(s.locked)
    .bind(&s.photo_sha256)
    .bind(now)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(group)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    if let Some(subject) = &subject {
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE wa_chats SET name = $1, updated_at = $2 WHERE customer_id = $3 AND mode = $4 AND jid = $5"
        )
        .bind(subject)
        .bind(now)
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(group)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    info(db, key, group).await
}

/// The invite link; with `reset` a new code replaces the old one (admins only).
pub async fn invite_link(
    db: &Db,
    key: SessionKey,
    me: &str,
    group: &str,
    reset: bool,
) -> Result<String, GroupError> {
    require_admin(db, key, group, me).await?;
    let g = row(db, key, group).await?.ok_or(GroupError::NotFound)?;
    let code = match (reset, g.invite_code) {
        (false, Some(code)) => code,
        _ => {
            let code = new_invite_code();
            let mut tx = db.begin().await?;
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                "UPDATE wa_groups SET invite_code = $1, updated_at = $2 WHERE customer_id = $3 AND mode = $4 AND jid = $5"
            )
            .bind(&code)
            .bind(now())
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(group)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected())
            })?;
            tx.commit().await?;
            code
        }
    };
    Ok(format!("{INVITE_PREFIX}{code}"))
}

/// The session leaves a group; its history stays.
pub async fn leave(db: &Db, key: SessionKey, me: &str, group: &str) -> Result<(), GroupError> {
    my_role(db, key, group, me).await?;
    let mut tx = db.begin().await?;
    delete_participant(&mut tx, key, group, me).await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_groups SET is_member = FALSE, updated_at = $1 WHERE customer_id = $2 AND mode = $3 AND jid = $4"
    )
    .bind(now())
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(group)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(())
}

/// A group an invite code leads to. In the sandbox, a code of one of the session's own
/// groups leads there; any other well-formed code leads to a simulated group of contacts
/// (the same one every time for the same code).
pub async fn find_by_code(
    db: &Db,
    key: SessionKey,
    code: &str,
) -> Result<Option<String>, GroupError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT jid FROM wa_groups WHERE customer_id = $1 AND mode = $2 AND invite_code = $3"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(code)
    .fetch_optional(pool)
    .await)?)
}

/// A simulated group for an unknown invite code: a stable id, name and three members.
pub fn simulated_for_code(code: &str) -> (Jid, String, Vec<Jid>) {
    let digest = wasp_protocol::keys::keyed_digest(b"wasp-sandbox-group", code.as_bytes());
    let n = u64::from_str_radix(&digest[..15], 16).unwrap_or(0);
    let jid = Jid {
        user: format!("120363{:012}", n % 1_000_000_000_000),
        server: GROUP_SERVER.to_owned(),
    };
    let members = (1..=3)
        .map(|i| Jid::user(&format!("1555020{:04}", (n / 7 + i) % 10_000)))
        .filter(|j| crate::jid::on_sandbox_whatsapp(&j.user))
        .collect();
    (
        jid,
        format!("Sandbox group {}", &code[..6.min(code.len())]),
        members,
    )
}

/// Joins a group by invite code.
pub async fn join(db: &Db, key: SessionKey, me: &str, code: &str) -> Result<String, GroupError> {
    if let Some(jid) = find_by_code(db, key, code).await? {
        let mut tx = db.begin().await?;
        insert_participant(&mut tx, key, &jid, me, "member", "active").await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE wa_groups SET is_member = TRUE, updated_at = $1 WHERE customer_id = $2 AND mode = $3 AND jid = $4"
        )
        .bind(now())
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(&jid)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        return Ok(jid);
    }
    let (jid, subject, members) = simulated_for_code(code);
    let jid = jid.to_string();
    let owner = members.first().map(Jid::to_string);
    let mut tx = db.begin().await?;
    insert_group(&mut tx, key, &jid, &subject, owner.as_deref(), code).await?;
    for (i, m) in members.iter().enumerate() {
        insert_participant(
            &mut tx,
            key,
            &jid,
            &m.to_string(),
            if i == 0 { "superadmin" } else { "member" },
            "active",
        )
        .await?;
    }
    insert_participant(&mut tx, key, &jid, me, "member", "active").await?;
    tx.commit().await?;
    Ok(jid)
}

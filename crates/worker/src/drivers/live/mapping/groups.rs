//! Mappings of groups, users and profiles between whatsapp-rust's types and ours.

use super::{from_wa, non_empty, now};
use crate::{
    driver::DriverError,
    groups::{Change, GroupInfo, Participant, ParticipantResult},
    jid::Jid,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use whatsapp_rust::{
    features::{
        GroupError as WaGroupError, GroupMetadata, GroupParticipant, MembershipRequest,
        NewsletterMetadata, NewsletterRole, NewsletterState, NewsletterVerification,
        ParticipantChangeResponse, ParticipantType,
    },
    wacore::iq::privacy::{PrivacyCategory, PrivacySettingsResponse},
    IqError, Jid as WaJid,
};

fn timestamp(secs: Option<u64>) -> Option<DateTime<Utc>> {
    secs.and_then(|s| DateTime::from_timestamp(i64::try_from(s).ok()?, 0))
}

/// The role of a group member as the API names it.
pub fn role(kind: &ParticipantType) -> &'static str {
    match kind {
        ParticipantType::SuperAdmin => "superadmin",
        ParticipantType::Admin => "admin",
        ParticipantType::Member => "member",
    }
}

/// A member's address: its phone-number JID when WhatsApp gives one (LID-addressed
/// groups), else the JID it is listed under.
fn member_jid(p: &GroupParticipant) -> WaJid {
    p.phone_number.clone().unwrap_or_else(|| p.jid.clone())
}

/// Whether `p` is one of `users` (the user parts of a phone number or LID).
fn is_one_of(p: &GroupParticipant, users: &[String]) -> bool {
    [Some(&p.jid), p.phone_number.as_ref(), p.lid.as_ref()]
        .into_iter()
        .flatten()
        .any(|j| users.iter().any(|u| u.as_str() == j.user.as_str()))
}

/// An active member; `since` stands in when WhatsApp does not say when it joined.
pub fn participant(p: &GroupParticipant, since: DateTime<Utc>) -> Participant {
    Participant {
        jid: from_wa(&member_jid(p)).to_string(),
        role: role(&p.participant_type).to_owned(),
        status: "active".to_owned(),
        added_at: timestamp(p.details.as_ref().and_then(|d| d.join_time)).unwrap_or(since),
    }
}

/// A group as the API shows it. `me` holds the user parts of the session's own phone
/// number and LID (for `is_member`); when it is empty the session counts as a member.
/// WhatsApp gives no photo id with the metadata, and the creation time is the epoch when
/// it is missing.
pub fn group_info(meta: &GroupMetadata, me: &[String]) -> GroupInfo {
    let created_at = timestamp(meta.creation_time).unwrap_or(DateTime::UNIX_EPOCH);
    let mut participants: Vec<Participant> = meta
        .participants
        .iter()
        .map(|p| participant(p, created_at))
        .collect();
    let rank = |r: &str| match r {
        "superadmin" => 0,
        "admin" => 1,
        _ => 2,
    };
    participants.sort_by(|a, b| {
        (rank(&a.role), a.added_at, &a.jid).cmp(&(rank(&b.role), b.added_at, &b.jid))
    });
    let disappearing = meta
        .ephemeral
        .and_then(|e| e.expiration)
        .map(|e| i32::try_from(e).unwrap_or(i32::MAX))
        .unwrap_or(0);
    GroupInfo {
        group_id: from_wa(&meta.id).to_string(),
        name: meta.subject.clone(),
        topic: non_empty(meta.description.as_deref()),
        owner_jid: meta
            .creator_pn
            .as_ref()
            .or(meta.creator.as_ref())
            .map(|j| from_wa(j).to_string()),
        is_announce: meta.is_announcement,
        is_locked: meta.is_locked,
        is_ephemeral: disappearing > 0,
        disappearing_secs: disappearing,
        picture_id: None,
        is_member: me.is_empty() || meta.participants.iter().any(|p| is_one_of(p, me)),
        participant_count: participants.len(),
        participants,
        created_at,
    }
}

/// What an invite link shows before joining (the `GroupPreview` answer).
pub fn group_preview(meta: &GroupMetadata) -> Value {
    let mut preview = json!({
        "group_id": from_wa(&meta.id).to_string(),
        "name": meta.subject,
        "topic": non_empty(meta.description.as_deref()),
        "is_announce": meta.is_announcement,
        "is_locked": meta.is_locked,
        "is_ephemeral": meta.ephemeral.and_then(|e| e.expiration).unwrap_or(0) > 0,
        "participant_count": meta.size.map(|s| s as usize).unwrap_or(meta.participants.len()),
    });
    if let Some(at) = timestamp(meta.creation_time) {
        preview["created_at"] = json!(at);
    }
    preview
}

/// A pending request to join, as the API lists them.
pub fn join_request(r: &MembershipRequest) -> Participant {
    Participant {
        jid: from_wa(&r.jid).to_string(),
        role: "member".to_owned(),
        status: "requested".to_owned(),
        added_at: timestamp(r.request_time).unwrap_or_else(now),
    }
}

fn success_message(change: Change) -> &'static str {
    match change {
        Change::Add => "participant added",
        Change::Remove => "participant removed",
        Change::Promote => "participant promoted",
        Change::Demote => "participant demoted",
        Change::Approve => "request approved",
        Change::Reject => "request rejected",
    }
}

/// Why WhatsApp refused one participant of a bulk change (its error code).
pub fn participant_error(change: Change, code: &str) -> String {
    let reason = match (code, change) {
        ("403", Change::Add) => {
            "the user's privacy settings do not allow adding them; send them an invite link"
        }
        ("408", Change::Add) => "the user left the group recently",
        ("409", Change::Add) => "already a participant",
        ("500", Change::Add) => "the group is full",
        ("404", Change::Approve | Change::Reject) => "no pending request",
        ("404", _) => "not a participant",
        ("406", _) => "the group's creator cannot be changed",
        ("401", _) => "not authorized",
        ("403", _) => "not allowed",
        _ => "",
    };
    if reason.is_empty() {
        format!("WhatsApp refused (code {code})")
    } else {
        reason.to_owned()
    }
}

fn same_user(jid: &Jid, wa: Option<&WaJid>) -> bool {
    wa.is_some_and(|w| w.user.as_str() == jid.user)
}

/// One result per participant asked for, in the order asked, from WhatsApp's answers
/// (matched by phone number or JID user part).
pub fn participant_results(
    change: Change,
    asked: &[Jid],
    answers: &[ParticipantChangeResponse],
) -> Vec<ParticipantResult> {
    asked
        .iter()
        .map(|jid| {
            let answer = answers
                .iter()
                .find(|a| same_user(jid, Some(&a.jid)) || same_user(jid, a.phone_number.as_ref()));
            let (status, message) = match answer {
                Some(a) => match a.error.as_deref() {
                    None => ("success", success_message(change).to_owned()),
                    Some(code) => ("error", participant_error(change, code)),
                },
                None => (
                    "error",
                    "WhatsApp gave no answer for this participant".to_owned(),
                ),
            };
            ParticipantResult {
                participant: jid.to_string(),
                status,
                message,
            }
        })
        .collect()
}

/// The results of a group creation: who is in the new group was added.
pub fn created_results(asked: &[Jid], meta: &GroupMetadata) -> Vec<ParticipantResult> {
    asked
        .iter()
        .map(|jid| {
            let added = meta
                .participants
                .iter()
                .any(|p| is_one_of(p, std::slice::from_ref(&jid.user)));
            ParticipantResult {
                participant: jid.to_string(),
                status: if added { "success" } else { "error" },
                message: if added {
                    "participant added"
                } else {
                    "not added (not on WhatsApp, or their privacy settings need an invite link)"
                }
                .to_owned(),
            }
        })
        .collect()
}

/// A failed request to WhatsApp as a driver error.
pub fn iq_failure(e: &IqError) -> DriverError {
    match e {
        IqError::NotConnected | IqError::Disconnected(_) | IqError::ClientState(_) => {
            DriverError::NotConnected
        }
        IqError::ServerError { code, text, .. } => {
            let reason = match code {
                400 => "the request is malformed",
                401 => "not authorized",
                403 => "not allowed (you may not be a member or an admin)",
                404 => "not found",
                406 => "not acceptable",
                409 => "conflict",
                410 => "the invite link was reset",
                419 => "the group is full",
                423 => "the group is locked",
                _ => "",
            };
            if reason.is_empty() || *code >= 500 || *code == 429 {
                DriverError::Unavailable(format!("WhatsApp did not take the request: {e}"))
            } else {
                DriverError::Invalid(format!(
                    "WhatsApp refused the request: {reason} ({code} {text})"
                ))
            }
        }
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

/// A failed group operation as a driver error.
pub fn group_failure(e: &WaGroupError) -> DriverError {
    match e {
        WaGroupError::Iq(iq) => iq_failure(iq),
        WaGroupError::InvalidRequest(m) => DriverError::Invalid(m.clone()),
        WaGroupError::DescriptionConflict => {
            DriverError::Invalid("the group's description changed meanwhile; try again".into())
        }
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

/// A user's profile (the `UserInfo` answer) from what usync gave.
pub fn user_info(
    phone: &str,
    status: Option<&str>,
    picture_id: Option<&str>,
    verified_name: Option<&str>,
    devices: &[u16],
) -> Value {
    let devices: Vec<Value> = if devices.is_empty() { &[0u16][..] } else { devices }
        .iter()
        .map(|d| json!({ "User": phone, "Agent": 0, "Device": d, "Server": "s.whatsapp.net", "AD": *d != 0 }))
        .collect();
    json!({
        "jid": Jid::user(phone).to_string(),
        "verified_name": non_empty(verified_name),
        "status": status.unwrap_or_default(),
        "picture_id": non_empty(picture_id),
        "devices": devices,
    })
}

/// The privacy settings (the `Privacy` answer); a category WhatsApp leaves out is `all`.
pub fn privacy(settings: &PrivacySettingsResponse) -> Value {
    let value = |c: PrivacyCategory| {
        settings
            .get(&c)
            .map(|s| s.value.as_str().to_string())
            .unwrap_or_else(|| "all".to_owned())
    };
    json!({
        "group_add": value(PrivacyCategory::GroupAdd),
        "last_seen": value(PrivacyCategory::Last),
        "status": value(PrivacyCategory::Status),
        "profile": value(PrivacyCategory::Profile),
        "read_receipts": value(PrivacyCategory::ReadReceipts),
        "online": value(PrivacyCategory::Online),
        "call_add": value(PrivacyCategory::CallAdd),
    })
}

/// A followed newsletter.
pub fn newsletter(n: &NewsletterMetadata) -> Value {
    json!({
        "id": from_wa(&n.jid).to_string(),
        "name": n.name,
        "description": non_empty(n.description.as_deref()),
        "subscriber_count": n.subscriber_count,
        "verified": n.verification == NewsletterVerification::Verified,
        "state": match n.state {
            NewsletterState::Active => "active",
            NewsletterState::Suspended => "suspended",
            NewsletterState::Geosuspended => "geosuspended",
            _ => "unknown",
        },
        "role": n.role.as_ref().map(|r| match r {
            NewsletterRole::Owner => "owner",
            NewsletterRole::Admin => "admin",
            NewsletterRole::Subscriber => "subscriber",
            NewsletterRole::Guest => "guest",
            _ => "unknown",
        }),
        "picture_url": n.picture_url,
        "invite_code": n.invite_code,
        "created_at": timestamp(n.creation_time),
    })
}

#[cfg(test)]
mod group_tests {
    use super::*;
    use whatsapp_rust::{
        features::{GroupEphemeralSettings, GroupParticipant, ParticipantType},
        wacore::{
            iq::privacy::{PrivacySetting, PrivacyValue},
            protocol::ProtocolNode,
        },
        NodeBuilder,
    };

    fn member(phone: &str, lid: Option<&str>, kind: ParticipantType) -> GroupParticipant {
        GroupParticipant {
            jid: match lid {
                Some(l) => format!("{l}@lid").parse().unwrap(),
                None => WaJid::pn(phone),
            },
            phone_number: lid.map(|_| WaJid::pn(phone)),
            lid: lid.map(|l| format!("{l}@lid").parse().unwrap()),
            username: None,
            participant_type: kind,
            details: None,
        }
    }

    fn metadata() -> GroupMetadata {
        GroupMetadata {
            id: "120363025246125486@g.us".parse().unwrap(),
            subject: "Team".into(),
            description: Some("  ".into()),
            creator: Some("111@lid".parse().unwrap()),
            creator_pn: Some(WaJid::pn("15550000001")),
            creation_time: Some(1_700_000_000),
            is_announcement: true,
            is_locked: false,
            ephemeral: Some(GroupEphemeralSettings {
                expiration: Some(86_400),
                trigger: None,
            }),
            size: Some(7),
            participants: vec![
                member("15550000003", None, ParticipantType::Member),
                member("15550000002", Some("222"), ParticipantType::Admin),
                member("15550000001", Some("111"), ParticipantType::SuperAdmin),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn group_metadata_maps_to_the_api_group() {
        let info = group_info(&metadata(), &["111".to_owned()]);
        assert_eq!(info.group_id, "120363025246125486@g.us");
        assert_eq!(info.name, "Team");
        assert_eq!(info.topic, None, "a blank description is no topic");
        assert_eq!(
            info.owner_jid.as_deref(),
            Some("15550000001@s.whatsapp.net")
        );
        assert!(info.is_announce);
        assert!(!info.is_locked);
        assert!(info.is_ephemeral);
        assert_eq!(info.disappearing_secs, 86_400);
        assert_eq!(info.picture_id, None);
        assert!(info.is_member, "matched by our LID");
        assert_eq!(info.participant_count, 3);
        assert_eq!(info.created_at.timestamp(), 1_700_000_000);
        // Ordered creator, admins, members; LID members shown by phone number.
        let list: Vec<(&str, &str, &str)> = info
            .participants
            .iter()
            .map(|p| (p.jid.as_str(), p.role.as_str(), p.status.as_str()))
            .collect();
        assert_eq!(
            list,
            vec![
                ("15550000001@s.whatsapp.net", "superadmin", "active"),
                ("15550000002@s.whatsapp.net", "admin", "active"),
                ("15550000003@s.whatsapp.net", "member", "active"),
            ]
        );
        assert!(info
            .participants
            .iter()
            .all(|p| p.added_at == info.created_at));
        assert!(!group_info(&metadata(), &["999".to_owned()]).is_member);
        assert!(group_info(&metadata(), &[]).is_member);
    }

    #[test]
    fn a_group_without_a_timer_or_creation_time_maps_to_defaults() {
        let meta = GroupMetadata {
            id: "120363000000000001@g.us".parse().unwrap(),
            subject: "Plain".into(),
            description: Some("About us".into()),
            ..Default::default()
        };
        let info = group_info(&meta, &[]);
        assert_eq!(info.topic.as_deref(), Some("About us"));
        assert!(!info.is_ephemeral);
        assert_eq!(info.disappearing_secs, 0);
        assert_eq!(info.owner_jid, None);
        assert_eq!(info.created_at, DateTime::UNIX_EPOCH);
        assert_eq!(info.participant_count, 0);
    }

    #[test]
    fn an_invite_preview_has_the_preview_fields() {
        let preview = group_preview(&metadata());
        assert_eq!(preview["group_id"], "120363025246125486@g.us");
        assert_eq!(preview["name"], "Team");
        assert_eq!(preview["topic"], Value::Null);
        assert_eq!(preview["is_announce"], true);
        assert_eq!(preview["is_locked"], false);
        assert_eq!(preview["is_ephemeral"], true);
        assert_eq!(preview["participant_count"], 7, "the size WhatsApp reports");
        assert_eq!(
            preview["created_at"],
            json!(DateTime::from_timestamp(1_700_000_000, 0).unwrap())
        );
        let bare = group_preview(&GroupMetadata {
            id: "120363000000000001@g.us".parse().unwrap(),
            ..Default::default()
        });
        assert!(bare.get("created_at").is_none());
        assert_eq!(bare["participant_count"], 0);
    }

    fn answer(jid: &str, error: Option<&str>, phone: Option<&str>) -> ParticipantChangeResponse {
        let mut node = NodeBuilder::new("participant").attr("jid", jid.parse::<WaJid>().unwrap());
        if let Some(e) = error {
            node = node.attr("error", e);
        }
        if let Some(p) = phone {
            node = node.attr("phone_number", WaJid::pn(p));
        }
        ParticipantChangeResponse::try_from_node(&node.build()).unwrap()
    }

    #[test]
    fn participant_changes_give_one_result_per_participant_asked() {
        let asked = [
            Jid::user("15550000002"),
            Jid::user("15550000003"),
            Jid::user("15550000004"),
            Jid::user("15550000005"),
        ];
        let answers = [
            answer("222@lid", None, Some("15550000002")),
            answer("15550000003@s.whatsapp.net", Some("403"), None),
            answer("15550000004@s.whatsapp.net", Some("409"), None),
        ];
        let results = participant_results(Change::Add, &asked, &answers);
        let got: Vec<(&str, &str, &str)> = results
            .iter()
            .map(|r| (r.participant.as_str(), r.status, r.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("15550000002@s.whatsapp.net", "success", "participant added"),
                (
                    "15550000003@s.whatsapp.net",
                    "error",
                    "the user's privacy settings do not allow adding them; send them an invite link"
                ),
                ("15550000004@s.whatsapp.net", "error", "already a participant"),
                (
                    "15550000005@s.whatsapp.net",
                    "error",
                    "WhatsApp gave no answer for this participant"
                ),
            ]
        );
        let removed = participant_results(
            Change::Remove,
            &asked[..1],
            &[answer("15550000002@s.whatsapp.net", Some("404"), None)],
        );
        assert_eq!(removed[0].message, "not a participant");
        let approved = participant_results(
            Change::Approve,
            &asked[..1],
            &[answer("15550000002@s.whatsapp.net", None, None)],
        );
        assert_eq!(
            (approved[0].status, approved[0].message.as_str()),
            ("success", "request approved")
        );
        assert_eq!(
            participant_error(Change::Promote, "499"),
            "WhatsApp refused (code 499)"
        );
    }

    #[test]
    fn a_created_group_reports_who_was_added() {
        let asked = [Jid::user("15550000002"), Jid::user("15550000009")];
        let results = created_results(&asked, &metadata());
        assert_eq!(results[0].status, "success");
        assert_eq!(results[0].message, "participant added");
        assert_eq!(results[1].participant, "15550000009@s.whatsapp.net");
        assert_eq!(results[1].status, "error");
    }

    #[test]
    fn join_requests_are_requested_members() {
        let r = MembershipRequest {
            jid: WaJid::pn("15550000007"),
            request_time: Some(1_700_000_100),
        };
        let p = join_request(&r);
        assert_eq!(p.jid, "15550000007@s.whatsapp.net");
        assert_eq!(
            (p.role.as_str(), p.status.as_str()),
            ("member", "requested")
        );
        assert_eq!(p.added_at.timestamp(), 1_700_000_100);
    }

    #[test]
    fn library_failures_map_to_driver_errors() {
        assert_eq!(
            group_failure(&WaGroupError::Iq(IqError::NotConnected)),
            DriverError::NotConnected
        );
        let refused = |code| {
            group_failure(&WaGroupError::Iq(IqError::ServerError {
                code,
                text: "x".into(),
                error_type: None,
                backoff: None,
            }))
        };
        assert!(matches!(refused(403), DriverError::Invalid(m) if m.contains("not allowed")));
        assert!(matches!(refused(404), DriverError::Invalid(m) if m.contains("not found")));
        assert!(matches!(refused(500), DriverError::Unavailable(_)));
        assert!(matches!(refused(429), DriverError::Unavailable(_)));
        assert!(matches!(
            group_failure(&WaGroupError::InvalidRequest("invalid or empty invite code".into())),
            DriverError::Invalid(m) if m == "invalid or empty invite code"
        ));
        assert!(matches!(
            group_failure(&WaGroupError::Iq(IqError::Timeout)),
            DriverError::Unavailable(_)
        ));
        assert!(matches!(
            group_failure(&WaGroupError::DescriptionConflict),
            DriverError::Invalid(_)
        ));
    }

    #[test]
    fn user_info_has_the_sandbox_shape() {
        let v = user_info(
            "15550000002",
            Some("Busy"),
            Some("123"),
            Some("Acme"),
            &[0, 3],
        );
        assert_eq!(v["jid"], "15550000002@s.whatsapp.net");
        assert_eq!(v["verified_name"], "Acme");
        assert_eq!(v["status"], "Busy");
        assert_eq!(v["picture_id"], "123");
        assert_eq!(v["devices"].as_array().unwrap().len(), 2);
        assert_eq!(v["devices"][1]["Device"], 3);
        assert_eq!(v["devices"][1]["AD"], true);
        let bare = user_info("15550000002", None, None, None, &[]);
        assert_eq!(bare["status"], "");
        assert_eq!(bare["verified_name"], Value::Null);
        assert_eq!(bare["picture_id"], Value::Null);
        assert_eq!(bare["devices"][0]["Device"], 0);
    }

    #[test]
    fn privacy_settings_fill_every_field() {
        let settings = PrivacySettingsResponse {
            settings: vec![
                PrivacySetting {
                    category: PrivacyCategory::Last,
                    value: PrivacyValue::Contacts,
                },
                PrivacySetting {
                    category: PrivacyCategory::Online,
                    value: PrivacyValue::MatchLastSeen,
                },
                PrivacySetting {
                    category: PrivacyCategory::CallAdd,
                    value: PrivacyValue::Known,
                },
            ],
        };
        let v = privacy(&settings);
        assert_eq!(v["last_seen"], "contacts");
        assert_eq!(v["online"], "match_last_seen");
        assert_eq!(v["call_add"], "known");
        for field in ["group_add", "status", "profile", "read_receipts"] {
            assert_eq!(v[field], "all", "{field}");
        }
        assert_eq!(v.as_object().unwrap().len(), 7);
    }

    #[test]
    fn newsletters_map_to_objects() {
        let n = NewsletterMetadata {
            jid: "120363000000000002@newsletter".parse().unwrap(),
            name: "News".into(),
            description: Some("Daily".into()),
            subscriber_count: 42,
            verification: NewsletterVerification::Verified,
            state: NewsletterState::Active,
            picture_url: None,
            preview_url: None,
            invite_code: Some("abc".into()),
            role: Some(NewsletterRole::Subscriber),
            creation_time: Some(1_700_000_000),
        };
        let v = newsletter(&n);
        assert_eq!(v["id"], "120363000000000002@newsletter");
        assert_eq!(v["name"], "News");
        assert_eq!(v["subscriber_count"], 42);
        assert_eq!(v["verified"], true);
        assert_eq!(v["state"], "active");
        assert_eq!(v["role"], "subscriber");
        assert_eq!(v["invite_code"], "abc");
        assert!(v["created_at"].is_string());
    }
}

//! Groups, users and the own profile on a live session, through whatsapp-rust. The
//! answers are the same types as the sandbox's (see [`crate::groups`]); the mappings are
//! in [`super::mapping`].

use super::{mapping, session::LiveSession};
use crate::{
    driver::DriverError,
    groups::{Change, GroupInfo, Participant, ParticipantResult},
    jid::Jid,
};
use serde_json::Value;
use whatsapp_rust::{
    features::{
        ContactError, GroupCreateOptions, GroupDescription, GroupParticipantOptions, GroupSubject,
        NewsletterError, PreviousDescription, ProfileError,
    },
    Client, Jid as WaJid,
};

/// What to change in a live group's settings (validated by the caller).
#[derive(Debug, Clone, Default)]
pub struct LiveSettings {
    pub subject: Option<String>,
    /// `Some(None)` removes the description.
    pub topic: Option<Option<String>>,
    pub announce: Option<bool>,
    pub locked: Option<bool>,
}

fn wa(jid: &Jid) -> Result<WaJid, DriverError> {
    mapping::to_wa(jid).ok_or_else(|| DriverError::Invalid(format!("{jid} is not a valid address")))
}

fn group(jid: &str) -> Result<WaJid, DriverError> {
    jid.parse()
        .map_err(|_| DriverError::Invalid(format!("{jid} is not a valid group id")))
}

fn contact_failure(e: ContactError) -> DriverError {
    match e {
        ContactError::Iq(iq) => mapping::iq_failure(&iq),
        ContactError::InvalidJid(m) => DriverError::Invalid(m),
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

fn client_failure(e: &whatsapp_rust::ClientError) -> DriverError {
    match e {
        whatsapp_rust::ClientError::NotConnected | whatsapp_rust::ClientError::NotLoggedIn => {
            DriverError::NotConnected
        }
        whatsapp_rust::ClientError::Iq(iq) => mapping::iq_failure(iq),
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

fn profile_failure(e: ProfileError) -> DriverError {
    match e {
        ProfileError::Iq(iq) => mapping::iq_failure(&iq),
        ProfileError::Client(c) => client_failure(&c),
        ProfileError::InvalidArgument(m) => DriverError::Invalid(m),
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

fn newsletter_failure(e: NewsletterError) -> DriverError {
    match e {
        NewsletterError::Iq(iq) => mapping::iq_failure(&iq),
        NewsletterError::Client(c) => client_failure(&c),
        NewsletterError::InvalidRequest(m) => DriverError::Invalid(m),
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

/// The user parts of the session's own phone number and LID.
fn own_users(client: &Client) -> Vec<String> {
    [client.pn(), client.lid()]
        .into_iter()
        .flatten()
        .map(|j| j.user.to_string())
        .collect()
}

impl LiveSession {
    /// A group's details and members.
    pub async fn group_info(&self, jid: &str) -> Result<GroupInfo, DriverError> {
        let client = self.connected_client()?;
        let meta = client
            .groups()
            .get_metadata(&group(jid)?)
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        Ok(mapping::group_info(&meta, &own_users(&client)))
    }

    /// The groups the session belongs to, oldest first.
    pub async fn my_groups(&self) -> Result<Vec<GroupInfo>, DriverError> {
        let client = self.connected_client()?;
        let all = client
            .groups()
            .get_participating()
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        let mut list: Vec<GroupInfo> = all
            .values()
            .map(|meta| mapping::group_info(meta, &[]))
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.group_id).cmp(&(b.created_at, &b.group_id)));
        Ok(list)
    }

    /// Creates a group (the subject and members are validated by the caller).
    pub async fn create_group(
        &self,
        subject: &str,
        members: &[Jid],
    ) -> Result<(GroupInfo, Vec<ParticipantResult>), DriverError> {
        let client = self.connected_client()?;
        let participants = members
            .iter()
            .map(|m| wa(m).map(GroupParticipantOptions::new))
            .collect::<Result<Vec<_>, _>>()?;
        let options = GroupCreateOptions::builder()
            .subject(subject)
            .participants(participants)
            .finish();
        let created = client
            .groups()
            .create_group(options)
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        let info = mapping::group_info(&created.metadata, &own_users(&client));
        Ok((info, mapping::created_results(members, &created.metadata)))
    }

    /// Adds, removes, promotes or demotes members, or answers join requests.
    pub async fn change_participants(
        &self,
        jid: &str,
        change: Change,
        who: &[Jid],
    ) -> Result<Vec<ParticipantResult>, DriverError> {
        let client = self.connected_client()?;
        let g = group(jid)?;
        let targets = who.iter().map(wa).collect::<Result<Vec<_>, _>>()?;
        let groups = client.groups();
        let answers = match change {
            Change::Add => groups.add_participants(g, &targets).await,
            Change::Remove => groups.remove_participants(g, &targets).await,
            Change::Promote => groups.promote_participants(g, &targets).await,
            Change::Demote => groups.demote_participants(g, &targets).await,
            Change::Approve => groups.approve_membership_requests(g, &targets).await,
            Change::Reject => groups.reject_membership_requests(g, &targets).await,
        }
        .map_err(|e| mapping::group_failure(&e))?;
        Ok(mapping::participant_results(change, who, &answers))
    }

    /// Pending requests to join a group.
    pub async fn participant_requests(&self, jid: &str) -> Result<Vec<Participant>, DriverError> {
        let client = self.connected_client()?;
        let requests = client
            .groups()
            .get_membership_requests(group(jid)?)
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        Ok(requests.iter().map(mapping::join_request).collect())
    }

    pub async fn leave_group(&self, jid: &str) -> Result<(), DriverError> {
        let client = self.connected_client()?;
        client
            .groups()
            .leave(group(jid)?)
            .await
            .map_err(|e| mapping::group_failure(&e))
    }

    /// Changes a group's name, description, announce or locked setting, then answers the
    /// group as it is now.
    pub async fn update_group(
        &self,
        jid: &str,
        settings: &LiveSettings,
    ) -> Result<GroupInfo, DriverError> {
        let client = self.connected_client()?;
        let g = group(jid)?;
        let groups = client.groups();
        if let Some(subject) = &settings.subject {
            let subject = GroupSubject::new(subject.as_str())
                .map_err(|e| DriverError::Invalid(e.to_string()))?;
            groups
                .set_subject(g.clone(), subject)
                .await
                .map_err(|e| mapping::group_failure(&e))?;
        }
        if let Some(topic) = &settings.topic {
            let topic = topic
                .as_deref()
                .map(GroupDescription::new)
                .transpose()
                .map_err(|e| DriverError::Invalid(e.to_string()))?;
            groups
                .set_description(g.clone(), topic, PreviousDescription::Resolve)
                .await
                .map_err(|e| mapping::group_failure(&e))?;
        }
        if let Some(announce) = settings.announce {
            groups
                .set_announce(g.clone(), announce)
                .await
                .map_err(|e| mapping::group_failure(&e))?;
        }
        if let Some(locked) = settings.locked {
            groups
                .set_locked(g.clone(), locked)
                .await
                .map_err(|e| mapping::group_failure(&e))?;
        }
        self.group_info(jid).await
    }

    /// Sets a group's photo; the answer carries WhatsApp's id of the new photo.
    pub async fn set_group_photo(
        &self,
        jid: &str,
        image: Vec<u8>,
    ) -> Result<GroupInfo, DriverError> {
        let client = self.connected_client()?;
        let set = client
            .groups()
            .set_profile_picture(group(jid)?, image)
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        let mut info = self.group_info(jid).await?;
        info.picture_id = Some(set.id);
        Ok(info)
    }

    /// The invite link (`reset` revokes the current one and makes a new one).
    pub async fn invite_link(&self, jid: &str, reset: bool) -> Result<String, DriverError> {
        let client = self.connected_client()?;
        let link = client
            .groups()
            .get_invite_link(group(jid)?, reset)
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        Ok(if link.starts_with("https://") {
            link
        } else {
            format!("{}{link}", crate::groups::INVITE_PREFIX)
        })
    }

    /// Joins with an invite code; answers the group's id (also when the group asks an
    /// admin's approval first).
    pub async fn join_with_code(&self, code: &str) -> Result<String, DriverError> {
        let client = self.connected_client()?;
        let joined = client
            .groups()
            .join_with_invite_code(code)
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        Ok(mapping::from_wa(joined.group_jid()).to_string())
    }

    /// What an invite code shows before joining (the `GroupPreview` answer).
    pub async fn group_preview(&self, code: &str) -> Result<Value, DriverError> {
        let client = self.connected_client()?;
        let meta = client
            .groups()
            .get_invite_info(code)
            .await
            .map_err(|e| mapping::group_failure(&e))?;
        Ok(mapping::group_preview(&meta))
    }

    /// A user's profile (the `UserInfo` answer); `phone` is E.164 digits.
    pub async fn user_info(&self, phone: &str) -> Result<Value, DriverError> {
        let client = self.connected_client()?;
        let jid = WaJid::pn(phone);
        let found = client
            .contacts()
            .get_user_info(std::slice::from_ref(&jid))
            .await
            .map_err(contact_failure)?;
        let info = found
            .iter()
            .find(|(k, _)| k.user.as_str() == phone)
            .map(|(_, v)| v)
            .or_else(|| found.values().next());
        Ok(match info {
            Some(i) => mapping::user_info(
                phone,
                i.status.as_deref(),
                i.picture_id.as_deref(),
                i.verified_name.as_ref().and_then(|v| v.name.as_deref()),
                &i.devices,
            ),
            None => mapping::user_info(phone, None, None, None, &[]),
        })
    }

    /// A user's profile photo (`None`: no photo, or not shown to this account).
    pub async fn avatar(&self, phone: &str) -> Result<Option<Value>, DriverError> {
        let client = self.connected_client()?;
        let picture = client
            .contacts()
            .get_profile_picture(&WaJid::pn(phone), false)
            .await
            .map_err(contact_failure)?;
        Ok(picture.map(|p| serde_json::json!({ "id": p.id, "type": "image", "url": p.url })))
    }

    /// Sets the own profile photo; answers WhatsApp's id of it.
    pub async fn set_avatar(&self, image: Vec<u8>) -> Result<String, DriverError> {
        let client = self.connected_client()?;
        let set = client
            .profile()
            .set_profile_picture(image)
            .await
            .map_err(profile_failure)?;
        Ok(set.id)
    }

    pub async fn set_push_name(&self, name: &str) -> Result<(), DriverError> {
        let client = self.connected_client()?;
        client
            .profile()
            .set_push_name(name)
            .await
            .map_err(profile_failure)
    }

    /// The privacy settings (the `Privacy` answer).
    pub async fn privacy(&self) -> Result<Value, DriverError> {
        let client = self.connected_client()?;
        let settings = client
            .fetch_privacy_settings()
            .await
            .map_err(|e| mapping::iq_failure(&e))?;
        Ok(mapping::privacy(&settings))
    }

    /// The newsletters the account follows.
    /// Stops following a newsletter.
    pub async fn unfollow_newsletter(&self, jid: &Jid) -> Result<(), DriverError> {
        let client = self.connected_client()?;
        client
            .newsletter()
            .leave(&wa(jid)?)
            .await
            .map_err(newsletter_failure)
    }

    /// A newsletter's latest `count` posts (older than server id `before` when given).
    pub async fn newsletter_messages(
        &self,
        jid: &Jid,
        count: u32,
        before: Option<u64>,
    ) -> Result<Vec<Value>, DriverError> {
        let client = self.connected_client()?;
        let posts = client
            .newsletter()
            .get_messages(wa(jid)?, count, before)
            .await
            .map_err(newsletter_failure)?;
        Ok(posts.iter().map(mapping::newsletter_post).collect())
    }

    pub async fn newsletters(&self) -> Result<Vec<Value>, DriverError> {
        let client = self.connected_client()?;
        let list = client
            .newsletter()
            .list_subscribed()
            .await
            .map_err(newsletter_failure)?;
        Ok(list.iter().map(mapping::newsletter).collect())
    }

    /// A business account's profile (`None`: not a business account).
    pub async fn business_profile(&self, phone: &str) -> Result<Option<Value>, DriverError> {
        let client = self.connected_client()?;
        let profile = client
            .get_business_profile(&WaJid::pn(phone))
            .await
            .map_err(|e| mapping::iq_failure(&e))?;
        Ok(profile.map(|p| {
            let mut v = serde_json::to_value(&p).unwrap_or_else(|_| serde_json::json!({}));
            v["jid"] = serde_json::json!(Jid::user(phone).to_string());
            v
        }))
    }
}

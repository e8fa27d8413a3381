//! One chat per contact, whichever address WhatsApp used.
//!
//! WhatsApp addresses an account by its phone number (`62812…@s.whatsapp.net`) or by its
//! LID (`1234…@lid`), a number-independent id: a contact migrated to LIDs writes to us from
//! its LID while we write to its phone number. Taken as they arrive, its messages would
//! land in two chats and webhooks would carry bare LIDs. Every event a driver reports is
//! therefore normalised here, before it is stored or delivered: a LID the session can map
//! becomes the phone-number JID, and the LID is kept beside it (`sender_alt`, `chat_alt`
//! of a message; `from_lid` and `chat_lid` in webhooks). A LID the session cannot map stays
//! as it is. The mapping comes from the stanza itself where WhatsApp sent both addresses,
//! else from the driver ([`Driver::phone_of`], [`Driver::lid_of`]).

use crate::{
    driver::{Driver, Event},
    jid::Jid,
};

/// `jid` as the phone-number JID when known, and its LID when known. `alt` is the other
/// address the stanza gave for the same account, if any.
pub async fn resolve(driver: &dyn Driver, jid: Jid, alt: Option<Jid>) -> (Jid, Option<Jid>) {
    if jid.is_lid() {
        let phone = match alt.filter(Jid::is_phone) {
            Some(phone) => Some(phone),
            None => driver.phone_of(&jid).await,
        };
        match phone {
            Some(phone) => (phone, Some(jid)),
            None => (jid, None),
        }
    } else if jid.is_phone() {
        let lid = match alt.filter(Jid::is_lid) {
            Some(lid) => Some(lid),
            None => driver.lid_of(&jid).await,
        };
        (jid, lid)
    } else {
        (jid, None)
    }
}

/// `jid` as the phone-number JID when it is a LID the session can map.
async fn phone(driver: &dyn Driver, jid: Jid) -> Jid {
    if jid.is_lid() {
        driver.phone_of(&jid).await.unwrap_or(jid)
    } else {
        jid
    }
}

async fn phone_opt(driver: &dyn Driver, jid: Option<Jid>) -> Option<Jid> {
    match jid {
        Some(jid) => Some(phone(driver, jid).await),
        None => None,
    }
}

/// The event with its contacts addressed by phone number where the session knows it.
pub async fn normalise(driver: &dyn Driver, event: Event) -> Event {
    match event {
        Event::Message(mut m) => {
            let in_own_chat = m.chat == m.sender;
            let (sender, sender_lid) = resolve(driver, m.sender, m.sender_alt.take()).await;
            // A one-to-one chat is the contact: the same account as its sender.
            let (chat, chat_lid) = if in_own_chat {
                (sender.clone(), sender_lid.clone())
            } else {
                resolve(driver, m.chat, m.chat_alt.take()).await
            };
            m.sender = sender;
            m.sender_alt = sender_lid;
            m.chat = chat;
            m.chat_alt = chat_lid;
            Event::Message(m)
        }
        Event::Reaction {
            chat,
            sender,
            message_id,
            emoji,
        } => Event::Reaction {
            chat: phone(driver, chat).await,
            sender: phone(driver, sender).await,
            message_id,
            emoji,
        },
        Event::Receipt {
            message_id,
            chat,
            status,
            participant,
            at,
        } => Event::Receipt {
            message_id,
            chat: phone(driver, chat).await,
            status,
            participant: phone_opt(driver, participant).await,
            at,
        },
        Event::Edited {
            chat,
            sender,
            message_id,
            from_me,
            text,
            at,
        } => Event::Edited {
            chat: phone(driver, chat).await,
            sender: phone(driver, sender).await,
            message_id,
            from_me,
            text,
            at,
        },
        Event::Revoked {
            chat,
            sender,
            message_id,
            from_me,
            at,
        } => Event::Revoked {
            chat: phone(driver, chat).await,
            sender: phone(driver, sender).await,
            message_id,
            from_me,
            at,
        },
        Event::Deleted {
            chat,
            message_id,
            at,
        } => Event::Deleted {
            chat: phone(driver, chat).await,
            message_id,
            at,
        },
        Event::ChatPresence {
            chat,
            sender,
            state,
        } => Event::ChatPresence {
            chat: phone(driver, chat).await,
            sender: phone(driver, sender).await,
            state,
        },
        Event::CallOffer {
            call_id,
            from,
            video,
            group,
            at,
        } => Event::CallOffer {
            call_id,
            from: phone(driver, from).await,
            video,
            group,
            at,
        },
        Event::GroupJoined {
            group,
            subject,
            by,
            at,
        } => Event::GroupJoined {
            group,
            subject,
            by: phone_opt(driver, by).await,
            at,
        },
        Event::GroupParticipants {
            group,
            change,
            participants,
            by,
            at,
        } => {
            let mut mapped = Vec::with_capacity(participants.len());
            for p in participants {
                mapped.push(phone(driver, p).await);
            }
            Event::GroupParticipants {
                group,
                change,
                participants: mapped,
                by: phone_opt(driver, by).await,
                at,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{
        Action, Credentials, DriverError, Incoming, Kind, Outgoing, QrCode, Receipt, Sent,
    };
    use chrono::Utc;

    /// A driver that knows one contact's two addresses.
    struct Knows;

    fn contact() -> (Jid, Jid) {
        (
            Jid::user("6289876543210"),
            Jid {
                user: "201234567890123".into(),
                server: "lid".into(),
            },
        )
    }

    #[async_trait::async_trait]
    impl Driver for Knows {
        fn name(&self) -> &'static str {
            "test"
        }
        async fn restore(&self, _: &Credentials) -> Result<(), DriverError> {
            Ok(())
        }
        async fn login_qr(&self) -> Result<QrCode, DriverError> {
            Err(DriverError::NotConnected)
        }
        async fn login_code(&self, _: &str) -> Result<String, DriverError> {
            Err(DriverError::NotConnected)
        }
        async fn reconnect(&self) -> Result<(), DriverError> {
            Ok(())
        }
        async fn logout(&self) -> Result<(), DriverError> {
            Ok(())
        }
        async fn close(&self) {}
        async fn on_whatsapp(&self, _: &[String]) -> Result<Vec<bool>, DriverError> {
            Ok(vec![])
        }
        async fn send(&self, _: &Outgoing) -> Result<Sent, DriverError> {
            Err(DriverError::NotConnected)
        }
        async fn act(&self, _: &Action) -> Result<Option<Sent>, DriverError> {
            Ok(None)
        }
        async fn phone_of(&self, lid: &Jid) -> Option<Jid> {
            let (phone, known) = contact();
            (*lid == known).then_some(phone)
        }
        async fn lid_of(&self, phone: &Jid) -> Option<Jid> {
            let (known, lid) = contact();
            (*phone == known).then_some(lid)
        }
    }

    fn message(chat: Jid, sender: Jid, sender_alt: Option<Jid>, from_me: bool) -> Event {
        Event::Message(Incoming {
            id: "3A0000000000000000AA".into(),
            chat,
            sender,
            sender_alt,
            chat_alt: None,
            push_name: None,
            from_me,
            kind: Kind::Text,
            body: Some("hi".into()),
            content: serde_json::json!({}),
            reply_to: None,
            timestamp: Utc::now(),
        })
    }

    fn parties(event: &Event) -> (String, String, Option<String>, Option<String>) {
        match event {
            Event::Message(m) => (
                m.chat.to_string(),
                m.sender.to_string(),
                m.sender_alt.as_ref().map(Jid::to_string),
                m.chat_alt.as_ref().map(Jid::to_string),
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_contact_writing_from_its_lid_lands_in_its_phone_number_chat() {
        let (phone, lid) = contact();
        let pn = Some(phone.to_string());
        let l = Some(lid.to_string());
        // From its LID, with the phone number in the stanza, or known to the session only.
        for alt in [Some(phone.clone()), None] {
            let event = normalise(&Knows, message(lid.clone(), lid.clone(), alt, false)).await;
            assert_eq!(
                parties(&event),
                (phone.to_string(), phone.to_string(), l.clone(), l.clone())
            );
        }
        // From its phone number: the LID is added where known.
        let event = normalise(&Knows, message(phone.clone(), phone.clone(), None, false)).await;
        assert_eq!(
            parties(&event),
            (phone.to_string(), phone.to_string(), l.clone(), l.clone())
        );
        // Our own message to it from the phone, addressed to its LID.
        let me = Jid::user("6281234567890");
        let event = normalise(&Knows, message(lid.clone(), me.clone(), None, true)).await;
        assert_eq!(
            parties(&event),
            (phone.to_string(), me.to_string(), None, l)
        );
        // An unknown LID stays as it is.
        let stranger = Jid {
            user: "209999999999999".into(),
            server: "lid".into(),
        };
        let event = normalise(
            &Knows,
            message(stranger.clone(), stranger.clone(), None, false),
        )
        .await;
        let s = stranger.to_string();
        assert_eq!(parties(&event), (s.clone(), s, None, None));
        let _ = pn;
    }

    #[tokio::test]
    async fn receipts_reactions_and_group_changes_name_the_phone_number() {
        let (phone, lid) = contact();
        let receipt = Event::Receipt {
            message_id: "x".into(),
            chat: lid.clone(),
            status: Receipt::Read,
            participant: Some(lid.clone()),
            at: Utc::now(),
        };
        match normalise(&Knows, receipt).await {
            Event::Receipt {
                chat, participant, ..
            } => {
                assert_eq!(chat, phone);
                assert_eq!(participant, Some(phone.clone()));
            }
            other => panic!("{other:?}"),
        }
        let group = Jid {
            user: "120363000000000001".into(),
            server: "g.us".into(),
        };
        let reaction = Event::Reaction {
            chat: group.clone(),
            sender: lid.clone(),
            message_id: "x".into(),
            emoji: "👍".into(),
        };
        match normalise(&Knows, reaction).await {
            Event::Reaction { chat, sender, .. } => {
                assert_eq!((chat, sender), (group.clone(), phone.clone()));
            }
            other => panic!("{other:?}"),
        }
        let joined = Event::GroupParticipants {
            group: group.clone(),
            change: crate::driver::GroupChange::Join,
            participants: vec![lid.clone(), Jid::user("6281111111111")],
            by: Some(lid),
            at: Utc::now(),
        };
        match normalise(&Knows, joined).await {
            Event::GroupParticipants {
                participants, by, ..
            } => {
                assert_eq!(
                    participants,
                    vec![phone.clone(), Jid::user("6281111111111")]
                );
                assert_eq!(by, Some(phone));
            }
            other => panic!("{other:?}"),
        }
    }
}

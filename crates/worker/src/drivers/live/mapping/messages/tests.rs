use super::*;
use crate::driver::Outgoing;
use whatsapp_rust::wacore::types::{events::Receipt as WaReceipt, message::MessageSource};

fn jid(s: &str) -> WaJid {
    s.parse().expect("jid")
}

fn info(chat: &str, sender: &str, from_me: bool) -> MessageInfo {
    MessageInfo {
        source: MessageSource {
            chat: jid(chat),
            sender: jid(sender),
            is_from_me: from_me,
            is_group: chat.ends_with("@g.us"),
            ..Default::default()
        },
        id: "3A5F0C1D2E3F4A5B6C7D".into(),
        push_name: "Budi".into(),
        timestamp: DateTime::from_timestamp(1_700_000_000, 0).expect("ts"),
        ..Default::default()
    }
}

fn outgoing(kind: Kind, body: Option<&str>, content: Value) -> Outgoing {
    Outgoing {
        to: Jid::user("6281234567890"),
        kind,
        body: body.map(str::to_owned),
        content,
        reply_to: None,
        forwarded: false,
        expiration_secs: 0,
        media: None,
    }
}

#[test]
fn addresses_round_trip_and_lose_the_device_part() {
    let ours = Jid::user("6281234567890");
    let theirs = to_wa(&ours).expect("valid");
    assert_eq!(from_wa(&theirs), ours);
    let device = jid("6281234567890:12@s.whatsapp.net");
    assert_eq!(from_wa(&device), ours);
    let group = jid("120363012345678901@g.us");
    assert_eq!(from_wa(&group).to_string(), "120363012345678901@g.us");
    assert!(from_wa(&group).is_group());
    assert_eq!(from_wa(&jid("100000001@lid")).server, "lid");
}

#[test]
fn a_text_message_arrives_as_text_with_sender_and_push_name() {
    let message = wa::Message {
        conversation: Some("halo".into()),
        ..Default::default()
    };
    let Some(Event::Message(m)) = inbound(
        &message,
        &info(
            "6289999999999@s.whatsapp.net",
            "6289999999999@s.whatsapp.net",
            false,
        ),
    ) else {
        panic!("not a message");
    };
    assert_eq!(m.kind, Kind::Text);
    assert_eq!(m.body.as_deref(), Some("halo"));
    assert_eq!(m.sender.user, "6289999999999");
    assert_eq!(m.push_name.as_deref(), Some("Budi"));
    assert_eq!(m.id, "3A5F0C1D2E3F4A5B6C7D");
    assert!(!m.from_me);
    assert_eq!(m.timestamp.timestamp(), 1_700_000_000);
}

#[test]
fn wrapped_and_quoted_messages_are_unwrapped() {
    let inner = wa::Message {
        extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
            text: Some("see https://example.com".into()),
            matched_text: Some("https://example.com".into()),
            context_info: MessageField::some(wa::ContextInfo {
                stanza_id: Some("3EB0AAAAAAAAAAAAAAAAAA".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let wrapped = wa::Message {
        ephemeral_message: MessageField::some(wa::message::FutureProofMessage {
            message: MessageField::some(inner),
        }),
        ..Default::default()
    };
    let Some(Event::Message(m)) = inbound(
        &wrapped,
        &info(
            "6289999999999@s.whatsapp.net",
            "6289999999999@s.whatsapp.net",
            false,
        ),
    ) else {
        panic!("not a message");
    };
    assert_eq!(m.kind, Kind::Link);
    assert_eq!(m.content["link"], "https://example.com");
    assert_eq!(m.reply_to.as_deref(), Some("3EB0AAAAAAAAAAAAAAAAAA"));
}

#[test]
fn media_keeps_what_a_later_download_needs() {
    let message = wa::Message {
        document_message: MessageField::some(wa::message::DocumentMessage {
            mimetype: Some("application/pdf".into()),
            file_name: Some("invoice.pdf".into()),
            file_length: Some(2048),
            direct_path: Some("/v/t62.7119-24/abc".into()),
            media_key: Some(vec![1; 32]),
            file_sha256: Some(vec![2; 32]),
            file_enc_sha256: Some(vec![3; 32]),
            caption: Some("March".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (kind, body, content) = content_of(&message).expect("document");
    assert_eq!(kind, Kind::Document);
    assert_eq!(body.as_deref(), Some("March"));
    assert_eq!(content["mime_type"], "application/pdf");
    assert_eq!(content["file_name"], "invoice.pdf");
    let reference = media_ref(&content).expect("reference");
    assert_eq!(reference.kind, Kind::Document);
    assert_eq!(reference.direct_path, "/v/t62.7119-24/abc");
    assert_eq!(reference.media_key, vec![1; 32]);
    assert_eq!(reference.file_enc_sha256, vec![3; 32]);
    assert_eq!(reference.file_length, 2048);
    assert!(media_ref(&json!({ "sha256": "x" })).is_none());
}

#[test]
fn contacts_locations_and_polls_keep_their_fields() {
    let contact = wa::Message {
        contact_message: MessageField::some(wa::message::ContactMessage {
            display_name: Some("Ani".into()),
            vcard: Some(
                "BEGIN:VCARD\nVERSION:3.0\nFN:Ani\nTEL;type=CELL:+62 812-1111-2222\nEND:VCARD"
                    .into(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (kind, _, content) = content_of(&contact).expect("contact");
    assert_eq!(kind, Kind::Contact);
    assert_eq!(content["phone"], "+6281211112222");

    let location = wa::Message {
        location_message: MessageField::some(wa::message::LocationMessage {
            degrees_latitude: Some(-6.2),
            degrees_longitude: Some(106.8),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (kind, _, content) = content_of(&location).expect("location");
    assert_eq!(kind, Kind::Location);
    assert_eq!(content["latitude"], -6.2);

    let poll = wa::Message {
        poll_creation_message_v3: MessageField::some(wa::message::PollCreationMessage {
            name: Some("Lunch?".into()),
            options: vec![
                wa::message::poll_creation_message::Option {
                    option_name: Some("Yes".into()),
                    ..Default::default()
                },
                wa::message::poll_creation_message::Option {
                    option_name: Some("No".into()),
                    ..Default::default()
                },
            ],
            selectable_options_count: Some(1),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (kind, body, content) = content_of(&poll).expect("poll");
    assert_eq!(kind, Kind::Poll);
    assert_eq!(body.as_deref(), Some("Lunch?"));
    assert_eq!(content["options"], json!(["Yes", "No"]));
}

#[test]
fn reactions_become_reaction_events_and_protocol_messages_are_skipped() {
    let reaction = wa::Message {
        reaction_message: MessageField::some(wa::message::ReactionMessage {
            key: MessageField::some(wa::MessageKey {
                id: Some("3EB0BBBBBBBBBBBBBBBBBB".into()),
                ..Default::default()
            }),
            text: Some("👍".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    match inbound(
        &reaction,
        &info(
            "120363012345678901@g.us",
            "6289999999999@s.whatsapp.net",
            false,
        ),
    ) {
        Some(Event::Reaction {
            chat,
            message_id,
            emoji,
            ..
        }) => {
            assert!(chat.is_group());
            assert_eq!(message_id, "3EB0BBBBBBBBBBBBBBBBBB");
            assert_eq!(emoji, "👍");
        }
        other => panic!("expected a reaction, got {other:?}"),
    }
    let protocol = wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage::default()),
        ..Default::default()
    };
    assert!(inbound(
        &protocol,
        &info(
            "6289999999999@s.whatsapp.net",
            "6289999999999@s.whatsapp.net",
            false
        )
    )
    .is_none());
}

#[test]
fn edits_and_revokes_become_their_events() {
    use wa::message::protocol_message::Type;
    let key = wa::MessageKey {
        id: Some("3A0000000000000000EE".into()),
        ..Default::default()
    };
    let edit = wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            key: MessageField::some(key.clone()),
            r#type: Some(Type::MESSAGE_EDIT),
            edited_message: MessageField::some(wa::Message {
                conversation: Some("halo, fixed".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let from = "6289999999999@s.whatsapp.net";
    match inbound(&edit, &info(from, from, false)) {
        Some(Event::Edited {
            message_id,
            text,
            from_me,
            chat,
            ..
        }) => {
            assert_eq!(message_id, "3A0000000000000000EE");
            assert_eq!(text.as_deref(), Some("halo, fixed"));
            assert!(!from_me);
            assert_eq!(chat.to_string(), from);
        }
        other => panic!("expected an edit, got {other:?}"),
    }
    let revoke = wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            key: MessageField::some(key),
            r#type: Some(Type::REVOKE),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(matches!(
        inbound(&revoke, &info(from, from, true)),
        Some(Event::Revoked { message_id, from_me: true, .. }) if message_id == "3A0000000000000000EE"
    ));
}

#[test]
fn presence_calls_groups_deletes_and_newsletters_map() {
    use whatsapp_rust::wacore::stanza::groups::{GroupNotificationAction, GroupParticipantInfo};
    let at = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
    let source = MessageSource {
        chat: jid("6289999999999@s.whatsapp.net"),
        sender: jid("6289999999999@s.whatsapp.net"),
        ..Default::default()
    };
    let recording = ChatPresenceUpdate::builder()
        .source(source.clone())
        .state(ChatPresence::Composing)
        .media(ChatPresenceMedia::Audio)
        .build();
    assert!(matches!(
        chat_presence(&recording),
        Event::ChatPresence {
            state: PresenceState::Recording,
            ..
        }
    ));
    let paused = ChatPresenceUpdate::builder()
        .source(source)
        .state(ChatPresence::Paused)
        .media(ChatPresenceMedia::Text)
        .build();
    assert!(matches!(
        chat_presence(&paused),
        Event::ChatPresence {
            state: PresenceState::Paused,
            ..
        }
    ));

    let offer = |offline: bool| {
        IncomingCall::builder()
            .from(jid("123456789012345@lid"))
            .stanza_id("S1".to_owned())
            .timestamp(at)
            .offline(offline)
            .action(CallAction::Offer {
                call_id: "C0FFEE".into(),
                call_creator: jid("123456789012345@lid"),
                caller_pn: Some(jid("6289999999999@s.whatsapp.net")),
                caller_country_code: None,
                device_class: None,
                joinable: false,
                is_video: true,
                audio: Vec::new(),
                group_jid: None,
            })
            .build()
    };
    match call_offer(&offer(false)) {
        Some(Event::CallOffer {
            call_id,
            from,
            video,
            ..
        }) => {
            assert_eq!(call_id, "C0FFEE");
            assert_eq!(from.to_string(), "6289999999999@s.whatsapp.net");
            assert!(video);
        }
        other => panic!("expected an offer, got {other:?}"),
    }
    assert!(
        call_offer(&offer(true)).is_none(),
        "a replayed offer does not ring"
    );

    let member = |j: &str| GroupParticipantInfo {
        jid: jid(j),
        phone_number: None,
        display_name: None,
        r#type: None,
        lid: None,
        username: None,
        join_time: None,
        group_history_sent_state: None,
    };
    let update = GroupUpdate::builder()
        .group_jid(jid("120363012345678901@g.us"))
        .participant(jid("6281111111111@s.whatsapp.net"))
        .timestamp(at)
        .is_lid_addressing_mode(false)
        .action(GroupNotificationAction::Promote {
            participants: vec![member("6282222222222@s.whatsapp.net")],
        })
        .build();
    match group_update(&update) {
        Some(Event::GroupParticipants {
            group,
            change: GroupChange::Promote,
            participants,
            by,
            ..
        }) => {
            assert!(group.is_group());
            assert_eq!(participants[0].to_string(), "6282222222222@s.whatsapp.net");
            assert_eq!(by.unwrap().to_string(), "6281111111111@s.whatsapp.net");
        }
        other => panic!("expected a promotion, got {other:?}"),
    }
    let subject = GroupUpdate::builder()
        .group_jid(jid("120363012345678901@g.us"))
        .timestamp(at)
        .is_lid_addressing_mode(false)
        .action(GroupNotificationAction::Unlocked)
        .build();
    assert!(group_update(&subject).is_none());

    let deleted = DeleteMessageForMeUpdate::builder()
        .chat_jid(jid("6289999999999@s.whatsapp.net"))
        .message_id("3A00DE1E7E".to_owned())
        .from_me(false)
        .timestamp(at)
        .action(Box::default())
        .from_full_sync(false)
        .build();
    assert!(matches!(
        deleted_for_me(&deleted),
        Event::Deleted { message_id, .. } if message_id == "3A00DE1E7E"
    ));

    let joined = MexNotification::builder()
        .op_name("NotificationNewsletterJoin".to_owned())
        .payload(json!({"data": {"xwa2_notify_newsletter_on_join": {
            "id": "120363123456789012@newsletter",
            "thread_metadata": {"name": {"text": "Tech News"}}}}}))
        .build();
    match newsletter_change(&joined) {
        Some(Event::NewsletterJoined { newsletter, name }) => {
            assert_eq!(newsletter.to_string(), "120363123456789012@newsletter");
            assert_eq!(name.as_deref(), Some("Tech News"));
        }
        other => panic!("expected a join, got {other:?}"),
    }
    let other = MexNotification::builder()
        .op_name("NotificationUserReachoutTimelockUpdate".to_owned())
        .payload(json!({}))
        .build();
    assert!(newsletter_change(&other).is_none());
}

#[test]
fn receipts_map_to_delivery_progress_per_message() {
    let source = MessageSource {
        chat: jid("120363012345678901@g.us"),
        sender: jid("6289999999999@s.whatsapp.net"),
        is_group: true,
        ..Default::default()
    };
    let receipt = WaReceipt::builder()
        .source(source.clone())
        .message_ids(vec!["3EB0A".into(), "3EB0B".into()])
        .timestamp(Utc::now())
        .r#type(ReceiptType::Read)
        .offline(false)
        .build();
    let events = receipts(&receipt);
    assert_eq!(events.len(), 2);
    match &events[1] {
        Event::Receipt {
            message_id,
            status,
            participant,
            ..
        } => {
            assert_eq!(message_id, "3EB0B");
            assert_eq!(*status, Receipt::Read);
            assert_eq!(
                participant.as_ref().map(|p| p.user.as_str()),
                Some("6289999999999")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        receipt_status(&ReceiptType::Delivered),
        Some(Receipt::Delivered)
    );
    assert_eq!(receipt_status(&ReceiptType::Played), Some(Receipt::Played));
    assert_eq!(receipt_status(&ReceiptType::Retry), None);
    let own_device = WaReceipt::builder()
        .source(MessageSource {
            is_from_me: true,
            ..source
        })
        .message_ids(vec!["3EB0A".into()])
        .timestamp(Utc::now())
        .r#type(ReceiptType::Read)
        .offline(false)
        .build();
    assert!(receipts(&own_device).is_empty());
}

#[test]
fn outgoing_messages_build_the_protobuf_whatsapp_expects() {
    let text = super::outgoing(&outgoing(Kind::Text, Some("hi"), json!({}))).expect("text");
    assert_eq!(text.conversation.as_deref(), Some("hi"));

    let mut reply = outgoing(Kind::Text, Some("yes"), json!({}));
    reply.reply_to = Some("3EB0CCCC".into());
    reply.forwarded = true;
    reply.expiration_secs = 86_400;
    let proto = super::outgoing(&reply).expect("reply");
    let ext = proto.extended_text_message.as_option().expect("extended");
    let context = ext.context_info.as_option().expect("context");
    assert_eq!(context.stanza_id.as_deref(), Some("3EB0CCCC"));
    assert_eq!(context.is_forwarded, Some(true));
    assert_eq!(context.expiration, Some(86_400));

    let link = super::outgoing(&outgoing(
        Kind::Link,
        Some("look\nhttps://example.com"),
        json!({ "link": "https://example.com" }),
    ))
    .expect("link");
    assert_eq!(
        link.extended_text_message
            .as_option()
            .and_then(|e| e.matched_text.as_deref()),
        Some("https://example.com")
    );

    let location = super::outgoing(&outgoing(
        Kind::Location,
        None,
        json!({ "latitude": -6.2, "longitude": 106.8 }),
    ))
    .expect("location");
    let l = location.location_message.as_option().expect("location");
    assert_eq!(l.degrees_latitude, Some(-6.2));
    assert_eq!(l.degrees_longitude, Some(106.8));

    let contact = super::outgoing(&outgoing(
        Kind::Contact,
        None,
        json!({ "display_name": "Ani", "vcard": "BEGIN:VCARD\nEND:VCARD" }),
    ))
    .expect("contact");
    assert_eq!(
        contact
            .contact_message
            .as_option()
            .and_then(|c| c.display_name.as_deref()),
        Some("Ani")
    );
    // Media and polls are built elsewhere (upload, poll API).
    assert!(super::outgoing(&outgoing(Kind::Image, None, json!({}))).is_none());
    assert!(super::outgoing(&outgoing(Kind::Poll, None, json!({}))).is_none());
}

#[test]
fn a_server_nack_of_a_message_fails_it_and_plain_acks_do_not() {
    use whatsapp_rust::wacore::types::events::ServerAck;
    let nack = ServerAck::builder()
        .id("3EB0FAIL".to_owned())
        .class("message".to_owned())
        .error("479".to_owned())
        .build();
    match nack_of(&nack) {
        Some(Event::SendFailed { message_id, reason }) => {
            assert_eq!(message_id, "3EB0FAIL");
            assert_eq!(reason, "server_refused_479");
        }
        other => panic!("{other:?}"),
    }
    let ack = ServerAck::builder()
        .id("3EB0OK".to_owned())
        .class("message".to_owned())
        .build();
    assert!(nack_of(&ack).is_none());
    let receipt_nack = ServerAck::builder()
        .id("x".to_owned())
        .class("receipt".to_owned())
        .error("400".to_owned())
        .build();
    assert!(nack_of(&receipt_nack).is_none());
}

fn nack_of(ack: &whatsapp_rust::wacore::types::events::ServerAck) -> Option<Event> {
    super::nack(ack)
}

#[test]
fn newsletter_posts_show_their_ids_time_and_content() {
    use whatsapp_rust::features::{NewsletterMessage, NewsletterMessageType};
    let post = NewsletterMessage {
        message_id: "3EB0NEWS".into(),
        server_id: 117,
        timestamp: 1_700_000_000,
        message_type: NewsletterMessageType::Text,
        is_sender: false,
        message: Some(wa::Message {
            conversation: Some("launch day".into()),
            ..Default::default()
        }),
        reactions: Vec::new(),
    };
    let v = newsletter_post(&post);
    assert_eq!(v["id"], "3EB0NEWS");
    assert_eq!(v["server_id"], 117);
    assert_eq!(v["kind"], "text");
    assert_eq!(v["body"], "launch day");
    assert_eq!(v["from_me"], false);
    assert!(v["timestamp"].as_str().unwrap().starts_with("2023-11-14"));
}

#[test]
fn failure_reasons_are_stable_codes() {
    assert_eq!(
        failure_reason(&ConnectFailureReason::LoggedOut),
        "logged_out_from_phone"
    );
    assert_eq!(
        failure_reason(&ConnectFailureReason::TempBanned),
        "temporarily_banned"
    );
    assert_eq!(
        failure_reason(&ConnectFailureReason::Generic),
        "connect_failure"
    );
}

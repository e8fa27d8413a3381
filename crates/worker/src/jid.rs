//! WhatsApp addresses (JIDs) and phone numbers, validated.

use std::fmt;

/// The server part of a JID.
pub const USER_SERVER: &str = "s.whatsapp.net";
pub const GROUP_SERVER: &str = "g.us";
pub const LID_SERVER: &str = "lid";
pub const NEWSLETTER_SERVER: &str = "newsletter";

/// A WhatsApp address such as `6281234567890@s.whatsapp.net` or `120363…@g.us`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jid {
    pub user: String,
    pub server: String,
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.server)
    }
}

/// Why a phone number or JID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JidError {
    #[error("must be a phone number in international format (country code first, 8 to 15 digits)")]
    BadPhone,
    #[error("is not a valid WhatsApp address")]
    BadJid,
}

impl Jid {
    pub fn user(phone_digits: &str) -> Jid {
        Jid {
            user: phone_digits.to_owned(),
            server: USER_SERVER.to_owned(),
        }
    }

    pub fn is_group(&self) -> bool {
        self.server == GROUP_SERVER
    }

    /// A phone-number JID (`…@s.whatsapp.net`).
    pub fn is_phone(&self) -> bool {
        self.server == USER_SERVER
    }

    /// A LID (`…@lid`): WhatsApp's number-independent address of an account.
    pub fn is_lid(&self) -> bool {
        self.server == LID_SERVER
    }

    pub fn is_user(&self) -> bool {
        self.server == USER_SERVER || self.server == LID_SERVER
    }

    /// The chat kind stored in the chat store.
    pub fn kind(&self) -> &'static str {
        match self.server.as_str() {
            GROUP_SERVER => "group",
            NEWSLETTER_SERVER => "newsletter",
            "broadcast" => "broadcast",
            _ => "user",
        }
    }

    /// Parses what a customer may pass as a recipient: a phone number (`+62 812-3456-7890`,
    /// `6281234567890`) or a full JID (`…@s.whatsapp.net`, `…@g.us`, `…@lid`,
    /// `…@newsletter`). A device suffix (`:12`) is dropped.
    pub fn parse_recipient(input: &str) -> Result<Jid, JidError> {
        let input = input.trim();
        if input.contains('\0') {
            return Err(JidError::BadJid);
        }
        match input.split_once('@') {
            None => Ok(Jid::user(&normalize_phone(input)?)),
            Some((user, server)) => {
                let user = user.split(':').next().unwrap_or_default();
                match server {
                    USER_SERVER => Ok(Jid::user(&normalize_phone(user)?)),
                    GROUP_SERVER => {
                        let ok = !user.is_empty()
                            && user.len() <= 40
                            && user.chars().all(|c| c.is_ascii_digit() || c == '-');
                        ok.then(|| Jid {
                            user: user.to_owned(),
                            server: GROUP_SERVER.to_owned(),
                        })
                        .ok_or(JidError::BadJid)
                    }
                    LID_SERVER | NEWSLETTER_SERVER => {
                        let ok = !user.is_empty()
                            && user.len() <= 40
                            && user.chars().all(|c| c.is_ascii_digit());
                        ok.then(|| Jid {
                            user: user.to_owned(),
                            server: server.to_owned(),
                        })
                        .ok_or(JidError::BadJid)
                    }
                    _ => Err(JidError::BadJid),
                }
            }
        }
    }
}

/// Reduces a phone number to its E.164 digits (no `+`): 8 to 15 digits, the first not 0.
/// Spaces, dashes, dots and parentheses are allowed as separators.
pub fn normalize_phone(input: &str) -> Result<String, JidError> {
    let trimmed = input.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(JidError::BadPhone),
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(JidError::BadPhone);
    }
    Ok(digits)
}

/// Whether a number has WhatsApp on the sandbox network: all do except those whose last
/// four digits are `0000` (docs/SANDBOX.md). The simulated network and its groups both
/// apply it.
pub fn on_sandbox_whatsapp(phone: &str) -> bool {
    !phone.ends_with("0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_in_any_common_writing_become_one_jid() {
        for input in [
            "6281234567890",
            "+62 812-3456-7890",
            "+62 (812) 3456.7890",
            "6281234567890@s.whatsapp.net",
            "6281234567890:7@s.whatsapp.net",
        ] {
            assert_eq!(
                Jid::parse_recipient(input).unwrap().to_string(),
                "6281234567890@s.whatsapp.net",
                "{input}"
            );
        }
    }

    #[test]
    fn groups_lids_and_newsletters_keep_their_server() {
        let g = Jid::parse_recipient("120363025246125888@g.us").unwrap();
        assert!(g.is_group());
        assert_eq!(g.kind(), "group");
        assert_eq!(
            Jid::parse_recipient("1234567890123@lid").unwrap().kind(),
            "user"
        );
        assert_eq!(
            Jid::parse_recipient("120363144038483540@newsletter")
                .unwrap()
                .kind(),
            "newsletter"
        );
    }

    #[test]
    fn malformed_numbers_and_addresses_are_refused() {
        for input in [
            "",
            "12345",
            "0812345678",
            "1234567890123456",
            "62812abc7890",
            "62812\u{0}34567",
            "someone@example.com",
            "@g.us",
            "abc@g.us",
            "6281234567890@lid.evil",
        ] {
            assert!(Jid::parse_recipient(input).is_err(), "{input:?}");
        }
    }
}

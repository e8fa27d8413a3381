//! The scopes an API key carries: what a customer API call needs, and what a key grants.
//! On the wire (key listings, key creation, the key table's `permissions` column) a scope
//! is the string [`Scope::as_str`] gives; `*` grants every scope.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One scope of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// `*`: every scope.
    #[serde(rename = "*")]
    All,
    #[serde(rename = "messages:send")]
    MessagesSend,
    #[serde(rename = "messages:read")]
    MessagesRead,
    #[serde(rename = "chats:read")]
    ChatsRead,
    #[serde(rename = "groups:manage")]
    GroupsManage,
    #[serde(rename = "session:manage")]
    SessionManage,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    #[serde(rename = "keys:manage")]
    KeysManage,
    #[serde(rename = "usage:read")]
    UsageRead,
}

impl Scope {
    /// Every scope, `*` first, in the order the API lists them.
    pub const ALL: [Scope; 9] = [
        Scope::All,
        Scope::MessagesSend,
        Scope::MessagesRead,
        Scope::ChatsRead,
        Scope::GroupsManage,
        Scope::SessionManage,
        Scope::WebhooksManage,
        Scope::KeysManage,
        Scope::UsageRead,
    ];

    /// The scope's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::All => "*",
            Scope::MessagesSend => "messages:send",
            Scope::MessagesRead => "messages:read",
            Scope::ChatsRead => "chats:read",
            Scope::GroupsManage => "groups:manage",
            Scope::SessionManage => "session:manage",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::KeysManage => "keys:manage",
            Scope::UsageRead => "usage:read",
        }
    }

    /// The scope of that name, if there is one.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether a key carrying the scopes `held` (by name, as stored) may make a call that
    /// needs this scope: it holds `*` or this scope.
    pub fn granted_by<S: AsRef<str>>(self, held: &[S]) -> bool {
        held.iter()
            .any(|s| s.as_ref() == Scope::All.as_str() || s.as_ref() == self.as_str())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Scope, UnknownScope> {
        Scope::parse(s).ok_or(UnknownScope)
    }
}

/// A name that is no scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope")]
pub struct UnknownScope;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_is_its_string_on_the_wire() {
        for scope in Scope::ALL {
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!(serde_json::from_str::<Scope>("\"messages:delete\"").is_err());
        assert_eq!(Scope::parse("chats:write"), None);
    }

    #[test]
    fn a_star_grants_every_scope() {
        assert!(Scope::ChatsRead.granted_by(&["*"]));
        assert!(Scope::ChatsRead.granted_by(&["messages:send", "chats:read"]));
        assert!(!Scope::ChatsRead.granted_by(&["messages:read"]));
        assert!(!Scope::ChatsRead.granted_by::<&str>(&[]));
    }
}

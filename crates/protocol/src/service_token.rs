//! Service tokens: how management proves to a worker that a request comes from it and
//! names the customer it acts for.
//!
//! Management signs short-lived tokens with an Ed25519 key derived from `WASP_SECRET_KEY`
//! (every management replica derives the same key). A worker learns the public half when it
//! registers and accepts only tokens that verify, have not expired, and name its own server:
//! a token minted for one worker is useless on another, and a worker cannot mint tokens.
//!
//! Format: `wst1.<base64url(claims JSON)>.<base64url(signature over "wst1." + claims)>`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const PREFIX: &str = "wst1.";
/// How long a token minted for one request stays valid.
pub const DEFAULT_TTL_SECS: i64 = 60;
/// Clock difference tolerated between management and worker.
const LEEWAY_SECS: i64 = 30;

/// Which of a customer's two sessions a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `ak_live_` keys: the customer's real WhatsApp number.
    Live,
    /// `ak_test_` keys: the customer's sandbox session.
    Test,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "live" => Some(Mode::Live),
            "test" => Some(Mode::Test),
            _ => None,
        }
    }
}

/// What a token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The server (worker) the token is for.
    pub srv: Uuid,
    /// The customer the request acts for; `None` for management's own calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cus: Option<Uuid>,
    /// The session the request is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// The API key used, for the worker's logs and audit (an id, never the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<Uuid>,
    /// Expiry, Unix seconds.
    pub exp: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("not a service token")]
    Malformed,
    #[error("bad signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("issued for another server")]
    WrongServer,
}

/// Management's signing half.
pub struct TokenSigner {
    key: SigningKey,
}

impl TokenSigner {
    /// From 32 bytes of key material derived from the server secret.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        TokenSigner {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key workers verify with, base64url.
    pub fn public_key(&self) -> String {
        B64.encode(self.key.verifying_key().as_bytes())
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let body = B64.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let signed = format!("{PREFIX}{body}");
        let signature = self.key.sign(signed.as_bytes());
        format!("{signed}.{}", B64.encode(signature.to_bytes()))
    }

    /// A token for one request to `server` on behalf of `customer`.
    pub fn for_request(
        &self,
        server: Uuid,
        customer: Option<Uuid>,
        mode: Option<Mode>,
        key_id: Option<Uuid>,
    ) -> String {
        self.sign(&Claims {
            srv: server,
            cus: customer,
            mode,
            kid: key_id,
            exp: chrono::Utc::now().timestamp() + DEFAULT_TTL_SECS,
        })
    }
}

/// A worker's checking half.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    key: VerifyingKey,
    server: Uuid,
}

impl TokenVerifier {
    /// From management's base64url public key (sent at registration) and this worker's id.
    pub fn new(public_key: &str, server: Uuid) -> Result<Self, TokenError> {
        let bytes: [u8; 32] = B64
            .decode(public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(TokenError::Malformed)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| TokenError::Malformed)?;
        Ok(TokenVerifier { key, server })
    }

    pub fn server(&self) -> Uuid {
        self.server
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_at(token, chrono::Utc::now().timestamp())
    }

    pub fn verify_at(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        if !token.starts_with(PREFIX) || token.len() > 2048 {
            return Err(TokenError::Malformed);
        }
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let signature: [u8; 64] = B64
            .decode(signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(TokenError::Malformed)?;
        self.key
            .verify(signed.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| TokenError::BadSignature)?;
        let body = B64
            .decode(&signed[PREFIX.len()..])
            .map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&body).map_err(|_| TokenError::Malformed)?;
        if claims.exp + LEEWAY_SECS < now {
            return Err(TokenError::Expired);
        }
        if claims.srv != self.server {
            return Err(TokenError::WrongServer);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(seed: u8, server: Uuid) -> (TokenSigner, TokenVerifier) {
        let signer = TokenSigner::from_seed([seed; 32]);
        let verifier = TokenVerifier::new(&signer.public_key(), server).unwrap();
        (signer, verifier)
    }

    #[test]
    fn a_token_verifies_on_its_server_only_and_carries_its_claims() {
        let server = Uuid::new_v4();
        let customer = Uuid::new_v4();
        let (signer, verifier) = pair(7, server);
        let token = signer.for_request(server, Some(customer), Some(Mode::Test), None);
        let claims = verifier.verify(&token).unwrap();
        assert_eq!(claims.cus, Some(customer));
        assert_eq!(claims.mode, Some(Mode::Test));

        let other = TokenVerifier::new(&signer.public_key(), Uuid::new_v4()).unwrap();
        assert_eq!(other.verify(&token), Err(TokenError::WrongServer));
    }

    #[test]
    fn forged_tampered_and_expired_tokens_are_refused() {
        let server = Uuid::new_v4();
        let (signer, verifier) = pair(7, server);
        let (forger, _) = pair(8, server);
        let forged = forger.for_request(server, None, None, None);
        assert_eq!(verifier.verify(&forged), Err(TokenError::BadSignature));

        // Same signature, claims swapped for another customer's.
        let token = signer.for_request(server, Some(Uuid::new_v4()), Some(Mode::Live), None);
        let (_, sig) = token.rsplit_once('.').unwrap();
        let other_claims = B64.encode(
            serde_json::to_vec(&Claims {
                srv: server,
                cus: Some(Uuid::new_v4()),
                mode: Some(Mode::Live),
                kid: None,
                exp: i64::MAX / 2,
            })
            .unwrap(),
        );
        let tampered = format!("{PREFIX}{other_claims}.{sig}");
        assert_eq!(verifier.verify(&tampered), Err(TokenError::BadSignature));

        let old = signer.sign(&Claims {
            srv: server,
            cus: None,
            mode: None,
            kid: None,
            exp: 1_000,
        });
        assert_eq!(verifier.verify(&old), Err(TokenError::Expired));
        for junk in ["", "wst1.", "wst1.a.b", "ak_live_abc", "wst1.!!!.???"] {
            assert!(verifier.verify(junk).is_err(), "{junk}");
        }
    }
}

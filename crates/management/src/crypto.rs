//! Passwords (argon2id), generated secrets, and keys derived from the server secret.

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use rand::{distributions::Alphanumeric, rngs::OsRng, Rng};

/// Minimum length of an operator or customer password.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, crate::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| crate::Error::internal(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored PHC hash; a malformed hash never verifies.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, so an unknown email answers no faster.
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("wasp-dummy-password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// A random password of `len` letters and digits (about 5.95 bits each).
pub fn generate_password(len: usize) -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Checks the password policy; returns the reason when refused.
pub fn check_password_policy(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("must be at least {MIN_PASSWORD_LEN} characters"));
    }
    if password.len() > 256 {
        return Err("must be at most 256 bytes".into());
    }
    if password.contains('\0') {
        return Err("must not contain NUL bytes".into());
    }
    Ok(())
}

/// Keys derived from the one server secret, one per purpose.
#[derive(Clone)]
pub struct Secrets {
    /// Pepper for API and server key digests.
    pub key_pepper: Vec<u8>,
    /// HMAC key for admin JWTs.
    pub jwt_key: Vec<u8>,
    /// Seed of the Ed25519 key that signs service tokens for workers.
    pub service_token_seed: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    pub fn derive(secret: &[u8]) -> Secrets {
        let derive =
            |purpose: &str| wasp_protocol::keys::keyed_digest_bytes(secret, purpose.as_bytes());
        Secrets {
            key_pepper: derive("wasp/api-key-pepper/v1").to_vec(),
            jwt_key: derive("wasp/admin-jwt/v1").to_vec(),
            service_token_seed: derive("wasp/service-token/v1"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not-a-hash"));
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_secret() {
        let a = Secrets::derive(b"secret-a");
        let b = Secrets::derive(b"secret-b");
        assert_ne!(a.key_pepper, a.jwt_key);
        assert_ne!(a.key_pepper, b.key_pepper);
        assert_eq!(a.key_pepper.len(), 32);
    }

    #[test]
    fn policy_refuses_short_passwords() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("long enough pass").is_ok());
        assert_eq!(generate_password(20).len(), 20);
    }
}

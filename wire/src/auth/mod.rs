//! Authentication: API keys traded for signed, expiring access tokens.
//!
//! - [`Authenticator`]: checks credentials (`AuthService/Authenticate`) and
//!   tokens. Secrets are kept only as HMACs under a key drawn at start, and
//!   compared in constant time; tokens are signed with the same key, so a
//!   restart invalidates them all.
//! - [`service`] serves `proto.rpc.v1.AuthService`.
//! - [`layer`]: the tower layer in front of every other service of a public
//!   listener: no valid `authorization: Bearer <token>`, no call. It puts the
//!   token's entity in the request as the session [`Owner`].

pub mod layer;
pub mod service;

pub use layer::{AuthLayer, Gate};

use crate::Owner;
use crate::settings::AuthConfig;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// Why a caller was not let in. The messages say what to do, and never which
/// part of a credential was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// Unknown key id, or wrong secret.
    #[error("invalid credentials: check the API key id and the API key")]
    BadCredentials,
    /// Credentials of a type axle does not accept.
    #[error("credentials of type {0:?} are not accepted; use type \"api-key\"")]
    UnsupportedType(String),
    /// No `authorization: Bearer` header.
    #[error(
        "this robot requires authentication: call proto.rpc.v1.AuthService/Authenticate, then send \"authorization: Bearer <token>\""
    )]
    Missing,
    /// A token that axle did not sign (or another axle run signed).
    #[error("invalid access token: authenticate again")]
    BadToken,
    /// A token past its expiry.
    #[error("access token expired: authenticate again")]
    Expired,
    /// A token of a key that was removed from the config.
    #[error("the API key of this access token was revoked")]
    Revoked,
}

impl From<AuthError> for tonic::Status {
    fn from(e: AuthError) -> Self {
        tonic::Status::unauthenticated(e.to_string())
    }
}

/// Checks API keys and access tokens. The keys can change while axle runs
/// (a config edit): a removed key's tokens stop working at once.
pub struct Authenticator {
    /// Signs tokens, and hashes secrets so they are compared in constant time.
    key: hmac::Key,
    keys: RwLock<Keys>,
}

struct Keys {
    /// Key id → HMAC of its secret.
    tags: HashMap<String, Vec<u8>>,
    lifetime: Duration,
}

impl Authenticator {
    /// An authenticator for `config`'s keys, with a fresh signing key.
    pub fn new(config: &AuthConfig) -> Result<Self, ring::error::Unspecified> {
        let mut seed = [0u8; 32];
        SystemRandom::new().fill(&mut seed)?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &seed);
        let keys = RwLock::new(Self::keys(&key, config));
        Ok(Self { key, keys })
    }

    fn keys(key: &hmac::Key, config: &AuthConfig) -> Keys {
        let tags = config
            .keys
            .iter()
            .map(|k| {
                let tag = hmac::sign(key, k.secret.as_bytes());
                (k.id.clone(), tag.as_ref().to_vec())
            })
            .collect();
        Keys {
            tags,
            lifetime: config.token_lifetime,
        }
    }

    /// Replaces the keys and the token lifetime.
    pub fn update(&self, config: &AuthConfig) {
        let keys = Self::keys(&self.key, config);
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// Trades credentials for a token; answers it and when it expires.
    pub fn authenticate(
        &self,
        entity: &str,
        kind: &str,
        secret: &str,
    ) -> Result<(String, SystemTime), AuthError> {
        if kind != "api-key" {
            return Err(AuthError::UnsupportedType(kind.into()));
        }
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        // An unknown id costs the same check as a known one.
        let unknown = [0u8; 32];
        let stored = keys.tags.get(entity).map_or(&unknown[..], Vec::as_slice);
        let matches = hmac::verify(&self.key, secret.as_bytes(), stored).is_ok();
        if !matches || !keys.tags.contains_key(entity) {
            return Err(AuthError::BadCredentials);
        }
        let expires = SystemTime::now() + keys.lifetime;
        Ok((self.sign(entity, expires), expires))
    }

    /// `<expiry ms>.<hex entity>.<hex signature>`.
    fn sign(&self, entity: &str, expires: SystemTime) -> String {
        let ms = expires
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let payload = format!("{ms}.{}", hex(entity.as_bytes()));
        let tag = hmac::sign(&self.key, payload.as_bytes());
        format!("{payload}.{}", hex(tag.as_ref()))
    }

    /// The entity a token was issued to, if axle signed it and it has not
    /// expired.
    pub fn verify(&self, token: &str) -> Result<Owner, AuthError> {
        let (payload, tag) = token.rsplit_once('.').ok_or(AuthError::BadToken)?;
        let tag = unhex(tag).ok_or(AuthError::BadToken)?;
        hmac::verify(&self.key, payload.as_bytes(), &tag).map_err(|_| AuthError::BadToken)?;
        let (ms, entity) = payload.split_once('.').ok_or(AuthError::BadToken)?;
        let ms: u64 = ms.parse().map_err(|_| AuthError::BadToken)?;
        if SystemTime::now() >= UNIX_EPOCH + Duration::from_millis(ms) {
            return Err(AuthError::Expired);
        }
        let entity = unhex(entity)
            .and_then(|e| String::from_utf8(e).ok())
            .ok_or(AuthError::BadToken)?;
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        if !keys.tags.contains_key(&entity) {
            return Err(AuthError::Revoked);
        }
        Ok(Owner::Entity(entity.into()))
    }
}

impl Authenticator {
    /// Whether `owner` still has a key: a caller who authenticated once (a
    /// WebRTC peer, at signaling) loses access the moment its key is
    /// removed, as a token does.
    pub fn still_holds(&self, owner: &Owner) -> Result<(), AuthError> {
        let Owner::Entity(entity) = owner else {
            return Ok(());
        };
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        match keys.tags.contains_key(&**entity) {
            true => Ok(()),
            false => Err(AuthError::Revoked),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ApiKey;

    fn auth(lifetime: Duration) -> Authenticator {
        let config = AuthConfig {
            keys: vec![ApiKey {
                id: "robot-key".into(),
                secret: "s3cret".into(),
            }],
            token_lifetime: lifetime,
        };
        Authenticator::new(&config).unwrap()
    }

    #[test]
    fn a_token_names_its_entity_until_it_expires() {
        let a = auth(Duration::from_secs(60));
        let (token, _) = a.authenticate("robot-key", "api-key", "s3cret").unwrap();
        assert_eq!(a.verify(&token).unwrap(), Owner::Entity("robot-key".into()));
        let expired = a.sign("robot-key", SystemTime::now() - Duration::from_secs(1));
        assert_eq!(a.verify(&expired), Err(AuthError::Expired));
        a.update(&AuthConfig {
            keys: vec![],
            token_lifetime: Duration::from_secs(60),
        });
        assert_eq!(a.verify(&token), Err(AuthError::Revoked));
        let owner = Owner::Entity("robot-key".into());
        assert_eq!(a.still_holds(&owner), Err(AuthError::Revoked));
        assert_eq!(a.still_holds(&Owner::Modules), Ok(()));
    }

    #[test]
    fn wrong_secrets_forged_and_foreign_tokens_are_refused() {
        let a = auth(Duration::from_secs(60));
        for (id, secret) in [
            ("robot-key", "wrong"),
            ("nobody", "s3cret"),
            ("robot-key", ""),
        ] {
            assert_eq!(
                a.authenticate(id, "api-key", secret),
                Err(AuthError::BadCredentials)
            );
        }
        assert!(matches!(
            a.authenticate("robot-key", "robot-secret", "s3cret"),
            Err(AuthError::UnsupportedType(_))
        ));
        let (token, _) = a.authenticate("robot-key", "api-key", "s3cret").unwrap();
        let forged = token.replacen(&hex(b"robot-key"), &hex(b"admin"), 1);
        assert_eq!(a.verify(&forged), Err(AuthError::BadToken));
        assert_eq!(
            auth(Duration::from_secs(60)).verify(&token),
            Err(AuthError::BadToken)
        );
        for junk in ["", ".", "a.b.c", "1.zz.00", &"9".repeat(5000)] {
            assert_eq!(a.verify(junk), Err(AuthError::BadToken), "{junk}");
        }
    }
}

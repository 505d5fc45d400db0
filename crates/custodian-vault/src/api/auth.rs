//! `auth/<approle>/login`, `auth/token/renew-self` and `auth/token/lookup-self`.

use secrecy::{ExposeSecret, SecretString};

use crate::client::{Call, Kind, Session, Token, VaultClient};
use crate::error::VaultError;
use crate::wire::{AppRoleLogin, AuthEnvelope, Envelope, LookupDto};

impl VaultClient {
    /// Logs in with AppRole. A rejected role or secret id is [`VaultError::LoginRejected`].
    pub(crate) async fn approle_login(
        &self,
        mount: &str,
        role_id: &SecretString,
        secret_id: &SecretString,
    ) -> Result<Session, VaultError> {
        let body = AppRoleLogin { role_id: role_id.expose_secret(), secret_id: secret_id.expose_secret() };
        // Not retried: a secret id may be limited in uses.
        let call = Call::post(Kind::Auth, format!("auth/{mount}/login"), &body, false)?.token(Token::None);
        self.counted_login();
        let reply = self.send(call).await?;
        if matches!(reply.status, 400 | 403) {
            return Err(VaultError::LoginRejected(Box::new(reply.error())));
        }
        let envelope: AuthEnvelope = reply.json()?;
        let auth = envelope.auth.as_ref().ok_or(VaultError::Invalid("a login response has no token"))?;
        tracing::info!(ttl_s = auth.lease_duration, renewable = auth.renewable, "vault approle login");
        Ok(Session::new(SecretString::from(auth.client_token.as_str()), auth.lease_duration, auth.renewable))
    }

    /// Renews `token` (the session token).
    pub(crate) async fn renew_self(&self, token: &SecretString) -> Result<Session, VaultError> {
        let call = Call::post(Kind::Auth, "auth/token/renew-self".to_owned(), &serde_json::Map::new(), true)?
            .token(Token::Explicit(token));
        self.counted_renewal();
        let envelope: AuthEnvelope = self.send(call).await?.json()?;
        let auth = envelope.auth.as_ref().ok_or(VaultError::Invalid("a renewal response has no token"))?;
        tracing::debug!(ttl_s = auth.lease_duration, "vault token renewed");
        Ok(Session::new(SecretString::from(auth.client_token.as_str()), auth.lease_duration, auth.renewable))
    }

    /// Looks up `token`'s TTL and renewability (token auth, once).
    pub(crate) async fn lookup_self(&self, token: &SecretString) -> Result<Session, VaultError> {
        let call = Call::get(Kind::Auth, "auth/token/lookup-self".to_owned()).token(Token::Explicit(token));
        let envelope: Envelope<LookupDto> = self.send(call).await?.json()?;
        let data = envelope.data.ok_or(VaultError::Invalid("a token lookup response has no data"))?;
        Ok(Session::new(token.clone(), data.ttl, data.renewable))
    }
}

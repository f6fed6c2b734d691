//! Delivers the notification outbox: SMS through an HTTP gateway, e-mail over SMTP.
//!
//! Messages are written to the outbox in the same transaction as the change that causes them
//! (an alarm cancelled by an authorised disarm, say), so none is lost when Vakt stops between
//! the change and the delivery. This task claims due messages for a lease, delivers them, and
//! records the outcome; a failure is retried with a growing delay until
//! `attempts_max`, then left with its last error for staff to see.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use vakt_core::{Clock, UnixMicros};
use vakt_store::{Centre, OutboxMessage, StoreError};

/// How messages leave Vakt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// The SMS gateway's URL: Vakt POSTs `{"to": "+46…", "message": "…"}` as JSON. Empty
    /// leaves SMS in the outbox undelivered.
    pub sms_gateway_url: String,
    /// A bearer token for the gateway, if it wants one.
    pub sms_gateway_token: String,
    /// The sender name or number the gateway is asked to use.
    pub sms_sender: String,
    /// The SMTP relay, `host:port`. Empty leaves e-mail undelivered.
    pub smtp_relay: String,
    /// The From address of e-mail.
    pub email_from: String,
    /// How often the outbox is looked at, in milliseconds.
    pub poll_ms: u64,
    /// Attempts before a message is given up.
    pub attempts_max: u32,
    /// The first retry's delay, in seconds; each further retry doubles it.
    pub retry_base_s: u32,
    /// How long one delivery may take, in seconds.
    pub timeout_s: u32,
}

impl Default for NotifyConfig {
    /// No gateway or relay; retries every 5 s, doubling, 8 attempts.
    fn default() -> NotifyConfig {
        NotifyConfig {
            sms_gateway_url: String::new(),
            sms_gateway_token: String::new(),
            sms_sender: "Vakt".into(),
            smtp_relay: String::new(),
            email_from: "larmcentralen@vakt.invalid".into(),
            poll_ms: 500,
            attempts_max: 8,
            retry_base_s: 5,
            timeout_s: 10,
        }
    }
}

/// Most messages claimed at once.
pub const CLAIM_MESSAGES_MAX: u32 = 32;

/// Why one delivery failed.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("no {0} route is configured")]
    NotConfigured(&'static str),
    #[error("the SMS gateway answered {0}")]
    Gateway(String),
    #[error("e-mail: {0}")]
    Email(String),
}

struct Deliverer {
    config: NotifyConfig,
    http: reqwest::Client,
}

impl Deliverer {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        match message.channel.as_str() {
            "sms" => self.sms(message).await,
            "email" => self.email(message).await,
            _ => Err(DeliveryError::NotConfigured("unknown channel")),
        }
    }

    async fn sms(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        if self.config.sms_gateway_url.is_empty() {
            return Err(DeliveryError::NotConfigured("SMS gateway"));
        }
        let mut request = self
            .http
            .post(&self.config.sms_gateway_url)
            .json(&serde_json::json!({
                "to": message.recipient,
                "from": self.config.sms_sender,
                "message": message.body,
                "reference": message.id,
            }));
        if !self.config.sms_gateway_token.is_empty() {
            request = request.bearer_auth(&self.config.sms_gateway_token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| DeliveryError::Gateway(e.to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Gateway(response.status().to_string()))
        }
    }

    async fn email(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        if self.config.smtp_relay.is_empty() {
            return Err(DeliveryError::NotConfigured("SMTP relay"));
        }
        let (host, port) = self
            .config
            .smtp_relay
            .rsplit_once(':')
            .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h, p)))
            .unwrap_or((self.config.smtp_relay.as_str(), 25));
        let email = lettre::Message::builder()
            .from(
                self.config
                    .email_from
                    .parse()
                    .map_err(|e| DeliveryError::Email(format!("from: {e}")))?,
            )
            .to(message
                .recipient
                .parse()
                .map_err(|e| DeliveryError::Email(format!("to: {e}")))?)
            .subject(message.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| DeliveryError::Email(e.to_string()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(u64::from(self.config.timeout_s))))
            .build();
        transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Email(e.to_string()))
    }
}

/// When a message that failed its `attempts`-th attempt at `now` is tried again, or `None`
/// when it has had all its attempts.
#[must_use]
pub fn retry_at(config: &NotifyConfig, attempts: u32, now: UnixMicros) -> Option<UnixMicros> {
    if attempts >= config.attempts_max {
        return None;
    }
    let exponent = attempts.saturating_sub(1).min(16);
    let delay_s = u64::from(config.retry_base_s.max(1)) << exponent;
    let delay_us = i64::try_from(delay_s.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
    Some(now.add_micros(delay_us))
}

/// Delivers the outbox until `shutdown`.
pub async fn run<S: Centre>(
    store: S,
    clock: Arc<dyn Clock>,
    config: NotifyConfig,
    shutdown: CancellationToken,
) {
    let timeout = Duration::from_secs(u64::from(config.timeout_s.max(1)));
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap_or_default();
    let poll = Duration::from_millis(config.poll_ms.max(10));
    let lease_us = i64::from(config.timeout_s.max(1)) * 3 * 1_000_000;
    let deliverer = Deliverer { config, http };
    loop {
        match store
            .claim_messages(clock.now(), CLAIM_MESSAGES_MAX, lease_us)
            .await
        {
            Ok(messages) => {
                for message in messages {
                    let outcome = deliverer.deliver(&message).await;
                    let recorded = match outcome {
                        Ok(()) => {
                            metrics::counter!("vakt_notify_delivered_total", "channel" => message.channel.clone()).increment(1);
                            store.message_delivered(message.id, clock.now()).await
                        }
                        Err(error) => {
                            metrics::counter!("vakt_notify_failed_total", "channel" => message.channel.clone()).increment(1);
                            let next = retry_at(&deliverer.config, message.attempts, clock.now());
                            tracing::warn!(id = message.id, channel = %message.channel, %error, retry = next.is_some(), "a notification was not delivered");
                            store
                                .message_failed(message.id, error.to_string(), next)
                                .await
                        }
                    };
                    if let Err(error) = recorded {
                        tracing::error!(%error, "could not record a delivery outcome");
                    }
                }
            }
            Err(StoreError::Closed) => return,
            Err(error) => tracing::error!(%error, "could not read the outbox"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop() {
        let config = NotifyConfig::default();
        let now = UnixMicros(0);
        assert_eq!(retry_at(&config, 1, now), Some(UnixMicros(5_000_000)));
        assert_eq!(retry_at(&config, 2, now), Some(UnixMicros(10_000_000)));
        assert_eq!(retry_at(&config, 3, now), Some(UnixMicros(20_000_000)));
        assert_eq!(retry_at(&config, config.attempts_max, now), None);
    }
}

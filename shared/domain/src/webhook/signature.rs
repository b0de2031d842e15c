//! The signed message, per the Standard Webhooks specification: the body
//! is `{"type", "timestamp", "data"}`; the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`; the `webhook-signature`
//! header is `v1,` and the base64 of its HMAC-SHA256 under the secret's
//! decoded bytes, one per live secret, separated by spaces.

use super::secret::WebhookSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::Sha256;

/// The header naming the message (the receiver's idempotency key).
pub const ID_HEADER: &str = "webhook-id";
/// The header carrying the send time, in seconds since the epoch.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The body of a message: the event's type, when it happened, and its data.
pub fn payload(event_type: &str, at: Timestamp, data: &Value) -> String {
    json!({ "type": event_type, "timestamp": at, "data": data }).to_string()
}

/// The three headers of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`: seconds since the epoch.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
}

/// Signs `body` as message `id` sent at `at`, with each of `secrets`.
pub fn sign(id: &str, at: Timestamp, body: &str, secrets: &[&WebhookSecret]) -> Signed {
    let timestamp = at.as_second().to_string();
    let content = format!("{id}.{timestamp}.{body}");
    let signature = secrets
        .iter()
        .filter_map(|secret| {
            // Any key length is valid for HMAC: this never fails.
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.key()).ok()?;
            mac.update(content.as_bytes());
            Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
        })
        .collect::<Vec<_>>()
        .join(" ");
    Signed { id: id.to_owned(), timestamp, signature }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the specification's reference implementations.
    #[test]
    fn signs_the_specifications_example() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let at = Timestamp::from_second(1_614_265_330).unwrap();
        let signed = sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, body, &[&secret]);
        assert_eq!(signed.signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(signed.timestamp, "1614265330");
    }

    #[test]
    fn two_live_secrets_give_two_signatures() {
        let (a, b) = (WebhookSecret::from_bytes(&[1; 32]).unwrap(), WebhookSecret::from_bytes(&[2; 32]).unwrap());
        let at = Timestamp::from_second(1).unwrap();
        let both = sign("m", at, "{}", &[&a, &b]).signature;
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts, [sign("m", at, "{}", &[&a]).signature, sign("m", at, "{}", &[&b]).signature]);
    }

    #[test]
    fn the_payload_has_type_timestamp_and_data() {
        let body: Value = serde_json::from_str(&payload("inquiry.answered", Timestamp::UNIX_EPOCH, &json!({"x": 1}))).unwrap();
        assert_eq!(body, json!({"type": "inquiry.answered", "timestamp": "1970-01-01T00:00:00Z", "data": {"x": 1}}));
    }
}

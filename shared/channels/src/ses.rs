//! E-mail through SES v2 (AWS mode), sent at most once per message id as
//! far as SES allows, and the sender identity it needs.

use crate::sent::{Claim, SentLedger, provider_refused};
use crate::{ChannelError, Delivery, EmailMessage, EmailSender};
use async_trait::async_trait;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sesv2::operation::create_email_identity::CreateEmailIdentityError;
use aws_sdk_sesv2::operation::get_email_identity::GetEmailIdentityError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

/// Sends plain-text UTF-8 e-mail with SES `SendEmail` from one identity.
///
/// Deduplicated like [`crate::sns::SnsSms`]: a `SENT#{message id}` item is
/// claimed before and marked after sending; the same one-call window
/// between the two remains, and a resend in it is counted as in doubt.
#[derive(Debug, Clone)]
pub struct SesEmail {
    ses: aws_sdk_sesv2::Client,
    ledger: SentLedger,
    from: String,
}

impl SesEmail {
    /// A sender using the verified identity `from`, recording sent ids in `table`.
    pub fn new(ses: aws_sdk_sesv2::Client, dynamodb: aws_sdk_dynamodb::Client, table: String, from: String) -> Self {
        Self { ses, ledger: SentLedger::new(dynamodb, table), from }
    }
}

fn utf8(text: &str) -> Result<Content, ChannelError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| ChannelError::Rejected(format!("malformed SES request: {e}")))
}

#[async_trait]
impl EmailSender for SesEmail {
    async fn send_email(&self, message: &EmailMessage) -> Result<Delivery, ChannelError> {
        match self.ledger.claim(&message.id, "email", message.inquiry_id).await? {
            Claim::AlreadySent => return Ok(Delivery::AlreadySent),
            Claim::InDoubt => tracing::warn!(
                message_id = %message.id,
                "e-mail sending again: an earlier attempt ended between sending and recording it, so it may have gone out"
            ),
            Claim::Fresh => {}
        }
        let content = EmailContent::builder()
            .simple(Message::builder().subject(utf8(&message.subject)?).body(Body::builder().text(utf8(&message.body)?).build()).build())
            .build();
        let sent = self
            .ses
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(message.to.as_str()).build())
            .content(content)
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                // Error texts can quote the address: name only the code and a masked recipient.
                let code = e.code().unwrap_or("no error code").to_owned();
                let why = format!("SES SendEmail to {}: {code}", message.to.masked());
                let permanent = matches!(
                    e.as_service_error(),
                    Some(
                        SendEmailError::MessageRejected(_)
                            | SendEmailError::BadRequestException(_)
                            | SendEmailError::MailFromDomainNotVerifiedException(_)
                            | SendEmailError::NotFoundException(_)
                    )
                );
                // Certainly not sent: the next attempt is then no duplicate.
                // Should this note fail, that attempt only counts as one in doubt.
                if provider_refused(&e)
                    && let Err(e) = self.ledger.mark_failed(&message.id).await
                {
                    tracing::warn!(message_id = %message.id, error = %e, "could not note a failed send");
                }
                return Err(if permanent { ChannelError::Rejected(why) } else { ChannelError::Unavailable(why) });
            }
        };
        if let Err(e) = self.ledger.mark_sent(&message.id, out.message_id()).await {
            // The mail is out; failing now would only make the caller send it again.
            tracing::warn!(message_id = %message.id, error = %e, "e-mail sent but not recorded; a redelivery would send it again");
        }
        Ok(Delivery::Sent)
    }
}

/// Makes `from` (a plain address) an SES e-mail identity unless it, or its
/// domain, is one already; `true` if it was created. On AWS, SES then mails
/// a verification link to the address, and sending works once it is
/// followed (and, in the SES sandbox, only to verified recipients);
/// emulators verify at once.
pub async fn ensure_sender(ses: &aws_sdk_sesv2::Client, from: &str) -> Result<bool, ChannelError> {
    // A verified domain covers every address at it: no address identity needed.
    let domain = from.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty());
    for identity in std::iter::once(from).chain(domain) {
        match ses.get_email_identity().email_identity(identity).send().await {
            Ok(_) => return Ok(false),
            Err(e) if matches!(e.as_service_error(), Some(GetEmailIdentityError::NotFoundException(_))) => {}
            Err(e) => return Err(ChannelError::Unavailable(format!("SES GetEmailIdentity: {}", DisplayErrorContext(&e)))),
        }
    }
    match ses.create_email_identity().email_identity(from).send().await {
        Ok(_) => Ok(true),
        // Created by a concurrent provisioner.
        Err(e) if matches!(e.as_service_error(), Some(CreateEmailIdentityError::AlreadyExistsException(_))) => Ok(false),
        Err(e) if matches!(e.as_service_error(), Some(CreateEmailIdentityError::BadRequestException(_))) => {
            Err(ChannelError::Rejected(format!("SES CreateEmailIdentity {from}: {}", DisplayErrorContext(&e))))
        }
        Err(e) => Err(ChannelError::Unavailable(format!("SES CreateEmailIdentity: {}", DisplayErrorContext(&e)))),
    }
}

//! What each component may do in AWS: the table the deployment's IAM roles
//! are generated from, and that the request-counting tests check the code
//! against (every AWS operation a component performs must be granted here).

use switchboard_domain::Service;

/// Every deployable component: the six workers and the gateway.
pub const COMPONENTS: [&str; 7] = ["intake", "image-analyzer", "classifier", "partner-dispatcher", "responder", "notifier", "gateway"];

/// What a grant applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The component's own queue.
    OwnQueue,
    /// The component's own dead-letter queue.
    OwnDeadLetterQueue,
    /// Every Switchboard queue (URL look-ups, depth for readiness).
    AllQueues,
    /// The queues of these stages.
    QueuesOf(&'static [Service]),
    /// The events topic.
    Topic,
    /// The table and its indexes.
    Table,
    /// Objects in the attachments bucket.
    BucketObjects,
    /// SMS to phone numbers: SNS has no resource for them, so `*`.
    PhoneNumbers,
    /// The SES identities e-mail is sent from.
    EmailIdentities,
    /// AI service calls that take no resource ARN (Comprehend detection, Textract).
    AiServices,
    /// Bedrock foundation models.
    FoundationModels,
}

/// Actions on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub actions: &'static [&'static str],
    pub target: Target,
}

const CONSUME: &[&str] = &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"];
const DEAD_LETTER: &[&str] = &["sqs:SendMessage", "sqs:GetQueueAttributes"];
const LOOK_UP_QUEUES: &[&str] = &["sqs:GetQueueUrl"];
const PUBLISH: &[&str] = &["sns:Publish"];
/// Every component reads and writes the table; `DeleteItem` clears the
/// outbox entries its relay publishes.
const TABLE: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
];

/// The grants of one component (`COMPONENTS`), least privilege.
pub fn grants(component: &str) -> Vec<Grant> {
    let grant = |actions, target| Grant { actions, target };
    let mut grants = vec![grant(LOOK_UP_QUEUES, Target::AllQueues), grant(TABLE, Target::Table)];
    if Service::parse(component).is_some() {
        grants.push(grant(CONSUME, Target::OwnQueue));
        grants.push(grant(DEAD_LETTER, Target::OwnDeadLetterQueue));
        grants.push(grant(PUBLISH, Target::Topic));
    }
    match component {
        "intake" => grants.push(grant(&["s3:PutObject"], Target::BucketObjects)),
        "image-analyzer" => {
            grants.push(grant(&["s3:GetObject"], Target::BucketObjects));
            grants.push(grant(&["textract:DetectDocumentText", "textract:AnalyzeDocument"], Target::AiServices));
            grants.push(grant(&["bedrock:InvokeModel"], Target::FoundationModels));
        }
        "classifier" => {
            grants.push(grant(
                &[
                    "comprehend:DetectDominantLanguage",
                    "comprehend:DetectSentiment",
                    "comprehend:DetectKeyPhrases",
                    "comprehend:DetectPiiEntities",
                    "comprehend:BatchDetectDominantLanguage",
                    "comprehend:BatchDetectSentiment",
                    "comprehend:BatchDetectKeyPhrases",
                ],
                Target::AiServices,
            ));
            grants.push(grant(&["bedrock:InvokeModel"], Target::FoundationModels));
        }
        // The deadline is a delayed message to its own queue.
        "partner-dispatcher" => {
            grants.push(grant(&["sqs:SendMessage"], Target::OwnQueue));
            grants.push(grant(&["sns:Publish"], Target::PhoneNumbers));
        }
        // An answer's wait for a reply is a delayed message to its own queue.
        "responder" => {
            grants.push(grant(&["sqs:SendMessage"], Target::OwnQueue));
            grants.push(grant(&["bedrock:InvokeModel"], Target::FoundationModels));
        }
        // A webhook delivery (and each retry) is a delayed message to its own queue.
        // An escalation's SLA check is a delayed message to its own queue.
        "notifier" => {
            grants.push(grant(&["sqs:SendMessage"], Target::OwnQueue));
            grants.push(grant(&["sns:Publish"], Target::PhoneNumbers));
            grants.push(grant(&["ses:SendEmail"], Target::EmailIdentities));
        }
        // Submits through intake (attachments, `inquiry.received`), records
        // partner answers (`partner.responded`) and reports queue depth.
        // The sweeper hands stuck inquiries back to the classifier and the
        // partner dispatcher through their queues; a webhook replay is a
        // delivery order on the notifier's.
        "gateway" => {
            grants.push(grant(&["s3:PutObject"], Target::BucketObjects));
            grants.push(grant(PUBLISH, Target::Topic));
            grants.push(grant(&["sqs:GetQueueAttributes"], Target::AllQueues));
            grants
                .push(grant(&["sqs:SendMessage"], Target::QueuesOf(&[Service::Classifier, Service::PartnerDispatcher, Service::Notifier])));
        }
        _ => {}
    }
    grants
}

/// The IAM actions an AWS SDK operation needs (`service.Operation` as the
/// SDK names them), for checking observed calls against [`grants`].
pub fn actions_for_operation(service: &str, operation: &str) -> Vec<String> {
    let prefix = match service.to_ascii_lowercase().as_str() {
        "sqs" => "sqs",
        "sns" => "sns",
        "dynamodb" => "dynamodb",
        "s3" => "s3",
        "sesv2" | "ses" => "ses",
        "comprehend" => "comprehend",
        "textract" => "textract",
        "bedrock runtime" | "bedrockruntime" | "bedrock" => "bedrock",
        other => return vec![format!("{other}:{operation}")],
    };
    let action = match (prefix, operation) {
        ("sqs", "DeleteMessageBatch") => "DeleteMessage",
        ("sqs", "ChangeMessageVisibilityBatch") => "ChangeMessageVisibility",
        ("sqs", "SendMessageBatch") => "SendMessage",
        ("sns", "PublishBatch") => "Publish",
        ("bedrock", "Converse") => "InvokeModel",
        ("dynamodb", "TransactWriteItems") => {
            // A transaction's deletes: an inquiry leaving the SLA queue.
            return ["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"].iter().map(|a| format!("dynamodb:{a}")).collect();
        }
        (_, op) => op,
    };
    vec![format!("{prefix}:{action}")]
}

/// Every action granted to a component, whatever the target.
pub fn granted_actions(component: &str) -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = grants(component).iter().flat_map(|g| g.actions.iter().copied()).collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_notifier_sends_email_and_only_messengers_text_phones() {
        for c in COMPONENTS {
            let g = grants(c);
            assert_eq!(g.iter().any(|g| g.target == Target::EmailIdentities), c == "notifier", "{c}");
            assert_eq!(g.iter().any(|g| g.target == Target::PhoneNumbers), matches!(c, "notifier" | "partner-dispatcher"), "{c}");
        }
    }

    #[test]
    fn batch_operations_need_their_single_actions() {
        assert_eq!(actions_for_operation("SQS", "DeleteMessageBatch"), ["sqs:DeleteMessage"]);
        assert_eq!(actions_for_operation("SNS", "PublishBatch"), ["sns:Publish"]);
        assert_eq!(actions_for_operation("DynamoDB", "TransactWriteItems").len(), 4);
    }
}

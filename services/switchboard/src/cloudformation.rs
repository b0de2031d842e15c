//! The CloudFormation template of a Switchboard deployment, generated from
//! the code: queues and subscriptions from the routing table, IAM roles from
//! [`crate::permissions`], table keys and indexes as the DynamoDB adapter
//! uses them. `switchboard deploy template` prints it; the committed copy in
//! `deploy/cloudformation/switchboard.json` is checked against it by a test.

use crate::permissions::{COMPONENTS, Target, grants};
use serde_json::{Map, Value, json};
use switchboard_domain::Service;

/// The ADOT collector's configuration (`AOT_CONFIG_CONTENT`): spans in
/// over OTLP, out to X-Ray, with the inquiry id indexed as the annotation
/// `switchboard_inquiry_id`, so the operators' console can link an inquiry
/// to its traces (X-Ray searches annotations, not other attributes).
const COLLECTOR_CONFIG: &str = "extensions:
  health_check:
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
processors:
  batch/traces:
    timeout: 1s
    send_batch_size: 50
exporters:
  awsxray:
    indexed_attributes: [switchboard.inquiry_id]
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch/traces]
      exporters: [awsxray]
";

/// Attempts before SQS moves a message to the dead-letter queue, for
/// workers running with the default receive limit.
fn redrive_max_receives() -> u32 {
    switchboard_worker::redrive_max_receives(crate::config::Config::default().max_receives)
}
/// Visibility timeout of the queues: the handlers' budget with room for retries.
const VISIBILITY_SECS: u32 = 30;

/// `partner-dispatcher` → `PartnerDispatcher`: logical ids.
fn logical(component: &str) -> String {
    component
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn sub(s: &str) -> Value {
    json!({ "Fn::Sub": s })
}

fn queue_name(component: &str) -> Value {
    sub(&format!("${{Prefix}}-{component}"))
}

/// The routing table as SNS subscriptions, one per subscribed service
/// (`switchboard routing --format cloudformation`).
pub fn subscriptions() -> Map<String, Value> {
    let mut resources = Map::new();
    for service in Service::ALL {
        let Some(policy) = service.subscription() else { continue };
        let id = logical(service.name());
        resources.insert(
            format!("{id}Subscription"),
            json!({
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": { "Ref": "EventsTopic" },
                    "Protocol": "sqs",
                    "Endpoint": { "Fn::GetAtt": [format!("{id}Queue"), "Arn"] },
                    "RawMessageDelivery": true,
                    "FilterPolicyScope": "MessageAttributes",
                    "FilterPolicy": policy.to_sns_json(),
                }
            }),
        );
    }
    resources
}

fn statement(component: &str, actions: &[&str], target: Target) -> Value {
    let id = logical(component);
    let queue_arn =
        |suffix: &str| sub(&format!("arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:${{Prefix}}-{component}{suffix}"));
    let resource = match target {
        Target::OwnQueue => json!([{ "Fn::GetAtt": [format!("{id}Queue"), "Arn"] }]),
        Target::OwnDeadLetterQueue => json!([queue_arn("-dlq")]),
        Target::AllQueues => json!([sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Prefix}-*")]),
        Target::QueuesOf(stages) => {
            Value::Array(stages.iter().map(|s| json!({ "Fn::GetAtt": [format!("{}Queue", logical(s.name())), "Arn"] })).collect())
        }
        Target::Topic => json!([{ "Ref": "EventsTopic" }]),
        Target::Table => json!([{ "Fn::GetAtt": ["Table", "Arn"] }, sub("${Table.Arn}/index/*")]),
        Target::BucketObjects => json!([sub("${AttachmentsBucket.Arn}/*")]),
        Target::PhoneNumbers | Target::AiServices => json!(["*"]),
        Target::EmailIdentities => json!([sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*")]),
        Target::FoundationModels => json!([sub("arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*")]),
    };
    json!({ "Effect": "Allow", "Action": actions, "Resource": resource })
}

fn environment(component: &str) -> Value {
    let mut env = vec![
        json!({ "Name": "SWITCHBOARD_BACKEND", "Value": "aws" }),
        json!({ "Name": "SWITCHBOARD_AI", "Value": { "Ref": "AiEngines" } }),
        json!({ "Name": "SWITCHBOARD_RESOURCE_PREFIX", "Value": { "Ref": "Prefix" } }),
        json!({ "Name": "SWITCHBOARD_EVENTS_TOPIC_ARN", "Value": { "Ref": "EventsTopic" } }),
        json!({ "Name": "SWITCHBOARD_PARTNER_DEADLINE_SECS", "Value": { "Ref": "PartnerDeadlineSecs" } }),
        json!({ "Name": "SWITCHBOARD_OPERATOR_EMAIL", "Value": { "Ref": "OperatorEmail" } }),
        json!({ "Name": "SWITCHBOARD_EMAIL_FROM", "Value": { "Ref": "EmailFrom" } }),
        json!({ "Name": "SWITCHBOARD_PUBLIC_BASE_URL", "Value": { "Ref": "PublicBaseUrl" } }),
        json!({ "Name": "SWITCHBOARD_VISIBILITY_SECS", "Value": VISIBILITY_SECS.to_string() }),
        json!({ "Name": "SWITCHBOARD_LOG_FORMAT", "Value": "json" }),
        json!({ "Name": "OTEL_EXPORTER_OTLP_ENDPOINT", "Value": "http://localhost:4317" }),
        json!({ "Name": "OTEL_SERVICE_NAME", "Value": format!("switchboard-{component}") }),
    ];
    if component == "intake" {
        env.push(json!({ "Name": "SWITCHBOARD_INBOUND_SMS_NUMBERS", "Value": { "Ref": "InboundSmsNumbers" } }));
    }
    if component == "gateway" {
        env.push(json!({ "Name": "SWITCHBOARD_HTTP_ADDR", "Value": "0.0.0.0:8080" }));
        env.push(json!({ "Name": "SWITCHBOARD_GRPC_ADDR", "Value": "0.0.0.0:50051" }));
        env.push(json!({ "Name": "SWITCHBOARD_TRUSTED_PROXIES", "Value": { "Ref": "VpcCidr" } }));
        // Not a target of the load balancer: metrics stay inside the task.
        env.push(json!({ "Name": "SWITCHBOARD_METRICS_ADDR", "Value": "127.0.0.1:9090" }));
    }
    Value::Array(env)
}

fn component_resources(component: &str, resources: &mut Map<String, Value>) {
    let id = logical(component);
    let is_worker = component != "gateway";
    if is_worker {
        resources.insert(
            format!("{id}DeadLetterQueue"),
            json!({
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": sub(&format!("${{Prefix}}-{component}-dlq")),
                    "SqsManagedSseEnabled": true,
                    "MessageRetentionPeriod": 1_209_600,
                }
            }),
        );
        resources.insert(
            format!("{id}Queue"),
            json!({
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": queue_name(component),
                    "SqsManagedSseEnabled": true,
                    "VisibilityTimeout": VISIBILITY_SECS,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": { "Fn::GetAtt": [format!("{id}DeadLetterQueue"), "Arn"] },
                        "maxReceiveCount": redrive_max_receives(),
                    },
                }
            }),
        );
    }
    resources.insert(
        format!("{id}Role"),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }],
                },
                // The ADOT sidecar sends the task's traces to X-Ray with the task role.
                "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess")],
                "Policies": [{
                    "PolicyName": format!("switchboard-{component}"),
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": grants(component).iter().map(|g| statement(component, g.actions, g.target)).collect::<Vec<_>>(),
                    },
                }],
            }
        }),
    );
    resources.insert(
        format!("{id}LogGroup"),
        json!({
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": sub(&format!("/switchboard/${{Prefix}}/{component}")),
                "RetentionInDays": { "Ref": "LogRetentionDays" },
            }
        }),
    );
    let log_config = json!({
        "LogDriver": "awslogs",
        "Options": {
            "awslogs-group": { "Ref": format!("{id}LogGroup") },
            "awslogs-region": { "Ref": "AWS::Region" },
            "awslogs-stream-prefix": component,
        }
    });
    let mut app = json!({
        "Name": "switchboard",
        "Image": { "Ref": "Image" },
        "Essential": true,
        "Command": ["serve", component],
        "Environment": environment(component),
        "Secrets": [{ "Name": "SWITCHBOARD_TOKEN_KEYS", "ValueFrom": { "Ref": "TokenKeysSecret" } }],
        "LogConfiguration": log_config.clone(),
        "ReadonlyRootFilesystem": true,
        "MountPoints": [{ "SourceVolume": "data", "ContainerPath": "/data" }],
    });
    if !is_worker {
        app["PortMappings"] = json!([{ "ContainerPort": 8080, "Protocol": "tcp" }, { "ContainerPort": 50051, "Protocol": "tcp" }]);
    }
    resources.insert(
        format!("{id}TaskDefinition"),
        json!({
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": sub(&format!("${{Prefix}}-{component}")),
                "RequiresCompatibilities": ["FARGATE"],
                "NetworkMode": "awsvpc",
                "Cpu": "256",
                "Memory": "512",
                "ExecutionRoleArn": { "Fn::GetAtt": ["ExecutionRole", "Arn"] },
                "TaskRoleArn": { "Fn::GetAtt": [format!("{id}Role"), "Arn"] },
                "Volumes": [{ "Name": "data" }],
                "ContainerDefinitions": [
                    app,
                    {
                        "Name": "aws-otel-collector",
                        "Image": { "Ref": "CollectorImage" },
                        "Essential": false,
                        "Environment": [{ "Name": "AOT_CONFIG_CONTENT", "Value": COLLECTOR_CONFIG }],
                        "LogConfiguration": log_config,
                    },
                ],
            }
        }),
    );
    let mut service = json!({
        "Type": "AWS::ECS::Service",
        "Properties": {
            "ServiceName": sub(&format!("${{Prefix}}-{component}")),
            "Cluster": { "Ref": "Cluster" },
            "LaunchType": "FARGATE",
            "TaskDefinition": { "Ref": format!("{id}TaskDefinition") },
            "DesiredCount": { "Ref": "MinTasks" },
            "DeploymentConfiguration": {
                "MinimumHealthyPercent": 100,
                "MaximumPercent": 200,
                "DeploymentCircuitBreaker": { "Enable": true, "Rollback": true },
            },
            "NetworkConfiguration": { "AwsvpcConfiguration": {
                "Subnets": { "Ref": "PrivateSubnets" },
                "SecurityGroups": [{ "Ref": "TaskSecurityGroup" }],
                "AssignPublicIp": "DISABLED",
            }},
        }
    });
    if !is_worker {
        service["DependsOn"] = json!(["HttpsListener", "GrpcListener"]);
        service["Properties"]["LoadBalancers"] = json!([
            { "ContainerName": "switchboard", "ContainerPort": 8080, "TargetGroupArn": { "Ref": "GatewayTargetGroup" } },
            { "ContainerName": "switchboard", "ContainerPort": 50051, "TargetGroupArn": { "Ref": "GrpcTargetGroup" } },
        ]);
        service["Properties"]["HealthCheckGracePeriodSeconds"] = json!(30);
    }
    resources.insert(format!("{id}Service"), service);

    // Scale on the queue's backlog (workers) or on CPU (gateway).
    resources.insert(
        format!("{id}ScalableTarget"),
        json!({
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": sub(&format!("service/${{Cluster}}/${{{id}Service.Name}}")),
                "MinCapacity": { "Ref": "MinTasks" },
                "MaxCapacity": { "Ref": "MaxTasks" },
            }
        }),
    );
    let tracking = if is_worker {
        json!({
            "TargetValue": { "Ref": "BacklogPerTask" },
            "CustomizedMetricSpecification": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{ "Name": "QueueName", "Value": { "Fn::GetAtt": [format!("{id}Queue"), "QueueName"] } }],
                "Statistic": "Average",
            },
            "ScaleInCooldown": 120,
            "ScaleOutCooldown": 30,
        })
    } else {
        json!({
            "TargetValue": 60,
            "PredefinedMetricSpecification": { "PredefinedMetricType": "ECSServiceAverageCPUUtilization" },
            "ScaleInCooldown": 120,
            "ScaleOutCooldown": 30,
        })
    };
    resources.insert(
        format!("{id}ScalingPolicy"),
        json!({
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub(&format!("${{Prefix}}-{component}-scaling")),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": { "Ref": format!("{id}ScalableTarget") },
                "TargetTrackingScalingPolicyConfiguration": tracking,
            }
        }),
    );

    if is_worker {
        resources.insert(
            format!("{id}DeadLetterAlarm"),
            alarm(
                &format!("{component}: messages in the dead-letter queue"),
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                json!([{ "Name": "QueueName", "Value": { "Fn::GetAtt": [format!("{id}DeadLetterQueue"), "QueueName"] } }]),
                "Maximum",
                0.0,
                "GreaterThanThreshold",
            ),
        );
        resources.insert(
            format!("{id}OldestMessageAlarm"),
            alarm(
                &format!("{component}: oldest message waits too long"),
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                json!([{ "Name": "QueueName", "Value": { "Fn::GetAtt": [format!("{id}Queue"), "QueueName"] } }]),
                "Maximum",
                300.0,
                "GreaterThanThreshold",
            ),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn alarm(description: &str, namespace: &str, metric: &str, dimensions: Value, statistic: &str, threshold: f64, comparison: &str) -> Value {
    json!({
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": comparison,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{ "Ref": "AlarmTopic" }],
        }
    })
}

fn parameters() -> Value {
    json!({
        "Prefix": { "Type": "String", "Default": "switchboard", "AllowedPattern": "[a-z0-9-]{1,40}",
            "Description": "Names every resource: queues P-{service}, topic P-events, table P, bucket P-attachments (bucket names are global: pick a unique prefix)" },
        "Image": { "Type": "String", "Description": "The switchboard image, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/switchboard:1.0.0" },
        "CollectorImage": { "Type": "String", "Default": "public.ecr.aws/aws-observability/aws-otel-collector:latest",
            "Description": "The ADOT collector sidecar that exports traces to X-Ray" },
        "VpcId": { "Type": "AWS::EC2::VPC::Id" },
        "VpcCidr": { "Type": "String", "AllowedPattern": "[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}",
            "Description": "The VPC's IPv4 range: the load balancer's addresses, whose X-Forwarded-For the gateway trusts to name the client (rate limits per client)" },
        "PrivateSubnets": { "Type": "List<AWS::EC2::Subnet::Id>", "Description": "Subnets of the tasks (with a NAT gateway or VPC endpoints)" },
        "PublicSubnets": { "Type": "List<AWS::EC2::Subnet::Id>", "Description": "Subnets of the load balancer" },
        "CertificateArn": { "Type": "String", "Description": "ACM certificate for the gateway's HTTPS listener" },
        "PublicBaseUrl": { "Type": "String", "Description": "Base of partner links, e.g. https://switchboard.example.com" },
        "OperatorEmail": { "Type": "String", "Description": "Where escalations are e-mailed" },
        "EmailFrom": { "Type": "String", "Description": "Verified SES identity that sends e-mail" },
        "AlarmEmail": { "Type": "String", "Description": "Who receives alarms" },
        "AiEngines": { "Type": "String", "Default": "local", "AllowedValues": ["local", "aws"] },
        "PartnerDeadlineSecs": { "Type": "String", "Default": "300" },
        "LogRetentionDays": { "Type": "Number", "Default": 30, "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365] },
        "AttachmentRetentionDays": { "Type": "Number", "Default": 90, "MinValue": 1 },
        "MinTasks": { "Type": "Number", "Default": 1, "MinValue": 1 },
        "MaxTasks": { "Type": "Number", "Default": 10, "MinValue": 1 },
        "BacklogPerTask": { "Type": "Number", "Default": 100, "Description": "Visible messages per task before a worker scales out" },
        "InboundSmsNumbers": { "Type": "String", "Default": "",
            "Description": "Two-way SMS numbers and their tenants (+15550001111=tenant-a,...): when set, an inbound-SMS topic is created and subscribed to the intake queue; make it the numbers' two-way destination in End User Messaging SMS" },
        "BedrockTokensPerHourAlarm": { "Type": "Number", "Default": 2000000, "Description": "Bedrock input+output tokens per hour that raise the spend alarm" },
    })
}

fn shared_resources(resources: &mut Map<String, Value>) {
    let mut add = |id: &str, v: Value| {
        resources.insert(id.to_owned(), v);
    };
    add(
        "EventsTopic",
        json!({ "Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": sub("${Prefix}-events"), "KmsMasterKeyId": "alias/aws/sns" } }),
    );
    // Not encrypted with alias/aws/sns: CloudWatch alarms cannot publish to a
    // topic under that key (its policy, which cannot be edited, does not let
    // cloudwatch.amazonaws.com use it), so the alarms would never arrive. An
    // accepted checkov finding (deploy/checkov-accepted.yaml).
    add(
        "AlarmTopic",
        json!({ "Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": sub("${Prefix}-alarms"),
        "Subscription": [{ "Protocol": "email", "Endpoint": { "Ref": "AlarmEmail" } }] } }),
    );
    let subscribed_queues: Vec<Value> = Service::ALL
        .iter()
        .filter(|s| s.subscription().is_some())
        .map(|s| json!({ "Ref": format!("{}Queue", logical(s.name())) }))
        .collect();
    add(
        "EventsToQueuesPolicy",
        json!({ "Type": "AWS::SQS::QueuePolicy", "Properties": {
        "Queues": subscribed_queues,
        "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": { "Service": "sns.amazonaws.com" }, "Action": "sqs:SendMessage",
            "Resource": sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Prefix}-*"),
            "Condition": { "ArnEquals": { "aws:SourceArn": { "Ref": "EventsTopic" } } } }] } } }),
    );
    let key_attributes: Vec<Value> =
        ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"].iter().map(|a| json!({ "AttributeName": a, "AttributeType": "S" })).collect();
    add(
        "Table",
        json!({ "Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": { "Ref": "Prefix" },
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": key_attributes,
        "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }, { "AttributeName": "sk", "KeyType": "RANGE" }],
        "GlobalSecondaryIndexes": [
            { "IndexName": switchboard_store::dynamodb::GSI1, "KeySchema": [{ "AttributeName": "gsi1pk", "KeyType": "HASH" }, { "AttributeName": "gsi1sk", "KeyType": "RANGE" }], "Projection": { "ProjectionType": "ALL" } },
            { "IndexName": switchboard_store::dynamodb::GSI2, "KeySchema": [{ "AttributeName": "gsi2pk", "KeyType": "HASH" }, { "AttributeName": "gsi2sk", "KeyType": "RANGE" }], "Projection": { "ProjectionType": "ALL" } },
        ],
        "TimeToLiveSpecification": { "AttributeName": switchboard_store::dynamodb::TTL_ATTRIBUTE, "Enabled": true },
        "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": true },
        "SSESpecification": { "SSEEnabled": true },
        "DeletionProtectionEnabled": true } ,
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain" }),
    );
    add(
        "AttachmentsBucket",
        json!({ "Type": "AWS::S3::Bucket", "Properties": {
        "BucketName": sub("${Prefix}-attachments"),
        "BucketEncryption": { "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }] },
        "PublicAccessBlockConfiguration": { "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true },
        "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
        "VersioningConfiguration": { "Status": "Enabled" },
        "LifecycleConfiguration": { "Rules": [{ "Id": "expire-attachments", "Status": "Enabled",
            "ExpirationInDays": { "Ref": "AttachmentRetentionDays" }, "NoncurrentVersionExpiration": { "NoncurrentDays": 1 } }] } },
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain" }),
    );
    add(
        "AttachmentsBucketPolicy",
        json!({ "Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": { "Ref": "AttachmentsBucket" },
        "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [{ "Fn::GetAtt": ["AttachmentsBucket", "Arn"] }, sub("${AttachmentsBucket.Arn}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } } }] } } }),
    );
    add(
        "TokenKeysSecret",
        json!({ "Type": "AWS::SecretsManager::Secret", "Properties": {
        "Name": sub("${Prefix}/token-keys"),
        "Description": "HMAC keys of partner links, newest first, comma-separated (64 base64 characters each)",
        "GenerateSecretString": { "PasswordLength": 64, "ExcludePunctuation": true } } }),
    );
    add(
        "Cluster",
        json!({ "Type": "AWS::ECS::Cluster", "Properties": {
        "ClusterName": { "Ref": "Prefix" },
        "ClusterSettings": [{ "Name": "containerInsights", "Value": "enabled" }] } }),
    );
    add(
        "ExecutionRole",
        json!({ "Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }] },
        "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")],
        "Policies": [{ "PolicyName": "read-token-keys", "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": { "Ref": "TokenKeysSecret" } }] } }] } }),
    );
    add(
        "LoadBalancerSecurityGroup",
        json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "Switchboard gateway load balancer", "VpcId": { "Ref": "VpcId" },
        "SecurityGroupIngress": [
            { "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "HTTPS: REST API and partner pages" },
            { "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0", "Description": "HTTP: answered only with a redirect to HTTPS" },
            { "IpProtocol": "tcp", "FromPort": 50051, "ToPort": 50051, "CidrIp": "0.0.0.0/0", "Description": "gRPC over TLS" }] } }),
    );
    add(
        "TaskSecurityGroup",
        json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "Switchboard tasks: only the load balancer reaches the gateway", "VpcId": { "Ref": "VpcId" },
        "SecurityGroupIngress": [
            { "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "SourceSecurityGroupId": { "Ref": "LoadBalancerSecurityGroup" }, "Description": "Gateway HTTP from the load balancer" },
            { "IpProtocol": "tcp", "FromPort": 50051, "ToPort": 50051, "SourceSecurityGroupId": { "Ref": "LoadBalancerSecurityGroup" }, "Description": "Gateway gRPC from the load balancer" }] } }),
    );
    add(
        "LoadBalancer",
        json!({ "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
        "Scheme": "internet-facing", "Subnets": { "Ref": "PublicSubnets" }, "SecurityGroups": [{ "Ref": "LoadBalancerSecurityGroup" }],
        "LoadBalancerAttributes": [{ "Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true" }] } }),
    );
    add(
        "GatewayTargetGroup",
        json!({ "Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
        "VpcId": { "Ref": "VpcId" }, "TargetType": "ip", "Protocol": "HTTP", "Port": 8080,
        "HealthCheckPath": "/readyz", "HealthCheckIntervalSeconds": 15, "HealthyThresholdCount": 2,
        "TargetGroupAttributes": [{ "Key": "deregistration_delay.timeout_seconds", "Value": "15" }] } }),
    );
    add(
        "HttpsListener",
        json!({ "Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
        "LoadBalancerArn": { "Ref": "LoadBalancer" }, "Port": 443, "Protocol": "HTTPS",
        "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "Certificates": [{ "CertificateArn": { "Ref": "CertificateArn" } }],
        "DefaultActions": [{ "Type": "forward", "TargetGroupArn": { "Ref": "GatewayTargetGroup" } }] } }),
    );
    // gRPC needs HTTP/2 end to end: its own target group and TLS listener.
    add(
        "GrpcTargetGroup",
        json!({ "Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
        "VpcId": { "Ref": "VpcId" }, "TargetType": "ip", "Protocol": "HTTP", "ProtocolVersion": "GRPC", "Port": 50051,
        "HealthCheckPath": "/grpc.health.v1.Health/Check", "Matcher": { "GrpcCode": "0" },
        "TargetGroupAttributes": [{ "Key": "deregistration_delay.timeout_seconds", "Value": "15" }] } }),
    );
    add(
        "GrpcListener",
        json!({ "Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
        "LoadBalancerArn": { "Ref": "LoadBalancer" }, "Port": 50051, "Protocol": "HTTPS",
        "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "Certificates": [{ "CertificateArn": { "Ref": "CertificateArn" } }],
        "DefaultActions": [{ "Type": "forward", "TargetGroupArn": { "Ref": "GrpcTargetGroup" } }] } }),
    );
    add(
        "HttpRedirectListener",
        json!({ "Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
        "LoadBalancerArn": { "Ref": "LoadBalancer" }, "Port": 80, "Protocol": "HTTP",
        "DefaultActions": [{ "Type": "redirect", "RedirectConfig": { "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301" } }] } }),
    );
    // Error rate > 5 %: 5xx over all requests, as CloudWatch metric math.
    add(
        "GatewayErrorRateAlarm",
        json!({ "Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": "gateway: more than 5 % of requests fail with 5xx",
        "EvaluationPeriods": 3, "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{ "Ref": "AlarmTopic" }],
        "Metrics": [
            { "Id": "errors", "ReturnData": false, "MetricStat": { "Stat": "Sum", "Period": 60, "Metric": {
                "Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": [{ "Name": "LoadBalancer", "Value": { "Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"] } }] } } },
            { "Id": "requests", "ReturnData": false, "MetricStat": { "Stat": "Sum", "Period": 60, "Metric": {
                "Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
                "Dimensions": [{ "Name": "LoadBalancer", "Value": { "Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"] } }] } } },
            { "Id": "rate", "Expression": "IF(requests > 0, 100 * errors / requests, 0)", "Label": "5xx %", "ReturnData": true },
        ] } }),
    );
    add(
        "TableThrottlingAlarm",
        alarm(
            "table: DynamoDB throttled requests",
            "AWS/DynamoDB",
            "ThrottledRequests",
            json!([{ "Name": "TableName", "Value": { "Ref": "Table" } }, { "Name": "Operation", "Value": "TransactWriteItems" }]),
            "Sum",
            0.0,
            "GreaterThanThreshold",
        ),
    );
    add(
        "BedrockSpendAlarm",
        json!({ "Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": "Bedrock: token use per hour above the spend threshold",
        "EvaluationPeriods": 1, "Threshold": { "Ref": "BedrockTokensPerHourAlarm" }, "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{ "Ref": "AlarmTopic" }],
        "Metrics": [
            { "Id": "input", "ReturnData": false, "MetricStat": { "Stat": "Sum", "Period": 3600, "Metric": { "Namespace": "AWS/Bedrock", "MetricName": "InputTokenCount" } } },
            { "Id": "output", "ReturnData": false, "MetricStat": { "Stat": "Sum", "Period": 3600, "Metric": { "Namespace": "AWS/Bedrock", "MetricName": "OutputTokenCount" } } },
            { "Id": "tokens", "Expression": "input + output", "Label": "tokens per hour", "ReturnData": true },
        ] } }),
    );
}

/// The namespace of the metrics the stack makes of its own log lines.
const LOG_METRICS_NAMESPACE: &str = "Switchboard";
/// The metric counting first-response SLA breaches.
const SLA_BREACHES_METRIC: &str = "SlaBreaches";

/// SLA breaches as a CloudWatch metric and an alarm on it. The processes
/// keep their Prometheus metrics inside their tasks, so the stack counts
/// the one log line each breach writes (`switchboard_pipeline::sla`): a
/// metric filter on the log groups of the two components that record
/// breaches (the notifier's check, the gateway's late resolve), and an
/// alarm when any breach happens in five minutes.
fn sla_resources(resources: &mut Map<String, Value>) {
    use switchboard_pipeline::sla::{BREACH_LOG_FIELD, BREACH_LOG_VALUE};
    for component in ["notifier", "gateway"] {
        let id = logical(component);
        resources.insert(
            format!("{id}SlaBreachMetricFilter"),
            json!({ "Type": "AWS::Logs::MetricFilter", "Properties": {
                "LogGroupName": { "Ref": format!("{id}LogGroup") },
                "FilterPattern": format!("{{ $.fields.{BREACH_LOG_FIELD} = \"{BREACH_LOG_VALUE}\" }}"),
                "MetricTransformations": [{
                    "MetricNamespace": sub(&format!("{LOG_METRICS_NAMESPACE}/${{Prefix}}")),
                    "MetricName": SLA_BREACHES_METRIC,
                    "MetricValue": "1",
                    "DefaultValue": 0,
                }],
            } }),
        );
    }
    resources.insert(
        "SlaBreachAlarm".to_owned(),
        json!({ "Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": "escalated inquiries breached their first-response SLA (no person answered by the deadline)",
            "Namespace": sub(&format!("{LOG_METRICS_NAMESPACE}/${{Prefix}}")),
            "MetricName": SLA_BREACHES_METRIC,
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{ "Ref": "AlarmTopic" }],
        } }),
    );
}

/// The optional inbound-SMS topic (condition `InboundSms`): End User
/// Messaging SMS publishes what the two-way numbers receive to it, and it
/// delivers the JSON raw to the intake queue (services/README.md, "The
/// customer's way back"). Not encrypted with alias/aws/sns: that key's
/// policy cannot admit sms-voice.amazonaws.com, so nothing could publish
/// (an accepted checkov finding, deploy/checkov-accepted.yaml).
fn inbound_sms_resources(resources: &mut Map<String, Value>) {
    let mut add = |id: &str, v: Value| {
        resources.insert(id.to_owned(), v);
    };
    add(
        "InboundSmsTopic",
        json!({ "Type": "AWS::SNS::Topic", "Condition": "InboundSms", "Properties": { "TopicName": sub("${Prefix}-inbound-sms") } }),
    );
    add(
        "InboundSmsTopicPolicy",
        json!({ "Type": "AWS::SNS::TopicPolicy", "Condition": "InboundSms", "Properties": {
        "Topics": [{ "Ref": "InboundSmsTopic" }],
        "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": { "Service": "sms-voice.amazonaws.com" }, "Action": "sns:Publish",
            "Resource": { "Ref": "InboundSmsTopic" },
            "Condition": { "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } } }] } } }),
    );
    add(
        "InboundSmsSubscription",
        json!({ "Type": "AWS::SNS::Subscription", "Condition": "InboundSms", "Properties": {
        "TopicArn": { "Ref": "InboundSmsTopic" },
        "Protocol": "sqs",
        "Endpoint": { "Fn::GetAtt": [format!("{}Queue", logical(Service::Intake.name())), "Arn"] },
        "RawMessageDelivery": true } }),
    );
    // The intake queue is subscribed to nothing else, so this is its only policy.
    add(
        "InboundSmsToIntakePolicy",
        json!({ "Type": "AWS::SQS::QueuePolicy", "Condition": "InboundSms", "Properties": {
        "Queues": [{ "Ref": format!("{}Queue", logical(Service::Intake.name())) }],
        "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": { "Service": "sns.amazonaws.com" }, "Action": "sqs:SendMessage",
            "Resource": { "Fn::GetAtt": [format!("{}Queue", logical(Service::Intake.name())), "Arn"] },
            "Condition": { "ArnEquals": { "aws:SourceArn": { "Ref": "InboundSmsTopic" } } } }] } } }),
    );
}

/// The whole template.
pub fn template() -> Value {
    let mut resources = Map::new();
    shared_resources(&mut resources);
    for component in COMPONENTS {
        component_resources(component, &mut resources);
    }
    resources.extend(subscriptions());
    inbound_sms_resources(&mut resources);
    sla_resources(&mut resources);
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Switchboard: six queue workers and a gateway on ECS Fargate, with SNS/SQS, DynamoDB, S3 and alarms. Generated by `switchboard deploy template`; do not edit by hand.",
        "Parameters": parameters(),
        "Conditions": {
            "InboundSms": { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "InboundSmsNumbers" }, ""] }] },
        },
        "Resources": resources,
        "Outputs": {
            "GatewayUrl": { "Value": sub("https://${LoadBalancer.DNSName}"), "Description": "Point PublicBaseUrl's DNS name here" },
            "EventsTopicArn": { "Value": { "Ref": "EventsTopic" } },
            "TableName": { "Value": { "Ref": "Table" } },
            "InboundSmsTopicArn": { "Condition": "InboundSms", "Value": { "Ref": "InboundSmsTopic" },
                "Description": "The two-way SMS numbers' destination in End User Messaging SMS" },
        },
    })
}

/// The template as committed: pretty JSON with a final newline.
pub fn template_text() -> String {
    let mut text = serde_json::to_string_pretty(&template()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = include_str!("../../../deploy/cloudformation/switchboard.json");

    #[test]
    fn the_committed_template_is_the_generated_one() {
        assert!(
            COMMITTED == template_text(),
            "deploy/cloudformation/switchboard.json is stale: run `cargo run -p switchboard -- deploy template > deploy/cloudformation/switchboard.json`"
        );
    }

    #[test]
    fn sla_breaches_raise_an_alarm_counted_from_the_breach_log_line() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        let resources = &committed["Resources"];
        for component in ["Notifier", "Gateway"] {
            let filter = &resources[format!("{component}SlaBreachMetricFilter")]["Properties"];
            assert_eq!(filter["FilterPattern"], "{ $.fields.sla = \"breached\" }");
            assert_eq!(filter["LogGroupName"]["Ref"], format!("{component}LogGroup"));
            assert_eq!(filter["MetricTransformations"][0]["MetricName"], SLA_BREACHES_METRIC);
        }
        let alarm = &resources["SlaBreachAlarm"]["Properties"];
        assert_eq!((alarm["MetricName"].as_str(), alarm["Threshold"].as_i64()), (Some(SLA_BREACHES_METRIC), Some(0)));
        assert_eq!(alarm["AlarmActions"][0]["Ref"], "AlarmTopic");
    }

    #[test]
    fn every_subscription_carries_the_routing_tables_filter_policy() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        for service in Service::ALL {
            let id = format!("{}Subscription", logical(service.name()));
            match service.subscription() {
                Some(policy) => {
                    let sub = &committed["Resources"][&id]["Properties"];
                    assert_eq!(sub["FilterPolicy"], policy.to_sns_json(), "{id}");
                    assert_eq!(sub["RawMessageDelivery"], true);
                    assert_eq!(sub["FilterPolicyScope"], "MessageAttributes");
                }
                None => assert!(committed["Resources"].get(&id).is_none(), "{id} must not exist"),
            }
        }
    }

    #[test]
    fn every_task_role_grants_exactly_the_permission_table() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        for component in COMPONENTS {
            let role = &committed["Resources"][format!("{}Role", logical(component))];
            let mut actions: Vec<String> = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()))
                .collect();
            actions.sort();
            actions.dedup();
            assert_eq!(actions, crate::permissions::granted_actions(component), "{component}");
        }
    }

    #[test]
    fn queues_are_named_as_the_code_names_them() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        for service in Service::ALL {
            let q = &committed["Resources"][format!("{}Queue", logical(service.name()))]["Properties"];
            assert_eq!(q["QueueName"]["Fn::Sub"], format!("${{Prefix}}-{}", service.name()));
            assert_eq!(q["RedrivePolicy"]["maxReceiveCount"], redrive_max_receives());
        }
    }

    fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
        template["Resources"].as_object().unwrap().iter().filter(|(_, r)| r["Type"] == kind).collect()
    }

    /// checkov's CKV_AWS_27 only recognises `KmsMasterKeyId` and is an
    /// accepted finding (deploy/checkov-accepted.yaml): this test checks the
    /// SQS-managed encryption it cannot see. (`alias/aws/sqs` would lock SNS
    /// out of the queues: the AWS-managed key's policy does not admit it.)
    #[test]
    fn every_queue_is_encrypted_with_sqs_managed_keys() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        let queues = resources_of_type(&committed, "AWS::SQS::Queue");
        assert_eq!(queues.len(), 2 * COMPONENTS.iter().filter(|c| **c != "gateway").count(), "a queue and a DLQ per worker");
        for (id, queue) in queues {
            assert_eq!(queue["Properties"]["SqsManagedSseEnabled"], true, "{id}");
        }
    }

    #[test]
    fn every_security_group_rule_says_what_it_is_for() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        let groups = resources_of_type(&committed, "AWS::EC2::SecurityGroup");
        assert!(!groups.is_empty());
        for (id, group) in groups {
            for direction in ["SecurityGroupIngress", "SecurityGroupEgress"] {
                for rule in group["Properties"][direction].as_array().into_iter().flatten() {
                    let description = rule["Description"].as_str().unwrap_or_default();
                    assert!(!description.is_empty(), "{id}: a rule without a description: {rule}");
                }
            }
        }
        for kind in ["AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"] {
            for (id, rule) in resources_of_type(&committed, kind) {
                assert!(rule["Properties"]["Description"].as_str().is_some_and(|d| !d.is_empty()), "{id}");
            }
        }
    }

    /// Port 80 is open to the world (an accepted checkov finding, CKV_AWS_260)
    /// because its listener does nothing but redirect to HTTPS.
    #[test]
    fn plain_http_only_redirects_to_https() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        let plain: Vec<_> = resources_of_type(&committed, "AWS::ElasticLoadBalancingV2::Listener")
            .into_iter()
            .filter(|(_, l)| l["Properties"]["Protocol"] == "HTTP")
            .collect();
        assert_eq!(plain.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["HttpRedirectListener"]);
        for (id, listener) in plain {
            assert_eq!(listener["Properties"]["Port"], 80, "{id}");
            let actions = listener["Properties"]["DefaultActions"].as_array().unwrap();
            assert_eq!(actions.len(), 1, "{id}");
            assert_eq!(actions[0]["Type"], "redirect", "{id}");
            assert_eq!(actions[0]["RedirectConfig"]["Protocol"], "HTTPS", "{id}");
            assert_eq!(actions[0]["RedirectConfig"]["Port"], "443", "{id}");
        }
        for (id, rule) in resources_of_type(&committed, "AWS::ElasticLoadBalancingV2::ListenerRule") {
            assert_ne!(rule["Properties"]["ListenerArn"], json!({ "Ref": "HttpRedirectListener" }), "{id} forwards plain HTTP");
        }
    }

    /// CloudWatch alarms cannot publish to a topic under the AWS-managed
    /// `alias/aws/sns` key: the alarms would be silently lost.
    #[test]
    fn alarms_go_to_a_topic_they_can_publish_to() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        let alarms = resources_of_type(&committed, "AWS::CloudWatch::Alarm");
        assert!(!alarms.is_empty());
        for (id, alarm) in alarms {
            for action in alarm["Properties"]["AlarmActions"].as_array().unwrap() {
                let topic = &committed["Resources"][action["Ref"].as_str().unwrap()];
                assert_eq!(topic["Type"], "AWS::SNS::Topic", "{id}");
                assert_ne!(topic["Properties"]["KmsMasterKeyId"], "alias/aws/sns", "{id}: CloudWatch cannot use the AWS-managed SNS key");
            }
        }
    }

    /// The inbound-SMS topic exists only with numbers configured, delivers
    /// the End User Messaging JSON raw (no SNS envelope) to the intake queue,
    /// which admits that topic alone, and intake is told the numbers.
    #[test]
    fn the_inbound_sms_topic_is_optional_and_delivers_raw_to_the_intake_queue() {
        let committed: Value = serde_json::from_str(COMMITTED).unwrap();
        let resources = &committed["Resources"];
        for id in ["InboundSmsTopic", "InboundSmsTopicPolicy", "InboundSmsSubscription", "InboundSmsToIntakePolicy"] {
            assert_eq!(resources[id]["Condition"], "InboundSms", "{id}");
        }
        assert_eq!(committed["Conditions"]["InboundSms"]["Fn::Not"][0]["Fn::Equals"][0]["Ref"], "InboundSmsNumbers");
        let subscription = &resources["InboundSmsSubscription"]["Properties"];
        assert_eq!(subscription["RawMessageDelivery"], true);
        assert_eq!(subscription["Endpoint"]["Fn::GetAtt"][0], "IntakeQueue");
        assert!(subscription.get("FilterPolicy").is_none(), "every text is delivered");
        let policy = &resources["InboundSmsToIntakePolicy"]["Properties"];
        assert_eq!(policy["Queues"], json!([{ "Ref": "IntakeQueue" }]));
        assert_eq!(policy["PolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]["Ref"], "InboundSmsTopic");
        let publisher = &resources["InboundSmsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(publisher["Principal"]["Service"], "sms-voice.amazonaws.com");
        let intake_env = resources["IntakeTaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"].as_array().unwrap();
        assert!(intake_env.contains(&json!({ "Name": "SWITCHBOARD_INBOUND_SMS_NUMBERS", "Value": { "Ref": "InboundSmsNumbers" } })));
    }
}

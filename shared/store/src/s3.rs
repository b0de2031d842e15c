//! Attachment bodies in S3 (AWS mode), and the bucket they live in.
//!
//! Objects are written with server-side encryption (SSE-S3) requested and
//! their media type; keys pass the same check as the embedded adapter's.

use crate::StoreError;
use crate::blob::{BlobStore, LIST_PAGE, StoredBlob, check_key};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

/// Attachment bodies as objects of one bucket.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// Blobs in `bucket`, which must exist ([`ensure_bucket`] creates it).
    pub fn new(client: Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// The bucket this store writes.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn failed<E, R>(op: &str, e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    // The SDK has retried throttling and 5xx already: report the backend as down.
    StoreError::Aws { call: format!("S3 {op}"), source: Box::new(e) }
}

fn request(e: aws_sdk_s3::error::BuildError) -> StoreError {
    // Only a missing required field makes an SDK builder fail: a bug here.
    StoreError::malformed("malformed S3 request", e)
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, bytes: &[u8], media_type: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()))
            .content_type(media_type)
            // Asked for explicitly, so an object is encrypted even in a
            // bucket whose default encryption was changed.
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| failed("PutObject", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        check_key(key)?;
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                return Err(StoreError::NotFound(key.to_owned()));
            }
            Err(e) => return Err(failed("GetObject", e)),
        };
        let body = out.body.collect().await.map_err(|e| StoreError::Aws { call: format!("S3 GetObject {key}"), source: Box::new(e) })?;
        Ok(body.into_bytes().to_vec())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        // S3 answers a delete of a missing key with success too.
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| failed("DeleteObject", e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str, start_after: &str) -> Result<Vec<StoredBlob>, StoreError> {
        let mut request = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).max_keys(LIST_PAGE as i32);
        if !start_after.is_empty() {
            request = request.start_after(start_after);
        }
        let out = request.send().await.map_err(|e| failed("ListObjectsV2", e))?;
        let mut found = Vec::new();
        for object in out.contents() {
            let (Some(key), Some(modified)) = (object.key(), object.last_modified()) else { continue };
            let stored_at = jiff::Timestamp::new(modified.secs(), modified.subsec_nanos() as i32)
                .map_err(|e| StoreError::malformed(format!("S3 object {key}"), e))?;
            found.push(StoredBlob { key: key.to_owned(), stored_at });
        }
        Ok(found)
    }
}

/// Creates `bucket` if it is missing, blocks all public access to it and
/// sets default encryption (SSE-S3). Returns whether anything changed, so
/// a second call returns `false`.
pub async fn ensure_bucket(client: &Client, bucket: &str) -> Result<bool, StoreError> {
    let mut changed = false;
    match client.head_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
            let mut create = client.create_bucket().bucket(bucket);
            // us-east-1 is the default location and must not be named.
            if let Some(region) = client.config().region().map(|r| r.as_ref()).filter(|r| *r != "us-east-1") {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
                );
            }
            match create.send().await {
                Ok(_) => changed = true,
                // Created by a concurrent provisioner: carry on with it.
                Err(e) if matches!(e.as_service_error(), Some(CreateBucketError::BucketAlreadyOwnedByYou(_))) => {}
                Err(e) => return Err(failed("CreateBucket", e)),
            }
        }
        Err(e) => return Err(failed("HeadBucket", e)),
    }
    if ensure_private(client, bucket).await? {
        changed = true;
    }
    if ensure_encrypted(client, bucket).await? {
        changed = true;
    }
    Ok(changed)
}

async fn ensure_private(client: &Client, bucket: &str) -> Result<bool, StoreError> {
    let blocked = match client.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => false,
        Err(e) => return Err(failed("GetPublicAccessBlock", e)),
    };
    if blocked {
        return Ok(false);
    }
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(config)
        .send()
        .await
        .map_err(|e| failed("PutPublicAccessBlock", e))?;
    Ok(true)
}

async fn ensure_encrypted(client: &Client, bucket: &str) -> Result<bool, StoreError> {
    let encrypted = match client.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => out
            .server_side_encryption_configuration()
            .is_some_and(|c| c.rules().iter().any(|r| r.apply_server_side_encryption_by_default().is_some())),
        Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => false,
        Err(e) => return Err(failed("GetBucketEncryption", e)),
    };
    if encrypted {
        return Ok(false);
    }
    let default = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().map_err(request)?;
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(default).build())
        .build()
        .map_err(request)?;
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(config)
        .send()
        .await
        .map_err(|e| failed("PutBucketEncryption", e))?;
    Ok(true)
}

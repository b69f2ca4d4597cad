//! What S3 stores with an uploaded or copied object besides its bytes: encryption, storage
//! class, user metadata, tags and HTTP headers. One type for every upload and copy verb,
//! whatever the format; applied in one place ([`apply_upload_options`]) to PutObject,
//! CreateMultipartUpload and CopyObject.

use aws_sdk_s3::operation::upload_part::UploadPartOutput;
use aws_sdk_s3::types::builders::CompletedPartBuilder;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedPart, ServerSideEncryption, StorageClass};

/// Server-side encryption of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encryption {
    /// SSE-S3: keys S3 manages (`AES256`).
    S3,
    /// SSE-KMS (`aws:kms`): with the given KMS key id or ARN, or the account's default key
    /// for S3 when `None`; `bucket_key` turns on an S3 Bucket Key, which cuts KMS requests.
    Kms {
        /// The KMS key id, ARN or alias.
        key_id: Option<String>,
        /// Whether to use an S3 Bucket Key.
        bucket_key: bool,
    },
}

/// The checksum S3 computes and stores for an upload, and checks the body against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Checksum {
    /// CRC32, the AWS SDK's default.
    #[default]
    Crc32,
    /// CRC32C (Castagnoli).
    Crc32c,
    /// CRC64/NVME, which S3 can also keep for a whole multipart object.
    Crc64Nvme,
    /// SHA-256.
    Sha256,
}

impl Checksum {
    pub(crate) fn algorithm(self) -> ChecksumAlgorithm {
        match self {
            Checksum::Crc32 => ChecksumAlgorithm::Crc32,
            Checksum::Crc32c => ChecksumAlgorithm::Crc32C,
            Checksum::Crc64Nvme => ChecksumAlgorithm::Crc64Nvme,
            Checksum::Sha256 => ChecksumAlgorithm::Sha256,
        }
    }

    /// The part's checksum, as S3 answered it, in the field CompleteMultipartUpload wants.
    pub(crate) fn complete_part(
        self,
        part: CompletedPartBuilder,
        sent: &UploadPartOutput,
    ) -> CompletedPart {
        let owned = |v: Option<&str>| v.map(str::to_owned);
        match self {
            Checksum::Crc32 => part.set_checksum_crc32(owned(sent.checksum_crc32())),
            Checksum::Crc32c => part.set_checksum_crc32_c(owned(sent.checksum_crc32_c())),
            Checksum::Crc64Nvme => part.set_checksum_crc64_nvme(owned(sent.checksum_crc64_nvme())),
            Checksum::Sha256 => part.set_checksum_sha256(owned(sent.checksum_sha256())),
        }
        .build()
    }
}

/// Settings stored with every object a connector uploads or copies: encryption, storage
/// class, user metadata, tags, Content-Type, Cache-Control and Content-Disposition. Set them on
/// a connector with [`S3Connector::with_upload_options`](crate::S3Connector::with_upload_options)
/// (or the builder's [`upload_options`](crate::S3ConnectorBuilder::upload_options)); they apply
/// to `upload`, `upload_with`, `upload_from_path`, the folder and many-object uploads, and
/// `copy`.
///
/// Buckets whose policy demands a KMS key refuse uploads without one (AccessDenied); this is
/// how to give it:
///
/// ```no_run
/// # async fn demo(s3: s3io::S3Connector, df: s3io::polars::prelude::DataFrame) -> s3io::Result<()> {
/// use s3io::UploadOptions;
///
/// let kms = UploadOptions::new()
///     .sse_kms("arn:aws:kms:eu-west-1:111122223333:key/1234abcd")
///     .storage_class("STANDARD_IA")
///     .metadata("owner", "data-team")
///     .tag("project", "sales");
/// s3.with_upload_options(kms).upload("corp-bucket", "2024/sales.parquet", &df).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct UploadOptions {
    pub(crate) encryption: Option<Encryption>,
    pub(crate) storage_class: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) content_type: Option<String>,
    pub(crate) cache_control: Option<String>,
    pub(crate) content_disposition: Option<String>,
    pub(crate) checksum: Option<Checksum>,
}

impl UploadOptions {
    /// Nothing beyond what S3 does by default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Server-side encryption with keys S3 manages (SSE-S3, `AES256`).
    pub fn sse_s3(mut self) -> Self {
        self.encryption = Some(Encryption::S3);
        self
    }

    /// Server-side encryption with this KMS key (SSE-KMS, `aws:kms`): an id, ARN or alias.
    pub fn sse_kms(mut self, key_id: impl Into<String>) -> Self {
        self.encryption = Some(Encryption::Kms {
            key_id: Some(key_id.into()),
            bucket_key: self.bucket_key_asked(),
        });
        self
    }

    /// Server-side encryption with the account's default KMS key for S3 (`aws/s3`).
    pub fn sse_kms_default_key(mut self) -> Self {
        self.encryption = Some(Encryption::Kms {
            key_id: None,
            bucket_key: self.bucket_key_asked(),
        });
        self
    }

    /// With SSE-KMS, use an S3 Bucket Key (fewer KMS requests); ignored otherwise.
    pub fn bucket_key(mut self, enabled: bool) -> Self {
        if let Some(Encryption::Kms { bucket_key, .. }) = &mut self.encryption {
            *bucket_key = enabled;
        }
        self
    }

    fn bucket_key_asked(&self) -> bool {
        matches!(
            self.encryption,
            Some(Encryption::Kms {
                bucket_key: true,
                ..
            })
        )
    }

    /// The storage class, as S3 names it: `STANDARD`, `STANDARD_IA`, `ONEZONE_IA`,
    /// `INTELLIGENT_TIERING`, `GLACIER_IR`, `GLACIER`, `DEEP_ARCHIVE`, ...
    pub fn storage_class(mut self, class: impl Into<String>) -> Self {
        self.storage_class = Some(class.into());
        self
    }

    /// One item of user metadata (`x-amz-meta-<key>`); call again for more.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// One object tag; call again for more (S3 allows 10).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// The Content-Type to store instead of the format's (`text/csv; charset=utf-8`, ...).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The Cache-Control header S3 serves the object with.
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    /// The Content-Disposition header S3 serves the object with, e.g.
    /// `attachment; filename="report.xlsx"`.
    pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
        self.content_disposition = Some(value.into());
        self
    }

    /// The checksum S3 checks each upload (and each part) against and stores (default
    /// CRC32, as the AWS SDK sends it).
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = Some(checksum);
        self
    }

    /// The tags as S3's `x-amz-tagging` header wants them: URL-encoded `key=value&...`.
    pub(crate) fn tagging(&self) -> Option<String> {
        (!self.tags.is_empty()).then(|| {
            self.tags
                .iter()
                .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        })
    }

    /// Whether the options replace what a copy would otherwise take from its source.
    pub(crate) fn replaces_metadata(&self) -> bool {
        !self.metadata.is_empty()
            || self.content_type.is_some()
            || self.cache_control.is_some()
            || self.content_disposition.is_some()
    }

    pub(crate) fn sse(&self) -> Option<(ServerSideEncryption, Option<&str>, bool)> {
        self.encryption.as_ref().map(|e| match e {
            Encryption::S3 => (ServerSideEncryption::Aes256, None, false),
            Encryption::Kms { key_id, bucket_key } => {
                (ServerSideEncryption::AwsKms, key_id.as_deref(), *bucket_key)
            }
        })
    }

    pub(crate) fn storage(&self) -> Option<StorageClass> {
        self.storage_class.as_deref().map(StorageClass::from)
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Sets every [`UploadOptions`] on a PutObject, CreateMultipartUpload or CopyObject request
/// builder, whose setters share their names: the one place the options meet the SDK.
macro_rules! apply_upload_options {
    ($request:expr, $options:expr) => {{
        let options: &$crate::transfer::UploadOptions = $options;
        let mut request = $request;
        if let Some((sse, key_id, bucket_key)) = options.sse() {
            request = request.server_side_encryption(sse);
            if let Some(key_id) = key_id {
                request = request.ssekms_key_id(key_id);
            }
            if bucket_key {
                request = request.bucket_key_enabled(true);
            }
        }
        if let Some(class) = options.storage() {
            request = request.storage_class(class);
        }
        for (key, value) in &options.metadata {
            request = request.metadata(key, value);
        }
        if let Some(tagging) = options.tagging() {
            request = request.tagging(tagging);
        }
        if let Some(content_type) = &options.content_type {
            request = request.content_type(content_type);
        }
        if let Some(value) = &options.cache_control {
            request = request.cache_control(value);
        }
        if let Some(value) = &options.content_disposition {
            request = request.content_disposition(value);
        }
        request
    }};
}
pub(crate) use apply_upload_options;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_url_encoded_and_kms_keeps_the_bucket_key() {
        let options = UploadOptions::new()
            .tag("project", "sales 2024")
            .tag("owner/team", "é&=");
        assert_eq!(
            options.tagging().as_deref(),
            Some("project=sales%202024&owner%2Fteam=%C3%A9%26%3D")
        );
        let kms = UploadOptions::new().sse_kms("k").bucket_key(true);
        assert_eq!(
            kms.sse(),
            Some((ServerSideEncryption::AwsKms, Some("k"), true))
        );
        assert_eq!(
            UploadOptions::new().sse_s3().sse(),
            Some((ServerSideEncryption::Aes256, None, false))
        );
        assert!(UploadOptions::new().tag("a", "b").tagging().is_some());
        assert!(!UploadOptions::new().tag("a", "b").replaces_metadata());
        assert!(
            UploadOptions::new()
                .cache_control("no-cache")
                .replaces_metadata()
        );
    }
}

//! Moving bytes: one GetObject into memory, one PutObject from memory. Knows nothing about
//! formats.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use crate::error::{Error, ErrorKind, Result};

/// What S3 reported about an object it stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadInfo {
    /// The number of bytes stored.
    pub size: u64,
    /// The entity tag S3 assigned, with its quotes.
    pub etag: Option<String>,
    /// The version id, when the bucket has versioning on.
    pub version_id: Option<String>,
}

/// Downloads a whole object into memory.
pub(crate) async fn get_bytes(client: &Client, bucket: &str, key: &str) -> Result<Bytes> {
    get_object(client, bucket, key)
        .await
        .map(|object| object.bytes)
}

/// A whole object and the Content-Type it was stored with.
pub(crate) struct Fetched {
    pub(crate) bytes: Bytes,
    pub(crate) content_type: Option<String>,
}

/// Downloads a whole object into memory, keeping its Content-Type.
pub(crate) async fn get_object(client: &Client, bucket: &str, key: &str) -> Result<Fetched> {
    let response = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(Error::from_sdk)?;
    let expected = response.content_length();
    let content_type = response.content_type().map(str::to_owned);
    let body = response.body.collect().await.map_err(|e| {
        Error::new(
            ErrorKind::Transport,
            format!("the connection failed while reading the object's body: {e}"),
        )
        .with_source(e)
    })?;
    let bytes = body.into_bytes();
    if let Some(expected) = expected
        && u64::try_from(expected).ok() != Some(bytes.len() as u64)
    {
        return Err(Error::new(
            ErrorKind::Transport,
            format!("the body ended after {} of {expected} bytes", bytes.len()),
        ));
    }
    Ok(Fetched {
        bytes,
        content_type,
    })
}

/// Uploads one buffer as a whole object.
pub(crate) async fn put_bytes(
    client: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<UploadInfo> {
    let size = body.len() as u64;
    let response = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(Error::from_sdk)?;
    Ok(UploadInfo {
        size,
        etag: response.e_tag().map(str::to_owned),
        version_id: response.version_id().map(str::to_owned),
    })
}

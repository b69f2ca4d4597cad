//! Uploads: one PutObject for small bodies, a parallel multipart upload for large ones.

use std::future::Future;
use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumType, CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};

use super::get::local_file_error;
use super::upload_options::Checksum;
use super::{Meter, TransferConfig, UploadInfo, UploadOptions, apply_upload_options};
use s3io_formats::{Error, ErrorKind, Result};

/// Where an upload or copy goes, and what S3 stores with it.
pub(crate) struct Destination<'a> {
    pub(crate) client: &'a Client,
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) options: &'a UploadOptions,
    /// The checksum the parts carry, for an upload; `None` for a copy, whose parts S3 makes.
    pub(crate) checksum: Option<Checksum>,
}

/// Uploads one buffer: a single PutObject up to the multipart threshold, parallel parts above.
pub(crate) async fn put_bytes(
    client: &Client,
    config: &TransferConfig,
    options: &UploadOptions,
    bucket: &str,
    key: &str,
    body: Bytes,
    content_type: &str,
) -> Result<UploadInfo> {
    let target = Destination {
        client,
        bucket,
        key,
        content_type: Some(content_type),
        options,
        checksum: options.checksum,
    };
    let meter = Meter::new(config, bucket, key, None);
    let size = body.len() as u64;
    meter.set_total(size);
    if !config.goes_multipart(size) {
        return target.put_whole(body, &meter).await;
    }
    target
        .put_parts(config, &meter, size, |start, len| {
            let (start, len) = (start as usize, len as usize);
            std::future::ready(Ok(body.slice(start..start + len)))
        })
        .await
}

/// Uploads a file, holding at most the part size times the concurrency in memory.
pub(crate) async fn put_from_path(
    client: &Client,
    config: &TransferConfig,
    options: &UploadOptions,
    bucket: &str,
    key: &str,
    path: &Path,
    content_type: &str,
) -> Result<UploadInfo> {
    let file = std::fs::File::open(path).map_err(|e| local_file_error(path, e))?;
    let size = file
        .metadata()
        .map_err(|e| local_file_error(path, e))?
        .len();
    drop(file);
    let read = |start: u64, len: u64| {
        let path = path.to_owned();
        async move {
            tokio::task::spawn_blocking(move || {
                let part = super::file_part::read_part(&path, start, len as usize)
                    .map_err(|e| local_file_error(&path, e))?;
                Ok(Bytes::from(part))
            })
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    format!("the file reader stopped: {e}"),
                )
            })?
        }
    };
    let target = Destination {
        client,
        bucket,
        key,
        content_type: Some(content_type),
        options,
        checksum: options.checksum,
    };
    let meter = Meter::new(config, bucket, key, Some(path));
    meter.set_total(size);
    if !config.goes_multipart(size) {
        return target.put_whole(read(0, size).await?, &meter).await;
    }
    target.put_parts(config, &meter, size, read).await
}

impl Destination<'_> {
    async fn put_whole(&self, body: Bytes, meter: &Meter) -> Result<UploadInfo> {
        let size = body.len() as u64;
        let request = self
            .client
            .put_object()
            .bucket(self.bucket)
            .key(self.key)
            .set_content_type(self.content_type.map(str::to_owned))
            .set_checksum_algorithm(self.options.checksum.map(|c| c.algorithm()));
        let response = apply_upload_options!(request, self.options)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(crate::sdk_error::from_sdk)?;
        meter.add(size);
        Ok(UploadInfo {
            size,
            etag: response.e_tag().map(str::to_owned),
            version_id: response.version_id().map(str::to_owned),
        })
    }

    /// A multipart upload whose parts come from `load(start, len)`, several in flight.
    async fn put_parts<F, Fut>(
        &self,
        config: &TransferConfig,
        meter: &Meter,
        size: u64,
        load: F,
    ) -> Result<UploadInfo>
    where
        F: Fn(u64, u64) -> Fut,
        Fut: Future<Output = Result<Bytes>>,
    {
        let parts = config.parts(0, size).collect();
        let part = |upload_id: String, number: i32, start: u64, len: u64| {
            let load = &load;
            async move {
                let body = load(start, len).await?;
                let part = self
                    .client
                    .upload_part()
                    .bucket(self.bucket)
                    .key(self.key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .set_checksum_algorithm(self.options.checksum.map(|c| c.algorithm()))
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map_err(crate::sdk_error::from_sdk)?;
                meter.add(len);
                let done = CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_owned));
                // A part's checksum goes into the completion only when the upload declared its
                // algorithm: servers that keep none for undeclared uploads (Garage) refuse a
                // completion that names one ("Invalid checksum for part 1").
                Ok(match self.options.checksum {
                    Some(checksum) => checksum.complete_part(done, &part),
                    None => done.build(),
                })
            }
        };
        multipart(self, parts, config.concurrency, part).await
    }
}

/// A multipart upload: creates it, makes each part with `part(upload_id, number, start, len)`,
/// several at once, and completes it. Any failure aborts the upload, so S3 keeps no orphaned
/// parts (and bills for none). Shared by uploads and server-side copies.
pub(crate) async fn multipart<F, Fut>(
    to: &Destination<'_>,
    parts: Vec<(u64, u64)>,
    concurrency: usize,
    part: F,
) -> Result<UploadInfo>
where
    F: Fn(String, i32, u64, u64) -> Fut,
    Fut: Future<Output = Result<CompletedPart>>,
{
    let Destination {
        client,
        bucket,
        key,
        content_type,
        options,
        ..
    } = *to;
    let size = parts.iter().map(|(_, len)| len).sum();
    let request = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .set_content_type(content_type.map(str::to_owned));
    // The checksum S3 keeps for the whole object: CRC64/NVME only as a full-object one.
    let request = match to.checksum {
        Some(checksum) => request
            .checksum_algorithm(checksum.algorithm())
            .set_checksum_type(
                (checksum == Checksum::Crc64Nvme).then_some(ChecksumType::FullObject),
            ),
        None => request,
    };
    let created = apply_upload_options!(request, options)
        .send()
        .await
        .map_err(crate::sdk_error::from_sdk)?;
    let Some(upload_id) = created.upload_id() else {
        return Err(Error::new(
            ErrorKind::Service,
            "S3 started a multipart upload without an id",
        ));
    };
    let uploaded = async {
        if parts.len() > 10_000 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} parts, more than S3's 10,000; raise the part size",
                    parts.len()
                ),
            ));
        }
        let mut done: Vec<CompletedPart> = stream::iter(parts.into_iter().enumerate())
            .map(|(index, (start, len))| part(upload_id.to_owned(), index as i32 + 1, start, len))
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        done.sort_by_key(|p| p.part_number());
        client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await
            .map_err(crate::sdk_error::from_sdk)
    }
    .await;
    match uploaded {
        Ok(done) => Ok(UploadInfo {
            size,
            etag: done.e_tag().map(str::to_owned),
            version_id: done.version_id().map(str::to_owned),
        }),
        Err(e) => {
            let aborted = client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await;
            match aborted {
                Ok(_) => Err(e),
                Err(abort) => Err(e.with_note(&format!(
                    " (and aborting upload {upload_id} failed too: {}; remove its parts with \
                     AbortMultipartUpload)",
                    crate::sdk_error::from_sdk(abort).message()
                ))),
            }
        }
    }
}

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
use super::{
    Meter, PayloadSigning, SignBody, TransferConfig, UploadInfo, UploadOptions,
    apply_upload_options,
};
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
    /// Whether the bodies sent are signed; a copy sends none.
    pub(crate) payload_signing: PayloadSigning,
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
        payload_signing: config.payload_signing,
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
        payload_signing: config.payload_signing,
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
            .customize()
            .interceptor(SignBody(self.payload_signing))
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
        let part = |upload_id: String, number: i32, (start, len): (u64, u64)| {
            let load = &load;
            async move {
                let body = load(start, len).await?;
                self.upload_part(upload_id, number, body, meter).await
            }
        };
        multipart(self, parts, config.concurrency, part).await
    }

    /// Uploads one part of multipart upload `upload_id`.
    async fn upload_part(
        &self,
        upload_id: String,
        number: i32,
        body: Bytes,
        meter: &Meter,
    ) -> Result<CompletedPart> {
        let len = body.len() as u64;
        let part = self
            .client
            .upload_part()
            .bucket(self.bucket)
            .key(self.key)
            .upload_id(upload_id)
            .part_number(number)
            .set_checksum_algorithm(self.options.checksum.map(|c| c.algorithm()))
            .body(ByteStream::from(body))
            .customize()
            .interceptor(SignBody(self.payload_signing))
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
}

/// Uploads a body that is still being made, whose parts come from `parts` in order as they
/// are made: one PutObject when the first part is the last, else a multipart upload whose
/// parts leave as they come, several in flight (each an in-memory body, as servers that
/// refuse aws-chunked bodies over plain HTTP need). A part source that fails, or ends
/// without saying it is done, aborts the upload: no object is made of part of a body.
pub(crate) async fn put_stream(
    to: &Destination<'_>,
    config: &TransferConfig,
    mut parts: tokio::sync::mpsc::Receiver<Result<MadePart>>,
) -> Result<UploadInfo> {
    let meter = Meter::new(config, to.bucket, to.key, None);
    let stopped = || {
        Error::new(
            ErrorKind::Encode,
            "the encoder stopped before the end of the body",
        )
    };
    let first = parts.recv().await.ok_or_else(stopped)??;
    if first.last {
        meter.set_total(first.body.len() as u64);
        return to.put_whole(first.body, &meter).await;
    }
    let size = std::sync::atomic::AtomicU64::new(0);
    // The parts after the first, until the last, an error, or a source that stopped without
    // a last part.
    let rest = stream::unfold(Some(parts), |parts| async move {
        let mut parts = parts?;
        match parts.recv().await {
            Some(Ok(part)) => {
                let more = (!part.last).then_some(parts);
                Some((Ok(part.body), more))
            }
            Some(Err(e)) => Some((Err(e), None)),
            None => Some((Err(stopped()), None)),
        }
    });
    let bodies = stream::once(async { Ok(first.body) }).chain(rest);
    let part = |upload_id: String, number: i32, body: Bytes| {
        size.fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
        to.upload_part(upload_id, number, body, &meter)
    };
    let mut info = multipart_of(to, bodies, config.concurrency, part).await?;
    info.size = size.into_inner();
    Ok(info)
}

/// A part of a body being made, for [`put_stream`].
pub(crate) struct MadePart {
    pub(crate) body: Bytes,
    /// Whether it is the body's last.
    pub(crate) last: bool,
}

/// A multipart upload of known `(start, len)` parts: creates it, makes each part with
/// `part(upload_id, number, (start, len))`, several at once, and completes it. Any failure
/// aborts the upload, so S3 keeps no orphaned parts (and bills for none). Shared by uploads
/// and server-side copies.
pub(crate) async fn multipart<F, Fut>(
    to: &Destination<'_>,
    parts: Vec<(u64, u64)>,
    concurrency: usize,
    part: F,
) -> Result<UploadInfo>
where
    F: Fn(String, i32, (u64, u64)) -> Fut,
    Fut: Future<Output = Result<CompletedPart>>,
{
    if parts.len() > MAX_PARTS {
        return Err(too_many_parts(parts.len()));
    }
    let size = parts.iter().map(|(_, len)| len).sum();
    let mut info = multipart_of(to, stream::iter(parts).map(Ok), concurrency, part).await?;
    info.size = size;
    Ok(info)
}

/// S3's most parts in one upload.
const MAX_PARTS: usize = 10_000;

fn too_many_parts(parts: usize) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("{parts} parts, more than S3's {MAX_PARTS}; raise the part size"),
    )
}

/// A multipart upload of the parts `parts` yields, in order: each made with
/// `part(upload_id, number, item)`, several at once; see [`multipart`]. The size in the
/// answer is left to the caller.
async fn multipart_of<I, F, Fut>(
    to: &Destination<'_>,
    parts: impl futures_util::Stream<Item = Result<I>>,
    concurrency: usize,
    part: F,
) -> Result<UploadInfo>
where
    F: Fn(String, i32, I) -> Fut,
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
        let mut done: Vec<CompletedPart> = parts
            .enumerate()
            .map(|(index, item)| {
                let item = item?;
                if index >= MAX_PARTS {
                    return Err(too_many_parts(index + 1));
                }
                Ok(part(upload_id.to_owned(), index as i32 + 1, item))
            })
            .try_buffer_unordered(concurrency)
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
            size: 0,
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

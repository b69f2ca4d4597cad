//! Downloads: a first ranged GET, then the remaining parts in parallel with its body, each
//! resumable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::head_object::builders::HeadObjectFluentBuilder;
use aws_sdk_s3::types::{ChecksumMode, ChecksumType};
use aws_smithy_checksums::ChecksumAlgorithm;
use bytes::Bytes;
use futures_util::future::{join, try_join};
use futures_util::{StreamExt, TryStreamExt, stream};

use super::{Meter, TransferConfig};
use s3io_formats::{Error, ErrorKind, Result};

/// The object a download reads.
#[derive(Clone, Copy)]
struct Source<'a> {
    client: &'a Client,
    bucket: &'a str,
    key: &'a str,
    version: Option<&'a str>,
}

/// What the first answer says about the whole object.
struct Head {
    total: u64,
    etag: Option<String>,
    content_type: Option<String>,
}

/// A whole object and the Content-Type it was stored with.
pub(crate) struct Fetched {
    pub(crate) bytes: Bytes,
    pub(crate) content_type: Option<String>,
}

/// Downloads a whole object, or one version of it, into one buffer, with its Content-Type.
/// `check_size` sees the object's size as soon as the first answer tells it, and may refuse
/// it before the body is read or a buffer is allocated.
pub(crate) async fn get_bytes(
    client: &Client,
    config: &TransferConfig,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    check_size: impl FnOnce(u64) -> Result<()>,
) -> Result<Fetched> {
    let source = Source {
        client,
        bucket,
        key,
        version,
    };
    let meter = Meter::new(config, bucket, key, None);
    let (first, head, first_len) = source.open(config, &meter, check_size).await?;
    let mut buffer = vec![0u8; to_usize(head.total)?];
    let (first_part, rest) = buffer.split_at_mut(to_usize(first_len)?);
    // The part futures are built up front: a closure taking `&mut [u8]` kept inside the
    // stream would defeat the compiler's proof that the download future is `Send`. The
    // first answer's body is read alongside the others, not before them.
    let etag = head.etag.as_deref();
    let mut parts = vec![source.read_range(config, &meter, 0, first_part, etag, Some(first))];
    for ((start, _), slice) in config
        .parts(first_len, head.total)
        .zip(chunks(rest, config.part_size))
    {
        parts.push(source.read_range(config, &meter, start, slice, etag, None));
    }
    let download = stream::iter(parts)
        .buffer_unordered(config.concurrency)
        .try_collect::<()>();
    let several = first_len < head.total;
    let (expected, downloaded) = join(source.checksum_of(several, etag), download).await;
    downloaded?;
    let buffer = check_assembled(expected, buffer, FullObjectChecksum::check).await?;
    Ok(Fetched {
        bytes: Bytes::from(buffer),
        content_type: head.content_type,
    })
}

/// Downloads a whole object, or one version of it, in parts, handing each to `sink` in
/// order as soon as it and every part before it have arrived, with the configured number of
/// GETs in flight: what a decoder that parses while the object transfers reads. Memory stays
/// within the parts in flight and those `sink` holds. `check_size` sees the object's size
/// before any body is read. The parts are pinned to the first answer's ETag and resumed like
/// any download's; at the end, when the object has a full-object checksum, the bytes are
/// checked against it and an error returned if they differ, so nothing decoded from them is
/// kept. `Ok(false)`: `sink` stopped taking parts before the last.
pub(crate) async fn get_parts(
    client: &Client,
    config: &TransferConfig,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    check_size: impl FnOnce(u64) -> Result<()>,
    sink: tokio::sync::mpsc::Sender<Bytes>,
) -> Result<bool> {
    let source = Source {
        client,
        bucket,
        key,
        version,
    };
    let meter = Meter::new(config, bucket, key, None);
    let (first, head, first_len) = source.open(config, &meter, check_size).await?;
    let etag = head.etag.as_deref();
    let source = &source;
    let meter = &meter;
    // The first answer's body is read alongside the next parts, not before them.
    let ranges = std::iter::once((0, first_len, Some(first))).chain(
        config
            .parts(first_len, head.total)
            .map(|(start, len)| (start, len, None)),
    );
    let parts = stream::iter(ranges.map(|(start, len, response)| async move {
        let mut part = vec![0u8; to_usize(len)?];
        source
            .read_range(config, meter, start, &mut part, etag, response)
            .await
            .map(|()| Bytes::from(part))
    }))
    .buffered(config.concurrency);
    let mut parts = std::pin::pin!(parts);
    // The checksum to check the parts against is asked for while they transfer; parts that
    // arrive before its answer wait to be hashed (they are shared with the sink, not copied).
    let mut checksum = std::pin::pin!(source.checksum_of(first_len < head.total, etag));
    let mut check: Option<Checking> = None;
    let mut unhashed = Vec::new();
    loop {
        tokio::select! {
            biased;
            expected = &mut checksum, if check.is_none() => {
                check = Some(Checking::start(expected, unhashed.drain(..)));
            }
            part = parts.try_next() => {
                let Some(part) = part? else { break };
                match &mut check {
                    Some(check) => check.update(&part),
                    None => unhashed.push(part.clone()),
                }
                if sink.send(part).await.is_err() {
                    return Ok(false);
                }
            }
        }
    }
    let check = match check {
        Some(check) => check,
        None => Checking::start(checksum.await, unhashed.drain(..)),
    };
    check.finish()?;
    Ok(true)
}

/// A full-object checksum being computed over parts as they arrive, when there is one to
/// check against.
struct Checking(
    Option<(
        FullObjectChecksum,
        Box<dyn aws_smithy_checksums::http::HttpChecksum>,
    )>,
);

impl Checking {
    /// Starts checking against `expected`, with the parts that came before it was known.
    fn start(expected: Option<FullObjectChecksum>, before: impl Iterator<Item = Bytes>) -> Self {
        let mut check = Checking(expected.map(|e| {
            let hasher = e.algorithm.into_impl();
            (e, hasher)
        }));
        before.for_each(|part| check.update(&part));
        check
    }

    fn update(&mut self, part: &[u8]) {
        if let Some((_, hasher)) = &mut self.0 {
            hasher.update(part);
        }
    }

    /// An error when the parts did not hash to the expected checksum.
    fn finish(self) -> Result<()> {
        match self.0 {
            Some((expected, hasher)) => expected.compare(hasher),
            None => Ok(()),
        }
    }
}

/// An object's full-object checksum, as the server keeps it: what a download assembled from
/// ranges must hash to.
struct FullObjectChecksum {
    algorithm: ChecksumAlgorithm,
    name: &'static str,
    /// Base64, as S3 sends it.
    value: String,
}

impl FullObjectChecksum {
    /// The strongest full-object checksum a HEAD answer names. Only `ChecksumType:
    /// FULL_OBJECT` counts: a composite checksum (a multipart upload's checksum of its parts'
    /// checksums, `...-N`) cannot be checked from the whole, and servers that name no type
    /// are not guessed at.
    fn of(head: &HeadObjectOutput) -> Option<FullObjectChecksum> {
        if head.checksum_type() != Some(&ChecksumType::FullObject) {
            return None;
        }
        [
            (
                head.checksum_crc64_nvme(),
                ChecksumAlgorithm::Crc64Nvme,
                "CRC64NVME",
            ),
            (head.checksum_sha256(), ChecksumAlgorithm::Sha256, "SHA256"),
            (head.checksum_crc32_c(), ChecksumAlgorithm::Crc32c, "CRC32C"),
            (head.checksum_crc32(), ChecksumAlgorithm::Crc32, "CRC32"),
            (head.checksum_sha1(), ChecksumAlgorithm::Sha1, "SHA1"),
        ]
        .into_iter()
        .find_map(|(value, algorithm, name)| {
            // A value of another length is not this algorithm's (moto 5.2.5 names a 4-byte
            // value CRC64NVME): not checked, rather than fail good bytes.
            let size =
                aws_smithy_checksums::Checksum::size(algorithm.into_impl().as_ref()) as usize;
            let value = value
                .filter(|v| v.len() == size.div_ceil(3) * 4)?
                .to_owned();
            Some(FullObjectChecksum {
                algorithm,
                name,
                value,
            })
        })
    }

    /// `bytes`, if they hash to the checksum; a `Transport` error if they do not.
    fn check(self, bytes: Vec<u8>) -> Result<Vec<u8>> {
        self.verify(|hasher| {
            hasher.update(&bytes);
            Ok(())
        })?;
        Ok(bytes)
    }

    /// Whether the file at `path` hashes to the checksum, read in parts of 8 MiB.
    fn check_file(self, path: &Path) -> Result<()> {
        use std::io::Read;
        self.verify(|hasher| {
            let mut file = std::fs::File::open(path).map_err(|e| local_file_error(path, e))?;
            let mut part = vec![0u8; 8 << 20];
            loop {
                match file.read(&mut part) {
                    Ok(0) => return Ok(()),
                    Ok(n) => hasher.update(&part[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(local_file_error(path, e)),
                }
            }
        })
    }

    /// Feeds the downloaded bytes to the algorithm with `feed`, then compares: a `Transport`
    /// error naming both values when they differ.
    fn verify(
        self,
        feed: impl FnOnce(&mut dyn aws_smithy_checksums::Checksum) -> Result<()>,
    ) -> Result<()> {
        let mut hasher = self.algorithm.into_impl();
        feed(hasher.as_mut())?;
        self.compare(hasher)
    }

    /// Compares what `hasher`, fed the downloaded bytes, gives with the checksum: a
    /// `Transport` error naming both values when they differ.
    fn compare(self, hasher: Box<dyn aws_smithy_checksums::http::HttpChecksum>) -> Result<()> {
        let got = hasher.header_value();
        if got.to_str().is_ok_and(|got| got == self.value) {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Transport,
            format!(
                "the downloaded bytes do not match the object's full-object {} checksum \
                 (S3 keeps {}, the bytes give {}): the body changed on the way",
                self.name,
                self.value,
                got.to_str().unwrap_or("?")
            ),
        ))
    }
}

/// Bytes from one end of an object (its last, from a suffix range GET, or its first), and
/// what the answer says of the object.
pub(crate) struct Piece {
    pub(crate) bytes: Bytes,
    /// The object's size.
    pub(crate) total: u64,
    /// The ETag the later ranges are pinned to.
    pub(crate) etag: Option<String>,
}

/// Fetches `len` bytes at one `end` of an object (all of it if it is shorter): its first with
/// a range GET, or its last with a suffix range GET (`Range: bytes=-len`), resumed like any
/// part. An empty object gives no bytes.
pub(crate) async fn get_end(
    client: &Client,
    config: &TransferConfig,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    end: End,
    len: u64,
) -> Result<Piece> {
    let source = Source {
        client,
        bucket,
        key,
        version,
    };
    let meter = Meter::new(config, bucket, key, None);
    let empty = || {
        meter.set_total(0);
        Ok(Piece {
            bytes: Bytes::new(),
            total: 0,
            etag: None,
        })
    };
    let response = match end {
        End::First => match source.request(0, Some(len.max(1) - 1), None).await {
            // S3 refuses any range of an empty object.
            Err(e) if e.code() == Some("InvalidRange") => return empty(),
            other => other?,
        },
        End::Last => match source.suffix(len).await {
            // S3 refuses a suffix of an empty object (416); s3s-fs fails one longer than the
            // object (500). Ask for the object's size, then for an ordinary range.
            Err(e) if matches!(e.code(), Some("InvalidRange" | "InternalError")) => {
                let total = source.size().await?;
                if total == 0 {
                    return empty();
                }
                source
                    .request(total - len.clamp(1, total), Some(total - 1), None)
                    .await?
            }
            other => other?,
        },
    };
    source.read_piece(config, &meter, response, len, end).await
}

/// Which end of an object a [`Piece`] is from.
#[derive(Clone, Copy)]
pub(crate) enum End {
    First,
    Last,
}

/// The most bytes between two ranges that [`get_ranges`] fetches rather than make another
/// request: a Parquet writer puts a column chunk's metadata (some 50 bytes) after it.
const RANGE_GAP: u64 = 16 << 10;

/// Fetches byte ranges of an object, pinned to `etag`; the bytes come back in the order of
/// `ranges`. Ranges that follow one another with a gap of at most [`RANGE_GAP`] bytes are
/// fetched as one span, and spans
/// longer than the part size in parts, `concurrency` GETs at a time, each resumed like any
/// part.
pub(crate) async fn get_ranges(
    client: &Client,
    config: &TransferConfig,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    etag: Option<&str>,
    ranges: &[std::ops::Range<u64>],
) -> Result<Vec<Bytes>> {
    let source = Source {
        client,
        bucket,
        key,
        version,
    };
    let meter = Meter::new(config, bucket, key, None);
    // Each range's span: where it starts, and its buffer.
    let mut spans: Vec<(u64, u64)> = Vec::new();
    let mut of_range = Vec::with_capacity(ranges.len());
    for range in ranges {
        let end = range.end.max(range.start);
        match spans.last_mut() {
            Some((_, span_end))
                if range.start >= *span_end && range.start - *span_end <= RANGE_GAP =>
            {
                *span_end = end
            }
            _ => spans.push((range.start, end)),
        }
        of_range.push(spans.len() - 1);
    }
    meter.set_total(spans.iter().map(|(start, end)| end - start).sum());
    let mut buffers = Vec::with_capacity(spans.len());
    for &(start, end) in &spans {
        buffers.push((start, vec![0u8; to_usize(end - start)?]));
    }
    // The futures are made up front, as in `get_bytes`: a closure kept inside the stream
    // would defeat the compiler's proof that the future is `Send`.
    let mut fetches = Vec::new();
    for (start, buffer) in &mut buffers {
        let mut at = *start;
        for part in chunks(buffer, config.part_size) {
            let len = part.len() as u64;
            fetches.push(read_part(&source, config, &meter, at, part, etag));
            at += len;
        }
    }
    stream::iter(fetches)
        .buffer_unordered(config.concurrency)
        .try_collect::<()>()
        .await?;
    let buffers: Vec<(u64, Bytes)> = buffers
        .into_iter()
        .map(|(start, buffer)| (start, Bytes::from(buffer)))
        .collect();
    Ok(ranges
        .iter()
        .zip(of_range)
        .map(|(range, span)| {
            let (start, bytes) = &buffers[span];
            let from = (range.start - start) as usize;
            bytes.slice(from..from + range.end.saturating_sub(range.start) as usize)
        })
        .collect())
}

/// Fills `part` from byte `start` on; nothing to fetch for an empty one.
async fn read_part(
    source: &Source<'_>,
    config: &TransferConfig,
    meter: &Meter,
    start: u64,
    part: &mut [u8],
    etag: Option<&str>,
) -> Result<()> {
    if part.is_empty() {
        return Ok(());
    }
    source
        .read_range(config, meter, start, part, etag, None)
        .await
}

/// Downloads an object to a file with memory bounded by the part size times the
/// concurrency. The bytes go to a temporary file beside `path`, renamed over it only when
/// complete, so a failed download never leaves a partial file under the real name.
pub(crate) async fn get_to_path(
    client: &Client,
    config: &TransferConfig,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    path: &Path,
) -> Result<u64> {
    let source = Source {
        client,
        bucket,
        key,
        version,
    };
    let partial = PartialFile::create(path)?;
    let meter = Meter::new(config, bucket, key, Some(path));
    let (first, head, first_len) = source.open(config, &meter, |_| Ok(())).await?;
    partial.set_len(head.total)?;
    let etag = head.etag.as_deref();
    let first_part = async {
        let mut part = vec![0u8; to_usize(first_len)?];
        source
            .read_range(config, &meter, 0, &mut part, etag, Some(first))
            .await?;
        partial.write_at(0, part).await
    };
    let rest = config.parts(first_len, head.total).map(|(start, len)| {
        let (source, meter, partial) = (&source, &meter, &partial);
        async move {
            let mut part = vec![0u8; to_usize(len)?];
            source
                .read_range(config, meter, start, &mut part, etag, None)
                .await?;
            partial.write_at(start, part).await
        }
    });
    let download = try_join(
        first_part,
        stream::iter(rest)
            .buffer_unordered(config.concurrency)
            .try_collect::<()>(),
    );
    let several = first_len < head.total;
    let (expected, downloaded) = join(source.checksum_of(several, etag), download).await;
    downloaded?;
    // Checked before the file takes its real name.
    check_assembled(expected, partial.temp.clone(), |expected, temp| {
        expected.check_file(&temp).map(|()| temp)
    })
    .await?;
    partial.finish()?;
    Ok(head.total)
}

/// Downloads an object into `writer`, in order, with memory bounded by the part size times
/// the concurrency: parts are fetched in parallel, up to `concurrency` ahead of the one being
/// written, and written by a blocking thread so a slow writer never stalls the runtime.
/// Bytes written before a failure stay written. A writer error stops the download and is
/// returned with the `io::Error` as its source.
pub(crate) async fn get_to_writer<W>(
    client: &Client,
    config: &TransferConfig,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    writer: W,
) -> Result<u64>
where
    W: std::io::Write + Send + 'static,
{
    let (parts_in, mut parts_out) = tokio::sync::mpsc::channel::<Bytes>(config.concurrency);
    let writing = tokio::task::spawn_blocking(move || {
        let mut writer = writer;
        let mut written = 0u64;
        while let Some(part) = parts_out.blocking_recv() {
            writer.write_all(&part)?;
            written += part.len() as u64;
        }
        writer.flush().map(|()| written)
    });
    // A writer that stops makes `get_parts` stop; its own error says why.
    let read = get_parts(client, config, bucket, key, version, |_| Ok(()), parts_in).await;
    let written = writing
        .await
        .map_err(|e| Error::new(ErrorKind::Transport, format!("the writer stopped: {e}")))?;
    let written = written.map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("cannot write the download: {e}"),
        )
        .with_source(e)
    })?;
    read.map(|_| written)
}

impl Source<'_> {
    /// A GET of this object (this version), asking for its checksum.
    fn get(&self) -> GetObjectFluentBuilder {
        self.client
            .get_object()
            .bucket(self.bucket)
            .key(self.key)
            .set_version_id(self.version.map(str::to_owned))
            .checksum_mode(ChecksumMode::Enabled)
    }

    /// A HEAD of this object (this version), asking for its checksum.
    fn head(&self) -> HeadObjectFluentBuilder {
        self.client
            .head_object()
            .bucket(self.bucket)
            .key(self.key)
            .set_version_id(self.version.map(str::to_owned))
            .checksum_mode(ChecksumMode::Enabled)
    }

    /// Reads an answer to a range GET for at most `len` bytes at one `end` of the object into
    /// a [`Piece`], after checking that the server honoured the range.
    async fn read_piece(
        &self,
        config: &TransferConfig,
        meter: &Meter,
        response: GetObjectOutput,
        len: u64,
        end: End,
    ) -> Result<Piece> {
        let (length, total) = length_and_total(&response)?;
        let (which, start) = match end {
            End::First => ("first", 0),
            End::Last => ("last", total.saturating_sub(length)),
        };
        if length > total || length > len.max(1) {
            return Err(Error::new(
                ErrorKind::Transport,
                format!(
                    "S3 sent {length} bytes of a {total}-byte object when asked for its {which} \
                     {len} (a server that ignores Range headers)"
                ),
            ));
        }
        meter.set_total(length);
        let etag = response.e_tag().map(str::to_owned);
        let mut bytes = vec![0u8; to_usize(length)?];
        self.read_range(
            config,
            meter,
            start,
            &mut bytes,
            etag.as_deref(),
            Some(response),
        )
        .await?;
        Ok(Piece {
            bytes: Bytes::from(bytes),
            total,
            etag,
        })
    }

    /// A GET of bytes `start..=end` (to the end with `None`), pinned to `etag` if given.
    async fn request(
        &self,
        start: u64,
        end: Option<u64>,
        etag: Option<&str>,
    ) -> Result<GetObjectOutput> {
        let range = match end {
            Some(end) => format!("bytes={start}-{end}"),
            None => format!("bytes={start}-"),
        };
        let response = self
            .get()
            .range(range)
            .set_if_match(etag.map(str::to_owned))
            .send()
            .await
            .map_err(|e| changed_or(crate::sdk_error::from_sdk(e)))?;
        // Servers that ignore If-Match still name the version they sent.
        match (etag, response.e_tag()) {
            (Some(pinned), Some(sent)) if pinned != sent => Err(changed()),
            _ => Ok(response),
        }
    }

    /// A GET of the object's last `len` bytes.
    async fn suffix(&self, len: u64) -> Result<GetObjectOutput> {
        self.get()
            .range(format!("bytes=-{}", len.max(1)))
            .send()
            .await
            .map_err(crate::sdk_error::from_sdk)
    }

    /// The full-object checksum a download of `several` ranges (which carry no checksum of
    /// their own) is checked against, when the object has one: asked for while the ranges
    /// transfer.
    async fn checksum_of(&self, several: bool, etag: Option<&str>) -> Option<FullObjectChecksum> {
        match several {
            true => self.full_object_checksum(etag).await,
            false => None,
        }
    }

    /// The object's full-object checksum, from a HEAD request pinned to `etag`; `None` when
    /// the server keeps none, or the HEAD fails (the download itself has succeeded; a check
    /// that cannot be made does not fail it).
    async fn full_object_checksum(&self, etag: Option<&str>) -> Option<FullObjectChecksum> {
        let head = self
            .head()
            .set_if_match(etag.map(str::to_owned))
            .send()
            .await
            .ok()?;
        FullObjectChecksum::of(&head)
    }

    /// The object's size, from a HEAD request.
    async fn size(&self) -> Result<u64> {
        let head = self
            .head()
            .send()
            .await
            .map_err(crate::sdk_error::from_sdk)?;
        Ok(head
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0))
    }

    /// Starts a whole-object download: the first part's answer and what it says of the
    /// object, once `check_size` has accepted its size, with `meter` set to that size, and
    /// how many bytes the answer carries.
    async fn open(
        &self,
        config: &TransferConfig,
        meter: &Meter,
        check_size: impl FnOnce(u64) -> Result<()>,
    ) -> Result<(GetObjectOutput, Head, u64)> {
        let (first, head) = self.first(config).await?;
        check_size(head.total)?;
        meter.set_total(head.total);
        let first_len = first
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0)
            .min(head.total);
        Ok((first, head, first_len))
    }

    /// The first part's response, and the object's size and ETag from its headers. An empty
    /// object has no first byte to range over, so it is fetched plainly.
    async fn first(&self, config: &TransferConfig) -> Result<(GetObjectOutput, Head)> {
        let response = match self.request(0, Some(config.part_size - 1), None).await {
            Err(e) if e.code() == Some("InvalidRange") => self
                .get()
                .send()
                .await
                .map_err(crate::sdk_error::from_sdk)?,
            other => other?,
        };
        let (length, total) = length_and_total(&response)?;
        if length > total {
            return Err(Error::new(
                ErrorKind::Transport,
                format!("S3 sent {length} bytes of a {total}-byte object"),
            ));
        }
        let etag = response.e_tag().map(str::to_owned);
        let content_type = response.content_type().map(str::to_owned);
        Ok((
            response,
            Head {
                total,
                etag,
                content_type,
            },
        ))
    }

    /// Fills `dst` with the object's bytes from `start` on. A body that breaks off, stalls or
    /// ends early is asked for again from the first missing byte, pinned to `etag`, up to the
    /// configured number of resumes. `response` is an answer already under way, if any.
    async fn read_range(
        &self,
        config: &TransferConfig,
        meter: &Meter,
        start: u64,
        dst: &mut [u8],
        etag: Option<&str>,
        mut response: Option<GetObjectOutput>,
    ) -> Result<()> {
        let mut filled = 0usize;
        let mut resumes = 0u32;
        loop {
            let body = match response.take() {
                Some(response) => response,
                None => {
                    let from = start + filled as u64;
                    let end = start + dst.len() as u64 - 1;
                    self.request(from, Some(end), etag).await?
                }
            }
            .body;
            let (copied, end) =
                copy_body(body, &mut dst[filled..], config.read_idle_timeout, meter).await;
            filled += copied;
            let why = match end {
                BodyEnd::Clean if filled == dst.len() => return Ok(()),
                BodyEnd::Clean => format!("the body ended after {filled} of {} bytes", dst.len()),
                // Every byte came, then a complaint (a checksum mismatch): none can be trusted.
                BodyEnd::Broken(why) if filled == dst.len() => {
                    meter.retract(filled as u64);
                    filled = 0;
                    why
                }
                BodyEnd::Broken(why) => why,
                BodyEnd::TooLong => {
                    return Err(Error::new(
                        ErrorKind::Transport,
                        format!("S3 sent more than the {} bytes asked for", dst.len()),
                    ));
                }
            };
            if resumes >= config.resume_attempts {
                return Err(Error::new(
                    ErrorKind::Transport,
                    format!(
                        "the download broke off at byte {} and did not resume after {resumes} \
                         attempts: {why}",
                        start + filled as u64
                    ),
                ));
            }
            resumes += 1;
            tokio::time::sleep(backoff(resumes)).await;
        }
    }
}

/// Checks `value`, assembled bytes or the file holding them, against the `expected`
/// full-object checksum with `check`, off the async runtime; returns it as is when there is
/// nothing to check against.
async fn check_assembled<T: Send + 'static>(
    expected: Option<FullObjectChecksum>,
    value: T,
    check: impl FnOnce(FullObjectChecksum, T) -> Result<T> + Send + 'static,
) -> Result<T> {
    let Some(expected) = expected else {
        return Ok(value);
    };
    tokio::task::spawn_blocking(move || check(expected, value))
        .await
        .map_err(|e| Error::new(ErrorKind::Transport, format!("the check stopped: {e}")))?
}

/// How many bytes an answer carries, and the object's size: from its Content-Range
/// ("bytes 0-8388607/104857600": the total follows the slash), or its length when it has
/// none (the server sent the whole object).
fn length_and_total(response: &GetObjectOutput) -> Result<(u64, u64)> {
    let length = response
        .content_length()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    let total = match response.content_range() {
        Some(range) => total_of(range)?,
        None => length,
    };
    Ok((length, total))
}

/// The object's size from a Content-Range: "bytes 0-8388607/104857600", the total follows
/// the slash.
fn total_of(range: &str) -> Result<u64> {
    range
        .rsplit('/')
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Transport,
                format!("S3 sent an unreadable Content-Range: {range}"),
            )
        })
}

/// How a body read stopped.
enum BodyEnd {
    /// The body ended where the server said it would.
    Clean,
    /// The connection failed or stalled; why, in words.
    Broken(String),
    /// The server sent more bytes than asked for.
    TooLong,
}

/// Copies a body into `dst`; returns how many bytes arrived and how the body ended.
async fn copy_body(
    mut body: aws_sdk_s3::primitives::ByteStream,
    dst: &mut [u8],
    idle: Duration,
    meter: &Meter,
) -> (usize, BodyEnd) {
    let mut filled = 0;
    loop {
        let chunk = match tokio::time::timeout(idle, body.next()).await {
            Err(_) => {
                let why = format!("no data for {:.0} s", idle.as_secs_f64());
                return (filled, BodyEnd::Broken(why));
            }
            Ok(None) => return (filled, BodyEnd::Clean),
            Ok(Some(Err(e))) => {
                // The innermost cause says what went wrong: a checksum mismatch, or the
                // connection.
                let mut cause: &dyn std::error::Error = &e;
                while let Some(inner) = cause.source() {
                    cause = inner;
                }
                let why = if cause.to_string().to_lowercase().contains("checksum") {
                    format!("the body does not match its checksum ({cause})")
                } else {
                    format!("the connection failed while reading the body: {e} ({cause})")
                };
                return (filled, BodyEnd::Broken(why));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        let Some(target) = dst.get_mut(filled..filled + chunk.len()) else {
            return (filled, BodyEnd::TooLong);
        };
        target.copy_from_slice(&chunk);
        filled += chunk.len();
        meter.add(chunk.len() as u64);
    }
}

/// `dst` cut into pieces of `size` bytes.
fn chunks(dst: &mut [u8], size: u64) -> std::slice::ChunksMut<'_, u8> {
    dst.chunks_mut(usize::try_from(size).unwrap_or(usize::MAX).max(1))
}

/// The pause before resume number `n`: 100 ms, doubling, at most 5 s.
fn backoff(n: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << n.min(6))).min(Duration::from_secs(5))
}

/// An object's size as a buffer length.
fn to_usize(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{n} bytes do not fit in memory here; use download_to_path"),
        )
    })
}

/// A failed `If-Match` means the object was replaced mid-download.
fn changed_or(err: Error) -> Error {
    if err.code() == Some("PreconditionFailed") {
        let (code, request_id) = (
            err.code().map(str::to_owned),
            err.request_id().map(str::to_owned),
        );
        changed()
            .with_service_details(code, request_id)
            .with_source(err)
    } else {
        err
    }
}

/// The error for an object that changed between the parts of a download.
fn changed() -> Error {
    Error::new(
        ErrorKind::Conflict,
        "the object changed while it was being downloaded (its ETag no longer matches); \
         nothing was returned, download it again",
    )
}

/// A download's temporary file, renamed over the target when complete and removed if not.
struct PartialFile {
    file: std::fs::File,
    temp: PathBuf,
    target: PathBuf,
    done: std::sync::atomic::AtomicBool,
}

impl PartialFile {
    fn create(target: &Path) -> Result<PartialFile> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}.s3io-{}.partial", std::process::id()));
        let file = std::fs::File::create(&temp).map_err(|e| local_file_error(&temp, e))?;
        Ok(PartialFile {
            file,
            temp,
            target: target.to_owned(),
            done: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn set_len(&self, len: u64) -> Result<()> {
        self.file
            .set_len(len)
            .map_err(|e| local_file_error(&self.temp, e))
    }

    async fn write_at(&self, offset: u64, bytes: Vec<u8>) -> Result<()> {
        let temp = self.temp.clone();
        tokio::task::spawn_blocking(move || {
            super::file_part::write_part(&temp, offset, &bytes)
                .map_err(|e| local_file_error(&temp, e))
        })
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Transport,
                format!("the file writer stopped: {e}"),
            )
        })?
    }

    fn finish(&self) -> Result<()> {
        self.file
            .sync_all()
            .map_err(|e| local_file_error(&self.temp, e))?;
        std::fs::rename(&self.temp, &self.target).map_err(|e| local_file_error(&self.target, e))?;
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.done.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// An error of the local file system, naming the file.
pub(crate) fn local_file_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("{}: {e}", path.display())).with_source(e)
}

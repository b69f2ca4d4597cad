//! Decoding while the object transfers, and encoding while it uploads.
//!
//! A CSV, TSV, NDJSON or JSON-list download hands its parts, in order, to a decoder on the
//! blocking pool as they arrive ([`transfer::get_parts`]), so that parsing overlaps the
//! transfer instead of following it, and the whole object is never held in memory at once.
//! A pickle's parts are taken the same way: its large payloads are lifted into buffers of
//! their own, which the frame shares or lets go block by block.
//! The decoder ([`PartDecoder`](s3io_formats::PartDecoder)) gives what the whole-object path
//! gives, or gives up (a column type to infer again from every row, text it cannot vouch
//! for); the object is then downloaded and decoded whole, as before.
//!
//! A frame uploaded as CSV, TSV or Parquet is encoded on the blocking pool into a
//! [`PartWriter`], which hands each part to the upload as soon as it is full
//! ([`transfer::put_stream`]): the first part leaves before the last row is encoded, and
//! memory holds the parts in flight, not the whole body.

use std::io::Write;

use bytes::Bytes;
use polars::prelude::DataFrame;
use s3io_formats::{
    Data, Error, ErrorKind, ObjectFormat, Operation, PartDecoder, ReadOptions, Result, WriteOptions,
};
use tokio::sync::mpsc::Sender;

use crate::UploadInfo;
use crate::connector::check_location;
use crate::object::S3Object;
use crate::transfer::{self, Destination, MadePart};

/// Parts waiting for the decoder beyond the one it is parsing: enough to keep it busy while
/// the next arrives, few enough to bound memory.
const QUEUED_PARTS: usize = 2;

/// What a download decodes to.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A frame, as `download_frame` gives.
    Frame,
    /// What `download` gives.
    Data,
}

impl Target {
    fn decoder(self, key: &str, options: &ReadOptions) -> Option<PartDecoder> {
        match self {
            Target::Frame => PartDecoder::new(key, options),
            Target::Data => PartDecoder::for_data(key, options),
        }
    }

    /// Decodes an object that is here whole, as the whole-object path does.
    fn decode_whole(self, key: &str, bytes: Bytes, options: &ReadOptions) -> Result<Data> {
        let layers = ObjectFormat::for_read(key, None, options)?;
        match self {
            Target::Frame => layers.decode_frame(bytes, options).map(Data::Frame),
            Target::Data => layers.decode(bytes, options),
        }
    }
}

impl S3Object {
    /// The frame decoded from the object's parts as they arrive; see
    /// [`S3Object::decode_in_parts`].
    pub(crate) async fn frame_in_parts(&self, options: &ReadOptions) -> Option<Result<DataFrame>> {
        let read = self.decode_in_parts(options, Target::Frame).await?;
        Some(read.and_then(|data| {
            data.into_frame()
                .map_err(|e| self.context(e, Operation::Download))
        }))
    }

    /// What `download` gives, decoded from the object's parts as they arrive; see
    /// [`S3Object::decode_in_parts`].
    pub(crate) async fn data_in_parts(&self, options: &ReadOptions) -> Option<Result<Data>> {
        self.decode_in_parts(options, Target::Data).await
    }

    /// What `target` decodes from the object's parts as they arrive, when its format and
    /// `options` decode in parts; `None` when the object is to be downloaded and decoded
    /// whole (another format, or the decoder gave up on an object of several parts). An
    /// object that came whole in its first part is decoded from it when the decoder gives
    /// up, not downloaded again.
    async fn decode_in_parts(&self, options: &ReadOptions, target: Target) -> Option<Result<Data>> {
        let options = options
            .clone()
            .with_fallback_limits(self.connector().limits());
        let mut decoder = target.decoder(self.key(), &options)?;
        let context = |e| self.context(e, Operation::Download);
        if let Err(e) = check_location(self.bucket(), self.key()) {
            return Some(Err(context(e)));
        }
        let limits = options.limits_in_effect();
        let (sink, mut parts) = tokio::sync::mpsc::channel::<Bytes>(QUEUED_PARTS);
        let key = self.key().to_owned();
        let worker = tokio::task::spawn_blocking(move || {
            // The first part, while no other has come.
            let mut only = None;
            let mut count = 0;
            while let Some(part) = parts.blocking_recv() {
                count += 1;
                only = (count == 1).then(|| part.clone());
                if !decoder.push(part)? {
                    return match (only, parts.blocking_recv()) {
                        (Some(whole), None) => target.decode_whole(&key, whole, &options).map(Some),
                        _ => Ok(None),
                    };
                }
            }
            match (decoder.finish_data()?, only) {
                (Some(data), _) => Ok(Some(data)),
                (None, Some(whole)) => target.decode_whole(&key, whole, &options).map(Some),
                (None, None) => Ok(None),
            }
        });
        let s3 = self.connector();
        let fetched = transfer::get_parts(
            s3.client(),
            s3.transfer_config(),
            self.bucket(),
            self.key(),
            self.version_id(),
            |size| limits.check_object_size(size),
            sink,
        )
        .await;
        let decoded = worker.await.unwrap_or_else(|e| {
            Err(Error::new(
                ErrorKind::Decode,
                format!("the worker decoding the parts stopped: {e}"),
            ))
        });
        match (fetched, decoded) {
            (Err(e), _) | (Ok(_), Err(e)) => Some(Err(context(e))),
            (Ok(_), Ok(Some(data))) => Some(Ok(data)),
            (Ok(_), Ok(None)) => None,
        }
    }

    /// Encodes `data` with `layers` (a format that [encodes in
    /// parts](ObjectFormat::encodes_in_parts)) while its parts upload; see the module's doc.
    pub(crate) async fn upload_in_parts(
        &self,
        layers: ObjectFormat,
        data: Data,
        options: WriteOptions,
    ) -> Result<UploadInfo> {
        let context = |e| self.context(e, Operation::Upload);
        check_location(self.bucket(), self.key()).map_err(context)?;
        let s3 = self.connector();
        let config = s3.transfer_config();
        let part_size = usize::try_from(config.part_size).unwrap_or(usize::MAX);
        let (sink, parts) = tokio::sync::mpsc::channel(1);
        let worker = tokio::task::spawn_blocking(move || {
            let mut writer = PartWriter::new(sink, part_size);
            match layers.encode_to(&data, &options, &mut writer) {
                Ok(()) => writer.finish(),
                // The upload learns of the failure, and aborts.
                Err(e) => {
                    let _ = writer.sink.blocking_send(Err(e));
                }
            }
        });
        let to = Destination {
            client: s3.client(),
            bucket: self.bucket(),
            key: self.key(),
            content_type: Some(layers.content_type()),
            options: s3.upload_options(),
            checksum: s3.upload_options().checksum,
            payload_signing: config.payload_signing,
        };
        let uploaded = transfer::put_stream(&to, config, parts).await;
        // Once the upload stops taking parts, the encoder stops too.
        let _ = worker.await;
        uploaded.map_err(context)
    }
}

/// Where an encoder writes a body being uploaded: the bytes gather into a part, and each
/// full part goes to the upload, waiting while the upload has enough in hand. A part is
/// sent only once a byte follows it, so the last part, sent by [`PartWriter::finish`], is
/// never empty unless the body is.
pub(crate) struct PartWriter {
    sink: Sender<Result<MadePart>>,
    part: Vec<u8>,
    part_size: usize,
}

impl PartWriter {
    fn new(sink: Sender<Result<MadePart>>, part_size: usize) -> PartWriter {
        PartWriter {
            sink,
            part: Vec::with_capacity(part_size),
            part_size,
        }
    }

    /// Sends the last part.
    fn finish(self) {
        let last = MadePart {
            body: Bytes::from(self.part),
            last: true,
        };
        let _ = self.sink.blocking_send(Ok(last));
    }
}

impl Write for PartWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.part.extend_from_slice(buf);
        while self.part.len() > self.part_size {
            let mut next = Vec::with_capacity(self.part_size);
            next.extend_from_slice(&self.part[self.part_size..]);
            self.part.truncate(self.part_size);
            let full = MadePart {
                body: Bytes::from(std::mem::replace(&mut self.part, next)),
                last: false,
            };
            self.sink.blocking_send(Ok(full)).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the upload stopped")
            })?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts leave as soon as a byte follows them, each exactly the part size, and the last
    /// holds the rest.
    #[test]
    fn full_parts_leave_before_the_body_ends() {
        let (sink, mut parts) = tokio::sync::mpsc::channel(16);
        let mut writer = PartWriter::new(sink, 4);
        writer.write_all(b"abcd").unwrap();
        assert!(
            parts.try_recv().is_err(),
            "a full part waits for a byte after it"
        );
        writer.write_all(b"ef").unwrap();
        let first = parts.try_recv().unwrap().unwrap();
        assert_eq!((&first.body[..], first.last), (&b"abcd"[..], false));
        writer.write_all(b"ghijklmn").unwrap();
        for want in [&b"efgh"[..], b"ijkl"] {
            let part = parts.try_recv().unwrap().unwrap();
            assert_eq!((&part.body[..], part.last), (want, false));
        }
        writer.finish();
        let last = parts.try_recv().unwrap().unwrap();
        assert_eq!((&last.body[..], last.last), (&b"mn"[..], true));
    }

    #[test]
    fn a_stopped_upload_stops_the_writer() {
        let (sink, parts) = tokio::sync::mpsc::channel(1);
        drop(parts);
        let mut writer = PartWriter::new(sink, 2);
        let err = writer.write_all(b"abcdef").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}

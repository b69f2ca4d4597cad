//! Reading less: a Parquet object's schema from its footer alone, and its columns and first
//! rows from the byte ranges that hold them; a CSV, TSV or NDJSON object's first rows from a
//! prefix.
//!
//! The footer comes from a suffix range GET of [`ParquetFooter::FIRST_READ`] bytes, and a
//! second GET of exactly the footer's length when the metadata is longer (as arrow-rs's
//! `ParquetMetaDataReader` does). The declared length is checked against the object's size
//! and the limits before anything is allocated for it. The column chunks then come by range,
//! through the same resumable, ETag-pinned GETs as whole downloads, and are put together into
//! a small valid Parquet file that the codec checks (the hostile-input scan) and charges to
//! the output budget like any other.
//!
//! A plain Arrow IPC file read with `n_rows` comes the same way: its footer from the end
//! ([`IpcFooter`]), then the prefix holding its schema, dictionaries and first record batch,
//! then twice as many batches each time the rows do not fit; the prefix is decoded as the IPC
//! stream it holds, scanned and budgeted like a whole object.
//!
//! A plain CSV, TSV or NDJSON object read with `n_rows` comes from its start:
//! [`PREFIX_FIRST_READ`] bytes, then as much again each time the rows do not fit, cut after
//! the last whole row wanted (outside quoted fields) and decoded, scanned and budgeted as a
//! whole object would be.

use polars::prelude::{DataFrame, Schema};
use s3io_formats::for_s3io::{IpcFooter, ParquetFooter};
use s3io_formats::{Limits, ObjectFormat, Operation, ReadOptions, Result, RowPrefix};

use crate::connector::{check_location, off_runtime};
use crate::object::S3Object;
use crate::transfer::{self, End};

/// The first bytes fetched of a CSV, TSV or NDJSON object read with `n_rows`.
const PREFIX_FIRST_READ: u64 = 64 << 10;

impl S3Object {
    /// The column names and dtypes of a table. A Parquet object's come from its footer,
    /// fetched by suffix range requests, whatever the object's size; other formats are
    /// downloaded and decoded whole.
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let schema = s3.object("bucket", "events.parquet").schema().await?;
    /// for (name, dtype) in schema.iter() {
    ///     println!("{name}: {dtype}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn schema(&self) -> Result<Schema> {
        self.schema_with(ReadOptions::new()).await
    }

    /// The column names and dtypes of a table read with `options` (the format, a CSV
    /// separator, a sheet...); see [`S3Object::schema`]. With Parquet `columns`, only those.
    pub async fn schema_with(&self, options: impl Into<ReadOptions>) -> Result<Schema> {
        let options = options.into();
        if let Some((columns, _)) = options.parquet_projection(self.key()) {
            let context = |e| self.context(e, Operation::Download);
            check_location(self.bucket(), self.key()).map_err(context)?;
            let limits = options
                .with_fallback_limits(self.connector().limits())
                .limits_in_effect();
            let (footer, _) = self.parquet_footer(limits).await.map_err(context)?;
            let schema = footer.schema().map_err(context)?;
            return match columns {
                None => Ok(schema),
                Some(columns) => {
                    // An unknown name fails as it would when reading.
                    footer.plan(Some(&columns), Some(0)).map_err(context)?;
                    Ok(schema.try_project(columns).map_err(|e| {
                        context(s3io_formats::Error::new(
                            s3io_formats::ErrorKind::InvalidInput,
                            format!("cannot select the columns: {e}"),
                        ))
                    })?)
                }
            };
        }
        let df = self.download_frame_with(options).await?;
        Ok(df.schema().as_ref().clone())
    }

    /// A frame read by range or from a prefix, when `options` read less of this object
    /// (Parquet with `columns` or `n_rows`; Arrow IPC, CSV, TSV or NDJSON with `n_rows`);
    /// `None` when it is to be read whole.
    pub(crate) async fn read_less(&self, options: &ReadOptions) -> Option<Result<DataFrame>> {
        let key = self.key();
        let parquet = options.parquet_projection(key);
        if parquet.is_some_and(|(columns, rows)| columns.is_some() || rows.is_some()) {
            return Some(self.parquet_by_range(options.clone()).await);
        }
        if let Some(rows) = options.ipc_rows(key) {
            return Some(self.ipc_by_range(options.clone(), rows).await);
        }
        let prefix = options.row_prefix(key)?;
        Some(self.rows_by_prefix(options.clone(), prefix).await)
    }

    /// Reads a plain Arrow IPC file's first `rows` rows from its footer and a prefix (see the
    /// module's doc); a file whose blocks are out of order is read whole.
    async fn ipc_by_range(&self, options: ReadOptions, rows: usize) -> Result<DataFrame> {
        let context = |e| self.context(e, Operation::Download);
        let options = self.ranged_options(options).map_err(context)?;
        let limits = options.limits_in_effect();
        let tail = self.end_bytes(End::Last, IpcFooter::FIRST_READ);
        let tail = tail.await.map_err(context)?;
        let (total, etag) = (tail.total, tail.etag.as_deref());
        if tail.bytes.len() as u64 >= total {
            // The whole object came with the footer.
            return self.decode_part(tail.bytes, &options).await;
        }
        let len = IpcFooter::len(&tail.bytes, total).map_err(context)?;
        let footer = if len <= tail.bytes.len() as u64 {
            tail.bytes.slice(tail.bytes.len() - len as usize..)
        } else {
            limits.check_object_size(len).map_err(context)?;
            let mut footer = Vec::new();
            let more = self.append_range(etag, total - len..total, &mut footer);
            more.await.map_err(context)?;
            footer.into()
        };
        let footer = IpcFooter::parse(&footer, total, &limits).map_err(context)?;
        let mut prefix = Vec::new();
        let mut batches = 1;
        loop {
            let Some(end) = footer.prefix_end(batches) else {
                let whole = |layers: ObjectFormat, bytes, options: &ReadOptions| {
                    layers.decode_frame(bytes, options)
                };
                return self.decode_with(options, whole).await;
            };
            limits.check_object_size(end).map_err(context)?;
            let have = prefix.len() as u64;
            if end > have {
                let more = self.append_range(etag, have..end, &mut prefix);
                more.await.map_err(context)?;
            }
            let df = self.decode_part(IpcFooter::stream(&prefix), &options);
            let df = df.await?;
            if df.height() >= rows || batches >= footer.batches() {
                return Ok(df);
            }
            batches *= 2;
        }
    }

    /// Reads a plain Parquet object's `columns` (all with `None`) of the row groups that hold
    /// its first `n_rows` rows (all with `None`) by range, then decodes them with `options`.
    pub(crate) async fn parquet_by_range(&self, options: ReadOptions) -> Result<DataFrame> {
        let context = |e| self.context(e, Operation::Download);
        let options = self.ranged_options(options).map_err(context)?;
        let limits = options.limits_in_effect();
        let (columns, n_rows) = options.parquet_projection(self.key()).unwrap_or_default();
        let (footer, etag) = self.parquet_footer(limits).await.map_err(context)?;
        let plan = footer.plan(columns.as_deref(), n_rows).map_err(context)?;
        limits.check_object_size(plan.bytes()).map_err(context)?;
        let s3 = self.connector();
        let chunks = transfer::get_ranges(
            s3.client(),
            s3.transfer_config(),
            self.bucket(),
            self.key(),
            self.version_id(),
            etag.as_deref(),
            plan.ranges(),
        )
        .await
        .map_err(context)?;
        let file = off_runtime(move || footer.assemble(&plan, chunks))
            .await
            .map_err(context)?;
        self.decode_part(file, &options).await
    }

    /// Reads a plain CSV, TSV or NDJSON object's first rows from as short a prefix as holds
    /// them (see the module's doc), then decodes them with `options`.
    pub(crate) async fn rows_by_prefix(
        &self,
        options: ReadOptions,
        prefix: RowPrefix,
    ) -> Result<DataFrame> {
        let context = |e| self.context(e, Operation::Download);
        let options = self.ranged_options(options).map_err(context)?;
        let limits = options.limits_in_effect();
        let first = self.end_bytes(End::First, PREFIX_FIRST_READ);
        let first = first.await.map_err(context)?;
        let (total, etag) = (first.total, first.etag);
        let mut text = first.bytes.to_vec();
        // Rows asked for beyond `prefix.rows`, when records span lines or lines are blank.
        let mut extra = 0;
        loop {
            let whole = text.len() as u64 >= total;
            let end = if whole {
                Some(text.len())
            } else {
                prefix.end(&text, extra)
            };
            let Some(end) = end else {
                // Twice as much text, up to the whole object, within the size limit.
                let upto = total.min((text.len() as u64).saturating_mul(2).max(PREFIX_FIRST_READ));
                limits.check_object_size(upto).map_err(context)?;
                let more = self.append_range(etag.as_deref(), text.len() as u64..upto, &mut text);
                more.await.map_err(context)?;
                continue;
            };
            let part = bytes::Bytes::copy_from_slice(&text[..end]);
            let df = self.decode_part(part, &options).await?;
            if whole || df.height() >= prefix.rows {
                return Ok(df);
            }
            extra += prefix.rows - df.height();
        }
    }

    /// The options a read by range decodes with, the connector's limits filling those the
    /// call leaves unset, once the location is checked.
    fn ranged_options(&self, options: ReadOptions) -> Result<ReadOptions> {
        check_location(self.bucket(), self.key())?;
        Ok(options.with_fallback_limits(self.connector().limits()))
    }

    /// The object's first or last `len` bytes (all of it if shorter), its size and ETag.
    async fn end_bytes(&self, end: End, len: u64) -> Result<transfer::Piece> {
        let s3 = self.connector();
        let (client, config) = (s3.client(), s3.transfer_config());
        let (bucket, key, version) = (self.bucket(), self.key(), self.version_id());
        transfer::get_end(client, config, bucket, key, version, end, len).await
    }

    /// Appends the object's bytes in `range`, pinned to `etag`, to `into`.
    async fn append_range(
        &self,
        etag: Option<&str>,
        range: std::ops::Range<u64>,
        into: &mut Vec<u8>,
    ) -> Result<()> {
        let s3 = self.connector();
        let (client, config) = (s3.client(), s3.transfer_config());
        let (bucket, key, version) = (self.bucket(), self.key(), self.version_id());
        let pieces =
            transfer::get_ranges(client, config, bucket, key, version, etag, &[range]).await?;
        pieces
            .iter()
            .for_each(|piece| into.extend_from_slice(piece));
        Ok(())
    }

    /// Decodes part of the object (a footer and chunks put together, a prefix) as its key
    /// and `options` say, off the async runtime, with the object's context on errors.
    async fn decode_part(&self, bytes: bytes::Bytes, options: &ReadOptions) -> Result<DataFrame> {
        let context = |e| self.context(e, Operation::Download);
        let layers = ObjectFormat::for_read(self.key(), None, options).map_err(context)?;
        let options = options.clone();
        off_runtime(move || layers.decode_frame(bytes, &options))
            .await
            .map_err(context)
    }

    /// The object's Parquet footer and the ETag later ranges are pinned to: its last
    /// [`ParquetFooter::FIRST_READ`] bytes, and exactly the footer if it is longer.
    async fn parquet_footer(&self, limits: Limits) -> Result<(ParquetFooter, Option<String>)> {
        let tail = self.end_bytes(End::Last, ParquetFooter::FIRST_READ).await?;
        let len = ParquetFooter::len(&tail.bytes, tail.total)?;
        let bytes = if len <= tail.bytes.len() as u64 {
            tail.bytes
        } else {
            // Checked against the object's size by `len`; against the limits here, before
            // a buffer is allocated.
            limits.check_object_size(len)?;
            let mut footer = Vec::new();
            let range = tail.total - len..tail.total;
            self.append_range(tail.etag.as_deref(), range, &mut footer)
                .await?;
            footer.into()
        };
        let total = tail.total;
        let footer = off_runtime(move || ParquetFooter::parse(bytes, total, &limits)).await?;
        Ok((footer, tail.etag))
    }
}

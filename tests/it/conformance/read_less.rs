//! Reading less of a Parquet object, counted at the logging proxy in bytes the server sent:
//! `schema` reads the footer alone, `columns(["a"])` the footer and that column's chunks,
//! `n_rows` the first row groups.
//!
//! Issue #15 asks for a 200 MB object; this one is about 30 MB, to keep CI fast. What is read
//! does not grow with the object: the footer read is one 64 KiB suffix range whatever its
//! size, and a column's chunks are that column's share of the object.

use s3io::ReadOptions;
use s3io::formats::for_s3io::{IpcFooter, ParquetFooter};
use s3io::polars::prelude::*;

use super::Target;
use crate::proxy::{Fault, Matches};

/// `rows` rows: `a` and `b` hashed integers and floats (little for zstd to squeeze), `c` text.
fn table(rows: u64) -> DataFrame {
    let hash = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    df!(
        "a" => (0..rows).map(|i| hash(i) as i64).collect::<Vec<_>>(),
        "b" => (0..rows).map(|i| (hash(i + rows) >> 11) as f64).collect::<Vec<_>>(),
        "c" => (0..rows).map(|i| format!("{:x}", hash(i * 3))).collect::<Vec<_>>(),
    )
    .unwrap()
}

pub async fn parquet_reads_only_the_footer_and_the_chunks_asked_for(t: &Target) {
    let df = table(1_000_000);
    let file = crate::support::parquet_file(&df, 100_000);
    let size = file.len() as u64;
    assert!(size > 20 << 20, "the object takes {size} bytes");
    t.s3.upload(
        t.bucket(),
        "big/events.parquet",
        s3io::Data::Bytes(file.clone().into()),
    )
    .await
    .unwrap();

    let (proxy, s3) = t.through_proxy().await;
    let (bucket, key) = (t.bucket(), "big/events.parquet");

    // What the footer and column `a` take, from the file itself.
    let file = bytes::Bytes::from(file);
    let footer_len = ParquetFooter::len(&file, size).unwrap();
    let footer = ParquetFooter::parse(
        file.slice(file.len() - footer_len as usize..),
        size,
        &s3io::Limits::new(),
    )
    .unwrap();
    let a_chunks = footer.plan(Some(&["a".to_owned()]), None).unwrap().bytes();

    // schema: the footer alone.
    proxy.reset();
    let schema = s3.schema(bucket, key).await.unwrap();
    assert_eq!(&schema, df.schema().as_ref());
    let read = proxy.bytes_sent();
    eprintln!(
        "{}::schema of a {size}-byte Parquet object: {read} bytes read, in {} requests \
         (footer {footer_len} bytes)",
        t.name(),
        proxy.seen().len()
    );
    assert!(read < 1 << 20, "schema read {read} bytes");
    assert!(
        proxy
            .seen()
            .iter()
            .all(|s| s.range.as_deref().is_some_and(|r| r.starts_with("bytes=-"))),
        "{:?}",
        proxy.seen()
    );

    // columns(["a"]): the footer and a's chunks, and no more than 10% besides.
    proxy.reset();
    let a = s3
        .download_frame_with(bucket, key, ReadOptions::parquet().columns(["a"]))
        .await
        .unwrap();
    assert!(a.equals_missing(&df.select(["a"]).unwrap()));
    let read = proxy.bytes_sent();
    let allowed = (footer_len + a_chunks) * 11 / 10;
    eprintln!(
        "{}::columns([\"a\"]) of a {size}-byte Parquet object: {read} bytes read, in {} \
         requests (footer {footer_len} + a's chunks {a_chunks} = {}; allowed {allowed})",
        t.name(),
        proxy.seen().len(),
        footer_len + a_chunks
    );
    assert!(read <= allowed, "columns([a]) read {read} bytes");

    // Neighbouring chunks (a and b in each row group) come in one GET each.
    proxy.reset();
    let ab = s3
        .download_frame_with(bucket, key, ReadOptions::parquet().columns(["a", "b"]))
        .await
        .unwrap();
    assert!(ab.equals_missing(&df.select(["a", "b"]).unwrap()));
    assert_eq!(
        proxy.seen().len(),
        1 + 10,
        "the footer, then a and b of 10 row groups: {:?}",
        proxy
            .seen()
            .into_iter()
            .map(|s| s.range)
            .collect::<Vec<_>>()
    );

    // n_rows, with columns in another order: only the first row group's chunks.
    proxy.reset();
    let head = s3
        .download_frame_with(
            bucket,
            key,
            ReadOptions::parquet().columns(["c", "a"]).n_rows(10),
        )
        .await
        .unwrap();
    assert!(head.equals_missing(&df.select(["c", "a"]).unwrap().head(Some(10))));
    let read = proxy.bytes_sent();
    eprintln!(
        "{}::n_rows(10) of columns c and a: {read} bytes read",
        t.name()
    );
    assert!(read < size / 5, "n_rows(10) read {read} bytes");

    // A column the file does not have: a typed error, after the footer alone.
    let err = s3
        .download_frame_with(bucket, key, ReadOptions::parquet().columns(["nope"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), s3io::ErrorKind::InvalidInput, "{err}");
}

pub async fn parquet_footers_past_the_first_read_and_hostile_ones(t: &Target) {
    let (proxy, s3) = t.through_proxy().await;
    let bucket = t.bucket();

    // 1,500 columns: metadata past the first 64 KiB, so a second GET of exactly the footer.
    let columns: Vec<Column> = (0..1_500)
        .map(|c| Column::new(format!("column_{c:04}").into(), [c as i64, -1, 7]))
        .collect();
    let wide = DataFrame::new_infer_height(columns).unwrap();
    let mut file = Vec::new();
    ParquetWriter::new(&mut file)
        .finish(&mut wide.clone())
        .unwrap();
    let size = file.len() as u64;
    let footer_len = ParquetFooter::len(&file, size).unwrap();
    assert!(footer_len > ParquetFooter::FIRST_READ, "{footer_len}");
    t.s3.upload(bucket, "wide.parquet", s3io::Data::Bytes(file.into()))
        .await
        .unwrap();
    proxy.reset();
    let schema = s3.schema(bucket, "wide.parquet").await.unwrap();
    assert_eq!(&schema, wide.schema().as_ref());
    let ranges: Vec<String> = proxy.seen().into_iter().filter_map(|s| s.range).collect();
    assert_eq!(ranges.len(), 2, "{ranges:?}");
    assert_eq!(ranges[0], format!("bytes=-{}", ParquetFooter::FIRST_READ));
    assert_eq!(
        ranges[1],
        format!("bytes={}-{}", size - footer_len, size - 1)
    );
    let two = s3
        .download_frame_with(
            bucket,
            "wide.parquet",
            ReadOptions::parquet().columns(["column_1499", "column_0000"]),
        )
        .await
        .unwrap();
    assert!(two.equals_missing(&wide.select(["column_1499", "column_0000"]).unwrap()));

    // A suffix GET and a chunk's GET that break off mid-body are resumed from the first
    // missing byte, pinned to the footer's ETag.
    proxy.reset();
    proxy.inject(Matches::LaterRange, Fault::ResetMidBody(1_000), 1);
    proxy.inject(Matches::LaterRange, Fault::Truncate(10), 1);
    let one = s3
        .download_frame_with(
            bucket,
            "wide.parquet",
            ReadOptions::parquet().columns(["column_0042"]),
        )
        .await
        .unwrap();
    assert!(one.equals_missing(&wide.select(["column_0042"]).unwrap()));
    assert!(proxy.struck(), "{:?}", proxy.seen());

    // A footer declaring 4 GiB of metadata in a small object: a typed error, one request.
    let mut lying = vec![0u8; 1_000];
    lying[..4].copy_from_slice(b"PAR1");
    lying[992..996].copy_from_slice(&u32::MAX.to_le_bytes());
    lying[996..].copy_from_slice(b"PAR1");
    t.s3.upload(bucket, "lying.parquet", s3io::Data::Bytes(lying.into()))
        .await
        .unwrap();
    proxy.reset();
    let err = s3.schema(bucket, "lying.parquet").await.unwrap_err();
    assert_eq!(err.kind(), s3io::ErrorKind::Decode, "{err}");
    assert!(err.message().contains("more than the 1000-byte"), "{err}");
    // One GET on S3; s3s-fs fails a suffix longer than the object, so a HEAD and a GET more.
    assert!(proxy.seen().len() <= 6, "{:?}", proxy.seen());

    // Objects too short to be Parquet, the empty one included.
    for (key, body) in [("empty.parquet", &b""[..]), ("short.parquet", b"PAR1PAR1")] {
        let embedded = matches!(t.server, super::target::Server::Embedded);
        if body.is_empty()
            && !t.able(
                !embedded,
                "s3s-fs panics on a suffix range of an empty object (s3s-fs 0.14.1, s3.rs:339)",
            )
        {
            continue;
        }
        t.s3.upload(bucket, key, s3io::Data::Bytes(body.to_vec().into()))
            .await
            .unwrap();
        let err = s3.schema(bucket, key).await.unwrap_err();
        assert_eq!(err.kind(), s3io::ErrorKind::Decode, "{key}: {err}");
    }
}

/// `n_rows` of a plain CSV or NDJSON object reads a prefix: the first 64 KiB, then twice as much each
/// time the rows do not fit, cut after the last whole row (outside quoted fields). Issue #15
/// asks for `head` of a 200 MB CSV under 1 MB; this object is about 25 MB, for CI's sake, and
/// what is read does not grow with it.
pub async fn first_rows_of_csv_and_ndjson_read_only_a_prefix(t: &Target) {
    let df = table(600_000);
    let mut file = Vec::new();
    CsvWriter::new(&mut file).finish(&mut df.clone()).unwrap();
    let size = file.len() as u64;
    assert!(size > 20 << 20, "the object takes {size} bytes");
    let (bucket, key) = (t.bucket(), "big/events.csv");
    let body = s3io::Data::Bytes(file.into());
    t.s3.upload(bucket, key, body).await.unwrap();
    let (proxy, s3) = t.through_proxy().await;

    // head: 10 rows from the first 64 KiB.
    let head = s3
        .download_frame_with(bucket, key, ReadOptions::csv().n_rows(10))
        .await
        .unwrap();
    assert!(head.equals_missing(&df.head(Some(10))), "{head}");
    let read = proxy.bytes_sent();
    eprintln!(
        "{}::n_rows(10) of a {size}-byte CSV object: {read} bytes read in {} requests",
        t.name(),
        proxy.seen().len()
    );
    assert!(read < 1 << 20, "n_rows(10) read {read} bytes");

    // 20,000 rows reach past the first read: the prefix grows, and stays within twice what
    // the rows take.
    proxy.reset();
    let rows = 20_000;
    let many = s3
        .download_frame_with(
            bucket,
            key,
            ReadOptions::csv().n_rows(rows).columns(["c", "a"]),
        )
        .await
        .unwrap();
    let expected = df.select(["c", "a"]).unwrap().head(Some(rows));
    assert!(many.equals_missing(&expected));
    let mut needed = Vec::new();
    CsvWriter::new(&mut needed)
        .finish(&mut df.head(Some(rows)))
        .unwrap();
    let read = proxy.bytes_sent();
    eprintln!(
        "{}::n_rows({rows}) needs {} bytes: {read} read in {} requests",
        t.name(),
        needed.len(),
        proxy.seen().len()
    );
    assert!(
        read <= 2 * needed.len() as u64,
        "n_rows({rows}) read {read} bytes"
    );
    assert!(
        proxy.seen().iter().all(|s| s.range.is_some()),
        "only range GETs: {:?}",
        proxy.seen()
    );

    // NDJSON: the same prefix, every line break ending a record.
    let lines = df.head(Some(200_000));
    s3.upload(bucket, "big/events.jsonl", &lines).await.unwrap();
    proxy.reset();
    let options = ReadOptions::ndjson().n_rows(10).columns(["c", "a"]);
    let head = s3
        .download_frame_with(bucket, "big/events.jsonl", options)
        .await
        .unwrap();
    let expected = lines.select(["c", "a"]).unwrap().head(Some(10));
    assert!(head.equals_missing(&expected), "{head}");
    let read = proxy.bytes_sent();
    eprintln!(
        "{}::n_rows(10) of an NDJSON object: {read} bytes read",
        t.name()
    );
    assert!(read < 1 << 20, "n_rows(10) of NDJSON read {read} bytes");

    // Records that span lines, doubled quotes and a line skipped before the header: the rows
    // are whole, and the same as reading the object whole.
    let tricky = "# exported\nid,note\n1,\"two\nlines\"\n2,\"a \"\"quote\"\"\"\n3,x\n4,y\n";
    let raw = s3io::Data::Bytes(tricky.as_bytes().to_vec().into());
    s3.upload(bucket, "big/tricky.csv", raw).await.unwrap();
    let options = ReadOptions::csv().skip_rows(1).n_rows(3);
    let by_prefix = s3
        .download_frame_with(bucket, "big/tricky.csv", options.clone())
        .await
        .unwrap();
    let whole = s3io::Format::CSV
        .decode_frame_with(tricky, options)
        .unwrap();
    assert!(by_prefix.equals_missing(&whole), "{by_prefix}\n{whole}");
    assert_eq!(by_prefix.height(), 3);
    let notes: Vec<Option<&str>> = by_prefix
        .column("note")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(notes, [Some("two\nlines"), Some("a \"quote\""), Some("x")]);
}

pub async fn first_rows_of_arrow_ipc_read_the_footer_and_a_prefix(t: &Target) {
    // 100 record batches of 10,000 rows: about 24 MB.
    let df = table(1_000_000);
    let mut chunks = df.slice(0, 10_000);
    for start in (10_000..1_000_000).step_by(10_000) {
        chunks.vstack_mut(&df.slice(start, 10_000)).unwrap();
    }
    let mut file = Vec::new();
    IpcWriter::new(&mut file).finish(&mut chunks).unwrap();
    let size = file.len() as u64;
    let (bucket, key) = (t.bucket(), "big/events.arrow");
    t.s3.upload(bucket, key, s3io::Data::Bytes(file.into()))
        .await
        .unwrap();
    let (proxy, s3) = t.through_proxy().await;
    let batch = size / 100;

    // head: the footer, then the schema and the first batch.
    proxy.reset();
    let head = s3
        .download_frame_with(bucket, key, ReadOptions::ipc().n_rows(10))
        .await
        .unwrap();
    assert!(head.equals_missing(&df.head(Some(10))));
    let read = proxy.bytes_sent();
    eprintln!(
        "{}::n_rows(10) of a {size}-byte Arrow IPC file: {read} bytes in {} requests",
        t.name(),
        proxy.seen().len()
    );
    assert!(read < 1 << 20, "n_rows(10) read {read} bytes");
    assert_eq!(proxy.seen().len(), 2, "{:?}", proxy.seen());

    // 25,000 rows: 1, 2, then 4 batches fetched, each time only what is new.
    proxy.reset();
    let some = s3
        .download_frame_with(
            bucket,
            key,
            ReadOptions::ipc().n_rows(25_000).columns(["c", "a"]),
        )
        .await
        .unwrap();
    assert!(some.equals_missing(&df.select(["c", "a"]).unwrap().head(Some(25_000))));
    let read = proxy.bytes_sent();
    assert!(
        read < IpcFooter::FIRST_READ + 5 * batch,
        "n_rows(25000) read {read} bytes ({batch} a batch)"
    );

    // A column the file does not have: a typed error.
    let err = s3
        .download_frame_with(bucket, key, ReadOptions::ipc().n_rows(5).columns(["nope"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), s3io::ErrorKind::InvalidInput, "{err}");
}

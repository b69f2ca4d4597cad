//! The hostile corpus of `fixtures/hostile/`: every file goes up to the embedded server and
//! comes back down through `download`, and must give a typed error that names the object and
//! the reason, within a time bound and a memory bound, never a crash, a hang or an exhausted
//! process. Each file runs in a child process of its own, under a cap on its data segment,
//! so that an abort fails that file's check and the others still run. Plus the limits'
//! plumbing: connector, per call, before the download.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use polars::prelude::*;
use s3io::{Data, ErrorKind, Format, Limits, ReadOptions, TransferConfig};

use crate::support::*;

/// What one file of the corpus must give.
struct Case {
    file: &'static str,
    /// `None`: the file is valid after all and must decode, within the same bounds.
    kind: Option<ErrorKind>,
    /// Words the message must hold.
    says: &'static str,
    /// For a file that decodes: what is wrong with the values, if anything.
    values: fn(&Data) -> Option<String>,
    /// Read with `download_frame` instead of `download` (JSON and pickles are values by
    /// default; their tables become frames only when asked).
    frame: bool,
}

const fn case(file: &'static str, kind: ErrorKind, says: &'static str) -> Case {
    Case {
        file,
        kind: Some(kind),
        says,
        values: |_| None,
        frame: false,
    }
}

/// A case read with `download_frame`.
const fn frame_case(file: &'static str, kind: ErrorKind, says: &'static str) -> Case {
    Case {
        frame: true,
        ..case(file, kind, says)
    }
}

/// A file that looks hostile but is valid, and must decode to values `values` accepts.
const fn decodes(file: &'static str, values: fn(&Data) -> Option<String>) -> Case {
    Case {
        file,
        kind: None,
        says: "",
        values,
        frame: false,
    }
}

/// What is wrong with a decoded frame's shape, if anything.
fn shape(data: &Data, expected: (usize, usize)) -> Option<String> {
    match data {
        Data::Frame(df) if df.shape() == expected => None,
        Data::Frame(df) => Some(format!("shape {:?}, expected {expected:?}", df.shape())),
        other => Some(format!("decoded as {}", other.kind_name())),
    }
}

/// `xlsx_duplicate_headers.xlsx`: 16,384 columns named `1`, `1.1`, ..., one row of data.
fn duplicate_headers(data: &Data) -> Option<String> {
    shape(data, (1, 16_384)).or_else(|| {
        let Data::Frame(df) = data else { return None };
        let names = df.get_column_names();
        let expected = ["1", "1.1", "1.2"];
        let first: Vec<&str> = names.iter().take(3).map(|n| n.as_str()).collect();
        (first != expected || names.last().map(|n| n.as_str()) != Some("1.16383"))
            .then(|| format!("names {first:?} ... {:?}", names.last()))
            .or_else(|| (ints(df, "1") != [Some(2)]).then(|| "A2 is not 2".to_owned()))
    })
}

/// `xls_formula_spaces.xls`: the cached values of the 100 formulas, row × 1.5.
fn formula_values(data: &Data) -> Option<String> {
    let Data::Frame(df) = data else {
        return Some(format!("decoded as {}", data.kind_name()));
    };
    let expected: Vec<Option<f64>> = (1..=100).map(|row| Some(f64::from(row) * 1.5)).collect();
    (floats(df, "x") != expected).then(|| "the cached formula values differ".to_owned())
}

/// `csv_nul_byte.csv`: the NUL stays a character of its field.
fn nul_byte(data: &Data) -> Option<String> {
    shape(data, (2, 2)).or_else(|| {
        let Data::Frame(df) = data else { return None };
        (strs(df, "b") != owned(&[Some("\u{0}2"), Some("4")]))
            .then(|| format!("column b is {:?}", strs(df, "b")))
    })
}

/// `csv_100k_columns.csv`: 100,000 columns `c0`... of one row of 1s.
fn wide_csv(data: &Data) -> Option<String> {
    shape(data, (1, 100_000)).or_else(|| {
        let Data::Frame(df) = data else { return None };
        (ints(df, "c99999") != [Some(1)]).then(|| "c99999 is not 1".to_owned())
    })
}

use ErrorKind::{Decode, LimitExceeded, Unsupported};

/// The corpus, in the order of `fixtures/hostile/README.md`.
const CORPUS: &[Case] = &[
    case("xlsx_truncated.xlsx", Decode, "not a valid workbook"),
    case("xlsx_corrupt.xlsx", Decode, "sheet"),
    case("xlsx_not_a_zip.xlsx", Decode, "not a valid workbook"),
    case("xlsx_dimension_bomb.xlsx", LimitExceeded, "max_sheet_cells"),
    // calamine overflows computing the column (a panic in debug builds, caught).
    case("xlsx_huge_column_ref.xlsx", Decode, "xlsx"),
    case("xlsx_zip_bomb.xlsx", LimitExceeded, "max_decompressed_size"),
    // The zip reader notices that the entry is not the size its headers say.
    case(
        "xlsx_zip_bomb_lying_size.xlsx",
        Decode,
        "not a valid workbook",
    ),
    // 16,384 columns named alike: pandas-style renaming must stay linear.
    decodes("xlsx_duplicate_headers.xlsx", duplicate_headers),
    // Output amplification: one 1 MB shared string in 40,000 cells, 40 GB once copied into
    // each (it aborted s3io before the output budget); the same in an `.xlsb`.
    case(
        "xlsx_shared_string_cells.xlsx",
        LimitExceeded,
        "max_decoded_size",
    ),
    case(
        "xlsb_shared_string_cells.xlsb",
        LimitExceeded,
        "max_decoded_size",
    ),
    case("xls_truncated.xls", Decode, "not a valid workbook"),
    // Found by fuzz/ (excel): calamine's CFB reader panics (an assert_eq!, a slice out of
    // range); s3io's guard catches it. Kept until calamine returns an error instead.
    case(
        "xls_fuzz_cfb_assert.xls",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "xls_fuzz_cfb_slice.xls",
        Decode,
        "the decoder failed on this input",
    ),
    // calamine reads .xls and .ods whole, every sheet at once: s3io scans them first.
    case("xls_dimension_bomb.xls", LimitExceeded, "max_sheet_cells"),
    case(
        "xls_dimensions_record_bomb.xls",
        LimitExceeded,
        "max_sheet_cells",
    ),
    case(
        "xls_shared_substream_bomb.xls",
        LimitExceeded,
        "max_sheet_cells",
    ),
    case(
        "xls_shared_string_bomb.xls",
        LimitExceeded,
        "max_decoded_size",
    ),
    case("xls_cfb_sector_loop.xls", Decode, "sector chain loops"),
    // calamine parses formulas in quadratic time; s3io blanks them first and reads the
    // cached values (see `formulas_are_blanked_and_their_cached_values_kept`).
    decodes("xls_formula_spaces.xls", formula_values),
    case("ods_repeat_bomb.ods", LimitExceeded, "max_sheet_cells"),
    case(
        "ods_text_spaces_bomb.ods",
        LimitExceeded,
        "max_decoded_size",
    ),
    case("ods_unclosed_table.ods", Decode, "ends inside sheet"),
    case("pickle_deep_nesting.pkl", LimitExceeded, "max_pickle_depth"),
    case("pickle_deep_memo.pkl", LimitExceeded, "max_pickle_depth"),
    case("pickle_os_system_p0.pkl", Unsupported, "`os.system`"),
    case("pickle_os_system_p4.pkl", Unsupported, "`posix.system`"),
    case("pickle_truncated.pkl", Decode, "not a valid pickle"),
    case("pickle_memo_bomb.pkl", LimitExceeded, "max_decoded_size"),
    case(
        "pickle_huge_memo_index.pkl",
        Decode,
        "memo entry 4294967294",
    ),
    case("pickle_mark_bomb.pkl", LimitExceeded, "max_decoded_size"),
    case("pickle_recursive.pkl", Unsupported, "recursive structure"),
    // Pickled pandas/numpy objects whose declared sizes do not match their bytes.
    case(
        "pickle_numpy_shape_mismatch.pkl",
        Decode,
        "but holds 8 bytes",
    ),
    case("pickle_numpy_shape_overflow.pkl", Decode, "overflows"),
    case(
        "pickle_numpy_void_dtype.pkl",
        Decode,
        "1000000000-byte items",
    ),
    case(
        "pickle_arrow_offsets_backwards.pkl",
        Decode,
        "pyarrow offsets 5..2",
    ),
    case(
        "pickle_arrow_not_utf8.pkl",
        Decode,
        "a pyarrow string that is not UTF-8",
    ),
    case(
        "pickle_arrow_offsets_past_data.pkl",
        Decode,
        "pyarrow offsets 3..99",
    ),
    case(
        "pickle_blocks_overlap.pkl",
        Decode,
        "two blocks are placed at column 0",
    ),
    case(
        "pickle_blocks_missing_column.pkl",
        Decode,
        "no block holds column 1",
    ),
    case("pickle_next_buffer.pkl", Decode, "NEXT_BUFFER"),
    case(
        "pickle_self_containing_series.pkl",
        Unsupported,
        "recursive structure",
    ),
    case("csv_ragged_rows.csv", Decode, "CSV"),
    case("csv_unterminated_quote.csv", Decode, "CSV"),
    // A NUL is just a character in a field, and 100,000 columns are a wide table.
    decodes("csv_nul_byte.csv", nul_byte),
    case("csv_invalid_utf8.csv", Decode, "utf-8"),
    decodes("csv_100k_columns.csv", wide_csv),
    // Output amplification by width: a million empty columns in 1 MB.
    case("csv_million_columns.csv", LimitExceeded, "max_decoded_size"),
    // Found by fuzz/ (tsv): polars' CSV reader slices out of range on this header; caught.
    case(
        "tsv_fuzz_header_slice.tsv",
        Decode,
        "the decoder failed on this input",
    ),
    // Found by the second fuzz run (csv, tsv): the same slice in a CSV, and another in the
    // reader's builder; caught.
    case(
        "csv_fuzz_quote_slice.csv",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "tsv_fuzz_builder_349.tsv",
        Decode,
        "the decoder failed on this input",
    ),
    // Output amplification by fresh keys: 30,000 records with a key each, 900 million cells
    // (the NDJSON aborted s3io before the output budget).
    case("ndjson_fresh_keys.jsonl", LimitExceeded, "max_decoded_size"),
    frame_case(
        "json_records_fresh_keys.json",
        LimitExceeded,
        "max_decoded_size",
    ),
    frame_case(
        "pickle_records_fresh_keys.pkl",
        LimitExceeded,
        "max_decoded_size",
    ),
    frame_case(
        "pickle_columns_shared_list.pkl",
        LimitExceeded,
        "max_decoded_size",
    ),
    case("json_deep_10k.json", Decode, "recursion limit"),
    case("ndjson_deep_10k.jsonl", Decode, "line 2"),
    case("text_invalid_utf8.txt", Decode, "not UTF-8"),
    case("parquet_corrupt.parquet", Decode, "parquet"),
    // Found by fuzz/ (parquet, ipc): polars panics on bad footers and schemas (a thrift bool,
    // an unwrap, an assert_eq!, todo!(), a dtype it cannot hold); s3io's guard catches
    // each. Kept until polars returns errors instead.
    case(
        "parquet_fuzz_thrift_bool.parquet",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "parquet_fuzz_thrift_unwrap.parquet",
        Decode,
        "the decoder failed on this input",
    ),
    // Found by fuzz/ (parquet): a data page declaring -1 values, for which polars reserved a
    // validity bitmap of 2^61 bytes and aborted; s3io's scan of the page headers refuses it.
    case(
        "parquet_fuzz_page_validity_huge.parquet",
        Decode,
        "row group 0, column 2 declares -1 values",
    ),
    // Found by the second fuzz run (parquet) as polars panics (an assert in a bitmap, unwraps,
    // a range out of bounds, an array chunk assert); the Parquet scan now refuses four of them
    // before polars reads, and the guard catches the fifth.
    case(
        "parquet_fuzz_bitmap_assert.parquet",
        Decode,
        "declares a negative offset, size or number of values",
    ),
    case(
        "parquet_fuzz_array_chunks.parquet",
        Decode,
        "declares a negative offset, size or number of values",
    ),
    case(
        "parquet_fuzz_range.parquet",
        Decode,
        "declares a negative offset, size or number of values",
    ),
    case(
        "parquet_fuzz_float_unwrap.parquet",
        Decode,
        "a page header of row group 0, column 0 is unreadable",
    ),
    case(
        "parquet_fuzz_chunk_metadata_unwrap.parquet",
        Decode,
        "the decoder failed on this input",
    ),
    // Found by the third parquet run, after the scan: panics deeper in polars; caught.
    case(
        "parquet_fuzz_struct_unwrap.parquet",
        Decode,
        "the decoder failed on this input",
    ),
    // polars decodes its column chunks in parallel: whichever fails first decides between a
    // caught panic (a bitmap assert) and polars' own error ("Unknown frame descriptor"), both
    // typed Decode errors; seen 3 times in 12 runs of the file alone.
    case("parquet_fuzz_bitmask_assert.parquet", Decode, "parquet"),
    case(
        "parquet_fuzz_fixed_size_binary.parquet",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "parquet_fuzz_plain_assert.parquet",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "parquet_fuzz_schema_metadata.parquet",
        Decode,
        "the decoder failed on this input",
    ),
    case("arrow_corrupt.arrow", Decode, "Arrow"),
    // Found by fuzz/ (ipc) as polars panics (an assert_eq!, todo!(), a dtype polars-core
    // cannot hold); s3io's scan of the IPC metadata now refuses them before polars reads.
    case(
        "arrow_fuzz_batch_assert.arrow",
        Decode,
        "record batch 0 is unreadable",
    ),
    case(
        "arrow_fuzz_schema_todo.arrow",
        Decode,
        "the schema is unreadable",
    ),
    case(
        "arrow_fuzz_unsupported_dtype.arrow",
        Decode,
        "the schema is unreadable",
    ),
    // Found by the second fuzz run (ipc), past the scan: unwraps in polars-arrow's batch
    // reader and polars-core's field conversion; caught.
    case(
        "arrow_fuzz_batch_unwrap.arrow",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "arrow_fuzz_field_unwrap.arrow",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "arrow_fuzz_read_basic_slice.arrow",
        Decode,
        "the decoder failed on this input",
    ),
    case(
        "arrow_fuzz_chunks_unwrap.arrow",
        Decode,
        "the decoder failed on this input",
    ),
    // Each of these made polars abort the process (a failed allocation, a stack overflow)
    // or allocate a gigabyte and more, before s3io scanned the IPC metadata; see the
    // corpus README.
    case(
        "arrow_fuzz_compressed_bitmap_huge_len.arrow",
        LimitExceeded,
        "max_decoded_size",
    ),
    case(
        "arrow_zstd_1tb_buffer.arrow",
        LimitExceeded,
        "max_decoded_size",
    ),
    case(
        "arrow_buffer_past_end.arrow",
        Decode,
        "does not fit in its 16-byte message body",
    ),
    case("arrow_null_rows.arrow", LimitExceeded, "max_decoded_size"),
    case(
        "arrow_repeated_blocks.arrow",
        LimitExceeded,
        "max_decoded_size",
    ),
    case(
        "arrow_stream_deep_schema.arrow",
        Unsupported,
        "more than 64 levels deep",
    ),
    case(
        "arrow_stream_shared_fields.arrow",
        Decode,
        "more fields, field nodes and buffers than",
    ),
    case(
        "arrow_stream_dictionary_run.arrow",
        Unsupported,
        "dictionary batches in a row",
    ),
    case("gzip_bomb.csv.gz", LimitExceeded, "decompression limit"),
    case("zstd_bomb.csv.zst", LimitExceeded, "decompression limit"),
    case("bzip2_bomb.csv.bz2", LimitExceeded, "decompression limit"),
    case("xz_bomb.csv.xz", LimitExceeded, "decompression limit"),
    case("gzip_truncated.csv.gz", Decode, "gzip"),
];

/// How long one hostile download may take in a debug build on a busy machine. The slowest
/// are the decompression bombs: inflating up to the 64 MiB limit with unoptimized zlib-rs
/// takes about 9 s in a debug build on 2 loaded cores, 0.1 s in release.
const TIME_BOUND: Duration = Duration::from_secs(30);
/// How far one hostile download may raise the process's peak memory.
const MEMORY_BOUND: u64 = 1 << 30;
/// The data segment (RLIMIT_DATA, KiB) of each file's child process: an allocation past it
/// fails, and a decoder that aborts on a failed allocation fails that file's check.
const DATA_LIMIT_KIB: u64 = 4 << 20;
/// Set in a child process to the one file it runs.
const CHILD: &str = "S3IO_HOSTILE_CHILD";

/// The process's peak resident memory (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib << 10)
}

/// Runs each file of the corpus in a child process of this test binary, alone, under a cap
/// on its data segment: its peak memory (VmHWM only grows, and counts every thread) is that
/// file's own, and an abort fails that file instead of the whole run.
#[tokio::test]
async fn hostile_corpus() {
    if let Some(file) = std::env::var_os(CHILD) {
        return run_case(&file.to_string_lossy()).await;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut failures = Vec::new();
    let mut table = vec![
        "| file | gives | ms | peak MiB |".to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    for case in CORPUS {
        // `ulimit -d` sets RLIMIT_DATA for the child that `exec` becomes.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -d {DATA_LIMIT_KIB} && exec \"$0\" \"$@\""))
            .arg(&exe)
            .args(["hostile::hostile_corpus", "--exact", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD, case.file)
            .output()
            .expect("sh runs the child test process");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The row may follow the harness's "test ... " on the same line.
        let row = stdout
            .lines()
            .find_map(|line| line.find("| `").map(|at| &line[at..]));
        match (out.status.success(), row) {
            (true, Some(row)) => table.push(row.to_owned()),
            _ => failures.push(format!("{} ({}):\n{stdout}\n{}", case.file, out.status, {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let lines: Vec<&str> = stderr.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            })),
        }
    }
    println!("{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n{}",
        failures.len(),
        CORPUS.len(),
        failures.join("\n")
    );
    println!("corpus done: {} files, one child each", CORPUS.len());
}

/// One file of the corpus, in the child process: downloads it and checks what it gives.
async fn run_case(file: &str) {
    let case = CORPUS
        .iter()
        .find(|case| case.file == file)
        .unwrap_or_else(|| panic!("{file} is not in the corpus"));
    let t = start().await;
    t.put_fixture(&format!("hostile/{}", case.file), case.file)
        .await;
    let before = peak_rss();
    let started = Instant::now();
    let result = if case.frame {
        t.s3.download_frame(BUCKET, case.file)
            .await
            .map(Data::Frame)
    } else {
        t.s3.download(BUCKET, case.file).await
    };
    let elapsed = started.elapsed();
    let grew = peak_rss().saturating_sub(before);
    let (gives, failed) = match (result, case.kind) {
        (Ok(data), None) => (
            format!("decodes: {}", data.kind_name()),
            (case.values)(&data).or_else(|| bounds(elapsed, grew)),
        ),
        (Ok(data), Some(_)) => (
            "decodes".to_owned(),
            Some(format!("decoded as {}", data.kind_name())),
        ),
        (Err(err), _) => (
            format!("{:?}", err.kind()),
            check(case, &err).or_else(|| bounds(elapsed, grew)),
        ),
    };
    println!(
        "| `{}` | {gives} | {} | {} |",
        case.file,
        elapsed.as_millis(),
        peak_rss() >> 20
    );
    if let Some(why) = failed {
        panic!("{}: {why}", case.file);
    }
}

/// What is wrong with the error a case gave, if anything.
fn check(case: &Case, err: &s3io::Error) -> Option<String> {
    let message = err.to_string();
    if Some(err.kind()) != case.kind {
        return Some(format!("expected {:?}: {message}", case.kind));
    }
    if !message.contains(&format!("s3://{BUCKET}/{}", case.file)) || message.contains('\n') {
        return Some(format!("not one line naming the object: {message}"));
    }
    if !message.contains(case.says) {
        return Some(format!("should say {:?}: {message}", case.says));
    }
    None
}

/// What is wrong with the time and memory a case took, if anything.
fn bounds(elapsed: Duration, grew: u64) -> Option<String> {
    if elapsed > TIME_BOUND {
        return Some(format!("took {elapsed:?}"));
    }
    if grew > MEMORY_BOUND {
        return Some(format!("peak memory grew by {} MiB", grew >> 20));
    }
    None
}

/// Every file of `fixtures/hostile/` is in the corpus, so none is forgotten.
#[test]
fn the_corpus_lists_every_file() {
    let dir = format!("{}/fixtures/hostile", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".py") && !name.ends_with(".md"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|c| c.file.to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed);
    assert!(CORPUS.len() >= 20);
}

#[tokio::test]
async fn objects_past_the_size_limit_are_refused_before_their_body_is_read() {
    let t = start().await;
    t.s3.upload(BUCKET, "big.txt", "x".repeat(6 << 20))
        .await
        .unwrap();
    let read = Arc::new(AtomicU64::new(0));
    let counter = read.clone();
    let s3 =
        t.s3.with_transfer(TransferConfig::new().on_progress(move |p| {
            counter.store(p.bytes, Ordering::Relaxed);
        }))
        .with_limits(Limits::new().max_object_size(1 << 20));
    let err = s3.download(BUCKET, "big.txt").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("6291456 bytes"), "{err}");
    assert!(err.to_string().contains("max_object_size"), "{err}");
    assert!(err.to_string().contains("s3://s3io-test/big.txt"), "{err}");
    assert_eq!(read.load(Ordering::Relaxed), 0, "no body was read");
    // Bytes are not decoded, so not bounded; a call may raise the connector's limit.
    assert_eq!(
        s3.download_bytes(BUCKET, "big.txt").await.unwrap().len(),
        6 << 20
    );
    let raised = ReadOptions::new().limits(Limits::new().max_object_size(8 << 20));
    assert!(s3.download_with(BUCKET, "big.txt", raised).await.is_ok());
    // The builder takes limits too.
    let built = t
        .server
        .builder()
        .limits(Limits::new().max_object_size(10))
        .build()
        .await
        .unwrap();
    assert_eq!(built.limits(), Limits::new().max_object_size(10));
    let err = built.download_text(BUCKET, "big.txt").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
}

/// `n` lists nested through memo references (as `pickle_deep_memo.pkl`).
fn memo_chain(n: u32) -> Vec<u8> {
    let mut p = b"\x80\x02".to_vec();
    for i in 0..n {
        p.push(b']');
        p.push(b'r');
        p.extend(i.to_le_bytes());
        p.push(b'0');
    }
    for i in 0..n - 1 {
        for id in [i, i + 1] {
            p.push(b'j');
            p.extend(id.to_le_bytes());
        }
        p.extend(b"a0");
    }
    p.push(b'j');
    p.extend(0u32.to_le_bytes());
    p.push(b'.');
    p
}

#[test]
fn pickle_depth_is_yours_to_set() {
    let deep = memo_chain(2_000);
    let err = Format::PICKLE.decode(deep.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("more than 1000 levels"), "{err}");
    let options = ReadOptions::new().limits(Limits::new().max_pickle_depth(2_000));
    let value = Format::PICKLE.decode_with(deep, &options).unwrap();
    drop(value);
    let shallow = ReadOptions::new().limits(Limits::new().max_pickle_depth(10));
    let err = Format::PICKLE
        .decode_with(memo_chain(11), &shallow)
        .unwrap_err();
    assert!(err.to_string().contains("more than 10 levels"), "{err}");
    // Real pickles of builtins are untouched by the checks.
    for file in [
        "builtins_p0.pkl",
        "builtins_p2.pkl",
        "builtins_p4.pkl",
        "records.pkl",
    ] {
        Format::PICKLE
            .decode(fixture(&format!("pickle/{file}")))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

/// `xls_formula_spaces.xls`: 100 formulas that calamine would take minutes to parse, each
/// caching row × 1.5; the values come back, quickly.
#[test]
fn formulas_are_blanked_and_their_cached_values_kept() {
    let started = Instant::now();
    let df = Format::EXCEL
        .decode_frame(fixture("hostile/xls_formula_spaces.xls"))
        .unwrap();
    assert!(started.elapsed() < TIME_BOUND, "{:?}", started.elapsed());
    let expected: Vec<Option<f64>> = (1..=100).map(|row| Some(f64::from(row) * 1.5)).collect();
    assert_eq!(floats(&df, "x"), expected);
}

#[test]
fn sheet_cells_are_yours_to_set() {
    let book = fixture("xlsx/xlsxwriter.xlsx");
    let tiny = ReadOptions::new().limits(Limits::new().max_sheet_cells(4));
    let err = Format::EXCEL.decode_with(book.clone(), &tiny).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("max_sheet_cells"), "{err}");
    assert!(Format::EXCEL.decode(book).is_ok());
}

/// Text cells for a sheet: `rows` strings of 100 characters.
fn text_frame(rows: usize) -> DataFrame {
    let text: Vec<String> = (0..rows).map(|i| format!("{i:0>100}")).collect();
    DataFrame::new(rows, vec![Column::new("text".into(), text)]).unwrap()
}

/// One output budget covers every sheet of `download_sheets`: each sheet fits alone, the
/// three together do not.
#[tokio::test]
async fn the_output_budget_is_per_call_across_sheets() {
    let t = start().await;
    let frame = text_frame(1000);
    let sheets = [("a", &frame), ("b", &frame), ("c", &frame)];
    t.s3.upload_sheets(BUCKET, "three.xlsx", sheets)
        .await
        .unwrap();
    let budget = Limits::new().max_decoded_size(400_000);
    for name in ["a", "b", "c"] {
        let one = ReadOptions::excel().sheet_name(name).limits(budget);
        let df = t.s3.download_frame_with(BUCKET, "three.xlsx", one).await;
        assert_eq!(df.unwrap().shape(), (1000, 1), "sheet {name} alone fits");
    }
    let every = ReadOptions::excel().limits(budget);
    let err =
        t.s3.download_sheets_with(BUCKET, "three.xlsx", every)
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("max_decoded_size"), "{err}");
    assert!(
        err.to_string().contains("s3://s3io-test/three.xlsx"),
        "{err}"
    );
    let unbounded = t.s3.download_sheets(BUCKET, "three.xlsx").await.unwrap();
    assert_eq!(unbounded["c"], frame);
}

/// One output budget covers every object of `download_many`, and the stacked frame: each
/// file fits alone, all of them together do not.
#[tokio::test]
async fn the_output_budget_is_per_call_across_objects() {
    let t = start().await;
    for file in 0..3 {
        let lines: String = (0..50)
            .map(|i| format!("{{\"k{file}_{i}\":{i}}}\n"))
            .collect();
        let key = format!("many/{file}.jsonl");
        t.s3.upload(BUCKET, &key, bytes::Bytes::from(lines))
            .await
            .unwrap();
    }
    let s3 = t.s3.with_limits(Limits::new().max_decoded_size(200_000));
    for file in 0..3 {
        let df = s3
            .download_frame(BUCKET, &format!("many/{file}.jsonl"))
            .await;
        assert_eq!(df.unwrap().shape(), (50, 50), "file {file} alone fits");
    }
    let err = s3.download_many(BUCKET, "many/").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("max_decoded_size"), "{err}");
    let stacked = t.s3.download_many(BUCKET, "many/").await.unwrap();
    assert_eq!(stacked.shape(), (150, 150));
    assert_eq!(ints(&stacked, "k2_49").iter().flatten().count(), 1);
}

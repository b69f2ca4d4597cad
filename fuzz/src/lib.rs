//! What every fuzz target shares: small limits, so that running out of memory in the fuzzer
//! means a limit was bypassed, and the check that no panic was hidden by the decoders' guard.

use s3io_formats::{Compression, Format, Limits, ReadOptions};

/// The message `guarded` in `src/format/mod.rs` gives a panic it caught.
pub const CAUGHT_PANIC: &str = "the decoder failed on this input";

/// 64 MiB decompressed, 128 MiB decoded, a million sheet cells, the default pickle depth:
/// far below the fuzzer's 2 GiB RSS limit and its 512 MiB malloc limit, so running out of
/// memory there is a real bypass of a limit.
pub fn limits() -> Limits {
    Limits::new()
        .max_decompressed_size(64 << 20)
        .max_decoded_size(128 << 20)
        .max_sheet_cells(1_000_000)
}

/// Options for decoding `bytes` with no compression unless one is given.
pub fn options(compression: Option<Compression>) -> ReadOptions {
    ReadOptions::new().limits(limits()).compression(compression)
}

/// Decodes `bytes` as `format` through the public API. Ok and ordinary errors are fine; a
/// panic escaping is a crash, and so is one caught by s3io's guard (under libFuzzer its panic
/// hook aborts at the panic already; elsewhere the error's message gives it away).
///
/// With `S3IO_FUZZ_REPLAY=1` (replaying files: `target/.../release/<target> FILE...`), the
/// panic hook libFuzzer installs is removed, so s3io's guard catches panics as it does in a
/// program, and the outcome is printed instead of checked: how a crash is classified as a
/// caught panic or a real crash.
pub fn decode(format: Format, compression: Option<Compression>, bytes: &[u8]) {
    run(format, || {
        format
            .decode_with(bytes.to_vec(), &options(compression))
            .map(|data| data.kind_name())
    });
}

/// As [`decode`], into a frame (`Format::decode_frame_with`): records and dicts of columns
/// in JSON, NDJSON and pickles go through the table builder.
pub fn decode_frame(format: Format, bytes: &[u8]) {
    run(format, || {
        format
            .decode_frame_with(bytes.to_vec(), &options(None))
            .map(|_| "a frame")
    });
}

/// As [`decode`], every sheet of a workbook (`Format::decode_sheets_with`).
pub fn decode_sheets(format: Format, bytes: &[u8]) {
    run(format, || {
        format
            .decode_sheets_with(bytes.to_vec(), &options(None))
            .map(|_| "sheets")
    });
}

/// Runs one decode, and checks (or, replaying, prints) its outcome.
fn run(format: Format, decode: impl FnOnce() -> s3io_formats::Result<&'static str>) {
    let replay = std::env::var_os("S3IO_FUZZ_REPLAY").is_some();
    if replay {
        static UNHOOK: std::sync::Once = std::sync::Once::new();
        UNHOOK.call_once(|| drop(std::panic::take_hook()));
    }
    let result = decode();
    if replay {
        match &result {
            Ok(kind) => eprintln!("S3IO_FUZZ_REPLAY: decoded as {kind}"),
            Err(e) => eprintln!("S3IO_FUZZ_REPLAY: {:?}: {e}", e.kind()),
        }
        return;
    }
    if let Err(e) = result {
        let message = e.to_string();
        assert!(
            !message.contains(CAUGHT_PANIC),
            "caught panic in {}: {message}",
            format.name()
        );
    }
}

/// The workbook kind the first byte selects, and the rest of the input.
pub fn workbook(data: &[u8]) -> Option<(Format, &[u8])> {
    let (&first, rest) = data.split_first()?;
    Some((
        Format::WORKBOOKS[usize::from(first) % Format::WORKBOOKS.len()],
        rest,
    ))
}

/// The format of tables the first byte selects (JSON, NDJSON, pickle), and the rest.
pub fn table(data: &[u8]) -> Option<(Format, &[u8])> {
    const ALL: [Format; 3] = [Format::JSON, Format::NDJSON, Format::PICKLE];
    let (&first, rest) = data.split_first()?;
    Some((ALL[usize::from(first) % ALL.len()], rest))
}

/// The compression the first byte selects, and the rest of the input.
pub fn compression(data: &[u8]) -> Option<(Compression, &[u8])> {
    const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Bzip2,
        Compression::Xz,
    ];
    let (&first, rest) = data.split_first()?;
    Some((ALL[usize::from(first) % ALL.len()], rest))
}

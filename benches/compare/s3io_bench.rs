//! The s3io side of the side-by-side comparison (`benches/compare/run.sh`): one operation
//! per process, so that the caller can read the process's peak RSS, timed from inside so that
//! process start-up is not counted. Uses only s3io's public API and tokio.
//!
//! ```text
//! compare <op> --key KEY [--file PATH] [--frame]      with S3_ENDPOINT, S3_BUCKET,
//!              [--concurrency N] [--part-size BYTES]  S3_ACCESS_KEY, S3_SECRET_KEY,
//!              [--unsigned-payload]                   S3_WARMUP_KEY set
//! compare serve --root DIR                            an embedded s3s-fs server (fallback)
//! ```
//!
//! Operations (the format is the key's extension):
//! - `get`         download and decode (`download`, or `download_frame` with `--frame`)
//! - `put`         decode `--file` (by its own extension) untimed, then time encode + upload
//! - `get-bytes`   the limit: s3io's bare transfer (ranged GETs), no decoding (`download_bytes`)
//! - `put-bytes`   the limit: s3io's bare upload of `--file`'s bytes (`upload(Bytes)`)
//! - `decode`      read `--file` untimed, time `Format::decode` (`decode_frame` with `--frame`)
//! - `encode`      decode `--file` (by its own extension) untimed, time `Format::encode`
//! - `noop`        connect and warm up only: the baseline peak RSS
//!
//! `--concurrency N` builds the connector with `TransferConfig::new().concurrency(N)` (parts
//! in flight; the default config has 8): the scaling sweep of compare.py. `--part-size BYTES`
//! sets `part_size` and `multipart_threshold` to BYTES (the default config: 8 MiB), to see
//! what part size costs a server. `--unsigned-payload` sends upload bodies unsigned
//! (`PayloadSigning::Never`), as polars does over plain HTTP; the default signs them there.
//!
//! Before the clock, as for the Python contenders (contenders.py): the connector is built and
//! warmed with one tiny GET (`download_bytes` of S3_WARMUP_KEY) and one tiny PUT, so that the
//! SDK's first-request set-up and a pooled connection are ready when the timed call starts.
//! `put`, `put-bytes` and `encode` load their input from `--file` first, hand the memory the
//! loading freed back to the OS (glibc's `malloc_trim(0)`), then reset the peak RSS to the
//! current RSS (`5` into /proc/self/clear_refs), so that their peak is the operation's with
//! its input in memory, not the decoding of the input file. `S3IO_COMPARE_SHOW_RSS=1` prints
//! the RSS at the reset to stderr.
//!
//! Prints one JSON line: `{"wall_s": .., "amount": .., "vm_hwm_kb": ..}`, and
//! `"frame_bytes": ..` (the frame's `estimated_size()`) and `"frame_views": ..` (the 16-byte
//! string views that estimate leaves out) where the operation holds a frame.

use std::time::Instant;

use bytes::Bytes;
use s3io::{Data, Format, S3Connector, TransferConfig};

fn usage<T>() -> T {
    eprintln!(
        "usage: compare <get|put|get-bytes|put-bytes|decode|encode|noop> --key KEY [--file PATH] \
         [--frame] [--concurrency N] [--part-size BYTES] [--unsigned-payload]\n       \
         compare serve --root DIR"
    );
    std::process::exit(2)
}

struct Args {
    op: String,
    key: String,
    file: Option<String>,
    frame: bool,
    concurrency: Option<usize>,
    part_size: Option<u64>,
    unsigned_payload: bool,
    root: Option<String>,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    let op = it.next().unwrap_or_else(|| {
        // `cargo bench` with no filter runs every bench target: nothing to do here.
        println!("compare: run through benches/compare/run.sh");
        std::process::exit(0)
    });
    let mut args = Args {
        op,
        key: String::new(),
        file: None,
        frame: false,
        concurrency: None,
        part_size: None,
        unsigned_payload: false,
        root: None,
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--key" => args.key = it.next().unwrap_or_else(usage),
            "--file" => args.file = Some(it.next().unwrap_or_else(usage)),
            "--root" => args.root = Some(it.next().unwrap_or_else(usage)),
            "--frame" => args.frame = true,
            "--unsigned-payload" => args.unsigned_payload = true,
            "--concurrency" => {
                let n = it.next().unwrap_or_else(usage);
                args.concurrency = Some(n.parse().unwrap_or_else(|_| usage()));
            }
            "--part-size" => {
                let n = it.next().unwrap_or_else(usage);
                args.part_size = Some(n.parse().unwrap_or_else(|_| usage()));
            }
            _ => usage(),
        }
    }
    args
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("compare: {name} is not set");
        std::process::exit(2)
    })
}

/// The peak resident set of this process so far, from /proc/self/status.
fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak RSS to the current RSS (Linux 4.0 and later), after an untimed set-up.
fn reset_peak_rss() {
    // The input's decoding freed its scratch memory, but glibc's allocator keeps freed pages
    // of its arenas resident; handing them back first keeps them out of the peak (the Python
    // contenders do the same through ctypes).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only returns free memory to the OS; it takes no pointers.
        unsafe { malloc_trim(0) };
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    if std::env::var_os("S3IO_COMPARE_SHOW_RSS").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS"))
            .unwrap_or("");
        eprintln!("compare: at the peak's reset, {rss}");
    }
}

fn read_file(args: &Args) -> Bytes {
    let path = args.file.as_deref().unwrap_or_else(usage);
    Bytes::from(std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("compare: cannot read {path}: {e}");
        std::process::exit(2)
    }))
}

/// Decodes `--file` in the format its own extension names: what an upload starts from.
fn load_data(args: &Args) -> s3io::Result<Data> {
    let bytes = read_file(args);
    let format = Format::from_key(args.file.as_deref().unwrap_or_default());
    if args.frame {
        format.decode_frame(bytes).map(Data::Frame)
    } else {
        format.decode(bytes)
    }
}

/// The in-memory size of the frame, as polars estimates it, if `data` is one.
fn frame_bytes(data: &Data) -> Option<usize> {
    match data {
        Data::Frame(df) => Some(df.estimated_size()),
        _ => None,
    }
}

/// What `estimated_size()` misses of a frame: polars counts a string column as the sum of its
/// strings' lengths, but holds a 16-byte view per row, with strings of up to 12 bytes inside
/// it and longer ones in buffers besides. The frame's resident size is larger by this: the
/// views, less the short strings the estimate counted that live in them.
fn frame_views(data: &Data) -> Option<usize> {
    let Data::Frame(df) = data else { return None };
    let string_columns = df.columns().iter().filter_map(|c| c.str().ok());
    Some(
        string_columns
            .map(|strings| {
                let inline: usize = strings
                    .downcast_iter()
                    .flat_map(|array| array.views().iter())
                    .map(|view| view.length as usize)
                    .filter(|&n| n <= 12)
                    .sum();
                16 * strings.len() - inline
            })
            .sum(),
    )
}

fn size_of(data: &Data) -> usize {
    match data {
        Data::Frame(df) => df.height(),
        Data::Text(t) => t.len(),
        Data::Bytes(b) => b.len(),
        _ => 0,
    }
}

/// Builds the connector and warms it: one tiny GET and one tiny PUT, untimed.
async fn connect(args: &Args) -> s3io::Result<S3Connector> {
    let mut builder = S3Connector::builder()
        .region("us-east-1")
        .endpoint_url(env("S3_ENDPOINT"))
        .credentials(env("S3_ACCESS_KEY"), env("S3_SECRET_KEY"))
        .force_path_style(true);
    if args.concurrency.is_some() || args.part_size.is_some() || args.unsigned_payload {
        let mut config = TransferConfig::new();
        if args.unsigned_payload {
            config = config.payload_signing(s3io::PayloadSigning::Never);
        }
        if let Some(n) = args.concurrency {
            config = config.concurrency(n);
        }
        if let Some(bytes) = args.part_size {
            config = config.part_size(bytes).multipart_threshold(bytes);
        }
        builder = builder.transfer(config);
    }
    let s3 = builder.build().await?;
    let bucket = env("S3_BUCKET");
    s3.download_bytes(&bucket, &env("S3_WARMUP_KEY")).await?;
    s3.upload(
        &bucket,
        "warmup/out-s3io.csv",
        Bytes::from_static(b"a,b\n1,2\n"),
    )
    .await?;
    Ok(s3)
}

fn serve(args: &Args) -> s3io::Result<()> {
    let root = args.root.as_deref().unwrap_or_else(usage);
    let server = s3io::local::LocalS3::start_in(root)?;
    println!(
        "{} {} {}",
        server.endpoint_url(),
        s3io::local::ACCESS_KEY_ID,
        s3io::local::SECRET_ACCESS_KEY
    );
    // Serve until standard input closes (the parent exits or closes the pipe).
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    Ok(())
}

#[tokio::main]
async fn main() -> s3io::Result<()> {
    let args = args();
    if args.op == "serve" {
        return serve(&args);
    }
    let format = Format::from_key(&args.key);
    let bucket = env("S3_BUCKET");
    let (mut frame, mut views) = (None, None);
    let (wall, amount) = match args.op.as_str() {
        "get" => {
            let s3 = connect(&args).await?;
            let t = Instant::now();
            let data = if args.frame {
                Data::Frame(s3.download_frame(&bucket, &args.key).await?)
            } else {
                s3.download(&bucket, &args.key).await?
            };
            let wall = t.elapsed();
            (frame, views) = (frame_bytes(&data), frame_views(&data));
            (wall, size_of(&data))
        }
        "get-bytes" => {
            let s3 = connect(&args).await?;
            let t = Instant::now();
            let bytes = s3.download_bytes(&bucket, &args.key).await?;
            (t.elapsed(), bytes.len())
        }
        "put" => {
            let data = load_data(&args)?;
            (frame, views) = (frame_bytes(&data), frame_views(&data));
            let s3 = connect(&args).await?;
            reset_peak_rss();
            let t = Instant::now();
            let info = s3.upload(&bucket, &args.key, data).await?;
            (t.elapsed(), info.size as usize)
        }
        "put-bytes" => {
            let bytes = read_file(&args);
            let s3 = connect(&args).await?;
            reset_peak_rss();
            let t = Instant::now();
            let info = s3.upload(&bucket, &args.key, bytes).await?;
            (t.elapsed(), info.size as usize)
        }
        "decode" => {
            let bytes = read_file(&args);
            let t = Instant::now();
            let data = if args.frame {
                Data::Frame(format.decode_frame(bytes)?)
            } else {
                format.decode(bytes)?
            };
            let wall = t.elapsed();
            (frame, views) = (frame_bytes(&data), frame_views(&data));
            (wall, size_of(&data))
        }
        "noop" => {
            let _s3 = connect(&args).await?;
            (std::time::Duration::ZERO, 0)
        }
        "encode" => {
            let data = load_data(&args)?;
            (frame, views) = (frame_bytes(&data), frame_views(&data));
            reset_peak_rss();
            let t = Instant::now();
            let bytes = format.encode(&data)?;
            (t.elapsed(), bytes.len())
        }
        _ => usage(),
    };
    let peak = vm_hwm_kb();
    let frame = match (frame, views) {
        (Some(b), Some(v)) => format!(", \"frame_bytes\": {b}, \"frame_views\": {v}"),
        _ => String::new(),
    };
    println!(
        "{{\"wall_s\": {:.6}, \"amount\": {amount}, \"vm_hwm_kb\": {peak}{frame}}}",
        wall.as_secs_f64(),
    );
    Ok(())
}

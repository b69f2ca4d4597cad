//! `s3io`, the command line: `ls`, `cat`, `head`, `schema`, `cp`, `convert`, `rm`, `presign`,
//! `whoami`. Argument parsing and printing only; every S3 operation is a call to the s3io
//! library.

mod args;
mod show;

use std::io::{self, IsTerminal, Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use futures_util::TryStreamExt;
use s3io::polars::prelude::DataFrame;
use s3io::{
    Data, DeleteOptions, Format, KeyPattern, ListOptions, Operation, ReadOptions, S3Connector,
    S3Uri, TransferConfig,
};

use args::{Command, Global, Place, Read, Usage};

/// Why a command did not succeed.
enum Failure {
    /// An s3io call failed; its `Display` is the message.
    S3(s3io::Error),
    /// Reading or writing something local failed: what, and why.
    Io(String, io::Error),
    /// Something else the user must fix.
    Other(String),
}

impl From<s3io::Error> for Failure {
    fn from(e: s3io::Error) -> Self {
        Failure::S3(e)
    }
}

type Outcome = Result<(), Failure>;

/// The message of the last panic, for the one line printed if it reaches `main`.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The failure of writing to standard output.
fn stdout_failed(e: io::Error) -> Failure {
    Failure::Io("cannot write to standard output".to_owned(), e)
}

fn main() -> ExitCode {
    let invocation = match args::parse(std::env::args_os().skip(1).collect()) {
        Ok(invocation) => invocation,
        Err(usage) => return usage_error(&usage),
    };
    let command = match invocation.command {
        Command::Help(text) => {
            // A reader that went away early (`s3io --help | head -1`) is not an error.
            let _ = io::stdout().write_all(text.as_bytes());
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            let _ = writeln!(io::stdout(), "s3io {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        command => command,
    };
    configure_polars(&command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            say(&format!("s3io: cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    // Panics stay silent: the library turns those of decoders on hostile bytes into errors,
    // and one that reaches here (a bug) still ends in one line and status 1.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{}{place}", one_line(&what)));
        }
    }));
    let run = std::panic::AssertUnwindSafe(|| runtime.block_on(run(invocation.global, command)));
    let Ok(outcome) = std::panic::catch_unwind(run) else {
        runtime.shutdown_background();
        let what = LAST_PANIC.lock().ok().and_then(|mut p| p.take());
        say(&format!(
            "s3io: internal error: {} (please report it)",
            what.unwrap_or_default()
        ));
        return ExitCode::FAILURE;
    };
    // Transfers still winding down after a failure must not hold the exit.
    runtime.shutdown_background();
    let (message, broken_pipe) = match outcome {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::S3(e)) => {
            let broken_pipe = io_cause(&e).is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe);
            (e.to_string(), broken_pipe)
        }
        Err(Failure::Io(what, e)) => {
            let broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
            (format!("{what}: {e}"), broken_pipe)
        }
        Err(Failure::Other(message)) => (message, false),
    };
    // The reader of our output went away (`s3io cat ... | head`): nothing more to say.
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    say(&format!("s3io: {}", one_line(&message)));
    ExitCode::FAILURE
}

/// Prints a usage error and returns exit status 2.
fn usage_error(usage: &Usage) -> ExitCode {
    let message = one_line(&usage.message);
    match usage.command {
        Some(command) => say(&format!(
            "s3io {command}: {message} (see `s3io {command} --help`)"
        )),
        None => say(&format!("s3io: {message}")),
    }
    ExitCode::from(2)
}

/// A line on standard error; unlike `eprintln!`, never a panic when stderr is closed.
fn say(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Error messages are one line, whatever a decoder put in them.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `io::Error` behind an s3io error, if one is.
fn io_cause(e: &s3io::Error) -> Option<&io::Error> {
    std::iter::successors(std::error::Error::source(e), |e| e.source())
        .find_map(|e| e.downcast_ref::<io::Error>())
}

/// Polars reads its table settings from the environment: `head -n` rows are all shown, and
/// a table width it cannot parse (which would make it panic) is ignored.
fn configure_polars(command: &Command) {
    let rows = match command {
        Command::Head { lines, .. } => Some(*lines),
        _ => None,
    };
    let bad_width = std::env::var("POLARS_TABLE_WIDTH").is_ok_and(|w| w.parse::<u16>().is_err());
    // SAFETY: called before the runtime starts, while this is the only thread; nothing
    // reads or writes the environment concurrently.
    unsafe {
        if let Some(rows) = rows {
            std::env::set_var("POLARS_FMT_MAX_ROWS", rows.to_string());
        }
        if bad_width {
            std::env::remove_var("POLARS_TABLE_WIDTH");
        }
    }
}

/// A connector from the global options, the rest from the environment.
async fn connect(global: &Global) -> Result<S3Connector, Failure> {
    let mut builder = S3Connector::builder();
    if let Some(url) = &global.endpoint_url {
        builder = builder.endpoint_url(url);
    }
    if let Some(region) = &global.region {
        builder = builder.region(region);
    }
    if let Some(profile) = &global.profile {
        builder = builder.profile(profile);
    }
    // Progress lines are for people: only on a terminal, and only for slow transfers.
    if !global.no_progress && io::stderr().is_terminal() {
        builder = builder.transfer(TransferConfig::new().report_progress());
    }
    Ok(builder.build().await?)
}

async fn run(global: Global, command: Command) -> Outcome {
    let s3 = connect(&global).await?;
    match command {
        Command::Ls {
            uri,
            recursive,
            human_readable,
            summarize,
        } => ls(&s3, uri, recursive, human_readable, summarize).await,
        Command::Cat { uri } => {
            s3.download_to_writer(uri.bucket(), uri.key(), io::stdout())
                .await?;
            Ok(())
        }
        Command::Head { uri, lines, read } => head(&s3, &uri, lines, &read).await,
        Command::Schema { uri, read } => schema(&s3, &uri, &read).await,
        Command::Cp {
            src,
            dst,
            recursive,
            quiet,
        } => {
            let mut out = Report::new(quiet);
            if recursive {
                copy_recursive(&s3, src, dst, &mut out).await
            } else {
                copy_one(&s3, src, dst, &mut out).await
            }
        }
        Command::Convert { src, dst, read } => convert(&s3, &src, &dst, &read).await,
        Command::Rm {
            uri,
            recursive,
            dryrun,
            quiet,
        } => rm(&s3, &uri, recursive, dryrun, quiet).await,
        Command::Presign {
            uri,
            expires_in,
            put,
        } => {
            let expires_in = Duration::from_secs(expires_in);
            let url = if put {
                s3.presign_put(uri.bucket(), uri.key(), expires_in).await?
            } else {
                s3.presign_get(uri.bucket(), uri.key(), expires_in).await?
            };
            writeln!(io::stdout(), "{}", url.as_str()).map_err(stdout_failed)
        }
        Command::Whoami => {
            let me = s3.whoami().await?;
            let shown = serde_json::json!({
                "UserId": me.user_id,
                "Account": me.account,
                "Arn": me.arn,
            });
            writeln!(io::stdout(), "{shown:#}").map_err(stdout_failed)
        }
        Command::Mb { bucket } => {
            s3.create_bucket(&bucket).await?;
            writeln!(io::stdout(), "make_bucket: {bucket}").map_err(stdout_failed)
        }
        Command::Rb { bucket, force } => {
            if force {
                s3.delete_bucket_force(&bucket).await?;
            } else {
                s3.delete_bucket(&bucket).await?;
            }
            writeln!(io::stdout(), "remove_bucket: {bucket}").map_err(stdout_failed)
        }
        Command::Help(_) | Command::Version => Ok(()),
    }
}

async fn ls(
    s3: &S3Connector,
    uri: Option<S3Uri>,
    recursive: bool,
    human: bool,
    summarize: bool,
) -> Outcome {
    let mut out = io::BufWriter::new(io::stdout());
    let Some(uri) = uri else {
        for bucket in s3.list_buckets().await? {
            writeln!(out, "{} {}", show::time(bucket.created), bucket.name)
                .map_err(stdout_failed)?;
        }
        return out.flush().map_err(stdout_failed);
    };
    let (bucket, prefix) = (uri.bucket(), uri.key());
    let (mut count, mut total) = (0u64, 0u64);
    if recursive || KeyPattern::is_glob(prefix) {
        // Full keys, printed as the pages arrive.
        let mut objects = std::pin::pin!(s3.list_objects(bucket, prefix));
        while let Some(object) = objects.try_next().await? {
            (count, total) = (count + 1, total + object.size);
            writeln!(out, "{}", show::object_line(&object, &object.key, human))
                .map_err(stdout_failed)?;
        }
    } else {
        // One level, named below the prefix's last `/`, like `aws s3 ls`.
        let base = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
        let relative = |name: &str| name.strip_prefix(base).unwrap_or(name).to_owned();
        for folder in s3.list_dirs(bucket, prefix).await? {
            writeln!(out, "{}", show::folder_line(&relative(&folder))).map_err(stdout_failed)?;
        }
        let one_level = ListOptions::new().delimiter("/");
        let mut objects = std::pin::pin!(s3.list_objects_with(bucket, prefix, one_level));
        while let Some(object) = objects.try_next().await? {
            (count, total) = (count + 1, total + object.size);
            let line = show::object_line(&object, &relative(&object.key), human);
            writeln!(out, "{line}").map_err(stdout_failed)?;
        }
    }
    if summarize {
        writeln!(
            out,
            "\nTotal Objects: {count}\n   Total Size: {}",
            show::size(total, human)
        )
        .map_err(stdout_failed)?;
    }
    out.flush().map_err(stdout_failed)
}

/// The read options `head`, `schema` and `convert` were given.
fn read_options(read: &Read) -> ReadOptions {
    let options = if let Some(name) = &read.sheet {
        ReadOptions::excel().sheet(name)
    } else if let Some(index) = read.sheet_index {
        ReadOptions::excel().sheet_index(index)
    } else if let Some(separator) = read.separator {
        ReadOptions::csv().separator(separator)
    } else {
        ReadOptions::new()
    };
    match read.format {
        Some(format) => options.format(format),
        None => options,
    }
}

async fn head(s3: &S3Connector, uri: &S3Uri, lines: usize, read: &Read) -> Outcome {
    let options = read_options(read);
    let mut out = io::stdout();
    if read.all_sheets {
        return each_sheet(s3, uri, options, |out, df| show::frame_head(out, df, lines)).await;
    }
    let data = s3.download_with(uri.bucket(), uri.key(), options).await?;
    show::data_head(&mut out, data, lines).map_err(stdout_failed)
}

async fn schema(s3: &S3Connector, uri: &S3Uri, read: &Read) -> Outcome {
    let options = read_options(read);
    if read.all_sheets {
        return each_sheet(s3, uri, options, show::schema).await;
    }
    let df = s3
        .download_frame_with(uri.bucket(), uri.key(), options)
        .await?;
    show::schema(&mut io::stdout(), &df).map_err(stdout_failed)
}

/// Shows every sheet of a workbook with `show`, each under its name.
async fn each_sheet(
    s3: &S3Connector,
    uri: &S3Uri,
    options: ReadOptions,
    show: impl Fn(&mut io::Stdout, &DataFrame) -> io::Result<()>,
) -> Outcome {
    let sheets = s3
        .download_sheets_with(uri.bucket(), uri.key(), options)
        .await?;
    let mut out = io::stdout();
    for (i, (name, df)) in sheets.iter().enumerate() {
        let gap = if i == 0 { "" } else { "\n" };
        writeln!(out, "{gap}{name}:").map_err(stdout_failed)?;
        show(&mut out, df).map_err(stdout_failed)?;
    }
    Ok(())
}

/// Lines like `upload: a.csv to s3://b/a.csv` on standard output, unless quiet.
struct Report {
    quiet: bool,
    out: io::Stdout,
}

impl Report {
    fn new(quiet: bool) -> Report {
        Report {
            quiet,
            out: io::stdout(),
        }
    }

    fn line(
        &mut self,
        verb: &str,
        from: impl std::fmt::Display,
        to: impl std::fmt::Display,
    ) -> Outcome {
        if self.quiet {
            return Ok(());
        }
        writeln!(self.out, "{verb}: {from} to {to}").map_err(stdout_failed)
    }
}

/// `s3://bucket/key` for messages.
fn s3_text(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// The last segment of a key: the file name it gets when copied into a folder.
fn base_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// A destination key: `dst` itself, or `dst` + the source's name when `dst` is a folder.
fn key_into(dst: &str, name: &str) -> String {
    if dst.is_empty() || dst.ends_with('/') {
        format!("{dst}{name}")
    } else {
        dst.to_owned()
    }
}

/// A prefix as a folder: `data` becomes `data/`, so it never takes in `data2/`. Globs, the
/// bucket's root and prefixes already ending in `/` stay as they are.
fn folder(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') || KeyPattern::is_glob(prefix) {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    }
}

async fn copy_one(s3: &S3Connector, src: Place, dst: Place, out: &mut Report) -> Outcome {
    match (src, dst) {
        (Place::Local(path), Place::S3(uri)) => {
            if path.is_dir() {
                return Err(Failure::Other(format!(
                    "{} is a folder; add --recursive to upload what is in it",
                    path.display()
                )));
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let key = key_into(uri.key(), &name);
            s3.upload_from_path(uri.bucket(), &key, &path).await?;
            out.line("upload", path.display(), s3_text(uri.bucket(), &key))
        }
        (Place::S3(uri), Place::Local(path)) => {
            let into_folder = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
            let target = if into_folder {
                std::fs::create_dir_all(&path)
                    .map_err(|e| Failure::Io(format!("cannot create {}", path.display()), e))?;
                path.join(base_name(uri.key()))
            } else {
                path
            };
            s3.download_to_path(uri.bucket(), uri.key(), &target)
                .await?;
            out.line("download", &uri, target.display())
        }
        (Place::S3(from), Place::S3(to)) => {
            let key = key_into(to.key(), base_name(from.key()));
            s3.copy(from.bucket(), from.key(), to.bucket(), &key)
                .await?;
            out.line("copy", &from, s3_text(to.bucket(), &key))
        }
        (Place::Std, Place::S3(uri)) => {
            let mut body = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut body)
                .map_err(|e| Failure::Io("cannot read standard input".to_owned(), e))?;
            s3.upload(uri.bucket(), uri.key(), bytes::Bytes::from(body))
                .await?;
            Ok(())
        }
        (Place::S3(uri), Place::Std) => {
            s3.download_to_writer(uri.bucket(), uri.key(), io::stdout())
                .await?;
            Ok(())
        }
        _ => Err(Failure::Other("SRC or DST must be an s3:// URI".to_owned())),
    }
}

async fn copy_recursive(s3: &S3Connector, src: Place, dst: Place, out: &mut Report) -> Outcome {
    match (src, dst) {
        (Place::Local(dir), Place::S3(uri)) => {
            if !dir.is_dir() {
                return Err(Failure::Other(format!("{} is not a folder", dir.display())));
            }
            let prefix = folder(uri.key());
            for (key, _) in s3.upload_dir(&dir, uri.bucket(), &prefix).await? {
                let relative = key.strip_prefix(&prefix).unwrap_or(&key);
                out.line(
                    "upload",
                    dir.join(relative).display(),
                    s3_text(uri.bucket(), &key),
                )?;
            }
            Ok(())
        }
        (Place::S3(uri), Place::Local(dir)) => {
            let prefix = folder(uri.key());
            let files = s3.download_dir(uri.bucket(), &prefix, &dir).await?;
            // Keys land below the prefix's last `/`; say which key each file came from.
            let literal = KeyPattern::new(&prefix).literal_prefix();
            let base = &literal[..literal.rfind('/').map_or(0, |i| i + 1)];
            for file in files {
                let key = format!("{base}{}", relative_key(&dir, &file));
                out.line("download", s3_text(uri.bucket(), &key), file.display())?;
            }
            Ok(())
        }
        (Place::S3(from), Place::S3(to)) => {
            let (src_prefix, dst_prefix) = (folder(from.key()), folder(to.key()));
            let copied = s3
                .copy_prefix(from.bucket(), &src_prefix, to.bucket(), &dst_prefix)
                .await?;
            for (src_key, dst_key) in copied {
                out.line(
                    "copy",
                    s3_text(from.bucket(), &src_key),
                    s3_text(to.bucket(), &dst_key),
                )?;
            }
            Ok(())
        }
        _ => Err(Failure::Other(
            "--recursive copies between a folder and S3, or within S3".to_owned(),
        )),
    }
}

/// A downloaded file's path below `dir`, with `/` separators.
fn relative_key(dir: &Path, file: &Path) -> String {
    let relative: PathBuf = file.strip_prefix(dir).unwrap_or(file).to_path_buf();
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

async fn convert(s3: &S3Connector, src: &S3Uri, dst: &S3Uri, read: &Read) -> Outcome {
    let data = s3
        .download_with(src.bucket(), src.key(), read_options(read))
        .await?;
    // JSON and pickled records become tables when the target holds tables.
    let tables = [
        Format::CSV,
        Format::TSV,
        Format::PARQUET,
        Format::IPC,
        Format::EXCEL,
    ];
    let data = match data {
        Data::Json(_) | Data::Pickle(_) if tables.contains(&Format::from_key(dst.key())) => {
            Data::Frame(data.into_frame().map_err(|e| {
                e.with_operation(Operation::Decode)
                    .with_location(src.bucket(), src.key())
            })?)
        }
        other => other,
    };
    s3.upload(dst.bucket(), dst.key(), data).await?;
    writeln!(io::stdout(), "convert: {src} to {dst}").map_err(stdout_failed)
}

async fn rm(s3: &S3Connector, uri: &S3Uri, recursive: bool, dryrun: bool, quiet: bool) -> Outcome {
    let bucket = uri.bucket();
    let keys = if recursive {
        let options = DeleteOptions::new().dry_run(dryrun);
        s3.delete_prefix_with(bucket, &folder(uri.key()), options)
            .await?
    } else {
        if !dryrun {
            s3.delete(bucket, uri.key()).await?;
        }
        vec![uri.key().to_owned()]
    };
    if quiet && !dryrun {
        return Ok(());
    }
    let mut out = io::BufWriter::new(io::stdout());
    let dry = if dryrun { "(dryrun) " } else { "" };
    for key in keys {
        writeln!(out, "{dry}delete: {}", s3_text(bucket, &key)).map_err(stdout_failed)?;
    }
    out.flush().map_err(stdout_failed)
}

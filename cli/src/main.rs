//! `s3io`, the command line: `ls`, `cat`, `head`, `schema`, `stat`, `cp`, `mv`, `sync`,
//! `convert`, `rm`, `presign`, `whoami`, `mb`, `rb`. Parses with clap, then hands the command to its module under
//! `commands/`; every S3 operation is a call to the s3io library.
//!
//! Exit status: 0 done, 1 the operation failed, 2 the command line is wrong. Errors are one
//! line on standard error, and no panic text ever reaches the terminal.

mod arguments;
mod batch;
mod cli;
mod commands;
mod failure;
mod filter;
mod output;
mod progress;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use s3io::S3Connector;

use cli::{Cli, GlobalArgs, UsageError};
use commands::{Command, Context};
use failure::{Failure, io_cause, one_line, say};
use progress::Bars;

/// The message of the last panic, for the one line printed if it reaches `main`.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches_from(std::env::args_os())
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return clap_error(&e),
    };
    if let Err(message) = cli.command.check() {
        let command = matches.subcommand_name().map(str::to_owned);
        return usage_error(&UsageError { message, command });
    }
    configure_polars(&cli.command);
    if cli.global.debug {
        // The AWS SDK's own log: each request, its signing, retries and answers.
        tracing_subscriber::fmt()
            .with_writer(io::stderr)
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .init();
    }
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
    let run = std::panic::AssertUnwindSafe(|| runtime.block_on(run(cli.global, cli.command)));
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

/// Help and version go to standard output with status 0; anything else clap refused is a
/// usage error.
fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // A reader that went away early (`s3io --help | head -1`) is not an error.
            let _ = write!(io::stdout(), "{}", e.render());
            ExitCode::SUCCESS
        }
        _ => usage_error(&UsageError::from_clap(e, std::env::args_os())),
    }
}

/// Prints a usage error in one line and returns exit status 2.
fn usage_error(usage: &UsageError) -> ExitCode {
    let message = one_line(&usage.message);
    match &usage.command {
        Some(command) => say(&format!(
            "s3io {command}: {message} (see `s3io {command} --help`)"
        )),
        None => say(&format!("s3io: {message} (see `s3io --help`)")),
    }
    ExitCode::from(2)
}

/// Polars reads its table settings from the environment: `head -n` rows are all shown, and
/// a table width it cannot parse (which would make it panic) is ignored.
fn configure_polars(command: &Command) {
    let rows = match command {
        Command::Head(head) => Some(head.lines),
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
async fn connect(global: &GlobalArgs) -> Result<S3Connector, Failure> {
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
    if global.no_sign_request {
        builder = builder.anonymous();
    }
    if global.request_payer.is_some() {
        builder = builder.request_payer(true);
    }
    Ok(builder.build().await?)
}

async fn run(global: GlobalArgs, command: Command) -> Result<(), Failure> {
    let s3 = connect(&global).await?;
    // Progress bars are for people: only on a terminal, and only for slow transfers.
    let bars = Bars::new(!global.no_progress && io::stderr().is_terminal());
    command.run(&Context { s3, bars }).await
}

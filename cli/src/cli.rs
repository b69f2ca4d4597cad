//! The top of the command line as clap parses it: the program, the options every command
//! takes, and the command; and what a wrong command line says. The commands' arguments are
//! in `commands/`, the argument types they share in `arguments.rs`.

use std::ffi::OsString;

use clap::{Args, CommandFactory, Parser};

use crate::commands::Command;

const ENVIRONMENT: &str = "\
Settings not given here come from the environment, as for the AWS CLI: AWS_REGION,
AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_ENDPOINT_URL, ~/.aws/config and ~/.aws/credentials.

Exit status: 0 done, 1 the operation failed, 2 the command line is wrong.";

/// s3io: S3 as a data scientist's disk
#[derive(Parser)]
#[command(
    name = "s3io",
    version,
    after_help = ENVIRONMENT,
    // No command is a usage error in one line, not the help on standard error.
    arg_required_else_help = false,
    // A flag or option given twice counts once, the last value winning.
    args_override_self = true,
    subcommand_value_name = "COMMAND",
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes, before or after the command's name.
#[derive(Args)]
#[command(next_help_heading = "Options for every command")]
pub struct GlobalArgs {
    /// Another S3 server (MinIO, Garage, moto, Ceph...)
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// The AWS region (default: AWS_REGION, the profile's, us-east-1)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// A profile of ~/.aws/config and ~/.aws/credentials
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Never show transfer progress
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Log each request, retry and answer of the AWS SDK on standard error
    #[arg(long, global = true)]
    pub debug: bool,

    /// Send unsigned requests, for public buckets (no credentials are looked up)
    #[arg(long, global = true)]
    pub no_sign_request: bool,

    /// Agree to pay for requests to a requester-pays bucket
    #[arg(
        long,
        global = true,
        value_name = "requester",
        num_args = 0..=1,
        default_missing_value = "requester",
        value_parser = ["requester"],
    )]
    pub request_payer: Option<String>,
}

/// A wrong command line (exit status 2): what is wrong, and the command whose help to point
/// to.
#[derive(Debug)]
pub struct UsageError {
    pub message: String,
    pub command: Option<String>,
}

impl UsageError {
    /// What clap refused, in one line: its message and tips, without the usage and the
    /// pointer to `--help` that follow them (the caller adds its own). `args` are the
    /// arguments clap was given, to find the command whose help to point to.
    pub fn from_clap(e: &clap::Error, args: impl IntoIterator<Item = OsString>) -> UsageError {
        let text = e.render().to_string();
        let mut message = Vec::new();
        let mut tips = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with("Usage:") || line.starts_with("For more information") {
                break;
            }
            if line.starts_with("tip:") {
                tips.push(format!("({line})"));
            } else if !line.is_empty() {
                message.push(line.strip_prefix("error:").unwrap_or(line).trim());
            }
        }
        message.extend(tips.iter().map(String::as_str));
        // The same arguments again, parsed as far as they go.
        let command = Cli::command()
            .ignore_errors(true)
            .try_get_matches_from(args)
            .ok()
            .and_then(|matches| matches.subcommand_name().map(str::to_owned));
        UsageError {
            message: message.join(" "),
            command,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arguments::Location;
    use clap::FromArgMatches;

    fn parse(args: &[&str]) -> Result<Cli, UsageError> {
        let args: Vec<OsString> = std::iter::once("s3io")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let matches = Cli::command()
            .try_get_matches_from(args.clone())
            .map_err(|e| UsageError::from_clap(&e, args.clone()))?;
        let cli =
            Cli::from_arg_matches(&matches).map_err(|e| UsageError::from_clap(&e, args.clone()))?;
        cli.command.check().map_err(|message| UsageError {
            message,
            command: matches.subcommand_name().map(str::to_owned),
        })?;
        Ok(cli)
    }

    fn usage_of(args: &[&str]) -> String {
        match parse(args) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(usage) => usage.message,
        }
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_go_anywhere_in_any_spelling() {
        let parsed = parse(&[
            "head",
            "--region=eu-west-1",
            "s3://b/k.csv",
            "-n5",
            "--endpoint-url",
            "http://127.0.0.1:9000",
            "--no-progress",
        ])
        .unwrap_or_else(|u| panic!("{}", u.message));
        assert_eq!(parsed.global.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            parsed.global.endpoint_url.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert!(parsed.global.no_progress);
        let Command::Head(head) = parsed.command else {
            panic!("not head")
        };
        assert_eq!(
            (head.uri.bucket(), head.uri.key(), head.lines),
            ("b", "k.csv", 5)
        );
        let Ok(Cli {
            command: Command::Head(head),
            ..
        }) = parse(&["head", "s3://b/k.csv", "--lines=7"])
        else {
            panic!("--lines=7")
        };
        assert_eq!(head.lines, 7);
        // Before the command too, and a repeated option keeps its last value.
        let parsed = parse(&["--region", "a", "ls", "--region", "b", "-r", "-r"])
            .unwrap_or_else(|u| panic!("{}", u.message));
        assert_eq!(parsed.global.region.as_deref(), Some("b"));
    }

    #[test]
    fn copies_know_their_sides() {
        let Ok(Cli {
            command: Command::Cp(cp),
            ..
        }) = parse(&["cp", "-", "S3://b/k.txt"])
        else {
            panic!("cp - s3://")
        };
        assert!(matches!(cp.src, Location::Stdio));
        assert!(matches!(cp.dst, Location::S3(u) if u.key() == "k.txt"));
        // After `--`, a name starting with a dash is a file.
        let Ok(Cli {
            command: Command::Cp(cp),
            ..
        }) = parse(&["cp", "--", "-odd-name", "s3://b/"])
        else {
            panic!("cp -- -odd-name")
        };
        assert!(matches!(cp.src, Location::Local(p) if p == std::path::Path::new("-odd-name")));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(usage_of(&[]).contains("requires a subcommand"));
        assert!(usage_of(&["frobnicate"]).contains("unrecognized subcommand 'frobnicate'"));
        assert!(usage_of(&["cat"]).contains("<s3://bucket/key>"));
        assert!(usage_of(&["cat", "s3://b"]).contains("names a bucket"));
        assert!(usage_of(&["cat", "http://b/k"]).contains("not an s3:// URI"));
        assert!(usage_of(&["ls", "--bogus"]).contains("unexpected argument '--bogus'"));
        assert!(usage_of(&["head", "s3://b/k", "-n", "many"]).contains("invalid value 'many'"));
        assert!(usage_of(&["head", "s3://b/k", "-n"]).contains("a value is required for '--lines"));
        assert!(usage_of(&["head", "s3://b/k", "--format", "docx"]).contains("unknown format"));
        assert!(usage_of(&["head", "s3://b/k.csv", "--separator", "ab"]).contains("one ASCII"));
        assert!(usage_of(&["cp", "a", "b"]).contains("must be an s3:// URI"));
        assert!(usage_of(&["cp", "s3://b/dir/", "."]).contains("add --recursive"));
        assert!(usage_of(&["cp", "-r", "-", "s3://b/x/"]).contains("not standard input"));
        assert!(usage_of(&["cp", "-", "s3://b/x/"]).contains("needs a full key"));
        assert!(usage_of(&["rm", "s3://b"]).contains("names a bucket"));
        assert!(usage_of(&["mb", "s3://b/k"]).contains("names a key"));
        assert!(usage_of(&["ls", "--recursive=yes"]).contains("unexpected value 'yes'"));
        assert!(usage_of(&["ls", "s3://a", "s3://b"]).contains("unexpected argument 's3://b'"));
        assert!(usage_of(&["whoami", "me"]).contains("unexpected argument 'me'"));
        assert!(
            usage_of(&["head", "s3://b/k", "--sheet", "A", "--sheet-index", "1"])
                .contains("cannot be used with")
        );
        assert!(
            usage_of(&["head", "s3://b/k", "--all-sheets", "--separator", ";"])
                .contains("cannot be used with")
        );
        assert!(
            usage_of(&["head", "s3://b/k.csv", "--sheet", "A"]).contains("s3://b/k.csv is csv")
        );
        assert!(usage_of(&["schema", "s3://b/k.xlsx", "--separator", ";"]).contains("is xlsx"));
        assert!(
            usage_of(&["convert", "s3://b/a.xlsx", "s3://b/a.csv", "--all-sheets"])
                .contains("unexpected argument '--all-sheets'")
        );
        // Unknown extensions are left to the Content-Type.
        assert!(parse(&["head", "s3://b/export", "--sheet", "A"]).is_ok());
    }

    #[test]
    fn usage_errors_name_their_command() {
        let err = parse(&["ls", "--bogus"]).err().unwrap();
        assert_eq!(err.command.as_deref(), Some("ls"));
        assert!(err.message.contains("(tip: "), "{}", err.message);
        assert!(!err.message.contains('\n'), "{}", err.message);
        let err = parse(&["frobnicate"]).err().unwrap();
        assert_eq!(err.command, None);
        let err = parse(&["cp", "a", "b"]).err().unwrap();
        assert_eq!(err.command.as_deref(), Some("cp"));
    }
}

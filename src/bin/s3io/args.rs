//! The command line, parsed by hand (no parser crate: the build stays as short as it is):
//! global options anywhere, `--name value` and `--name=value`, `--` to end options, `-` as
//! standard input or output.

use std::ffi::OsString;
use std::path::PathBuf;

use s3io::{Format, S3Uri};

/// What the user asked for.
pub struct Invocation {
    pub global: Global,
    pub command: Command,
}

/// Options every command takes.
#[derive(Default)]
pub struct Global {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub no_progress: bool,
}

/// One command, with its arguments checked.
pub enum Command {
    /// Print this text to standard output and succeed.
    Help(&'static str),
    Version,
    Ls {
        uri: Option<S3Uri>,
        recursive: bool,
        human_readable: bool,
        summarize: bool,
    },
    Cat {
        uri: S3Uri,
    },
    Head {
        uri: S3Uri,
        lines: usize,
        read: Read,
    },
    Schema {
        uri: S3Uri,
        read: Read,
    },
    Cp {
        src: Place,
        dst: Place,
        recursive: bool,
        quiet: bool,
    },
    Convert {
        src: S3Uri,
        dst: S3Uri,
        read: Read,
    },
    Rm {
        uri: S3Uri,
        recursive: bool,
        dryrun: bool,
        quiet: bool,
    },
    Presign {
        uri: S3Uri,
        expires_in: u64,
        put: bool,
    },
    Whoami,
    Mb {
        bucket: String,
    },
    Rb {
        bucket: String,
        force: bool,
    },
}

/// How to read an object: the options of `head`, `schema` and `convert`.
#[derive(Default)]
pub struct Read {
    pub format: Option<Format>,
    pub sheet: Option<String>,
    pub sheet_index: Option<usize>,
    pub separator: Option<u8>,
    pub all_sheets: bool,
}

/// One side of a copy.
pub enum Place {
    S3(S3Uri),
    Local(PathBuf),
    /// `-`: standard input as a source, standard output as a destination.
    Std,
}

/// A usage error: what is wrong, and the command whose help to point to.
pub struct Usage {
    pub message: String,
    pub command: Option<&'static str>,
}

type Parsed<T> = Result<T, Usage>;

pub const MAIN_HELP: &str = "\
s3io: S3 as a data scientist's disk

Usage: s3io [OPTIONS] COMMAND [ARGS]

Commands:
  ls       [s3://bucket[/prefix]]   list buckets, or objects and folders (globs welcome)
  cat      s3://bucket/key          write an object's bytes to standard output
  head     s3://bucket/key          show the first rows of a csv, xlsx, parquet, json, pkl...
  schema   s3://bucket/key          show a table's column names and types
  cp       SRC DST                  copy local <-> S3 and S3 -> S3 (--recursive for folders)
  convert  SRC DST                  rewrite an object in another format (a.csv -> a.parquet)
  rm       s3://bucket/key          delete an object (--recursive for a prefix)
  presign  s3://bucket/key          print a URL that downloads the object without credentials
  whoami                            show who the credentials belong to
  mb       s3://bucket              make a bucket
  rb       s3://bucket              remove an empty bucket (--force empties it first)

Options (for every command):
      --endpoint-url URL   another S3 server (MinIO, Garage, moto, Ceph...)
      --region REGION      the AWS region (default: AWS_REGION, the profile, us-east-1)
      --profile NAME       a profile of ~/.aws/config and ~/.aws/credentials
      --no-progress        never print transfer progress
  -h, --help               help; `s3io COMMAND --help` for a command's
      --version            the version

Settings not given here come from the environment, as for the AWS CLI: AWS_REGION,
AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_ENDPOINT_URL, ~/.aws/config and ~/.aws/credentials.

Exit status: 0 done, 1 the operation failed, 2 the command line is wrong.
";

const LS_HELP: &str = "\
Usage: s3io ls [s3://bucket[/prefix]] [--recursive] [--human-readable] [--summarize]

Without an argument, lists the buckets. With a bucket or prefix, lists the folders (PRE)
and objects directly below it, with their last-modified time (UTC) and size in bytes; names
are shown relative to the prefix's last '/', as the AWS CLI does.

A prefix holding *, ?, [ or ** is a glob: `s3io ls 's3://b/logs/**/*.csv'` lists only the
literal part (logs/) and shows the full keys that match. * and ? stay within one folder;
** crosses folders.

Options:
  -r, --recursive        every object below the prefix, with full keys
      --human-readable   sizes as KiB, MiB, GiB
      --summarize        end with the number of objects and their total size
";

const CAT_HELP: &str = "\
Usage: s3io cat s3://bucket/key

Writes the object's bytes, unchanged, to standard output. Large objects stream in parallel
parts, in order, with bounded memory; `s3io cat s3://b/big.log | head` stops early and
quietly.
";

const HEAD_HELP: &str = "\
Usage: s3io head s3://bucket/key [-n ROWS] [--sheet NAME | --sheet-index N] [--all-sheets]
                 [--format FORMAT] [--separator CHAR]

Downloads the object, decodes it by its extension (csv, tsv, jsonl, parquet, arrow/feather,
xlsx, xlsm, xlsb, xls, ods, json, pkl, text; any of them .gz, .zst, .bz2 or .xz) and shows
the beginning: a table's first rows, the first items of a JSON or pickled list (a JSON or
pickled dict whole), or a text's first lines.

Options:
  -n, --lines ROWS       how many rows, items or lines (default 10)
      --sheet NAME       a workbook's sheet by name (default: the first)
      --sheet-index N    a workbook's sheet by position, from 0
      --all-sheets       every sheet of a workbook, each under its name
      --format FORMAT    read as this format whatever the key says (csv, parquet, xlsx, ...)
      --separator CHAR   the field separator of a csv or tsv (e.g. ';' or tab)
";

const SCHEMA_HELP: &str = "\
Usage: s3io schema s3://bucket/key [--sheet NAME | --sheet-index N] [--all-sheets]
                   [--format FORMAT] [--separator CHAR]

Downloads a table (csv, tsv, jsonl, parquet, arrow, a workbook's sheet, or JSON and pickles
of records) and prints each column's name and polars dtype, one a line.

Options: as for `s3io head`.
";

const CP_HELP: &str = "\
Usage: s3io cp SRC DST [--recursive] [--quiet]

Copies one object or file, bytes unchanged:
  s3io cp data.csv s3://bucket/in/          upload (a key ending in / keeps the file name)
  s3io cp s3://bucket/in/data.csv .          download (into a folder keeps the key's name)
  s3io cp s3://a/data.csv s3://b/copy.csv    server-side copy
  s3io cp - s3://bucket/notes.txt            standard input to an object
  s3io cp s3://bucket/big.log -              an object to standard output

With --recursive, SRC is a folder, a prefix or a glob, and every object or file below it is
copied, keeping its path below the prefix's last '/'. A prefix without a trailing '/' is
taken as a folder. Downloads refuse keys that would land outside DST (holding '..', absolute,
with a drive prefix or backslashes) before anything is written.

Options:
  -r, --recursive   copy a folder, prefix or glob
  -q, --quiet       do not print a line per copied object
";

const CONVERT_HELP: &str = "\
Usage: s3io convert s3://bucket/SRC s3://bucket/DST [--sheet NAME | --sheet-index N]
                    [--format FORMAT] [--separator CHAR]

Downloads SRC, decodes it by its extension, and uploads it encoded as DST's extension says:
  s3io convert s3://b/sales.csv s3://b/sales.parquet
  s3io convert s3://b/report.xlsx s3://b/report.csv.gz --sheet Data
JSON and pickled records become tables when DST is csv, tsv, parquet, arrow or xlsx.

Options: --sheet, --sheet-index, --format and --separator read SRC, as for `s3io head`.
";

const RM_HELP: &str = "\
Usage: s3io rm s3://bucket/key [--recursive] [--dryrun] [--quiet]

Deletes one object (a missing one is not an error, as in S3). With --recursive, deletes
every object under a prefix or matching a glob; a prefix without a trailing '/' is taken as
a folder (s3://b/data deletes data/..., never data2/...).

Options:
  -r, --recursive   delete a prefix or glob
      --dryrun      print what would be deleted, delete nothing
  -q, --quiet       do not print a line per deleted object
";

const PRESIGN_HELP: &str = "\
Usage: s3io presign s3://bucket/key [--expires-in SECONDS] [--put]

Prints a URL with which anyone can download the object (or with --put, upload it with an
HTTP PUT) until it expires. Treat it as a secret.

Options:
      --expires-in SECONDS   how long the URL works (default 3600, at most 604800 = 7 days);
                             --expires is the same
      --put                  a URL for an upload instead of a download
";

const WHOAMI_HELP: &str = "\
Usage: s3io whoami

Prints the account, ARN and user id the credentials belong to (STS GetCallerIdentity), as
JSON, like `aws sts get-caller-identity`.
";

const MB_HELP: &str = "\
Usage: s3io mb s3://bucket

Creates a bucket in the region (--region, AWS_REGION or the profile's). A bucket you already
own is not an error.
";

const RB_HELP: &str = "\
Usage: s3io rb s3://bucket [--force]

Deletes an empty bucket.

Options:
      --force   first delete every object in it (and every version, where kept)
";

/// Which flags and valued options a command takes, after short aliases are expanded.
struct Spec {
    name: &'static str,
    help: &'static str,
    flags: &'static [&'static str],
    valued: &'static [&'static str],
}

const READ_VALUED: &[&str] = &["--sheet", "--sheet-index", "--format", "--separator"];

const SPECS: &[Spec] = &[
    Spec {
        name: "ls",
        help: LS_HELP,
        flags: &["--recursive", "--human-readable", "--summarize"],
        valued: &[],
    },
    Spec {
        name: "cat",
        help: CAT_HELP,
        flags: &[],
        valued: &[],
    },
    Spec {
        name: "head",
        help: HEAD_HELP,
        flags: &["--all-sheets"],
        valued: &[
            "--lines",
            "--sheet",
            "--sheet-index",
            "--format",
            "--separator",
        ],
    },
    Spec {
        name: "schema",
        help: SCHEMA_HELP,
        flags: &["--all-sheets"],
        valued: READ_VALUED,
    },
    Spec {
        name: "cp",
        help: CP_HELP,
        flags: &["--recursive", "--quiet"],
        valued: &[],
    },
    Spec {
        name: "convert",
        help: CONVERT_HELP,
        flags: &[],
        valued: READ_VALUED,
    },
    Spec {
        name: "rm",
        help: RM_HELP,
        flags: &["--recursive", "--dryrun", "--quiet"],
        valued: &[],
    },
    Spec {
        name: "presign",
        help: PRESIGN_HELP,
        flags: &["--put"],
        valued: &["--expires-in", "--expires"],
    },
    Spec {
        name: "whoami",
        help: WHOAMI_HELP,
        flags: &[],
        valued: &[],
    },
    Spec {
        name: "mb",
        help: MB_HELP,
        flags: &[],
        valued: &[],
    },
    Spec {
        name: "rb",
        help: RB_HELP,
        flags: &["--force"],
        valued: &[],
    },
];

/// The options and positional arguments of one command line, before they are checked.
struct Raw {
    spec: &'static Spec,
    flags: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
    positional: Vec<String>,
}

impl Raw {
    fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn usage(&self, message: impl Into<String>) -> Usage {
        Usage {
            message: message.into(),
            command: Some(self.spec.name),
        }
    }

    /// Exactly `N` positional arguments, named for the message.
    fn positional<const N: usize>(&self, names: [&str; N]) -> Parsed<[&str; N]> {
        if self.positional.len() != N {
            let wanted = if N == 0 {
                "no arguments".to_owned()
            } else {
                names.join(" ")
            };
            return Err(self.usage(format!(
                "takes {wanted}, got {} argument{}",
                self.positional.len(),
                if self.positional.len() == 1 { "" } else { "s" }
            )));
        }
        Ok(std::array::from_fn(|i| self.positional[i].as_str()))
    }

    fn s3_uri(&self, text: &str) -> Parsed<S3Uri> {
        S3Uri::parse(text).map_err(|e| self.usage(e.message().to_owned()))
    }

    /// An `s3://bucket/key` naming one object: the key may not be empty.
    fn object_uri(&self, text: &str) -> Parsed<S3Uri> {
        let uri = self.s3_uri(text)?;
        if uri.key().is_empty() {
            return Err(self.usage(format!("{text} names a bucket, not an object")));
        }
        Ok(uri)
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Parsed<Option<T>> {
        self.value(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| self.usage(format!("{name} wants a whole number, not {text:?}")))
            })
            .transpose()
    }

    /// Sheet options on a key that is no workbook, or a separator on one that is no csv,
    /// are mistakes of the command line; keys whose format the extension does not tell
    /// are left to the object's Content-Type.
    fn fits(&self, read: &Read, uri: &S3Uri) -> Parsed<()> {
        let format = read.format.unwrap_or_else(|| Format::from_key(uri.key()));
        if format == Format::TEXT {
            return Ok(());
        }
        let sheets = read.sheet.is_some() || read.sheet_index.is_some() || read.all_sheets;
        if sheets && !Format::WORKBOOKS.contains(&format) {
            return Err(self.usage(format!(
                "the sheet options are for workbooks (xlsx, xlsm, xlsb, xls, ods); {uri} is {format}"
            )));
        }
        if read.separator.is_some() && ![Format::CSV, Format::TSV].contains(&format) {
            return Err(self.usage(format!("--separator is for csv and tsv; {uri} is {format}")));
        }
        Ok(())
    }

    fn read(&self) -> Parsed<Read> {
        let format = match self.value("--format") {
            None => None,
            Some(name) => Some(format_named(name).ok_or_else(|| {
                let known: Vec<&str> = Format::all().map(Format::name).collect();
                self.usage(format!(
                    "unknown format {name:?}; formats: {}",
                    known.join(", ")
                ))
            })?),
        };
        let separator = match self.value("--separator") {
            None => None,
            Some("\\t" | "tab" | "\t") => Some(b'\t'),
            Some(text) if text.len() == 1 => Some(text.as_bytes()[0]),
            Some(text) => {
                return Err(self.usage(format!(
                    "--separator wants one ASCII character (or 'tab'), not {text:?}"
                )));
            }
        };
        let read = Read {
            format,
            sheet: self.value("--sheet").map(str::to_owned),
            sheet_index: self.number("--sheet-index")?,
            separator,
            all_sheets: self.flag("--all-sheets"),
        };
        let sheet_options = [
            read.sheet.is_some(),
            read.sheet_index.is_some(),
            read.all_sheets,
        ];
        if sheet_options.iter().filter(|&&set| set).count() > 1 {
            return Err(self.usage("--sheet, --sheet-index and --all-sheets exclude each other"));
        }
        if read.separator.is_some() && sheet_options.contains(&true) {
            return Err(
                self.usage("--separator is for csv and tsv, the sheet options for workbooks")
            );
        }
        Ok(read)
    }
}

/// A format by name (`parquet`) or by extension (`pq`, `xlsx`).
fn format_named(name: &str) -> Option<Format> {
    let name = name.trim_start_matches('.');
    Format::from_extension(name)
        .or_else(|| Format::all().find(|f| f.name().eq_ignore_ascii_case(name)))
}

/// Whether a copy argument names S3 (`s3://`, `s3a://`, any case).
fn is_s3(text: &str) -> bool {
    let lower = text.get(..6).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("s3://") || lower.starts_with("s3a://")
}

/// The long name of a short option.
fn long_name(short: &str) -> Option<&'static str> {
    Some(match short {
        "-h" => "--help",
        "-r" => "--recursive",
        "-q" => "--quiet",
        "-n" => "--lines",
        _ => return None,
    })
}

const GLOBAL_VALUED: &[&str] = &["--endpoint-url", "--region", "--profile"];

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Parsed<Invocation> {
    let mut args = args
        .into_iter()
        .map(|arg| {
            arg.into_string().map_err(|arg| Usage {
                message: format!("{arg:?} is not valid UTF-8"),
                command: None,
            })
        })
        .collect::<Parsed<Vec<String>>>()?
        .into_iter();
    let mut global = Global::default();
    let mut help = false;
    let mut version = false;
    let mut raw: Option<Raw> = None;
    let mut only_positional = false;
    let usage = |raw: &Option<Raw>, message: String| Usage {
        message,
        command: raw.as_ref().map(|r| r.spec.name),
    };
    while let Some(arg) = args.next() {
        let is_option = !only_positional && arg.starts_with('-') && arg != "-";
        if !is_option {
            match &mut raw {
                Some(raw) => raw.positional.push(arg),
                None => {
                    let Some(spec) = SPECS.iter().find(|s| s.name == arg) else {
                        if arg == "help" {
                            let topic = args.next();
                            let spec = topic
                                .as_deref()
                                .and_then(|t| SPECS.iter().find(|s| s.name == t));
                            return Ok(Invocation {
                                global,
                                command: Command::Help(spec.map_or(MAIN_HELP, |s| s.help)),
                            });
                        }
                        return Err(usage(
                            &raw,
                            format!("unknown command {arg:?}; `s3io --help` lists them"),
                        ));
                    };
                    raw = Some(Raw {
                        spec,
                        flags: Vec::new(),
                        values: Vec::new(),
                        positional: Vec::new(),
                    });
                }
            }
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        // `--name=value`, `--name value`, `-n 5`, `-n5`.
        let (name, mut inline) = match arg.split_once('=') {
            Some((name, value)) if arg.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let name: String = match long_name(&name) {
            Some(long) => long.to_owned(),
            None if !name.starts_with("--") && name.len() > 2 => {
                // `-n5`
                match name.get(..2).and_then(long_name) {
                    Some(long) => {
                        inline = Some(name[2..].to_owned());
                        long.to_owned()
                    }
                    None => name,
                }
            }
            None => name,
        };
        let mut take_value = |name: &str| -> Parsed<String> {
            match inline.take() {
                Some(value) => Ok(value),
                None => args
                    .next()
                    .ok_or_else(|| usage(&raw, format!("{name} needs a value"))),
            }
        };
        match name.as_str() {
            "--help" => help = true,
            "--version" => version = true,
            "--no-progress" => global.no_progress = true,
            valued if GLOBAL_VALUED.contains(&valued) => {
                let value = take_value(valued)?;
                match valued {
                    "--endpoint-url" => global.endpoint_url = Some(value),
                    "--region" => global.region = Some(value),
                    _ => global.profile = Some(value),
                }
            }
            other => {
                let Some(command) = raw.as_mut() else {
                    return Err(usage(
                        &raw,
                        format!("unknown option {other}, or it belongs after a command"),
                    ));
                };
                if let Some(flag) = command.spec.flags.iter().find(|f| **f == other) {
                    if inline.is_some() {
                        return Err(usage(&raw, format!("{other} takes no value")));
                    }
                    command.flags.push(flag);
                } else if let Some(valued) = command.spec.valued.iter().find(|v| **v == other) {
                    let value = match inline.take() {
                        Some(value) => value,
                        None => args.next().ok_or_else(|| Usage {
                            message: format!("{other} needs a value"),
                            command: Some(command.spec.name),
                        })?,
                    };
                    command.values.push((valued, value));
                } else {
                    return Err(Usage {
                        message: format!("unknown option {other}"),
                        command: Some(command.spec.name),
                    });
                }
                continue;
            }
        }
        if inline.is_some() {
            return Err(usage(&raw, format!("{name} takes no value")));
        }
    }
    let command = match raw {
        _ if version => Command::Version,
        None if help => Command::Help(MAIN_HELP),
        None => {
            return Err(Usage {
                message: "no command given; `s3io --help` lists them".to_owned(),
                command: None,
            });
        }
        Some(raw) if help => Command::Help(raw.spec.help),
        Some(raw) => command(&raw)?,
    };
    Ok(Invocation { global, command })
}

/// Checks the arguments of one command.
fn command(raw: &Raw) -> Parsed<Command> {
    Ok(match raw.spec.name {
        "ls" => {
            let uri = match raw.positional.as_slice() {
                [] => None,
                [uri] => Some(raw.s3_uri(uri)?),
                _ => return Err(raw.usage("takes at most one s3:// URI")),
            };
            Command::Ls {
                uri,
                recursive: raw.flag("--recursive"),
                human_readable: raw.flag("--human-readable"),
                summarize: raw.flag("--summarize"),
            }
        }
        "cat" => {
            let [uri] = raw.positional(["s3://bucket/key"])?;
            Command::Cat {
                uri: raw.object_uri(uri)?,
            }
        }
        "head" => {
            let [uri] = raw.positional(["s3://bucket/key"])?;
            let (uri, read) = (raw.object_uri(uri)?, raw.read()?);
            raw.fits(&read, &uri)?;
            Command::Head {
                uri,
                lines: raw.number("--lines")?.unwrap_or(10),
                read,
            }
        }
        "schema" => {
            let [uri] = raw.positional(["s3://bucket/key"])?;
            let (uri, read) = (raw.object_uri(uri)?, raw.read()?);
            raw.fits(&read, &uri)?;
            Command::Schema { uri, read }
        }
        "cp" => {
            let [src, dst] = raw.positional(["SRC", "DST"])?;
            let place = |text: &str| -> Parsed<Place> {
                Ok(match text {
                    "-" => Place::Std,
                    s3 if is_s3(s3) => Place::S3(raw.s3_uri(s3)?),
                    local => Place::Local(PathBuf::from(local)),
                })
            };
            let (src, dst) = (place(src)?, place(dst)?);
            let recursive = raw.flag("--recursive");
            match (&src, &dst) {
                (Place::S3(_), _) | (_, Place::S3(_)) => {}
                _ => return Err(raw.usage("SRC or DST must be an s3:// URI")),
            }
            if recursive && (matches!(src, Place::Std) || matches!(dst, Place::Std)) {
                return Err(raw.usage("--recursive copies folders, not standard input or output"));
            }
            if let (Place::Std, Place::S3(uri)) = (&src, &dst)
                && (uri.key().is_empty() || uri.key().ends_with('/'))
            {
                return Err(raw.usage("standard input goes to one object: DST needs a full key"));
            }
            if let Place::S3(uri) = &src
                && !recursive
                && (uri.key().is_empty() || uri.key().ends_with('/'))
            {
                return Err(raw.usage(format!(
                    "{uri} is a prefix, not an object; add --recursive to copy what is under it"
                )));
            }
            Command::Cp {
                src,
                dst,
                recursive,
                quiet: raw.flag("--quiet"),
            }
        }
        "convert" => {
            let [src, dst] = raw.positional(["s3://bucket/SRC", "s3://bucket/DST"])?;
            let read = raw.read()?;
            if read.all_sheets {
                return Err(raw.usage("--all-sheets is for head and schema"));
            }
            let src = raw.object_uri(src)?;
            raw.fits(&read, &src)?;
            Command::Convert {
                src,
                dst: raw.object_uri(dst)?,
                read,
            }
        }
        "rm" => {
            let [uri] = raw.positional(["s3://bucket/key"])?;
            let recursive = raw.flag("--recursive");
            let uri = if recursive {
                raw.s3_uri(uri)?
            } else {
                raw.object_uri(uri)?
            };
            Command::Rm {
                uri,
                recursive,
                dryrun: raw.flag("--dryrun"),
                quiet: raw.flag("--quiet"),
            }
        }
        "presign" => {
            let [uri] = raw.positional(["s3://bucket/key"])?;
            let expires_in = match raw.number("--expires-in")? {
                Some(seconds) => Some(seconds),
                None => raw.number("--expires")?,
            };
            Command::Presign {
                uri: raw.object_uri(uri)?,
                expires_in: expires_in.unwrap_or(3600),
                put: raw.flag("--put"),
            }
        }
        "whoami" => {
            raw.positional([])?;
            Command::Whoami
        }
        "mb" | "rb" => {
            let [text] = raw.positional(["s3://bucket"])?;
            let uri = raw.s3_uri(text)?;
            if !uri.key().is_empty() {
                return Err(raw.usage(format!("{text} names a key; give only s3://bucket")));
            }
            let bucket = uri.bucket().to_owned();
            if raw.spec.name == "mb" {
                Command::Mb { bucket }
            } else {
                Command::Rb {
                    bucket,
                    force: raw.flag("--force"),
                }
            }
        }
        other => unreachable!("a spec without a command: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Parsed<Invocation> {
        parse(args.iter().map(OsString::from).collect())
    }

    fn usage_of(args: &[&str]) -> String {
        match parse_str(args) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(usage) => usage.message,
        }
    }

    #[test]
    fn options_go_anywhere_in_any_spelling() {
        let parsed = parse_str(&[
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
        let Command::Head { uri, lines, .. } = parsed.command else {
            panic!("not head")
        };
        assert_eq!((uri.bucket(), uri.key(), lines), ("b", "k.csv", 5));
        let Ok(Invocation {
            command: Command::Head { lines: 7, .. },
            ..
        }) = parse_str(&["head", "s3://b/k.csv", "--lines=7"])
        else {
            panic!("--lines=7")
        };
    }

    #[test]
    fn copies_know_their_sides() {
        let Ok(Invocation {
            command: Command::Cp { src, dst, .. },
            ..
        }) = parse_str(&["cp", "-", "S3://b/k.txt"])
        else {
            panic!("cp - s3://")
        };
        assert!(matches!(src, Place::Std));
        assert!(matches!(dst, Place::S3(u) if u.key() == "k.txt"));
        // After `--`, a name starting with a dash is a file.
        let Ok(Invocation {
            command: Command::Cp { src, .. },
            ..
        }) = parse_str(&["cp", "--", "-odd-name", "s3://b/"])
        else {
            panic!("cp -- -odd-name")
        };
        assert!(matches!(src, Place::Local(p) if p == std::path::Path::new("-odd-name")));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(usage_of(&[]).contains("no command"));
        assert!(usage_of(&["frobnicate"]).contains("unknown command"));
        assert!(usage_of(&["cat"]).contains("takes s3://bucket/key, got 0"));
        assert!(usage_of(&["cat", "s3://b"]).contains("names a bucket"));
        assert!(usage_of(&["cat", "http://b/k"]).contains("not an s3:// URI"));
        assert!(usage_of(&["ls", "--bogus"]).contains("unknown option --bogus"));
        assert!(usage_of(&["head", "s3://b/k", "-n", "many"]).contains("whole number"));
        assert!(usage_of(&["head", "s3://b/k", "-n"]).contains("--lines needs a value"));
        assert!(usage_of(&["head", "s3://b/k", "--format", "docx"]).contains("unknown format"));
        assert!(usage_of(&["cp", "a", "b"]).contains("must be an s3:// URI"));
        assert!(usage_of(&["cp", "s3://b/dir/", "."]).contains("add --recursive"));
        assert!(usage_of(&["cp", "-r", "-", "s3://b/x/"]).contains("not standard input"));
        assert!(usage_of(&["rm", "s3://b"]).contains("names a bucket"));
        assert!(usage_of(&["ls", "--recursive=yes"]).contains("takes no value"));
        assert!(
            usage_of(&["head", "s3://b/k", "--sheet", "A", "--sheet-index", "1"])
                .contains("exclude each other")
        );
        assert!(
            usage_of(&["head", "s3://b/k.csv", "--sheet", "A"]).contains("s3://b/k.csv is csv")
        );
        assert!(usage_of(&["schema", "s3://b/k.xlsx", "--separator", ";"]).contains("is xlsx"));
        // Unknown extensions are left to the Content-Type.
        assert!(parse_str(&["head", "s3://b/export", "--sheet", "A"]).is_ok());
    }

    #[test]
    fn help_and_version_win() {
        let Ok(Invocation {
            command: Command::Help(text),
            ..
        }) = parse_str(&["cp", "--help"])
        else {
            panic!("cp --help")
        };
        assert!(text.starts_with("Usage: s3io cp"));
        let Ok(Invocation {
            command: Command::Help(text),
            ..
        }) = parse_str(&["help", "rm"])
        else {
            panic!("help rm")
        };
        assert!(text.starts_with("Usage: s3io rm"));
        assert!(matches!(
            parse_str(&["--version"]).map(|i| i.command),
            Ok(Command::Version)
        ));
        assert_eq!(format_named("pq"), Some(Format::PARQUET));
        assert_eq!(format_named("Parquet"), Some(Format::PARQUET));
    }
}

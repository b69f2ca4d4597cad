//! `s3io stat`: what S3 keeps about one object, as text or JSON.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::SystemTime;

use clap::Args;
use s3io::{ObjectMeta, S3Uri};
use serde_json::{Value, json};

use super::Context;
use crate::arguments::{COMMAND_HELP, object_uri};
use crate::failure::{Outcome, stdout_failed};

/// What `s3io stat --help` says below the one-line summary.
const DETAILS: &str = "\
Prints an object's size, ETag, Content-Type, last-modified time (UTC), storage class,
server-side encryption, Cache-Control and Content-Disposition when set, user metadata
(x-amz-meta-*), tags and version id, one a line, or
with --json as one JSON object. Tags the server will not tell (no permission for
GetObjectTagging, or a server without tags) show as unknown (null in JSON), with why.";

/// Show an object's metadata: size, ETag, type, time, class, encryption, metadata, tags
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct StatArgs {
    /// The object
    #[arg(value_name = "s3://bucket/key", value_parser = object_uri)]
    uri: S3Uri,

    /// One version of the object
    #[arg(long, value_name = "ID")]
    version_id: Option<String>,

    /// As JSON, for scripts
    #[arg(long)]
    json: bool,
}

impl StatArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        let (bucket, key) = (self.uri.bucket(), self.uri.key());
        let mut object = ctx.s3.object(bucket, key);
        if let Some(version) = &self.version_id {
            object = object.version(version);
        }
        let meta = object.head().await?;
        // Tags need a permission of their own, and some servers keep none: unknown, not a
        // failure of the whole command.
        let tags: Tags = match object.tags().await {
            Ok(tags) => Ok(tags.into_iter().collect()),
            Err(e) => Err(e.code().unwrap_or(e.message()).to_owned()),
        };
        let mut out = io::BufWriter::new(io::stdout());
        if self.json {
            writeln!(out, "{:#}", as_json(&self.uri, &meta, &tags)).map_err(stdout_failed)?;
        } else {
            write_text(&mut out, &self.uri, &meta, &tags).map_err(stdout_failed)?;
        }
        out.flush().map_err(stdout_failed)
    }
}

/// An object's tags, or why they are not known.
type Tags = Result<BTreeMap<String, String>, String>;

/// `2024-01-15T13:45:30Z`.
fn iso_time(at: Option<SystemTime>) -> Option<String> {
    at.map(|at| format!("{}Z", s3io::utc_time(at).replace(' ', "T")))
}

/// S3 leaves the storage class out for STANDARD.
fn storage_class(meta: &ObjectMeta) -> &str {
    meta.storage_class.as_deref().unwrap_or("STANDARD")
}

fn encryption_text(meta: &ObjectMeta) -> String {
    let Some(algorithm) = &meta.encryption else {
        return "none stated".to_owned();
    };
    match &meta.kms_key_id {
        Some(key) => format!("{algorithm}, key {key}"),
        None => algorithm.clone(),
    }
}

fn write_text(out: &mut impl Write, uri: &S3Uri, meta: &ObjectMeta, tags: &Tags) -> io::Result<()> {
    let row = |out: &mut dyn Write, name: &str, value: &str| writeln!(out, "{name:<14} {value}");
    row(out, "Object", &uri.to_string())?;
    let size = format!("{} ({})", meta.size, s3io::human_size(meta.size));
    row(out, "Size", &size)?;
    row(
        out,
        "Last modified",
        &crate::output::time(meta.last_modified),
    )?;
    row(out, "ETag", meta.etag.as_deref().unwrap_or("-"))?;
    row(
        out,
        "Content-Type",
        meta.content_type.as_deref().unwrap_or("-"),
    )?;
    row(out, "Storage class", storage_class(meta))?;
    row(out, "Encryption", &encryption_text(meta))?;
    if let Some(cache_control) = &meta.cache_control {
        row(out, "Cache-Control", cache_control)?;
    }
    if let Some(disposition) = &meta.content_disposition {
        row(out, "Disposition", disposition)?;
    }
    row(out, "Version", meta.version_id.as_deref().unwrap_or("-"))?;
    let metadata: BTreeMap<&String, &String> = meta.metadata.iter().collect();
    if metadata.is_empty() {
        row(out, "Metadata", "-")?;
    }
    for (name, value) in metadata {
        row(out, "Metadata", &format!("{name}={value}"))?;
    }
    match tags {
        Ok(tags) if tags.is_empty() => row(out, "Tags", "-")?,
        Ok(tags) => {
            for (name, value) in tags {
                row(out, "Tags", &format!("{name}={value}"))?;
            }
        }
        Err(why) => row(out, "Tags", &format!("unknown ({why})"))?,
    }
    Ok(())
}

fn as_json(uri: &S3Uri, meta: &ObjectMeta, tags: &Tags) -> Value {
    let metadata: BTreeMap<&String, &String> = meta.metadata.iter().collect();
    let encryption = meta.encryption.as_ref().map(|algorithm| {
        json!({
            "algorithm": algorithm,
            "kms_key_id": meta.kms_key_id,
        })
    });
    json!({
        "uri": uri.to_string(),
        "bucket": meta.bucket,
        "key": meta.key,
        "size": meta.size,
        "last_modified": iso_time(meta.last_modified),
        "etag": meta.etag,
        "content_type": meta.content_type,
        "storage_class": storage_class(meta),
        "encryption": encryption,
        "cache_control": meta.cache_control,
        "content_disposition": meta.content_disposition,
        "version_id": meta.version_id,
        "metadata": metadata,
        "tags": tags.as_ref().ok(),
        "tags_unknown_because": tags.as_ref().err(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_705_326_330);
        assert_eq!(iso_time(Some(at)).as_deref(), Some("2024-01-15T13:45:30Z"));
        assert_eq!(iso_time(None), None);
    }
}

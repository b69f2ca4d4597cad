//! The `s3io` command line: the real binary, run as a child process against the embedded
//! server, with credentials from the environment as a user would set them.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use bytes::Bytes;

use support::proxy::{Fault, FaultProxy, Matches};
use support::*;

/// What one run of the binary gave.
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// Asserts exit status 0 and returns standard output.
    fn ok(&self) -> String {
        assert_eq!(
            self.code,
            0,
            "exit {}; stderr: {}; stdout: {}",
            self.code,
            self.stderr,
            String::from_utf8_lossy(&self.stdout)
        );
        self.stdout()
    }

    /// Asserts exit status `code` with a single line on standard error, and returns it.
    fn fails(&self, code: i32) -> String {
        assert_eq!(
            self.code,
            code,
            "stderr: {}; stdout: {}",
            self.stderr,
            String::from_utf8_lossy(&self.stdout)
        );
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "one line of error: {:?}",
            self.stderr
        );
        assert!(self.stderr.starts_with("s3io"), "{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(
            !self.stderr.contains(s3io::local::SECRET_ACCESS_KEY),
            "no secrets in errors: {}",
            self.stderr
        );
        self.stderr.trim_end().to_owned()
    }
}

/// The binary with the server's endpoint, and credentials and region from the environment
/// only (no profile, no config files, no instance metadata).
fn s3io_at(endpoint: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3io"));
    command
        .args(["--endpoint-url", endpoint])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", s3io::local::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", s3io::local::SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("POLARS_FMT_MAX_ROWS")
        .env_remove("POLARS_FMT_MAX_COLS")
        .stdin(Stdio::null());
    command
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `s3io ARGS` against the test server.
fn s3io(t: &TestS3, args: &[&str]) -> Run {
    finish(
        s3io_at(&t.server.endpoint_url(), args)
            .output()
            .expect("the binary runs"),
    )
}

/// Runs `s3io ARGS` with `input` on standard input.
fn s3io_fed(t: &TestS3, args: &[&str], input: &[u8]) -> Run {
    let mut child = s3io_at(&t.server.endpoint_url(), args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("the binary ends");
    feeder.join().unwrap().expect("stdin was read");
    finish(output)
}

fn uri(key: &str) -> String {
    format!("s3://{BUCKET}/{key}")
}

/// Every file below `dir`, as `/`-separated relative paths with their bytes, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((parts.join("/"), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `aws s3 ls` lines split into (time, size, name), or ("PRE", "", name) for folders.
fn listing(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .map(|line| {
            if let Some(name) = line.trim_start().strip_prefix("PRE ") {
                return ("PRE".into(), String::new(), name.into());
            }
            let (time, rest) = line.split_at(19);
            let rest = rest.trim_start();
            let (size, name) = rest.split_once(' ').expect("size then name");
            (time.into(), size.into(), name.into())
        })
        .collect()
}

#[tokio::test]
async fn cli_ls_lists_exactly_the_uploaded_keys() {
    let t = start().await;
    let bodies = [
        ("data/a.csv", "a\n1\n"),
        ("data/2024/b.csv", "b\n22\n"),
        ("data/2024/c.json", "[1, 2, 3]"),
        ("data/2024 월별/d e.csv", "d\n4\n"),
        ("top.txt", "top level"),
        ("data.txt", "beside the folder"),
    ];
    for (key, body) in bodies {
        t.s3.upload(BUCKET, key, Bytes::from(body)).await.unwrap();
    }
    t.s3.create_bucket("second-bucket").await.unwrap();

    let buckets: Vec<String> = s3io(&t, &["ls"])
        .ok()
        .lines()
        .map(|l| l[20..].to_owned())
        .collect();
    assert_eq!(buckets, [BUCKET, "second-bucket"]);

    // One level: folders, then objects, named below the prefix.
    let root = listing(&s3io(&t, &["ls", &uri("")]).ok());
    let names: Vec<(&str, &str)> = root
        .iter()
        .map(|(time, _, name)| (if time == "PRE" { "PRE" } else { "obj" }, name.as_str()))
        .collect();
    assert_eq!(
        names,
        [("PRE", "data/"), ("obj", "data.txt"), ("obj", "top.txt")]
    );
    // Without a trailing slash, a prefix matches every name that starts with it.
    let inside = listing(&s3io(&t, &["ls", &uri("data/2024")]).ok());
    let names: Vec<&str> = inside.iter().map(|(_, _, n)| n.as_str()).collect();
    assert_eq!(names, ["2024 월별/", "2024/"]);
    let inside = listing(&s3io(&t, &["ls", &uri("data/2024/")]).ok());
    let names: Vec<&str> = inside.iter().map(|(_, _, n)| n.as_str()).collect();
    assert_eq!(names, ["b.csv", "c.json"]);

    // Recursive: every key with its size and a UTC time.
    let all = listing(&s3io(&t, &["ls", "--recursive", &uri("data/")]).ok());
    let got: Vec<(&str, &str)> = all
        .iter()
        .map(|(_, size, name)| (name.as_str(), size.as_str()))
        .collect();
    let sizes: Vec<String> = [
        "data/2024 월별/d e.csv",
        "data/2024/b.csv",
        "data/2024/c.json",
        "data/a.csv",
    ]
    .iter()
    .map(|k| {
        bodies
            .iter()
            .find(|(key, _)| key == k)
            .unwrap()
            .1
            .len()
            .to_string()
    })
    .collect();
    assert_eq!(
        got,
        [
            ("data/2024 월별/d e.csv", sizes[0].as_str()),
            ("data/2024/b.csv", sizes[1].as_str()),
            ("data/2024/c.json", sizes[2].as_str()),
            ("data/a.csv", sizes[3].as_str()),
        ]
    );
    let time = &all[0].0;
    assert!(
        time.len() == 19 && time.as_bytes()[4] == b'-' && time.as_bytes()[13] == b':',
        "{time}"
    );

    // Globs match through the library's KeyPattern.
    let csvs = listing(&s3io(&t, &["ls", &uri("data/**/*.csv")]).ok());
    let names: Vec<&str> = csvs.iter().map(|(_, _, n)| n.as_str()).collect();
    assert_eq!(
        names,
        ["data/2024 월별/d e.csv", "data/2024/b.csv", "data/a.csv"]
    );
    let one_level = listing(&s3io(&t, &["ls", &uri("data/*.csv")]).ok());
    assert_eq!(one_level.len(), 1);
    assert_eq!(one_level[0].2, "data/a.csv");

    let summary = s3io(
        &t,
        &["ls", "-r", "--summarize", "--human-readable", &uri("")],
    )
    .ok();
    assert!(summary.contains("Total Objects: 6"), "{summary}");
    assert!(summary.contains(" 9 B top.txt"), "{summary}");

    let missing = s3io(&t, &["ls", "s3://no-such-bucket/"]).fails(1);
    assert!(missing.contains("NoSuchBucket"), "{missing}");
}

#[tokio::test]
async fn cli_cat_and_stdout_copies_are_byte_exact() {
    let t = start().await;
    // Past the default 8 MiB part, so the parts are fetched in parallel and written in
    // order; binary, so any change to the bytes shows.
    let body = patterned((9 << 20) + 3);
    t.s3.upload(BUCKET, "bin/blob.bin", body.clone())
        .await
        .unwrap();
    let run = s3io(&t, &["cat", &uri("bin/blob.bin")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.len(), body.len());
    assert!(run.stdout == body, "cat changed the bytes");
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let run = s3io(&t, &["cp", &uri("bin/blob.bin"), "-"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout == body, "cp to - changed the bytes");

    // Standard input to an object, unchanged.
    let input = b"\x00\xffline 1\r\nline 2\n";
    let run = s3io_fed(&t, &["cp", "-", &uri("bin/from-stdin.dat")], input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stored =
        t.s3.download_bytes(BUCKET, "bin/from-stdin.dat")
            .await
            .unwrap();
    assert_eq!(stored.as_ref(), input);
}

#[tokio::test]
async fn cli_head_and_schema_decode_fixtures() {
    let t = start().await;
    t.put_fixture("csv/sample.csv", "in/sample.csv").await;
    t.put_fixture("xlsx/openpyxl_multi.xlsx", "in/report.xlsx")
        .await;
    t.put_fixture("json/records.json", "in/records.json").await;
    t.put_fixture("pickle/builtins_p4.pkl", "in/builtins.pkl")
        .await;
    t.put_fixture("parquet/pandas_sample.parquet", "in/sample.parquet")
        .await;
    t.put_fixture("compressed/sample.csv.zst", "in/sample.csv.zst")
        .await;

    let csv = s3io(&t, &["head", &uri("in/sample.csv"), "-n", "2"]);
    let out = csv.ok();
    assert!(out.contains("shape: (2, 5)"), "{out}");
    for value in [
        "id",
        "price",
        "Smith, John",
        "He said \"hi\"",
        "19.99",
        "2024-02-29",
    ] {
        assert!(out.contains(value), "{value} missing: {out}");
    }
    assert!(
        !out.contains("Zoë") && !out.contains("-1234.5"),
        "only 2 rows: {out}"
    );
    // Only the rows shown were read (a prefix of the object): no total to tell.
    assert!(!csv.stderr.contains("the first"), "{}", csv.stderr);
    let zst = s3io(&t, &["head", &uri("in/sample.csv.zst"), "-n", "2"]);
    assert!(
        zst.stderr.contains("the first 2 of 5 rows"),
        "a compressed object is read whole: {}",
        zst.stderr
    );
    // NDJSON: its own options (not CSV ones), the first records only.
    t.put_fixture("ndjson/pandas.jsonl", "in/records.jsonl")
        .await;
    let lines = s3io(&t, &["head", &uri("in/records.jsonl"), "-n", "2"]).ok();
    assert!(lines.contains("shape: (2, 4)"), "{lines}");
    assert!(
        lines.contains("He said") && !lines.contains("line1"),
        "{lines}"
    );
    // Arrow IPC: the footer and the first record batch; no total to tell.
    t.put_fixture("arrow/pyarrow_typed.feather", "in/typed.feather")
        .await;
    let ipc = s3io(&t, &["head", &uri("in/typed.feather"), "-n", "1"]);
    let shown = ipc.ok();
    assert!(shown.contains("shape: (1, "), "{shown}");
    // A zoned column shows its instants in UTC, naming the zone (polars' timezones feature
    // is off).
    for part in ["ts_paris (UTC;", "Europe/Paris)", "2024-01-15 12:45:30"] {
        assert!(shown.contains(part), "{part} missing: {shown}");
    }
    assert!(!ipc.stderr.contains("the first"), "{}", ipc.stderr);
    let zst = s3io(&t, &["head", &uri("in/sample.csv.zst")]).ok();
    assert!(
        zst.contains("Zoë 東京 🚀") && zst.contains("-1234.5"),
        "{zst}"
    );

    // A workbook: the first sheet, then one by name, then all of them.
    let first = s3io(&t, &["head", &uri("in/report.xlsx")]).ok();
    for value in [
        "Smith, John",
        "2024-01-15 13:45:30",
        "2025-01-01",
        "datetime[μs]",
    ] {
        assert!(first.contains(value), "{value} missing: {first}");
    }
    let notes = s3io(&t, &["head", &uri("in/report.xlsx"), "--sheet", "Notes"]).ok();
    for value in ["note", "count", "second, with comma", "Ünïcödé 🚀"] {
        assert!(notes.contains(value), "{value} missing: {notes}");
    }
    assert!(!notes.contains("Smith"), "{notes}");
    let all = s3io(
        &t,
        &["head", &uri("in/report.xlsx"), "--all-sheets", "-n", "1"],
    )
    .ok();
    let sales_at = all.find("Sales:").expect("Sales sheet");
    let notes_at = all.find("Notes:").expect("Notes sheet");
    assert!(sales_at < notes_at, "{all}");
    assert!(
        all.contains("first") && !all.contains("second, with comma"),
        "{all}"
    );
    let wrong = s3io(&t, &["head", &uri("in/report.xlsx"), "--sheet", "Nope"]).fails(1);
    assert!(
        wrong.contains("Nope") && wrong.contains("report.xlsx"),
        "{wrong}"
    );

    // Values: the first items of a JSON list, a pickle as Python shows it.
    let json = s3io(&t, &["head", &uri("in/records.json"), "-n", "1"]).ok();
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("head of JSON is JSON");
    assert_eq!(
        parsed,
        serde_json::json!([{"id": 1, "name": "Zoë", "score": 9.5, "active": true, "note": null}])
    );
    let pickle = s3io(&t, &["head", &uri("in/builtins.pkl")]).ok();
    for value in ["Zoë 東京 🚀", "1267650600228229401496703205376", "3.14159"] {
        assert!(pickle.contains(value), "{value} missing: {pickle}");
    }

    // Schemas: names and dtypes, one a line.
    let schema = s3io(&t, &["schema", &uri("in/report.xlsx")]).ok();
    let columns: Vec<Vec<&str>> = schema
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        columns,
        [
            vec!["id", "i64"],
            vec!["price", "f64"],
            vec!["name", "str"],
            vec!["active", "bool"],
            vec!["day", "date"],
            vec!["ts", "datetime[μs]"],
        ]
    );
    let parquet = s3io(&t, &["schema", &uri("in/sample.parquet")]).ok();
    assert_eq!(
        parquet,
        "id      i64\nprice   f64\nname    str\nactive  bool\nday     datetime[μs]\n"
    );
    // head of a Parquet object reads its first row groups by range: the same rows.
    let head = s3io(&t, &["head", &uri("in/sample.parquet"), "-n", "2"]).ok();
    assert!(head.contains("shape: (2, 5)"), "{head}");
    let notes = s3io(
        &t,
        &["schema", &uri("in/report.xlsx"), "--sheet-index", "1"],
    )
    .ok();
    assert_eq!(notes, "note   str\ncount  i64\n");
}

#[tokio::test]
async fn cli_cp_round_trips_files_and_folders() {
    let t = start().await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("data.bin");
    let body = patterned(300_001);
    std::fs::write(&local, &body).unwrap();

    // One file up (into a "folder" key), down, and across.
    let up = s3io(&t, &["cp", local.to_str().unwrap(), &uri("one/")]).ok();
    assert_eq!(
        up.trim_end(),
        format!("upload: {} to {}", local.display(), uri("one/data.bin"))
    );
    let down = dir.path().join("back.bin");
    s3io(&t, &["cp", &uri("one/data.bin"), down.to_str().unwrap()]).ok();
    assert!(std::fs::read(&down).unwrap() == body, "download differs");
    s3io(&t, &["cp", &uri("one/data.bin"), &uri("two/copy.bin")]).ok();
    assert!(t.s3.download_bytes(BUCKET, "two/copy.bin").await.unwrap() == body);
    let into = dir.path().join("into");
    std::fs::create_dir(&into).unwrap();
    s3io(&t, &["cp", &uri("two/copy.bin"), into.to_str().unwrap()]).ok();
    assert!(std::fs::read(into.join("copy.bin")).unwrap() == body);

    // A folder up, down elsewhere, and across S3, byte for byte.
    let tree_dir = dir.path().join("tree");
    std::fs::create_dir_all(tree_dir.join("2024/월별")).unwrap();
    std::fs::write(tree_dir.join("top.txt"), "top").unwrap();
    std::fs::write(tree_dir.join("2024/월별/a b.csv"), "a\n1\n").unwrap();
    std::fs::write(tree_dir.join("2024/blob.bin"), &body[..1000]).unwrap();
    let up = s3io(
        &t,
        &[
            "cp",
            "--recursive",
            tree_dir.to_str().unwrap(),
            &uri("tree"),
        ],
    )
    .ok();
    assert_eq!(up.lines().count(), 3, "{up}");
    assert!(
        up.contains(&format!("to {}", uri("tree/2024/월별/a b.csv"))),
        "{up}"
    );
    let listed = t.s3.list_frame(BUCKET, "tree/").await.unwrap();
    assert_eq!(
        strs(&listed, "key"),
        owned(&[
            Some("tree/2024/blob.bin"),
            Some("tree/2024/월별/a b.csv"),
            Some("tree/top.txt"),
        ])
    );

    let back = dir.path().join("back");
    let down = s3io(&t, &["cp", "-r", &uri("tree/"), back.to_str().unwrap()]).ok();
    assert_eq!(down.lines().count(), 3, "{down}");
    assert!(
        down.contains(&format!(
            "download: {} to {}",
            uri("tree/top.txt"),
            back.join("top.txt").display()
        )),
        "{down}"
    );
    assert_eq!(tree(&back), tree(&tree_dir));

    let across = s3io(&t, &["cp", "-r", &uri("tree"), &uri("mirror/")]).ok();
    assert!(
        across.contains(&format!(
            "copy: {} to {}",
            uri("tree/top.txt"),
            uri("mirror/top.txt")
        )),
        "{across}"
    );
    let mirrored = dir.path().join("mirrored");
    s3io(
        &t,
        &[
            "cp",
            "-r",
            "--quiet",
            &uri("mirror"),
            mirrored.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(tree(&mirrored), tree(&tree_dir));

    // A folder without --recursive is a failure that says what to do.
    let err = s3io(&t, &["cp", tree_dir.to_str().unwrap(), &uri("x/")]).fails(1);
    assert!(err.contains("--recursive"), "{err}");
}

#[tokio::test]
async fn cli_recursive_download_refuses_keys_escaping_the_target() {
    let t = start().await;
    for key in ["exports/fine.txt", "exports/sneaky.txt"] {
        t.s3.upload(BUCKET, key, "x").await.unwrap();
    }
    // s3s-fs cannot store such keys; a proxy renames one in the listing, as a hostile or
    // buggy server could.
    for hostile in [
        "exports/../../evil.txt",
        "exports//etc/evil.txt",
        "exports/a\\..\\..\\evil.txt",
    ] {
        let proxy = FaultProxy::start(&t.server.endpoint_url());
        let to: &'static str = Box::leak(format!("<Key>{hostile}</Key>").into_boxed_str());
        proxy.inject(
            Matches::List,
            Fault::Rewrite("<Key>exports/sneaky.txt</Key>", to),
            1,
        );
        let target = tempfile::tempdir().unwrap();
        let out = target.path().join("a/b/out");
        let run = finish(
            s3io_at(
                &proxy.endpoint_url(),
                &["cp", "-r", &uri("exports/"), out.to_str().unwrap()],
            )
            .output()
            .unwrap(),
        );
        let err = run.fails(1);
        assert!(proxy.struck(), "the listing went through the proxy");
        assert!(err.contains(&format!("refusing key {hostile:?}")), "{err}");
        assert!(err.contains("download s3://s3io-test/exports/"), "{err}");
        assert!(run.stdout.is_empty());
        // Nothing at all was written: not the fine file, not the hostile one, anywhere.
        assert_eq!(
            tree(target.path()),
            Vec::<(String, Vec<u8>)>::new(),
            "{hostile}"
        );
    }
}

#[tokio::test]
async fn cli_rm_deletes_keys_and_prefixes_and_dry_runs() {
    let t = start().await;
    for key in ["tmp/a.txt", "tmp/sub/b.txt", "tmp2/keep.txt", "keep/x.txt"] {
        t.s3.upload(BUCKET, key, "x").await.unwrap();
    }
    let dry = s3io(&t, &["rm", "--recursive", "--dryrun", &uri("tmp")]).ok();
    assert_eq!(
        dry,
        format!(
            "(dryrun) delete: {}\n(dryrun) delete: {}\n",
            uri("tmp/a.txt"),
            uri("tmp/sub/b.txt")
        )
    );
    assert!(
        t.s3.exists(BUCKET, "tmp/a.txt").await.unwrap(),
        "a dry run deletes nothing"
    );
    let gone = s3io(&t, &["rm", "-r", &uri("tmp")]).ok();
    assert_eq!(gone.lines().count(), 2, "{gone}");
    assert!(!t.s3.exists(BUCKET, "tmp/a.txt").await.unwrap());
    assert!(!t.s3.exists(BUCKET, "tmp/sub/b.txt").await.unwrap());
    assert!(
        t.s3.exists(BUCKET, "tmp2/keep.txt").await.unwrap(),
        "tmp is a folder, not a prefix of tmp2"
    );

    let dry = s3io(&t, &["rm", "--dryrun", &uri("keep/x.txt")]).ok();
    assert_eq!(dry, format!("(dryrun) delete: {}\n", uri("keep/x.txt")));
    assert!(t.s3.exists(BUCKET, "keep/x.txt").await.unwrap());
    let one = s3io(&t, &["rm", &uri("keep/x.txt")]).ok();
    assert_eq!(one, format!("delete: {}\n", uri("keep/x.txt")));
    assert!(!t.s3.exists(BUCKET, "keep/x.txt").await.unwrap());
    assert!(t.s3.exists(BUCKET, "tmp2/keep.txt").await.unwrap());
}

#[tokio::test]
async fn cli_failures_are_one_line_naming_the_object_and_code() {
    let t = start().await;
    for args in [
        vec!["cat", "s3://s3io-test/missing/data.csv"],
        vec!["head", "s3://s3io-test/missing/data.csv"],
        vec!["cp", "s3://s3io-test/missing/data.csv", "-"],
    ] {
        let run = s3io(&t, &args);
        let err = run.fails(1);
        assert!(
            err.starts_with("s3io: download s3://s3io-test/missing/data.csv (csv): NoSuchKey"),
            "{args:?}: {err}"
        );
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    let target = tempfile::tempdir().unwrap();
    let file = target.path().join("data.csv");
    let err = s3io(
        &t,
        &["cp", &uri("missing/data.csv"), file.to_str().unwrap()],
    )
    .fails(1);
    assert!(
        err.contains("NoSuchKey") && err.contains(&uri("missing/data.csv")),
        "{err}"
    );
    assert!(!file.exists());

    // Bytes that are not what the extension says: a decode error, named.
    t.s3.upload(BUCKET, "bad.parquet", Bytes::from_static(b"not parquet"))
        .await
        .unwrap();
    let err = s3io(&t, &["schema", &uri("bad.parquet")]).fails(1);
    assert!(
        err.starts_with("s3io: download s3://s3io-test/bad.parquet (parquet):"),
        "{err}"
    );

    // A decoder that panics on hostile bytes: a Decode error in one line, no panic text.
    t.put_fixture(
        "hostile/parquet_fuzz_thrift_unwrap.parquet",
        "hostile.parquet",
    )
    .await;
    let err = s3io(&t, &["head", &uri("hostile.parquet")]).fails(1);
    assert!(
        err.starts_with(
            "s3io: download s3://s3io-test/hostile.parquet (parquet): the decoder failed"
        ),
        "{err}"
    );

    // Wrong credentials: said so, and the secret is not shown.
    let run = finish(
        s3io_at(&t.server.endpoint_url(), &["ls", &uri("")])
            .env("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
            .output()
            .unwrap(),
    );
    let err = run.fails(1);
    assert!(err.contains("list objects s3://s3io-test"), "{err}");
    assert!(!err.contains("wrong-secret-value"), "{err}");
}

#[tokio::test]
async fn cli_usage_errors_exit_2_and_help_exits_0() {
    let t = start().await;
    for (args, says) in [
        (vec![], "requires a subcommand"),
        (vec!["frobnicate"], "unrecognized subcommand"),
        (
            vec!["cat"],
            "required arguments were not provided: <s3://bucket/key>",
        ),
        (vec!["cat", "s3://s3io-test"], "names a bucket"),
        (vec!["cat", "https://example.com/x"], "not an s3:// URI"),
        (vec!["ls", "--bogus"], "unexpected argument '--bogus'"),
        (
            vec!["head", "s3://s3io-test/a.csv", "-n", "lots"],
            "invalid value 'lots' for '--lines <ROWS>'",
        ),
        (
            vec!["head", "s3://s3io-test/a.csv", "--sheet", "Data"],
            "is csv",
        ),
        (vec!["cp", "a.txt", "b.txt"], "must be an s3:// URI"),
        (vec!["cp", "s3://s3io-test/dir/", "."], "--recursive"),
        (vec!["rm", "s3://s3io-test"], "names a bucket"),
        (
            vec!["presign", "s3://s3io-test/k", "--expires-in", "soon"],
            "invalid value 'soon' for '--expires-in <SECONDS>'",
        ),
    ] {
        let run = s3io(&t, &args);
        let err = run.fails(2);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    let help = s3io(&t, &["--help"]).ok();
    for command in [
        "ls", "cat", "head", "schema", "cp", "convert", "rm", "presign", "whoami",
    ] {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "{command} in {help}"
        );
    }
    let cp_help = s3io(&t, &["cp", "--help"]).ok();
    assert!(
        cp_help.starts_with("Usage: s3io cp [OPTIONS] <SRC> <DST>"),
        "{cp_help}"
    );
    assert_eq!(s3io(&t, &["help", "rm"]).ok(), s3io(&t, &["rm", "-h"]).ok());
}

#[tokio::test]
async fn cli_convert_presign_buckets_and_whoami() {
    let t = start().await;
    t.put_fixture("csv/sample.csv", "in/sample.csv").await;
    t.put_fixture("json/records.json", "in/records.json").await;

    let said = s3io(
        &t,
        &["convert", &uri("in/sample.csv"), &uri("out/sample.parquet")],
    )
    .ok();
    assert_eq!(
        said,
        format!(
            "convert: {} to {}\n",
            uri("in/sample.csv"),
            uri("out/sample.parquet")
        )
    );
    let csv = t.s3.download_frame(BUCKET, "in/sample.csv").await.unwrap();
    let parquet =
        t.s3.download_frame(BUCKET, "out/sample.parquet")
            .await
            .unwrap();
    assert!(parquet.equals_missing(&csv), "{parquet}\n{csv}");
    // JSON records become a table for a table format.
    s3io(
        &t,
        &["convert", &uri("in/records.json"), &uri("out/records.xlsx")],
    )
    .ok();
    let sheet =
        t.s3.download_frame(BUCKET, "out/records.xlsx")
            .await
            .unwrap();
    assert_eq!(ints(&sheet, "id"), all(&[1, 2, 3, 4]));
    assert_eq!(strs(&sheet, "name")[1].as_deref(), Some("東京"));

    // A presigned URL works with a plain HTTP GET, no credentials.
    let url = s3io(
        &t,
        &["presign", &uri("in/sample.csv"), "--expires-in", "120"],
    )
    .ok();
    let url = url.trim_end();
    assert!(
        url.contains("X-Amz-Expires=120") && url.contains("X-Amz-Signature="),
        "{url}"
    );
    let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let response = client.get(url.parse().unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    let got = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(got, fixture("csv/sample.csv"));

    // Buckets made and removed.
    assert_eq!(
        s3io(&t, &["mb", "s3://made-here"]).ok(),
        "make_bucket: made-here\n"
    );
    assert!(t.s3.bucket_exists("made-here").await.unwrap());
    t.s3.upload("made-here", "x.txt", "x").await.unwrap();
    // (s3s-fs removes buckets that are not empty; BucketNotEmpty is the server's to say.)
    s3io(&t, &["rb", "--force", "s3://made-here"]).ok();
    assert!(!t.s3.bucket_exists("made-here").await.unwrap());
    let err = s3io(&t, &["rb", "s3://made-here"]).fails(1);
    assert!(
        err.starts_with("s3io: delete bucket s3://made-here: NoSuchBucket"),
        "{err}"
    );

    // The embedded server has no STS: whoami fails cleanly, in one line.
    let err = s3io(&t, &["whoami"]).fails(1);
    assert!(err.starts_with("s3io: whoami"), "{err}");
}

// ---- mv, sync, stat and the filters (issue #17) ----

/// Standard output's lines, sorted: transfers finish in any order.
fn sorted_lines(stdout: &str) -> Vec<String> {
    let mut lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// Writes `body` to `dir/relative`, making folders as needed.
fn write(dir: &Path, relative: &str, body: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// Sets a file's modification time.
fn touch(path: &Path, at: std::time::SystemTime) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(at).unwrap();
}

/// Every key below `prefix`, sorted.
async fn keys(t: &TestS3, prefix: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    let objects: Vec<s3io::ObjectInfo> =
        t.s3.list_objects(BUCKET, prefix)
            .try_collect()
            .await
            .unwrap();
    objects.into_iter().map(|o| o.key).collect()
}

/// Runs `s3io ARGS` through a fault proxy that only watches, and returns the run with the
/// methods of the requests that would change something (anything but GET and HEAD).
fn through_proxy(t: &TestS3, args: &[&str]) -> (Run, Vec<String>) {
    let proxy = FaultProxy::start(&t.server.endpoint_url());
    let run = finish(s3io_at(&proxy.endpoint_url(), args).output().unwrap());
    let writes = proxy
        .seen()
        .into_iter()
        .filter(|s| s.method != "GET" && s.method != "HEAD")
        .map(|s| format!("{} {}", s.method, s.path_and_query))
        .collect();
    (run, writes)
}

#[tokio::test]
async fn cli_filters_follow_the_aws_cli_examples() {
    let t = start().await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for name in [".git/config", "foo.txt", "bar.txt", "baz.jpg"] {
        write(&src, name, name);
    }
    let src_arg = src.to_str().unwrap();
    // The three examples of issue #17: the filters apply in order, the later one wins, and
    // patterns match below the source.
    for (case, filters, want) in [
        (
            "a",
            vec!["--exclude", "*", "--include", "*.txt"],
            vec!["bar.txt", "foo.txt"],
        ),
        ("b", vec!["--include", "*.txt", "--exclude", "*"], vec![]),
        (
            "c",
            vec!["--exclude", ".git/*"],
            vec!["bar.txt", "baz.jpg", "foo.txt"],
        ),
    ] {
        let to = uri(&format!("filtered/{case}/"));
        let mut args = vec!["cp", "-r", src_arg, to.as_str()];
        args.extend(&filters);
        let out = s3io(&t, &args).ok();
        assert_eq!(out.lines().count(), want.len(), "{filters:?}: {out}");
        let prefix = format!("filtered/{case}/");
        let got = keys(&t, &prefix).await;
        let want: Vec<String> = want.iter().map(|name| format!("{prefix}{name}")).collect();
        assert_eq!(got, want, "{filters:?}");
    }

    // Downloads, S3 copies, rm and sync match below the source prefix too.
    let back = dir.path().join("back");
    s3io(
        &t,
        &[
            "cp",
            "-r",
            &uri("filtered/c"),
            back.to_str().unwrap(),
            "--exclude",
            "b*",
        ],
    )
    .ok();
    assert_eq!(tree(&back), [("foo.txt".to_owned(), b"foo.txt".to_vec())]);
    s3io(
        &t,
        &[
            "cp",
            "-r",
            &uri("filtered/c/"),
            &uri("jpg/"),
            "--exclude",
            "*",
            "--include",
            "*.jpg",
        ],
    )
    .ok();
    assert_eq!(keys(&t, "jpg/").await, ["jpg/baz.jpg"]);
    s3io(&t, &["rm", "-r", &uri("filtered/c"), "--exclude", "*.jpg"]).ok();
    assert_eq!(keys(&t, "filtered/c/").await, ["filtered/c/baz.jpg"]);
    // Without --recursive, the filters match the file's name.
    let run = s3io(
        &t,
        &[
            "cp",
            &src.join("foo.txt").to_string_lossy(),
            &uri("one/"),
            "--exclude",
            "*.txt",
        ],
    );
    assert_eq!(run.ok(), "");
    assert!(keys(&t, "one/").await.is_empty());
}

#[tokio::test]
async fn cli_cp_dryrun_and_quiet_flags_change_nothing() {
    let t = start().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a b/월별.csv", "x\n1\n");
    let file = dir.path().join("a b/월별.csv");
    let (run, writes) = through_proxy(
        &t,
        &[
            "cp",
            "-r",
            "--dryrun",
            dir.path().to_str().unwrap(),
            &uri("dry/"),
        ],
    );
    assert_eq!(
        run.ok(),
        format!(
            "(dryrun) upload: {} to {}\n",
            file.display(),
            uri("dry/a b/월별.csv")
        )
    );
    assert_eq!(writes, Vec::<String>::new());
    let run = s3io(
        &t,
        &[
            "cp",
            "--dryrun",
            file.to_str().unwrap(),
            &uri("dry/one.csv"),
        ],
    );
    assert!(run.ok().starts_with("(dryrun) upload: "));
    assert!(keys(&t, "dry/").await.is_empty());
    assert_eq!(
        s3io(
            &t,
            &[
                "cp",
                "--only-show-errors",
                file.to_str().unwrap(),
                &uri("dry/one.csv")
            ]
        )
        .ok(),
        ""
    );
    assert_eq!(keys(&t, "dry/").await, ["dry/one.csv"]);
    // --debug logs the SDK's requests on standard error, and nothing secret.
    let run = s3io(&t, &["--debug", "ls", &uri("dry/")]);
    assert!(run.ok().contains("one.csv"));
    assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(s3io::local::SECRET_ACCESS_KEY),
        "no secrets in the log"
    );
}

#[tokio::test]
async fn cli_stat_shows_what_s3_keeps() {
    let t = start().await;
    t.s3.client()
        .put_object()
        .bucket(BUCKET)
        .key("stat/data 월별.csv")
        .content_type("text/csv")
        .metadata("owner", "zoe")
        .body(b"a,b\n1,2\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let text = s3io(&t, &["stat", &uri("stat/data 월별.csv")]).ok();
    for line in [
        format!("Object         {}", uri("stat/data 월별.csv")),
        "Size           8 (8 B)".to_owned(),
        "Content-Type   text/csv".to_owned(),
        "Storage class  STANDARD".to_owned(),
        "Metadata       owner=zoe".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in {text}");
    }
    assert!(text.contains("\nETag           \""), "{text}");
    assert!(text.contains("\nTags           "), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&s3io(&t, &["stat", "--json", &uri("stat/data 월별.csv")]).ok())
            .unwrap();
    assert_eq!(json["size"], 8);
    assert_eq!(json["key"], "stat/data 월별.csv");
    assert_eq!(json["content_type"], "text/csv");
    assert_eq!(json["metadata"], serde_json::json!({"owner": "zoe"}));
    assert_eq!(json["storage_class"], "STANDARD");
    let modified = json["last_modified"].as_str().unwrap();
    assert!(
        modified.len() == 20 && modified.ends_with('Z'),
        "{modified}"
    );
    // Tags: known (an object), or unknown with why (the embedded server may keep none).
    assert!(
        json["tags"].is_object() || json["tags_unknown_because"].is_string(),
        "{json}"
    );

    let err = s3io(&t, &["stat", &uri("stat/missing.csv")]).fails(1);
    assert!(err.contains(&uri("stat/missing.csv")), "{err}");
    assert!(
        s3io(&t, &["stat", &uri("")])
            .fails(2)
            .contains("names a bucket")
    );
}

#[tokio::test]
async fn cli_mv_moves_files_and_folders() {
    let t = start().await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path();
    write(local, "one ü.txt", "one");
    let one = local.join("one ü.txt");

    // A file up: the object is there, the file is gone.
    let out = s3io(&t, &["mv", one.to_str().unwrap(), &uri("mv/")]).ok();
    assert_eq!(
        out,
        format!("move: {} to {}\n", one.display(), uri("mv/one ü.txt"))
    );
    assert!(!one.exists());
    assert_eq!(
        t.s3.download_bytes(BUCKET, "mv/one ü.txt").await.unwrap(),
        "one"
    );
    // Across S3, then down.
    s3io(&t, &["mv", &uri("mv/one ü.txt"), &uri("mv2/two.txt")]).ok();
    assert_eq!(keys(&t, "mv").await, ["mv2/two.txt"]);
    let down = local.join("down.txt");
    s3io(&t, &["mv", &uri("mv2/two.txt"), down.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(&down).unwrap(), "one");
    assert!(keys(&t, "mv2/").await.is_empty());
    // Onto itself: refused, nothing lost.
    t.s3.upload(BUCKET, "self.txt", Bytes::from("self"))
        .await
        .unwrap();
    assert!(
        s3io(&t, &["mv", &uri("self.txt"), &uri("self.txt")])
            .fails(1)
            .contains("onto itself")
    );
    assert!(t.s3.exists(BUCKET, "self.txt").await.unwrap());

    // Folders: up with a filter (what is left out stays), across, and down.
    let tree_dir = local.join("tree");
    for name in ["a.csv", "월별/b c.csv", "keep.log"] {
        write(&tree_dir, name, name);
    }
    let up = s3io(
        &t,
        &[
            "mv",
            "-r",
            tree_dir.to_str().unwrap(),
            &uri("moved"),
            "--exclude",
            "*.log",
        ],
    )
    .ok();
    assert_eq!(up.lines().count(), 2, "{up}");
    assert!(up.lines().all(|l| l.starts_with("move: ")), "{up}");
    assert_eq!(
        keys(&t, "moved/").await,
        ["moved/a.csv", "moved/월별/b c.csv"]
    );
    assert_eq!(
        tree(&tree_dir),
        [("keep.log".to_owned(), b"keep.log".to_vec())],
        "moved files are gone, the excluded one stays"
    );
    s3io(&t, &["mv", "-r", &uri("moved/"), &uri("across/")]).ok();
    assert!(keys(&t, "moved/").await.is_empty());
    let back = local.join("back");
    s3io(
        &t,
        &["mv", "--recursive", &uri("across"), back.to_str().unwrap()],
    )
    .ok();
    assert!(keys(&t, "across/").await.is_empty());
    assert_eq!(
        tree(&back),
        [
            ("a.csv".to_owned(), b"a.csv".to_vec()),
            (
                "월별/b c.csv".to_owned(),
                "월별/b c.csv".as_bytes().to_vec()
            ),
        ]
    );
    assert!(
        s3io(&t, &["mv", "-", &uri("x.txt")])
            .fails(2)
            .contains("not standard input")
    );
}

/// The names every sync direction works with: spaces and Unicode, in folders.
const NEW: &str = "월별/new file.txt";
const SAME: &str = "same ü.txt";
const GROWS: &str = "dir x/grows.csv";
const TOUCHED: &str = "東京 touched.txt";
const GONE: &str = "gone 🚀.txt";

#[tokio::test]
async fn cli_sync_uploads_what_is_new_or_changed() {
    let t = start().await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for name in [SAME, GROWS, TOUCHED, GONE] {
        write(&src, name, "12345");
    }
    // Neighbours of the destination prefix that --delete must never touch.
    for key in ["up2/x.txt", "up.txt", "other/y.txt"] {
        t.s3.upload(BUCKET, key, Bytes::from("neighbour"))
            .await
            .unwrap();
    }
    let (src_arg, dst) = (src.to_str().unwrap(), uri("up"));
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", src_arg, dst.as_str()];
        args.extend(extra);
        s3io(&t, &args).ok()
    };
    let up = |name: &str| {
        format!(
            "upload: {} to {}",
            src.join(name).display(),
            uri(&format!("up/{name}"))
        )
    };
    let first = sync(&[]);
    let mut want = vec![up(GONE), up(GROWS), up(SAME), up(TOUCHED)];
    want.sort();
    assert_eq!(sorted_lines(&first), want);
    assert_eq!(
        sync(&[]),
        "",
        "a second sync right after the first copies nothing"
    );

    // S3 keeps whole seconds: let the next change be at least one later.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(&src, NEW, "new");
    write(&src, GROWS, "1234567");
    write(&src, TOUCHED, "54321"); // the same size, modified now
    std::fs::remove_file(src.join(GONE)).unwrap();

    // --size-only: the new and the grown file, not the touched one.
    let mut want = vec![up(GROWS), up(NEW)];
    want.sort();
    assert_eq!(sorted_lines(&sync(&["--size-only"])), want);
    // Then by time: the touched one; the deleted one stays without --delete.
    assert_eq!(sync(&[]), format!("{}\n", up(TOUCHED)));
    assert_eq!(
        t.s3.download_bytes(BUCKET, &format!("up/{TOUCHED}"))
            .await
            .unwrap(),
        "54321"
    );
    assert!(t.s3.exists(BUCKET, &format!("up/{GONE}")).await.unwrap());
    assert_eq!(sync(&[]), "");

    // --delete --dryrun: says what it would delete, and sends no PUT, POST or DELETE.
    let (run, writes) = through_proxy(&t, &["sync", "--delete", "--dryrun", src_arg, &dst]);
    assert_eq!(
        run.ok(),
        format!("(dryrun) delete: {}\n", uri(&format!("up/{GONE}")))
    );
    assert_eq!(writes, Vec::<String>::new());
    write(&src, "late.txt", "late");
    let (run, writes) = through_proxy(&t, &["sync", "--dryrun", src_arg, &dst]);
    assert_eq!(run.ok(), format!("(dryrun) {}\n", up("late.txt")));
    assert_eq!(writes, Vec::<String>::new());
    assert!(!t.s3.exists(BUCKET, "up/late.txt").await.unwrap());
    std::fs::remove_file(src.join("late.txt")).unwrap();

    // --delete: only below the destination prefix; excluded keys are kept too.
    t.s3.upload(BUCKET, "up/kept.log", Bytes::from("excluded"))
        .await
        .unwrap();
    let deleted = sync(&["--delete", "--exclude", "*.log"]);
    assert_eq!(deleted, format!("delete: {}\n", uri(&format!("up/{GONE}"))));
    let mut want: Vec<String> = ["up/kept.log", "up/x.txt", "up.txt", "other/y.txt"]
        .iter()
        .map(|k| k.to_string())
        .collect();
    want.extend(["up2/x.txt".to_owned()]);
    want.extend(
        [NEW, SAME, GROWS, TOUCHED]
            .iter()
            .map(|n| format!("up/{n}")),
    );
    want.retain(|k| k != "up/x.txt");
    want.sort();
    let mut all = keys(&t, "").await;
    all.sort();
    assert_eq!(all, want);
    assert_eq!(sync(&["--delete", "--exclude", "*.log"]), "");
}

#[tokio::test]
async fn cli_sync_downloads_what_is_new_or_changed() {
    let t = start().await;
    for name in [SAME, GROWS, TOUCHED, GONE] {
        t.s3.upload(BUCKET, &format!("down/{name}"), Bytes::from("12345"))
            .await
            .unwrap();
    }
    t.s3.upload(BUCKET, "down2/outside.txt", Bytes::from("not mine"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("dst");
    let (src, dst_arg) = (uri("down/"), dst.to_str().unwrap().to_owned());
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", src.as_str(), dst_arg.as_str()];
        args.extend(extra);
        s3io(&t, &args).ok()
    };
    let down = |name: &str| {
        format!(
            "download: {} to {}",
            uri(&format!("down/{name}")),
            dst.join(name).display()
        )
    };
    let mut want = vec![down(GONE), down(GROWS), down(SAME), down(TOUCHED)];
    want.sort();
    assert_eq!(sorted_lines(&sync(&[])), want);
    assert_eq!(
        sync(&[]),
        "",
        "a second sync right after the first copies nothing"
    );

    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.s3.upload(BUCKET, &format!("down/{NEW}"), Bytes::from("new"))
        .await
        .unwrap();
    t.s3.upload(BUCKET, &format!("down/{GROWS}"), Bytes::from("1234567"))
        .await
        .unwrap();
    // The same size, newer in S3: the AWS CLI leaves it unless --exact-timestamps.
    t.s3.upload(BUCKET, &format!("down/{SAME}"), Bytes::from("abcde"))
        .await
        .unwrap();
    // A local file changed after its download: fetched again.
    let touched = dst.join(TOUCHED);
    std::fs::write(&touched, "local").unwrap();
    touch(
        &touched,
        std::time::SystemTime::now() + std::time::Duration::from_secs(60),
    );
    t.s3.delete(BUCKET, &format!("down/{GONE}")).await.unwrap();

    let mut want = vec![down(GROWS), down(NEW), down(TOUCHED)];
    want.sort();
    assert_eq!(sorted_lines(&sync(&[])), want);
    assert_eq!(std::fs::read_to_string(&touched).unwrap(), "12345");
    assert_eq!(std::fs::read_to_string(dst.join(SAME)).unwrap(), "12345");
    assert!(dst.join(GONE).exists(), "kept without --delete");
    assert_eq!(sync(&[]), "");
    assert_eq!(sync(&["--exact-timestamps"]), format!("{}\n", down(SAME)));
    assert_eq!(std::fs::read_to_string(dst.join(SAME)).unwrap(), "abcde");
    assert_eq!(sync(&["--exact-timestamps"]), "");

    assert_eq!(
        sync(&["--delete", "--dryrun"]),
        format!("(dryrun) delete: {}\n", dst.join(GONE).display())
    );
    assert!(dst.join(GONE).exists());
    assert_eq!(
        sync(&["--delete"]),
        format!("delete: {}\n", dst.join(GONE).display())
    );
    assert!(!dst.join(GONE).exists());
    assert!(!dst.join("outside.txt").exists());
    assert_eq!(sync(&["--delete"]), "");

    // The key checks of cp -r: a hostile key stops the sync before anything is written.
    let proxy = FaultProxy::start(&t.server.endpoint_url());
    proxy.inject(
        Matches::List,
        Fault::Rewrite(
            "<Key>down/same ü.txt</Key>",
            "<Key>down/../../evil.txt</Key>",
        ),
        1,
    );
    let fresh = dir.path().join("fresh");
    let run = finish(
        s3io_at(
            &proxy.endpoint_url(),
            &["sync", &uri("down"), fresh.to_str().unwrap()],
        )
        .output()
        .unwrap(),
    );
    let err = run.fails(1);
    assert!(proxy.struck(), "the listing went through the proxy");
    assert!(
        err.contains("refusing key \"down/../../evil.txt\""),
        "{err}"
    );
    assert!(!fresh.exists() && !dir.path().join("evil.txt").exists());
}

#[tokio::test]
async fn cli_sync_copies_within_s3() {
    let t = start().await;
    for name in [SAME, GROWS, TOUCHED, GONE] {
        t.s3.upload(BUCKET, &format!("src/{name}"), Bytes::from("12345"))
            .await
            .unwrap();
    }
    t.s3.upload(BUCKET, "dst2/keep.txt", Bytes::from("not mine"))
        .await
        .unwrap();
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "s3://s3io-test/src", "s3://s3io-test/dst"];
        args.extend(extra);
        s3io(&t, &args).ok()
    };
    let copy = |name: &str| {
        format!(
            "copy: {} to {}",
            uri(&format!("src/{name}")),
            uri(&format!("dst/{name}"))
        )
    };
    let mut want = vec![copy(GONE), copy(GROWS), copy(SAME), copy(TOUCHED)];
    want.sort();
    assert_eq!(sorted_lines(&sync(&[])), want);
    assert_eq!(sync(&[]), "");

    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.s3.upload(BUCKET, &format!("src/{NEW}"), Bytes::from("new"))
        .await
        .unwrap();
    t.s3.upload(BUCKET, &format!("src/{GROWS}"), Bytes::from("1234567"))
        .await
        .unwrap();
    t.s3.upload(BUCKET, &format!("src/{TOUCHED}"), Bytes::from("54321"))
        .await
        .unwrap();
    t.s3.delete(BUCKET, &format!("src/{GONE}")).await.unwrap();
    assert_eq!(sorted_lines(&sync(&["--size-only"])), {
        let mut w = vec![copy(GROWS), copy(NEW)];
        w.sort();
        w
    });
    assert_eq!(sync(&[]), format!("{}\n", copy(TOUCHED)));
    let (run, writes) = through_proxy(
        &t,
        &[
            "sync",
            "--delete",
            "--dryrun",
            "s3://s3io-test/src",
            "s3://s3io-test/dst",
        ],
    );
    assert_eq!(
        run.ok(),
        format!("(dryrun) delete: {}\n", uri(&format!("dst/{GONE}")))
    );
    assert_eq!(writes, Vec::<String>::new());
    assert_eq!(
        sync(&["--delete"]),
        format!("delete: {}\n", uri(&format!("dst/{GONE}")))
    );
    let mut want: Vec<String> = [NEW, SAME, GROWS, TOUCHED]
        .iter()
        .map(|n| format!("dst/{n}"))
        .collect();
    want.sort();
    assert_eq!(keys(&t, "dst/").await, want);
    assert_eq!(keys(&t, "dst2/").await, ["dst2/keep.txt"]);
    assert_eq!(sync(&["--delete"]), "");
    assert!(
        s3io(&t, &["sync", "s3://s3io-test/src/*.txt", "/tmp/x"])
            .fails(2)
            .contains("glob")
    );
}

#[tokio::test]
async fn cli_upload_settings_and_access_flags_reach_s3() {
    let t = start().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.csv", "a\n1\n");
    let file = dir.path().join("a.csv");
    let proxy = FaultProxy::start(&t.server.endpoint_url());
    let args = [
        "cp",
        file.to_str().unwrap(),
        &uri("kms/a.csv"),
        "--sse",
        "aws:kms",
        "--sse-kms-key-id",
        "alias/team",
        "--storage-class",
        "STANDARD_IA",
        "--content-type",
        "text/plain",
        "--cache-control",
        "max-age=60",
        "--metadata",
        "owner=data,team=x",
        "--request-payer",
    ];
    // The embedded server may refuse or ignore these: the headers sent are what is checked.
    let _ = finish(s3io_at(&proxy.endpoint_url(), &args).output().unwrap());
    let seen = proxy.seen();
    let put = seen
        .iter()
        .find(|s| s.method == "PUT")
        .expect("an upload was sent");
    for (header, value) in [
        ("x-amz-server-side-encryption", "aws:kms"),
        ("x-amz-server-side-encryption-aws-kms-key-id", "alias/team"),
        ("x-amz-storage-class", "STANDARD_IA"),
        ("content-type", "text/plain"),
        ("cache-control", "max-age=60"),
        ("x-amz-meta-owner", "data"),
        ("x-amz-meta-team", "x"),
        ("x-amz-request-payer", "requester"),
    ] {
        assert_eq!(
            put.header(header),
            Some(value),
            "{header} in {:?}",
            put.headers
        );
    }

    // sync and mv store the same settings; a bare --sse is AES256.
    let proxy = FaultProxy::start(&t.server.endpoint_url());
    let args = [
        "sync",
        dir.path().to_str().unwrap(),
        &uri("synced/"),
        "--sse",
    ];
    let _ = finish(s3io_at(&proxy.endpoint_url(), &args).output().unwrap());
    let seen = proxy.seen();
    let put = seen.iter().find(|s| s.method == "PUT").expect("an upload");
    assert_eq!(put.header("x-amz-server-side-encryption"), Some("AES256"));
    let err = s3io(
        &t,
        &[
            "mv",
            "a",
            &uri("b"),
            "--sse",
            "AES256",
            "--sse-kms-key-id",
            "k",
        ],
    )
    .fails(2);
    assert!(err.contains("--sse-kms-key-id"), "{err}");

    // --no-sign-request: nothing signed reaches the server, even with a broken profile.
    t.s3.upload(BUCKET, "public.txt", Bytes::from("open"))
        .await
        .unwrap();
    let proxy = FaultProxy::start(&t.server.endpoint_url());
    let run = finish(
        s3io_at(
            &proxy.endpoint_url(),
            &["--no-sign-request", "cat", &uri("public.txt")],
        )
        .env("AWS_PROFILE", "no-such-profile")
        .output()
        .unwrap(),
    );
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the read went through the proxy");
    assert!(seen.iter().all(|s| !s.signed()), "{seen:?}");
    // The embedded server wants signatures: refused, in one line, never a profile error.
    if run.code != 0 {
        let err = run.fails(1);
        assert!(!err.contains("no-such-profile"), "{err}");
    }
}

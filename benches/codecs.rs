//! Codec throughput: decode and encode MB/s for every format, through the public
//! `s3io_formats::Format` API (the formats crate alone), on generated data of realistic shape (ints, floats with nulls, bools,
//! dates, date-times, strings with quotes, commas and newlines, empty fields).
//!
//! A dependency-free harness (`harness = false`): each case runs once to warm up, then at
//! least `MIN_RUNS` times and until `MIN_TIME` has passed; the median is reported.
//! MB/s is the size of the encoded bytes (what travels over the wire) per second, 1 MB =
//! 10^6 bytes.
//!
//! ```sh
//! cargo bench --bench codecs                 # every case
//! cargo bench --bench codecs -- csv          # cases whose name contains "csv"
//! cargo bench --bench codecs -- --quick      # smaller inputs, fewer runs
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use s3io_formats::polars::prelude::*;
use s3io_formats::{Data, Format};

/// Runs at least this many timed iterations...
const MIN_RUNS: usize = 5;
/// ...and keeps going until this much time has passed (or `MAX_RUNS`).
const MIN_TIME: Duration = Duration::from_secs(2);
const MAX_RUNS: usize = 50;

/// A small deterministic generator (xorshift64*), so every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn float(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const CITIES: &[&str] = &[
    "Berlin",
    "São Paulo",
    "New York, NY",
    "Zürich",
    "東京",
    "Lagos",
    "O'Fallon",
    "Paris \"Centre\"",
];
const WORDS: &[&str] = &[
    "delivered",
    "late",
    "refund",
    "said \"thanks\"",
    "box, damaged",
    "ok",
    "call back",
    "naïve",
    "line one\nline two",
    "10% off",
];

/// A frame of `rows` rows and ten columns, the shape of an export from a sales system.
fn frame(rows: usize) -> DataFrame {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut id = Vec::with_capacity(rows);
    let mut customer = Vec::with_capacity(rows);
    let mut city = Vec::with_capacity(rows);
    let mut amount = Vec::with_capacity(rows);
    let mut qty = Vec::with_capacity(rows);
    let mut paid = Vec::with_capacity(rows);
    let mut day = Vec::with_capacity(rows);
    let mut at = Vec::with_capacity(rows);
    let mut comment = Vec::with_capacity(rows);
    let mut code = Vec::with_capacity(rows);
    for i in 0..rows {
        id.push(i as i64 + 1_000_000);
        customer.push(format!(
            "{} {}",
            ["Ana", "Bo", "Chen", "Dara", "Émile", "Femi"][rng.below(6) as usize],
            ["Smith", "O'Neil", "Ng", "Müller", "Okafor", "\"Jr\""][rng.below(6) as usize]
        ));
        city.push(CITIES[rng.below(CITIES.len() as u64) as usize]);
        amount.push((!rng.chance(5)).then(|| (rng.float() * 100_000.0).round() / 100.0));
        qty.push((!rng.chance(3)).then(|| rng.below(500) as i64));
        paid.push((!rng.chance(2)).then(|| rng.chance(70)));
        // Days since 1970-01-01: 2015 .. 2025.
        day.push(16_436 + rng.below(3_650) as i32);
        // Milliseconds since the epoch, 2020 .. 2025.
        at.push(1_577_836_800_000 + rng.below(157_680_000_000) as i64);
        comment.push((!rng.chance(20)).then(|| {
            let n = 1 + rng.below(4) as usize;
            (0..n)
                .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        }));
        code.push(format!("SKU-{:05}", rng.below(100_000)));
    }
    let date = Series::new("day".into(), day)
        .cast(&DataType::Date)
        .expect("days become dates");
    let datetime = Series::new("at".into(), at)
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .expect("milliseconds become date-times");
    DataFrame::new_infer_height(vec![
        Series::new("id".into(), id).into(),
        Series::new("customer".into(), customer).into(),
        Series::new("city".into(), city).into(),
        Series::new("amount".into(), amount).into(),
        Series::new("qty".into(), qty).into(),
        Series::new("paid".into(), paid).into(),
        date.into(),
        datetime.into(),
        Series::new("comment".into(), comment).into(),
        Series::new("code".into(), code).into(),
    ])
    .expect("columns of one length")
}

/// A JSON text of a dict with `n` keys, each a small record: the shape of a cache or a
/// config that a Python program pickles.
fn dict_json(n: usize) -> String {
    let mut rng = Rng(0x00d1_c7d1_c7d1_c7d1);
    let mut out = String::from("{");
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let tags: Vec<String> = (0..rng.below(4))
            .map(|_| format!("\"t{}\"", rng.below(50)))
            .collect();
        out.push_str(&format!(
            "\"user:{i:07}\":{{\"id\":{i},\"name\":\"user {} \\\"{}\\\"\",\"score\":{:.4},\
             \"active\":{},\"tags\":[{}],\"parent\":{},\"ratio\":{}}}",
            rng.below(1_000_000),
            WORDS[rng.below(WORDS.len() as u64) as usize].replace(['"', '\n'], " "),
            rng.float() * 100.0,
            rng.chance(50),
            tags.join(","),
            if rng.chance(30) {
                "null".to_owned()
            } else {
                rng.below(n as u64).to_string()
            },
            rng.float(),
        ));
    }
    out.push('}');
    out
}

/// Log lines: the shape of a text object.
fn text(bytes: usize) -> String {
    let mut rng = Rng(0x7e57);
    let mut out = String::with_capacity(bytes + 200);
    let mut i = 0u64;
    while out.len() < bytes {
        i += 1;
        out.push_str(&format!(
            "2024-05-{:02}T{:02}:{:02}:{:02}Z INFO worker-{} request {i} took {} ms: {}\n",
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(8),
            rng.below(2_000),
            WORDS[rng.below(WORDS.len() as u64) as usize].replace('\n', " "),
        ));
    }
    out
}

struct Timing {
    median: Duration,
    min: Duration,
    runs: usize,
}

fn measure(quick: bool, mut f: impl FnMut()) -> Timing {
    f(); // warm-up: page faults, allocator growth
    let (min_runs, min_time) = if quick {
        (3, Duration::from_millis(300))
    } else {
        (MIN_RUNS, MIN_TIME)
    };
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < min_runs || (start.elapsed() < min_time && times.len() < MAX_RUNS) {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    times.sort();
    Timing {
        median: times[times.len() / 2],
        min: times[0],
        runs: times.len(),
    }
}

struct Bench {
    filter: Vec<String>,
    quick: bool,
}

impl Bench {
    fn wanted(&self, name: &str) -> bool {
        self.filter.is_empty() || self.filter.iter().any(|f| name.contains(f.as_str()))
    }

    fn report(&self, name: &str, what: &str, bytes: usize, t: &Timing) {
        let mb = bytes as f64 / 1e6;
        println!(
            "{name:<18} {what:<34} {mb:>8.1} MB {:>10.1} ms {:>8.1} MB/s  (min {:.1} ms, {} runs)",
            t.median.as_secs_f64() * 1e3,
            mb / t.median.as_secs_f64(),
            t.min.as_secs_f64() * 1e3,
            t.runs,
        );
    }

    /// Decodes `bytes` and encodes `data` in `format`, reporting both.
    fn codec(&self, name: &str, what: &str, format: Format, bytes: &[u8], data: &Data) {
        let decode = format!("{name}/decode");
        if self.wanted(&decode) {
            let input = bytes::Bytes::copy_from_slice(bytes);
            let t = measure(self.quick, || {
                black_box(format.decode(input.clone()).expect("decodes"));
            });
            self.report(&decode, what, bytes.len(), &t);
        }
        let encode = format!("{name}/encode");
        if self.wanted(&encode) {
            let t = measure(self.quick, || {
                black_box(format.encode(data).expect("encodes"));
            });
            self.report(&encode, what, bytes.len(), &t);
        }
    }
}

fn main() {
    let mut filter = Vec::new();
    let mut quick = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            a if a.starts_with("--") => {} // `cargo bench` passes --bench
            a => filter.push(a.to_owned()),
        }
    }
    let bench = Bench { filter, quick };
    let scale = if quick { 10 } else { 1 };
    println!(
        "{:<18} {:<34} {:>11} {:>13} {:>13}",
        "case", "input", "size", "median", "throughput"
    );

    let rows = 400_000 / scale;
    if bench.wanted("csv") {
        let df = frame(rows);
        let data = Data::Frame(df);
        let bytes = Format::CSV.encode(&data).expect("csv encodes");
        // What a download gives back: dates as text, as pandas.read_csv reads them.
        let read_back = Data::Frame(Format::CSV.decode_frame(bytes.clone()).expect("decodes"));
        bench.codec(
            "csv",
            &format!("{rows} rows x 10 cols"),
            Format::CSV,
            &bytes,
            &read_back,
        );
    }

    let rows = 20_000 / scale;
    if bench.wanted("xlsx") {
        let data = Data::Frame(frame(rows));
        let bytes = Format::EXCEL.encode(&data).expect("xlsx encodes");
        bench.codec(
            "xlsx",
            &format!("{rows} rows x 10 cols"),
            Format::EXCEL,
            &bytes,
            &data,
        );
    }

    let rows = 100_000 / scale;
    if bench.wanted("json") {
        let data = Data::Frame(frame(rows));
        let bytes = Format::JSON.encode(&data).expect("json encodes");
        let value = Format::JSON.decode(bytes.clone()).expect("json decodes");
        bench.codec(
            "json",
            &format!("{rows} records x 10 fields"),
            Format::JSON,
            &bytes,
            &value,
        );
        let name = "json/decode-frame";
        if bench.wanted(name) {
            let input = bytes::Bytes::from(bytes.clone());
            let t = measure(bench.quick, || {
                black_box(Format::JSON.decode_frame(input.clone()).expect("decodes"));
            });
            bench.report(name, "records into a frame", bytes.len(), &t);
        }
    }

    let keys = 200_000 / scale;
    if bench.wanted("pickle") {
        let value = Format::JSON
            .decode(dict_json(keys))
            .expect("generated JSON parses");
        let bytes = Format::PICKLE.encode(&value).expect("pickle encodes");
        let value = Format::PICKLE
            .decode(bytes.clone())
            .expect("pickle decodes");
        bench.codec(
            "pickle",
            &format!("dict of {keys} records"),
            Format::PICKLE,
            &bytes,
            &value,
        );
        let data = Data::Frame(frame(rows));
        let bytes = Format::PICKLE.encode(&data).expect("pickle encodes");
        let value = Format::PICKLE
            .decode(bytes.clone())
            .expect("pickle decodes");
        bench.codec(
            "pickle-columns",
            &format!("dict of 10 lists x {rows}"),
            Format::PICKLE,
            &bytes,
            &value,
        );
    }

    let size = 50_000_000 / scale;
    if bench.wanted("text") {
        let text = text(size);
        let bytes = text.clone().into_bytes();
        bench.codec("text", "log lines", Format::TEXT, &bytes, &Data::Text(text));
    }
}

//! Decode time of big pickles, for benches/README.md (not a timed test: `#[ignore]`d, run by
//! hand in release): `S3IO_PICKLE_SPEED=a.pkl,b.pkl cargo test --release -p s3io-formats
//! --test pickle_speed -- --ignored --nocapture`. Prints the median and minimum of 5 decodes
//! of each file, in memory, through `Format::PICKLE.decode`, and the peak RSS (VmHWM) while
//! decoding that file: the peak is reset before each file, so one file's figure does not
//! carry the one before it. `S3IO_PICKLE_SPEED_RUNS=1` decodes each file once (for a
//! profiler such as `valgrind --tool=callgrind`).

use std::time::Instant;

use s3io_formats::{Data, Format};

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Lowers VmHWM to the current RSS (Linux: `echo 5 > /proc/self/clear_refs`); false where
/// that is not possible, and the peak is then the process's.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[test]
#[ignore = "a benchmark: run by hand in release"]
fn decode_speed() {
    let files = std::env::var("S3IO_PICKLE_SPEED").unwrap_or_default();
    let runs = std::env::var("S3IO_PICKLE_SPEED_RUNS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(5)
        .max(1);
    for path in files.split(',').filter(|p| !p.is_empty()) {
        let bytes = bytes::Bytes::from(std::fs::read(path).expect("the file"));
        let reset = reset_peak_rss();
        let mut times = Vec::new();
        let mut what = String::new();
        for _ in 0..runs {
            let start = Instant::now();
            let data = Format::PICKLE.decode(bytes.clone()).expect("decodes");
            times.push(start.elapsed().as_secs_f64());
            what = match &data {
                Data::Frame(df) => format!("frame {}x{}", df.height(), df.width()),
                other => other.kind_name().to_string(),
            };
            drop(data);
        }
        times.sort_by(f64::total_cmp);
        let peak = peak_rss_mib();
        println!(
            "{path}: {} MB, {what}: median {:.3} s, min {:.3} s, peak RSS {peak} MiB{} ({:.2}x \
             the file, which it includes)",
            bytes.len() / 1_000_000,
            times[times.len() / 2],
            times[0],
            if reset { "" } else { " (of the process)" },
            (peak << 20) as f64 / bytes.len() as f64,
        );
    }
}

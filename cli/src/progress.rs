//! Transfer progress on standard error, for people at a terminal: a bar for each transfer
//! that has run for two seconds, and for a folder, one more bar for the whole of it. Quick
//! transfers stay quiet, and nothing is drawn when standard error is not a terminal.

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use s3io::{Progress, S3Connector};

/// Transfers quicker than this show no bar.
const QUIET_FOR: Duration = Duration::from_secs(2);

/// One transfer of known size.
const SIZED: &str =
    "{wide_msg} {bytes:>10} / {total_bytes:<10} {bytes_per_sec:>12} [{bar:24}] {percent:>3}%";
/// One transfer whose size is not known yet.
const UNSIZED: &str = "{wide_msg} {bytes:>10} {bytes_per_sec:>12}";
/// A folder's transfers together.
const BATCH: &str =
    "{msg} [{wide_bar}] {bytes:>10} / {total_bytes:<10} {bytes_per_sec:>12} eta {eta}";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Where progress bars go: nowhere, or standard error, all bars of the process together so
/// that parallel transfers each keep a line of their own.
#[derive(Clone)]
pub struct Bars {
    multi: Option<MultiProgress>,
}

impl Bars {
    /// Bars on standard error if `show`, none otherwise.
    pub fn new(show: bool) -> Bars {
        Bars {
            multi: show.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// These bars, or none when standard output is a terminal too: a bar redrawn there would
    /// write over what a transfer streams to standard output (`s3io cat`).
    pub fn beside_stdout(&self) -> Bars {
        if io::stdout().is_terminal() {
            Bars::new(false)
        } else {
            self.clone()
        }
    }

    /// `s3` with its transfers shown as a bar labelled `label`, left on screen when done.
    pub fn connector(&self, s3: &S3Connector, label: impl Into<String>) -> S3Connector {
        self.watch(s3, label.into(), true, None)
    }

    /// Bars for `files` transfers of `bytes` in all: one per file in flight, and one for
    /// the whole batch.
    pub fn batch(&self, files: usize, bytes: u64) -> Batch {
        let state = self.multi.as_ref().map(|multi| {
            Arc::new(BatchBar {
                multi: multi.clone(),
                started: Instant::now(),
                files,
                bytes,
                files_done: AtomicUsize::new(0),
                moved: AtomicU64::new(0),
                bar: OnceLock::new(),
            })
        });
        Batch {
            bars: self.clone(),
            state,
        }
    }

    fn watch(
        &self,
        s3: &S3Connector,
        label: String,
        keep: bool,
        batch: Option<Arc<BatchBar>>,
    ) -> S3Connector {
        let Some(multi) = &self.multi else {
            return s3.clone();
        };
        let bar = TransferBar {
            multi: multi.clone(),
            label,
            keep,
            moved: AtomicU64::new(0),
            bar: OnceLock::new(),
            batch,
        };
        let config = s3
            .transfer_config()
            .clone()
            .on_progress(move |p: Progress| bar.update(p.bytes, p.total, p.elapsed));
        s3.with_transfer(config)
    }
}

/// Many transfers shown together.
pub struct Batch {
    bars: Bars,
    state: Option<Arc<BatchBar>>,
}

impl Batch {
    /// `s3` with its transfers shown as one file of the batch, labelled `label`; the file's
    /// bar goes away when it is done.
    pub fn connector(&self, s3: &S3Connector, label: impl Into<String>) -> S3Connector {
        self.bars.watch(s3, label.into(), false, self.state.clone())
    }

    /// Counts one more file done.
    pub fn file_done(&self) {
        if let Some(state) = &self.state {
            let done = state.files_done.fetch_add(1, Ordering::Relaxed) + 1;
            state.show(|bar| bar.set_message(state.files_message(done)));
        }
    }

    /// Leaves the batch's bar on screen, full, if it was shown.
    pub fn finish(&self) {
        if let Some(bar) = self.state.as_ref().and_then(|s| s.bar.get()) {
            bar.finish();
        }
    }
}

/// The bar of a whole batch.
struct BatchBar {
    multi: MultiProgress,
    started: Instant,
    files: usize,
    bytes: u64,
    files_done: AtomicUsize,
    moved: AtomicU64,
    bar: OnceLock<ProgressBar>,
}

impl BatchBar {
    fn files_message(&self, done: usize) -> String {
        format!("{done} of {} files", self.files)
    }

    fn add_bytes(&self, more: u64) {
        let moved = self.moved.fetch_add(more, Ordering::Relaxed) + more;
        self.show(|bar| bar.set_position(moved));
    }

    /// Runs `update` on the bar, made once the batch has run for [`QUIET_FOR`].
    fn show(&self, update: impl FnOnce(&ProgressBar)) {
        if self.bar.get().is_none() && self.started.elapsed() < QUIET_FOR {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(self.bytes)
                .with_style(style(BATCH))
                .with_elapsed(self.started.elapsed())
                .with_position(self.moved.load(Ordering::Relaxed))
                .with_message(self.files_message(self.files_done.load(Ordering::Relaxed)));
            // Above the files' bars, which come and go.
            self.multi.insert(0, bar)
        });
        update(bar);
    }
}

impl Drop for BatchBar {
    /// A batch that did not finish (an error follows) leaves no bar behind.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.get()
            && !bar.is_finished()
        {
            bar.finish_and_clear();
        }
    }
}

/// The bar of one transfer, made once it has run for [`QUIET_FOR`].
struct TransferBar {
    multi: MultiProgress,
    label: String,
    /// Whether the finished bar stays on screen.
    keep: bool,
    /// The most bytes reported so far: parallel parts report out of order, and a resumed
    /// part takes back what it fetches again.
    moved: AtomicU64,
    bar: OnceLock<ProgressBar>,
    batch: Option<Arc<BatchBar>>,
}

impl TransferBar {
    /// `bytes` of `total` moved after `elapsed`, as the library reports them.
    fn update(&self, bytes: u64, total: Option<u64>, elapsed: Duration) {
        let before = self.moved.fetch_max(bytes, Ordering::Relaxed);
        if let Some(batch) = &self.batch {
            batch.add_bytes(bytes.saturating_sub(before));
        }
        if self.bar.get().is_none() && elapsed < QUIET_FOR {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let template = if total.is_some() { SIZED } else { UNSIZED };
            let bar = ProgressBar::new(total.unwrap_or(0))
                .with_style(style(template))
                .with_message(self.label.clone())
                .with_elapsed(elapsed);
            self.multi.add(bar)
        });
        if bar.is_finished() {
            return; // a part that reports after the last byte
        }
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(before.max(bytes));
        if total == Some(bytes) {
            if self.keep {
                bar.finish();
            } else {
                bar.finish_and_clear();
            }
        }
    }
}

impl Drop for TransferBar {
    /// A transfer that failed or was cancelled leaves no bar behind.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.get()
            && !bar.is_finished()
        {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        for template in [SIZED, UNSIZED, BATCH] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn bars_follow_the_most_bytes_reported() {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
        let batch = Arc::new(BatchBar {
            multi: multi.clone(),
            started: Instant::now() - QUIET_FOR,
            files: 1,
            bytes: 100,
            files_done: AtomicUsize::new(0),
            moved: AtomicU64::new(0),
            bar: OnceLock::new(),
        });
        let transfer = TransferBar {
            multi,
            label: "a.csv".into(),
            keep: false,
            moved: AtomicU64::new(0),
            bar: OnceLock::new(),
            batch: Some(batch.clone()),
        };
        let at = |bytes, secs| transfer.update(bytes, Some(100), Duration::from_secs(secs));
        at(40, 0);
        assert!(transfer.bar.get().is_none(), "quiet for two seconds");
        at(60, 3);
        // A part that reports late does not move the bars back.
        at(50, 3);
        assert_eq!(transfer.bar.get().map(ProgressBar::position), Some(60));
        assert_eq!(batch.bar.get().map(ProgressBar::position), Some(60));
        at(100, 4);
        assert!(transfer.bar.get().is_some_and(ProgressBar::is_finished));
        assert_eq!(batch.moved.load(Ordering::Relaxed), 100);
    }
}

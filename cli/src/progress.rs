//! Transfer progress on standard error, for people at a terminal: a bar for each transfer
//! that has run for two seconds, and for a folder, one more bar for the whole of it. Quick
//! transfers stay quiet, and nothing is drawn when standard error is not a terminal.
//!
//! A folder's transfers are told apart by the key each progress report names; the same
//! reports tell which local file each key moved from or to.

use std::collections::HashMap;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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
        let Some(multi) = &self.multi else {
            return s3.clone();
        };
        let bar = TransferBar::new(multi, label.into(), true);
        let config = s3
            .transfer_config()
            .clone()
            .on_progress(move |p: Progress| bar.update(p.bytes, p.total, p.elapsed));
        s3.with_transfer(config)
    }

    /// A connector for a batch of `files` transfers of `total` bytes together (`cp -r`,
    /// `mv -r`, `sync`): a bar for each file in flight, labelled with its path below `root`
    /// (or its key), and one for the whole batch.
    pub fn batch(&self, s3: &S3Connector, root: Option<&Path>, files: usize, total: u64) -> Batch {
        let state = Arc::new(BatchState {
            multi: self.multi.clone(),
            root: root.map(Path::to_path_buf),
            files: Mutex::default(),
            whole: self
                .multi
                .as_ref()
                .map(|multi| FolderBar::new(multi, files, total)),
        });
        let follow = state.clone();
        let config = s3
            .transfer_config()
            .clone()
            .on_progress(move |p: Progress| follow.report(p));
        Batch {
            s3: s3.with_transfer(config),
            state,
        }
    }
}

/// A batch of transfers, followed.
pub struct Batch {
    /// The connector to make the transfers with.
    pub s3: S3Connector,
    state: Arc<BatchState>,
}

impl Batch {
    /// Leaves the batch's bar on screen, full, if it was shown: every transfer succeeded.
    pub fn finish(&self) {
        if let Some(whole) = &self.state.whole {
            whole.finish();
        }
    }
}

/// What a batch's progress reports have told so far.
struct BatchState {
    multi: Option<MultiProgress>,
    root: Option<PathBuf>,
    /// Each file reported on, by key.
    files: Mutex<HashMap<String, FileSeen>>,
    whole: Option<FolderBar>,
}

/// A file of a batch: how far it has come, and its bar if bars are drawn.
struct FileSeen {
    bytes: u64,
    done: bool,
    bar: Option<Arc<TransferBar>>,
}

impl BatchState {
    fn report(&self, p: Progress) {
        self.note(&p.key, p.path.as_deref(), p.bytes, p.total, p.elapsed);
    }

    /// `bytes` of `total` of `key` (from or to `path`) moved after `elapsed`.
    fn note(
        &self,
        key: &str,
        path: Option<&Path>,
        bytes: u64,
        total: Option<u64>,
        elapsed: Duration,
    ) {
        let (bar, moved, done) = {
            let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            if !files.contains_key(key) {
                let seen = self.seen(key, path);
                files.insert(key.to_owned(), seen);
            }
            let bar = files.get_mut(key).and_then(|file| {
                file.bytes = file.bytes.max(bytes);
                file.done |= total == Some(bytes);
                file.bar.clone()
            });
            let moved = files.values().map(|f| f.bytes).sum::<u64>();
            let done = files.values().filter(|f| f.done).count();
            (bar, moved, done)
        };
        if let Some(bar) = bar {
            bar.update(bytes, total, elapsed);
        }
        if let Some(whole) = &self.whole {
            whole.update(moved, done);
        }
    }

    /// A file first reported on, with its bar if bars are drawn.
    fn seen(&self, key: &str, path: Option<&Path>) -> FileSeen {
        let bar = self.multi.as_ref().map(|multi| {
            let below = path.map(|p| match &self.root {
                Some(root) => p.strip_prefix(root).unwrap_or(p),
                None => p,
            });
            let label = below.map_or_else(|| key.to_owned(), |p| p.display().to_string());
            Arc::new(TransferBar::new(multi, label, false))
        });
        FileSeen {
            bytes: 0,
            done: false,
            bar,
        }
    }
}

/// The bar of a whole folder, made once the folder has run for [`QUIET_FOR`]. Reports
/// arrive out of order, so it shows the most reported so far.
struct FolderBar {
    multi: MultiProgress,
    started: Instant,
    total: u64,
    files: usize,
    bytes: AtomicU64,
    files_done: AtomicUsize,
    bar: OnceLock<ProgressBar>,
}

impl FolderBar {
    fn new(multi: &MultiProgress, files: usize, total: u64) -> FolderBar {
        FolderBar {
            multi: multi.clone(),
            started: Instant::now(),
            total,
            files,
            bytes: AtomicU64::new(0),
            files_done: AtomicUsize::new(0),
            bar: OnceLock::new(),
        }
    }

    fn update(&self, bytes: u64, files_done: usize) {
        let before = self.bytes.fetch_max(bytes, Ordering::Relaxed);
        let bytes = before.max(bytes);
        let before = self.files_done.fetch_max(files_done, Ordering::Relaxed);
        let done = before.max(files_done);
        if self.bar.get().is_none() && self.started.elapsed() < QUIET_FOR {
            return;
        }
        let message = files_message(done, self.files);
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(self.total)
                .with_style(style(BATCH))
                .with_elapsed(self.started.elapsed())
                .with_position(bytes)
                .with_message(message.clone());
            // Above the files' bars, which come and go.
            self.multi.insert(0, bar)
        });
        bar.set_position(bytes);
        bar.set_message(message);
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.set_message(files_message(self.files, self.files));
            bar.set_position(bar.length().unwrap_or(0));
            bar.finish();
        }
    }
}

impl Drop for FolderBar {
    /// A folder that did not finish (an error follows) leaves no bar behind.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.get()
            && !bar.is_finished()
        {
            bar.finish_and_clear();
        }
    }
}

fn files_message(done: usize, files: usize) -> String {
    format!("{done} of {files} files")
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
}

impl TransferBar {
    fn new(multi: &MultiProgress, label: String, keep: bool) -> TransferBar {
        TransferBar {
            multi: multi.clone(),
            label,
            keep,
            moved: AtomicU64::new(0),
            bar: OnceLock::new(),
        }
    }

    /// `bytes` of `total` moved after `elapsed`, as the library reports them.
    fn update(&self, bytes: u64, total: Option<u64>, elapsed: Duration) {
        let before = self.moved.fetch_max(bytes, Ordering::Relaxed);
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
        let transfer = TransferBar::new(&multi, "a.csv".into(), false);
        let at = |bytes, secs| transfer.update(bytes, Some(100), Duration::from_secs(secs));
        at(40, 0);
        assert!(transfer.bar.get().is_none(), "quiet for two seconds");
        at(60, 3);
        // A part that reports late does not move the bar back.
        at(50, 3);
        assert_eq!(transfer.bar.get().map(ProgressBar::position), Some(60));
        at(100, 4);
        assert!(transfer.bar.get().is_some_and(ProgressBar::is_finished));
    }

    #[test]
    fn a_batch_has_a_bar_per_key_labelled_below_its_root() {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
        let batch = BatchState {
            multi: Some(multi.clone()),
            root: Some(PathBuf::from("/up")),
            files: Mutex::default(),
            whole: Some(FolderBar::new(&multi, 2, 30)),
        };
        let report = |key: &str, path: &str, bytes: u64| {
            let total = Some(bytes.max(10));
            batch.note(key, Some(Path::new(path)), bytes, total, Duration::ZERO);
        };
        report("in/a.csv", "/up/a.csv", 4);
        report("in/sub/b.csv", "/up/sub/b.csv", 20);
        report("in/a.csv", "/up/a.csv", 10);
        let files = batch.files.lock().unwrap();
        let label = files["in/sub/b.csv"].bar.as_ref().map(|b| b.label.clone());
        assert_eq!(label.as_deref(), Some("sub/b.csv"));
        let whole = batch.whole.as_ref().unwrap();
        assert_eq!(whole.bytes.load(Ordering::Relaxed), 30);
        assert_eq!(whole.files_done.load(Ordering::Relaxed), 2);
    }
}

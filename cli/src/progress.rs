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
use s3io::{FolderProgress, Progress, S3Connector};

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

    /// A connector for one folder call (`upload_dir`, `download_dir`) below `root`: a bar
    /// for each file in flight, labelled with its path below `root`, and one for the whole
    /// folder. Bars or not, it notes the local file of each key the library reports on.
    pub fn folder(&self, s3: &S3Connector, root: &Path) -> Folder {
        let state = Arc::new(FolderState {
            multi: self.multi.clone(),
            root: root.to_path_buf(),
            files: Mutex::default(),
            whole: self.multi.as_ref().map(FolderBar::new),
        });
        let follow = state.clone();
        let config = s3
            .transfer_config()
            .clone()
            .on_progress(move |p: Progress| follow.report(p));
        Folder {
            s3: s3.with_transfer(config),
            state,
        }
    }
}

/// One folder call, followed.
pub struct Folder {
    /// The connector to make the call with.
    pub s3: S3Connector,
    state: Arc<FolderState>,
}

impl Folder {
    /// Each key reported on, with its local file.
    pub fn files(&self) -> HashMap<String, PathBuf> {
        self.state.files()
    }

    /// Leaves the folder's bar on screen, full, if it was shown: the call succeeded.
    pub fn finish(&self) {
        if let Some(whole) = &self.state.whole {
            whole.finish();
        }
    }
}

/// What a folder call's reports have told so far.
struct FolderState {
    multi: Option<MultiProgress>,
    root: PathBuf,
    /// Each file reported on, by key.
    files: Mutex<HashMap<String, FileSeen>>,
    whole: Option<FolderBar>,
}

/// A file of a folder call: its local path, and its bar if bars are drawn.
struct FileSeen {
    path: Option<PathBuf>,
    bar: Option<Arc<TransferBar>>,
}

impl FolderState {
    fn report(&self, p: Progress) {
        if let Some(bar) = self.file(&p.key, p.path.as_deref()) {
            bar.update(p.bytes, p.total, p.elapsed);
        }
        if let (Some(whole), Some(all)) = (&self.whole, p.folder) {
            whole.update(&all);
        }
    }

    fn files(&self) -> HashMap<String, PathBuf> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .iter()
            .filter_map(|(key, file)| Some((key.clone(), file.path.clone()?)))
            .collect()
    }

    /// Notes the local file of `key` when it is first reported on; its bar, if bars are
    /// drawn.
    fn file(&self, key: &str, path: Option<&Path>) -> Option<Arc<TransferBar>> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = files.get(key) {
            return file.bar.clone();
        }
        let bar = self.multi.as_ref().map(|multi| {
            let below = path.map(|p| p.strip_prefix(&self.root).unwrap_or(p));
            let label = below.map_or_else(|| key.to_owned(), |p| p.display().to_string());
            Arc::new(TransferBar::new(multi, label, false))
        });
        let path = path.map(Path::to_path_buf);
        files.insert(
            key.to_owned(),
            FileSeen {
                path,
                bar: bar.clone(),
            },
        );
        bar
    }
}

/// The bar of a whole folder, made once the folder has run for [`QUIET_FOR`]. Reports
/// arrive out of order, so it shows the most reported so far.
struct FolderBar {
    multi: MultiProgress,
    started: Instant,
    bytes: AtomicU64,
    files_done: AtomicUsize,
    files: AtomicUsize,
    bar: OnceLock<ProgressBar>,
}

impl FolderBar {
    fn new(multi: &MultiProgress) -> FolderBar {
        FolderBar {
            multi: multi.clone(),
            started: Instant::now(),
            bytes: AtomicU64::new(0),
            files_done: AtomicUsize::new(0),
            files: AtomicUsize::new(0),
            bar: OnceLock::new(),
        }
    }

    fn update(&self, all: &FolderProgress) {
        let before = self.bytes.fetch_max(all.bytes, Ordering::Relaxed);
        let bytes = before.max(all.bytes);
        let before = self.files_done.fetch_max(all.files_done, Ordering::Relaxed);
        let done = before.max(all.files_done);
        self.files.store(all.files, Ordering::Relaxed);
        if self.bar.get().is_none() && self.started.elapsed() < QUIET_FOR {
            return;
        }
        let message = files_message(done, all.files);
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(all.total)
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
            let files = self.files.load(Ordering::Relaxed);
            bar.set_message(files_message(files, files));
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
    fn a_folder_has_a_bar_per_key_labelled_below_its_root() {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
        let folder = FolderState {
            multi: Some(multi),
            root: PathBuf::from("/up"),
            files: Mutex::default(),
            whole: None,
        };
        let a = folder.file("in/a.csv", Some(Path::new("/up/a.csv")));
        let b = folder.file("in/sub/b.csv", Some(Path::new("/up/sub/b.csv")));
        let again = folder.file("in/a.csv", Some(Path::new("/up/a.csv")));
        assert!(matches!((&a, &again), (Some(a), Some(again)) if Arc::ptr_eq(a, again)));
        assert_eq!(b.map(|b| b.label.clone()).as_deref(), Some("sub/b.csv"));
        assert_eq!(
            folder.files().get("in/sub/b.csv").map(PathBuf::as_path),
            Some(Path::new("/up/sub/b.csv"))
        );
    }
}

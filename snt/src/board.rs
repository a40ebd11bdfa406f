//! The durable board: one file per model holding its latest sealed weights.

use fixshare::weights::snt::{Board, check_successor};
use fixshare::weights::{Header, ModelId, Rejection};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Where a test may ask the server to stop dead, to be killed there: after an upload was received
/// and accepted but before it is written (`received`), or after it was written and renamed into
/// place but before it is acknowledged (`stored`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    /// Received, not written.
    Received(u64),
    /// Written, not acknowledged.
    Stored(u64),
}

impl Pause {
    /// Reads `FIXSHARE_SNT_PAUSE` (`received:V` or `stored:V`); `None` if unset or malformed.
    pub fn from_env() -> Option<Pause> {
        let v = std::env::var("FIXSHARE_SNT_PAUSE").ok()?;
        let (at, version) = v.split_once(':')?;
        let version = version.parse().ok()?;
        match at {
            "received" => Some(Pause::Received(version)),
            "stored" => Some(Pause::Stored(version)),
            _ => None,
        }
    }
}

/// Each model's stored header and sealed weights.
type Stored = HashMap<ModelId, (Header, Arc<[u8]>)>;

/// Stored sealed weights per model, durably in a directory: `<model id hex>.sealed` holds the
/// latest version. An upload is written to `<id>.tmp`, fsynced, renamed over the old file, and
/// the directory fsynced, before it is acknowledged: after a crash the file holds the old or the
/// new version, whole. The board never sees a key; it checks public headers only.
pub struct FileBoard {
    dir: PathBuf,
    state: Mutex<Stored>,
    changed: Condvar,
    wait: Duration,
    pause: Option<(Pause, PathBuf)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FileBoard {
    /// Opens (or creates) the board in `dir`: removes unfinished `.tmp` files and loads every
    /// `.sealed` file, checking its header and that it belongs under its name. A file that fails
    /// is an error: the server does not start on a damaged store.
    pub fn open(dir: &Path) -> io::Result<FileBoard> {
        fs::create_dir_all(dir)?;
        let mut state = HashMap::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("tmp") => fs::remove_file(&path)?,
                Some("sealed") => {
                    let bytes = fs::read(&path)?;
                    let header = Header::decode(&bytes).map_err(|e| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("{}: {e}", path.display()),
                        )
                    })?;
                    if path.file_stem().map(|s| s.as_encoded_bytes())
                        != Some(&header.model.hex()[..])
                    {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("{}: holds another model", path.display()),
                        ));
                    }
                    state.insert(header.model, (header, Arc::from(bytes)));
                }
                _ => {}
            }
        }
        Ok(FileBoard {
            dir: dir.to_path_buf(),
            state: Mutex::new(state),
            changed: Condvar::new(),
            wait: Duration::from_millis(500),
            pause: None,
        })
    }

    /// How long a fetch of a version not yet stored waits before answering "not yet".
    pub fn with_wait(mut self, wait: Duration) -> FileBoard {
        self.wait = wait;
        self
    }

    /// Stops dead at `pause` (after creating the file `marker`), for crash tests.
    pub fn with_pause(mut self, pause: Option<Pause>, marker: PathBuf) -> FileBoard {
        self.pause = pause.map(|p| (p, marker));
        self
    }

    /// The file holding `model`'s weights.
    pub fn path(&self, model: &ModelId) -> PathBuf {
        let hex = model.hex();
        self.dir
            .join(format!("{}.sealed", String::from_utf8_lossy(&hex)))
    }

    fn hit(&self, here: Pause) {
        if let Some((p, marker)) = &self.pause
            && *p == here
        {
            let _ = File::create(marker);
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }

    /// Writes `bytes` as `model`'s file: temporary file, fsync, rename, fsync of the directory.
    fn write(&self, model: &ModelId, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(model);
        let tmp = path.with_extension("tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()
    }
}

impl Board for FileBoard {
    type Sealed = Arc<[u8]>;

    fn fetch(&self, model: &ModelId, want: u64) -> Option<(u64, Arc<[u8]>)> {
        let guard = lock(&self.state);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, self.wait, |s| {
                s.get(model).is_none_or(|(h, _)| h.version < want)
            })
            .unwrap_or_else(|e| e.into_inner());
        guard.get(model).map(|(h, b)| (h.version, b.clone()))
    }

    fn current(&self, model: &ModelId) -> Option<u64> {
        lock(&self.state).get(model).map(|(h, _)| h.version)
    }

    fn store(&self, header: &Header, sealed: &[u8]) -> Result<(), (Rejection, Option<u64>)> {
        let mut state = lock(&self.state);
        let cur = state.get(&header.model).map(|(h, _)| *h);
        check_successor(cur.as_ref(), header).map_err(|r| (r, cur.map(|h| h.version)))?;
        self.hit(Pause::Received(header.version));
        if let Err(e) = self.write(&header.model, sealed) {
            eprintln!(
                "fixshare-snt: cannot store {}: {e}",
                self.path(&header.model).display()
            );
            // Nothing changed in memory; the old file is intact (the rename did not happen, or
            // happened whole). The trainer sees a refusal and may retry.
            return Err((Rejection::Malformed, cur.map(|h| h.version)));
        }
        self.hit(Pause::Stored(header.version));
        state.insert(header.model, (*header, Arc::from(sealed)));
        self.changed.notify_all();
        Ok(())
    }
}

//! Child processes of a clone: started with their standard error kept (its end is what an
//! error shows), stopped together when one stage fails.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Stage};

/// How much of a child's standard error an error shows.
const TAIL: usize = 4096;

/// The last [`TAIL`] bytes of `bytes`, from a line start where there is one, as text.
pub(crate) fn tail(bytes: &[u8]) -> String {
    let mut from = bytes.len().saturating_sub(TAIL);
    if from > 0 {
        if let Some(nl) = bytes[from..].iter().position(|&b| b == b'\n') {
            from += nl + 1;
        }
    }
    String::from_utf8_lossy(&bytes[from..])
        .trim_end()
        .to_string()
}

/// A running stage program.
pub(crate) struct Stagehand {
    pub stage: Stage,
    pub child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
    /// We stopped it (because another stage failed): its failure is not the cause.
    pub killed: bool,
    /// It is ssh running the stage on another machine.
    over_ssh: bool,
}

impl Stagehand {
    /// Starts `cmd` with piped standard input or output as asked and its standard error
    /// collected.
    pub fn spawn(
        stage: Stage,
        mut cmd: Command,
        stdin: Stdio,
        stdout: Stdio,
    ) -> Result<Stagehand, Error> {
        let over_ssh = cmd.get_program() == "ssh";
        let mut child = cmd
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::stage_failed(stage, format!("cannot start {:?}: {e}", cmd.get_program()))
            })?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let reader = child.stderr.take().map(|mut pipe| {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut all) = sink.lock() {
                        all.extend_from_slice(&buf[..n]);
                        // Keep the end only: a chatty program must not grow us.
                        if all.len() > 4 * TAIL {
                            let cut = all.len() - 2 * TAIL;
                            all.drain(..cut);
                        }
                    }
                }
            })
        });
        Ok(Stagehand {
            stage,
            child,
            stderr,
            reader,
            status: None,
            killed: false,
            over_ssh,
        })
    }

    /// Waits for the program to end; its status.
    pub fn wait(&mut self) -> Result<ExitStatus, Error> {
        if let Some(s) = self.status {
            return Ok(s);
        }
        let status = self.child.wait().map_err(|e| {
            Error::stage_failed(self.stage, format!("cannot wait for the program: {e}"))
        })?;
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.status = Some(status);
        Ok(status)
    }

    /// Its status if it ended within `limit`, without stopping it.
    pub fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(s) = self.status {
                return Some(s);
            }
            if let Ok(Some(s)) = self.child.try_wait() {
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                self.status = Some(s);
                return Some(s);
            }
            if start.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the program (if it still runs) and waits for it.
    pub fn stop(&mut self) {
        if self.status.is_none() {
            self.killed = true;
            let _ = self.child.kill();
            let _ = self.wait();
        }
    }

    /// The end of its standard error so far.
    pub fn stderr_tail(&self) -> String {
        self.stderr.lock().map(|s| tail(&s)).unwrap_or_default()
    }

    /// The error for its failure with `status`.
    pub fn failed(&self, status: ExitStatus) -> Error {
        // ssh exits with 255 for its own errors, a cut connection among them.
        let why = if self.over_ssh && status.code() == Some(255) {
            " (ssh: the connection to the other machine failed or was cut)"
        } else {
            ""
        };
        Error::Stage {
            stage: self.stage,
            message: format!("{} exited with {status}{why}", self.child_program()),
            stderr: self.stderr_tail(),
        }
    }

    fn child_program(&self) -> String {
        match self.stage {
            Stage::Dump => "the dump command".into(),
            Stage::Restore => "the restore client".into(),
            other => other.to_string(),
        }
    }
}

impl Drop for Stagehand {
    fn drop(&mut self) {
        self.stop();
    }
}

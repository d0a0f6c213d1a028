//! A `framecast receive` child process, as the demo runs its receivers:
//! a client would run it so, and its CPU and memory stay out of the
//! sender's figures. The leaks tracer is fatal in it (exit status
//! [`framecast::FATAL_LEAKS_EXIT_STATUS`] when it leaks); its standard
//! output (the `--json` summary) and standard error are read to the end
//! by threads, so it never blocks on a full pipe.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running receiver.
#[derive(Debug)]
pub struct ReceiverChild {
    child: Child,
    out: JoinHandle<String>,
    err: JoinHandle<String>,
}

/// What a finished receiver said.
#[derive(Debug)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// The last line of its standard output: the `--json` summary.
    pub json: String,
    /// Its standard error.
    pub log: String,
}

fn read_all(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut text);
        }
        text
    })
}

impl ReceiverChild {
    /// Starts `exe receive ARGS`; `what` names it in the error.
    pub fn spawn(exe: &Path, args: &[String], what: &str) -> Result<ReceiverChild, String> {
        let mut child = Command::new(exe)
            .arg("receive")
            .args(args)
            .env("FRAMECAST_TRACERS", "leaks(fatal=true)")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the {what}: {e}"))?;
        let out = read_all(child.stdout.take());
        let err = read_all(child.stderr.take());
        Ok(ReceiverChild { child, out, err })
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for it to end, at most `limit` (then kills it).
    pub fn finish(mut self, limit: Duration) -> Result<Finished, String> {
        let status = wait_bounded(&mut self.child, limit)?;
        let json = self.out.join().unwrap_or_default();
        let json = json.lines().last().unwrap_or_default().to_string();
        let log = self.err.join().unwrap_or_default();
        Ok(Finished { status, json, log })
    }

    /// Kills it (the run failed before it could finish).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` at most `limit`, then kills it.
fn wait_bounded(child: &mut Child, limit: Duration) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait().map_err(|e| e.to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

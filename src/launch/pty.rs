//! Interactive runs in a real pseudo-terminal (portable-pty): amux's terminal goes into raw mode,
//! keystrokes go to the harness and its screen comes back unchanged, window size changes are
//! forwarded, and the terminal is restored however the run ends.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

use super::error::LaunchError;
use super::plan::Plan;

/// The size of amux's own terminal.
fn terminal_size() -> PtySize {
    // SAFETY: TIOCGWINSZ fills a winsize struct we own.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_row > 0 && ws.ws_col > 0 {
        PtySize { rows: ws.ws_row, cols: ws.ws_col, pixel_width: ws.ws_xpixel, pixel_height: ws.ws_ypixel }
    } else {
        PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 }
    }
}

/// Raw mode on stdin while alive; the saved settings are put back on drop.
struct RawMode(Option<libc::termios>);

impl RawMode {
    fn enter() -> RawMode {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with termios structs we own.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                return RawMode(None);
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw) != 0 {
                return RawMode(None);
            }
            RawMode(Some(saved))
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = self.0.take() {
            // SAFETY: restores the settings read in `enter`.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved);
            }
        }
    }
}

fn pty_err(e: impl std::fmt::Display) -> LaunchError {
    LaunchError::io("pseudo-terminal", std::io::Error::other(e.to_string()))
}

pub fn run(
    plan: &Plan,
    program: &Path,
    vars: &BTreeMap<String, String>,
    rt: &tokio::runtime::Runtime,
) -> Result<i32, LaunchError> {
    let pair = native_pty_system().openpty(terminal_size()).map_err(pty_err)?;
    let mut cmd = CommandBuilder::new(program);
    cmd.args(&plan.args);
    cmd.env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    if let Ok(cwd) = std::env::current_dir() {
        cmd.cwd(cwd);
    }
    let signals = {
        let _guard = rt.enter();
        super::signals::Signals::register()
    };
    let child = pair.slave.spawn_command(cmd).map_err(|e| LaunchError::Spawn {
        program: plan.program.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    drop(pair.slave);
    let pid = child.process_id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    let master: Arc<Mutex<Box<dyn MasterPty + Send>>> = Arc::new(Mutex::new(pair.master));
    let (mut reader, mut writer) = {
        let m = master.lock().map_err(|_| pty_err("lock"))?;
        (m.try_clone_reader().map_err(pty_err)?, m.take_writer().map_err(pty_err)?)
    };
    let raw = RawMode::enter();

    let resize_master = master.clone();
    let on_winch: Box<dyn Fn() + Send> = Box::new(move || {
        if let Ok(m) = resize_master.lock() {
            let _ = m.resize(terminal_size());
        }
    });
    let forwarder = rt.spawn(signals.forward(pid, Some(on_winch)));

    // Screen: harness -> our stdout, until the pty closes.
    let output = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut out = std::io::stdout();
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    // Keys: our stdin -> harness. Blocked in read when the harness exits; it ends with amux.
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut input = std::io::stdin();
        loop {
            match input.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if writer.write_all(&buf[..n]).and_then(|_| writer.flush()).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let mut status: libc::c_int = 0;
    // SAFETY: waits for the child we spawned; portable-pty's handle is never waited on.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    forwarder.abort();
    // Let the last of the screen through, without hanging on grandchildren holding the pty.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    while !output.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    drop(raw);
    drop(child);
    if waited != pid {
        return Err(LaunchError::io("waiting for the harness", std::io::Error::last_os_error()));
    }
    Ok(super::signals::exit_code(status))
}

//! Signal forwarding: while the harness runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to amux
//! go to the harness's process group instead of killing amux (which must still clean up), and
//! SIGWINCH resizes the harness's terminal.

/// Exit code for a child that ended with this status: its code, or 128 + the signal.
#[cfg(unix)]
pub fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// Sends `sig` to the process group led by `pid`, falling back to the process itself.
#[cfg(unix)]
pub fn send(pid: i32, sig: i32) {
    // SAFETY: kill(2) with a pid we spawned; no memory is involved.
    unsafe {
        if libc::kill(-pid, sig) != 0 {
            libc::kill(pid, sig);
        }
    }
}

/// Handlers for the signals amux forwards. Registering them (inside the runtime, before the
/// child is spawned) stops those signals from killing amux.
#[cfg(unix)]
pub struct Signals {
    streams: Vec<(tokio::signal::unix::Signal, i32)>,
    winch: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    /// Must be called within the runtime's context.
    pub fn register() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            (SignalKind::interrupt(), libc::SIGINT),
            (SignalKind::terminate(), libc::SIGTERM),
            (SignalKind::hangup(), libc::SIGHUP),
            (SignalKind::quit(), libc::SIGQUIT),
        ];
        let streams = kinds.into_iter().filter_map(|(k, n)| signal(k).ok().map(|s| (s, n))).collect();
        Signals { streams, winch: signal(SignalKind::window_change()).ok() }
    }

    /// Forwards terminating signals to the child's group until the task is aborted; `on_winch`
    /// runs on every SIGWINCH.
    pub async fn forward(mut self, pid: i32, on_winch: Option<Box<dyn Fn() + Send>>) {
        loop {
            let next = futures_util::future::select_all(self.streams.iter_mut().map(|(s, n)| {
                let n = *n;
                Box::pin(async move {
                    s.recv().await;
                    n
                })
            }));
            let winch = async {
                match self.winch.as_mut() {
                    Some(w) => {
                        w.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                (sig, _, _) = next => send(pid, sig),
                _ = winch => {
                    if let Some(f) = &on_winch {
                        f();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn exit_codes() {
        // Encoded as by wait(2): exited with 3; killed by SIGTERM (15).
        assert_eq!(super::exit_code(3 << 8), 3);
        assert_eq!(super::exit_code(15), 143);
    }
}

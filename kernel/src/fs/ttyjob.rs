//! What a terminal knows of job control, shared by the console and the pseudo-terminal
//! slaves: the session it controls, its foreground process group, its window size;
//! the background-access rules (`SIGTTIN`, `SIGTTOU`) and the job-control ioctls.
//! Numbers are kept global and shown in the caller's PID container.

use super::env;
use crate::errno::Errno;
use spin::Mutex;

pub const SIGHUP: u32 = 1;
pub const SIGCONT: u32 = 18;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGWINCH: u32 = 28;
/// `c_lflag` bit: background writers get `SIGTTOU`.
pub const TOSTOP: u32 = 0o400;

pub const TIOCSCTTY: u32 = 0x540E;
pub const TIOCGPGRP: u32 = 0x540F;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCGSID: u32 = 0x5429;

#[derive(Default)]
struct State {
    /// Global number of the session this is the controlling terminal of (0: none).
    session: u32,
    /// Global number of the foreground process group (0: none).
    fg: u32,
    /// `struct winsize` (rows, cols, xpixel, ypixel).
    winsize: [u8; 8],
}

/// The job-control side of one terminal.
pub struct JobTty {
    st: Mutex<State>,
}

impl JobTty {
    pub const fn new() -> Self {
        JobTty {
            st: Mutex::new(State {
                session: 0,
                fg: 0,
                winsize: [0; 8],
            }),
        }
    }

    /// The console starts as the controlling terminal of init's session (24x80).
    pub fn set_initial(&self, session: u32, rows: u16, cols: u16) {
        let mut s = self.st.lock();
        s.session = session;
        s.fg = session;
        s.winsize[0..2].copy_from_slice(&rows.to_le_bytes());
        s.winsize[2..4].copy_from_slice(&cols.to_le_bytes());
    }

    /// Whether this is the controlling terminal of the caller's session.
    pub fn controls_caller(&self) -> bool {
        self.is_callers_ctty()
    }

    /// The foreground group (global), for the signals typed at the keyboard.
    pub fn foreground(&self) -> u32 {
        self.st.lock().fg
    }

    /// Whether the caller belongs to the session this terminal controls but not to its
    /// foreground group.
    fn caller_in_background(&self) -> bool {
        let (_, pgid, sid) = hooks::caller_ids();
        let s = self.st.lock();
        s.session != 0 && s.session == sid && s.fg != pgid
    }

    fn is_callers_ctty(&self) -> bool {
        let (_, _, sid) = hooks::caller_ids();
        let s = self.st.lock().session;
        s != 0 && s == sid
    }

    /// Before a read: a background reader gets `SIGTTIN` (or `EIO`).
    pub fn check_read(&self) -> Result<(), Errno> {
        if self.caller_in_background() {
            return hooks::tty_background(SIGTTIN);
        }
        Ok(())
    }

    /// Before a write: with `TOSTOP`, a background writer gets `SIGTTOU`.
    pub fn check_write(&self, lflag: u32) -> Result<(), Errno> {
        if lflag & TOSTOP != 0 && self.caller_in_background() {
            return hooks::tty_background(SIGTTOU);
        }
        Ok(())
    }

    /// Before a settings change (`TCSETS*`, `TIOCSPGRP`): `SIGTTOU` for the background.
    pub fn check_change(&self) -> Result<(), Errno> {
        if self.caller_in_background() {
            return hooks::tty_background(SIGTTOU);
        }
        Ok(())
    }

    /// The job-control ioctls; `None` for other requests.
    pub fn ioctl(&self, cmd: u32, arg: u64) -> Option<Result<usize, Errno>> {
        let r = match cmd {
            TIOCGWINSZ => {
                let ws = self.st.lock().winsize;
                env::copy_to_user(arg, &ws)
            }
            TIOCSWINSZ => self.set_winsize(arg),
            TIOCGPGRP => self.get_ids(false, arg),
            TIOCGSID => self.get_ids(true, arg),
            TIOCSPGRP => self.set_pgrp(arg),
            TIOCSCTTY => self.set_ctty(),
            TIOCNOTTY => self.no_ctty(),
            _ => return None,
        };
        Some(r.map(|_| 0))
    }

    fn set_winsize(&self, arg: u64) -> Result<(), Errno> {
        let mut ws = [0u8; 8];
        env::copy_from_user(arg, &mut ws)?;
        let fg = {
            let mut s = self.st.lock();
            if s.winsize == ws {
                return Ok(());
            }
            s.winsize = ws;
            s.fg
        };
        hooks::signal_group(fg, SIGWINCH);
        Ok(())
    }

    fn get_ids(&self, session: bool, arg: u64) -> Result<(), Errno> {
        if !self.is_callers_ctty() {
            return Err(Errno::ENOTTY);
        }
        let s = self.st.lock();
        let g = if session { s.session } else { s.fg };
        drop(s);
        env::copy_to_user(arg, &hooks::view_of(g).to_le_bytes())
    }

    fn set_pgrp(&self, arg: u64) -> Result<(), Errno> {
        let mut b = [0u8; 4];
        env::copy_from_user(arg, &mut b)?;
        let pgid = i32::from_le_bytes(b);
        if !self.is_callers_ctty() {
            return Err(Errno::ENOTTY);
        }
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        self.check_change()?;
        let (_, _, sid) = hooks::caller_ids();
        let g = hooks::group_in_session(pgid as u32, sid).ok_or(Errno::EPERM)?;
        self.st.lock().fg = g;
        Ok(())
    }

    fn set_ctty(&self) -> Result<(), Errno> {
        let (pid, pgid, sid) = hooks::caller_ids();
        let mut s = self.st.lock();
        if pid != sid {
            return Err(Errno::EPERM);
        }
        if s.session == sid {
            return Ok(());
        }
        if s.session != 0 {
            // Not a session leader, or the terminal already controls another session
            // (stealing it, arg 1 with CAP_SYS_ADMIN, is not supported).
            return Err(Errno::EPERM);
        }
        s.session = sid;
        s.fg = pgid;
        Ok(())
    }

    fn no_ctty(&self) -> Result<(), Errno> {
        if !self.is_callers_ctty() {
            return Err(Errno::ENOTTY);
        }
        let (pid, _, sid) = hooks::caller_ids();
        if pid == sid {
            // The session leader gives it up: the foreground group gets SIGHUP, SIGCONT.
            let fg = {
                let mut s = self.st.lock();
                let fg = s.fg;
                s.session = 0;
                s.fg = 0;
                fg
            };
            hooks::signal_group(fg, SIGHUP);
            hooks::signal_group(fg, SIGCONT);
        }
        Ok(())
    }

    /// Session `sid`'s leader exited: if this terminal controls it, it is hung up
    /// (`SIGHUP` and `SIGCONT` to the foreground group) and controls nothing.
    pub fn session_ended(&self, sid: u32) {
        if sid != 0 && self.st.lock().session == sid {
            self.hangup();
        }
    }

    /// The terminal's other side went away (pty master closed): hang up its session.
    pub fn hangup(&self) {
        let fg = {
            let mut s = self.st.lock();
            let fg = s.fg;
            s.session = 0;
            s.fg = 0;
            fg
        };
        hooks::signal_group(fg, SIGHUP);
        hooks::signal_group(fg, SIGCONT);
    }
}

impl Default for JobTty {
    fn default() -> Self {
        JobTty::new()
    }
}

#[cfg(target_os = "none")]
pub mod hooks {
    pub use crate::task::jobctl::{
        caller_ids, group_in_session, signal_group, tty_background, view_of,
    };
}

/// Host stand-ins: one process, pid 1, its own session and group.
#[cfg(not(target_os = "none"))]
pub mod hooks {
    use crate::errno::Errno;
    pub fn caller_ids() -> (u32, u32, u32) {
        (1, 1, 1)
    }
    pub fn signal_group(_pgid: u32, _sig: u32) {}
    pub fn tty_background(_sig: u32) -> Result<(), Errno> {
        Err(Errno::EIO)
    }
    pub fn group_in_session(view: u32, sid: u32) -> Option<u32> {
        (view == 1 && sid == 1).then_some(1)
    }
    pub fn view_of(g: u32) -> u32 {
        g
    }
}

//! Ports on 127.0.0.1 for the throwaway servers of one test process.
//!
//! A port is found by binding port 0 and reading what the kernel chose; a server started
//! later binds it again. In between, another test's server could be given the same port by
//! the kernel. Every port handed out here is remembered, so no two servers of the process
//! are ever given the same one, even after one is stopped.

use std::collections::BTreeSet;
use std::io;
use std::net::TcpListener;
use std::sync::Mutex;

static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A listener on a port no other caller in this process has been given: hold it until the
/// server that is to use the port starts.
pub fn hold() -> io::Result<TcpListener> {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if given.insert(port) {
            return Ok(listener);
        }
    }
}

/// A port no other caller in this process has been given, free when it was chosen.
pub fn free() -> io::Result<u16> {
    Ok(hold()?.local_addr()?.port())
}

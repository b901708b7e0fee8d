//! A TCP proxy in front of PostgreSQL that a test can take down and bring back, to give the
//! console a real outage: while down, every open connection is cut and new ones are accepted
//! and closed at once (the client sees the connection drop, as when a server goes away).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Where the real server listens.
#[derive(Clone, Debug)]
pub enum Upstream {
    Unix(PathBuf),
    Tcp(String, u16),
}

trait Stream: Read + Write + Send {
    fn clone_box(&self) -> std::io::Result<Box<dyn Stream>>;
    fn close(&self);
}

impl Stream for TcpStream {
    fn clone_box(&self) -> std::io::Result<Box<dyn Stream>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn close(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

impl Stream for UnixStream {
    fn clone_box(&self) -> std::io::Result<Box<dyn Stream>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn close(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

struct State {
    up: AtomicBool,
    stopped: AtomicBool,
    /// Both ends of every forwarded connection, to cut them.
    open: Mutex<Vec<Box<dyn Stream>>>,
}

pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
}

fn pipe(mut from: Box<dyn Stream>, to: Box<dyn Stream>) {
    let mut to = to;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    from.close();
    to.close();
}

impl Proxy {
    pub fn start(upstream: Upstream) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let state = Arc::new(State {
            up: AtomicBool::new(true),
            stopped: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if st.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if !st.up.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let server: std::io::Result<Box<dyn Stream>> = match &upstream {
                    Upstream::Unix(path) => UnixStream::connect(path).map(|s| Box::new(s) as _),
                    Upstream::Tcp(host, port) => {
                        TcpStream::connect((host.as_str(), *port)).map(|s| Box::new(s) as _)
                    }
                };
                let Ok(server) = server else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let client: Box<dyn Stream> = Box::new(client);
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                    client.clone_box(),
                    server.clone_box(),
                    client.clone_box(),
                    server.clone_box(),
                ) else {
                    continue;
                };
                if let Ok(mut open) = st.open.lock() {
                    open.push(c3);
                    open.push(s3);
                }
                std::thread::spawn(move || pipe(client, s2));
                std::thread::spawn(move || pipe(server, c2));
            }
        });
        Self { port, state }
    }

    /// The server "goes away": open connections are cut, new ones dropped at once.
    pub fn down(&self) {
        self.state.up.store(false, Ordering::SeqCst);
        if let Ok(mut open) = self.state.open.lock() {
            for s in open.drain(..) {
                s.close();
            }
        }
    }

    /// The server is back.
    pub fn up(&self) {
        self.state.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
        self.state.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the stop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

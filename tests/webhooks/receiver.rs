//! A real HTTP/1.1 receiver on 127.0.0.1 (tokio, no mocking library): keeps every request it
//! reads, with the time it arrived, and answers as the test's plan says.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub at: Instant,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Answer {
    Status(u16),
    /// A status with extra headers.
    With(u16, Vec<(String, String)>),
    /// Wait, then answer with the status.
    After(Duration, u16),
    /// Never answer (until the client gives up).
    Hang,
}

/// Answers the `n`-th request (0-based, counted over the whole server).
pub type Plan = Arc<dyn Fn(usize, &Request) -> Answer + Send + Sync>;

pub struct Receiver {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    pub async fn start(plan: Plan) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let keep = requests.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, plan.clone(), keep.clone()));
            }
        });
        Self { addr, requests }
    }

    /// Always answers this status.
    pub async fn answering(status: u16) -> Self {
        Self::start(Arc::new(move |_, _| Answer::Status(status))).await
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

async fn serve(mut sock: TcpStream, plan: Plan, requests: Arc<Mutex<Vec<Request>>>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // The head, up to the blank line.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut headers = HashMap::new();
        for line in head.lines().skip(1) {
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 8192];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let req = Request {
            at: Instant::now(),
            headers,
            body,
        };
        let n = {
            let mut all = requests.lock().unwrap();
            all.push(req.clone());
            all.len() - 1
        };
        let (status, extra) = match plan(n, &req) {
            Answer::Status(s) => (s, Vec::new()),
            Answer::With(s, h) => (s, h),
            Answer::After(d, s) => {
                tokio::time::sleep(d).await;
                (s, Vec::new())
            }
            Answer::Hang => {
                // Hold the connection until the client hangs up.
                let mut sink = [0u8; 1024];
                while let Ok(n) = sock.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
                return;
            }
        };
        let mut resp = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n");
        for (k, v) in extra {
            resp.push_str(&format!("{k}: {v}\r\n"));
        }
        resp.push_str("\r\n");
        if sock.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}

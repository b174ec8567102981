//! A tiny HTTP/1.1 server on loopback for the tests: keep-alive, `Content-Length` request
//! bodies, scripted replies, counters of connections and requests, optionally over TLS
//! with a fresh self-signed certificate.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::task::AbortHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// One request as the server read it (header names lower-case).
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Seen {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
pub(super) enum Reply {
    /// A complete response with `Content-Length`.
    Full(u16, Vec<(String, String)>, Vec<u8>),
    /// 200, chunked, no `Content-Length`: `total` bytes in 8 KiB chunks.
    Chunked(usize),
    /// Never answers.
    Stall,
    /// 200 announcing 1000 bytes, then one byte every 100 ms.
    Trickle,
}

impl Reply {
    pub(super) fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full(200, Vec::new(), body.into())
    }

    pub(super) fn redirect(status: u16, location: &str) -> Reply {
        let headers = vec![("location".to_string(), location.to_string())];
        Reply::Full(status, headers, b"moved".to_vec())
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A running server; stops accepting when dropped.
pub(super) struct Server {
    pub(super) port: u16,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    accept: AbortHandle,
}

/// The runtime the test servers run on (not the client's).
fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

impl Server {
    /// Starts a server on `127.0.0.1` answering with `handler`.
    pub(super) fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_on("127.0.0.1:0".parse().unwrap(), handler)
    }

    pub(super) fn start_on(
        addr: SocketAddr,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::spawn(addr, None, Arc::new(handler))
    }

    /// Starts an https server on `127.0.0.1` with a new self-signed certificate for
    /// `127.0.0.1` and `localhost`; returns it with the certificate (DER).
    pub(super) fn start_tls(
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> (Server, Vec<u8>) {
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let key = rcgen::generate_simple_self_signed(names).unwrap();
        let cert = key.cert.der().clone();
        let pkcs8 = rustls::pki_types::PrivatePkcs8KeyDer::from(key.signing_key.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], pkcs8.into())
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let addr = "127.0.0.1:0".parse().unwrap();
        (
            Server::spawn(addr, Some(acceptor), Arc::new(handler)),
            cert.to_vec(),
        )
    }

    fn spawn(addr: SocketAddr, tls: Option<TlsAcceptor>, handler: Handler) -> Server {
        let listener = runtime().block_on(TcpListener::bind(addr)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (c, s) = (connections.clone(), seen.clone());
        let accept = runtime().spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (handler, s) = (handler.clone(), s.clone());
                match tls.clone() {
                    None => drop(tokio::spawn(serve(stream, handler, s))),
                    Some(tls) => drop(tokio::spawn(async move {
                        if let Ok(stream) = tls.accept(stream).await {
                            serve(stream, handler, s).await;
                        }
                    })),
                }
            }
        });
        Server {
            port,
            connections,
            seen,
            accept: accept.abort_handle(),
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub(super) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(super) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub(super) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: Handler,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf).await {
        seen.lock().unwrap().push(request.clone());
        if write_reply(&mut stream, handler(&request)).await.is_err() {
            return;
        }
    }
}

/// Reads one request from `stream`, keeping extra bytes in `buf`. `None` at EOF or on
/// anything unexpected.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<Seen> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut start = lines.next()?.split(' ');
    let (method, target) = (start.next()?.to_string(), start.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..len).collect();
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

async fn write_reply<S: AsyncWrite + Unpin>(stream: &mut S, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Full(status, headers, body) => {
            let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
            for (n, v) in headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str("\r\n");
            stream.write_all(out.as_bytes()).await?;
            stream.write_all(&body).await
        }
        Reply::Chunked(total) => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            let mut left = total;
            while left > 0 {
                let n = left.min(8192);
                stream.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                stream.write_all(&vec![b'x'; n]).await?;
                stream.write_all(b"\r\n").await?;
                left -= n;
            }
            stream.write_all(b"0\r\n\r\n").await
        }
        Reply::Stall => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Err(std::io::ErrorKind::TimedOut.into())
        }
        Reply::Trickle => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
                .await?;
            for _ in 0..1000 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                stream.write_all(b"x").await?;
            }
            Ok(())
        }
    }
}

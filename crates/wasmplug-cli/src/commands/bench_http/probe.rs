//! One request before the load: the server must answer 200, and its body is what the bare
//! handler returns. HTTP/1.0 with `Connection: close`, so the body is delimited by the close
//! (no chunked encoding to decode).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::Post;

/// The body of a 200 answer to `GET path`, or to the benchmark's `post`.
pub async fn answer(addr: SocketAddr, path: &str, post: Option<Post>) -> anyhow::Result<Vec<u8>> {
    tokio::time::timeout(Duration::from_secs(10), request(addr, path, post))
        .await
        .with_context(|| format!("no answer from http://{addr}{path} within 10 s"))?
}

async fn request(addr: SocketAddr, path: &str, post: Option<Post>) -> anyhow::Result<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = match post {
        Some(Post { body, envelope }) => format!(
            "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            if envelope {
                "X-Wasmplug-Envelope: 1\r\n"
            } else {
                ""
            },
            body.len()
        ),
        None => format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    };
    stream.write_all(head.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("the answer has no header end")?;
    let status_line = String::from_utf8_lossy(&response[..split]);
    let status_line = status_line.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) != Some("200") {
        bail!(
            "http://{addr}{path} answered `{status_line}`: {}",
            String::from_utf8_lossy(&response[split + 4..])
        );
    }
    Ok(response[split + 4..].to_vec())
}

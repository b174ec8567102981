//! The servers start on their own ports, answer, stop, restart on the same port, and are
//! gone after drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use wasmplug_testkit::{OciRegistry, RedisServer};

fn ping(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"PING\r\n").ok()?;
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn redis_starts_stops_and_restarts_on_the_same_port() {
    let mut a = RedisServer::start();
    let b = RedisServer::start();
    assert_ne!(a.port(), b.port());
    assert_eq!(ping(a.port()).as_deref(), Some("+PONG\r\n"));
    assert!(a.url().starts_with("redis://127.0.0.1:"));
    let pid = a.process().unwrap().pid();
    a.stop();
    assert!(ping(a.port()).is_none(), "stopped server still answers");
    assert!(!alive(pid), "redis-server {pid} survived stop");
    a.restart();
    assert_eq!(ping(a.port()).as_deref(), Some("+PONG\r\n"));
    let pid = a.process().unwrap().pid();
    drop(a);
    assert!(!alive(pid), "redis-server {pid} survived drop");
    assert_eq!(ping(b.port()).as_deref(), Some("+PONG\r\n"));
}

#[test]
fn redis_kill_is_a_crash_and_restart_recovers() {
    let mut server = RedisServer::start();
    let pid = server.process().unwrap().pid();
    server.process().unwrap().kill();
    assert!(!alive(pid));
    assert!(ping(server.port()).is_none());
    server.restart();
    assert_eq!(ping(server.port()).as_deref(), Some("+PONG\r\n"));
}

#[test]
fn registry_answers_the_distribution_api_and_stops() {
    let mut registry = OciRegistry::start();
    let mut s = TcpStream::connect(("127.0.0.1", registry.port())).unwrap();
    write!(
        s,
        "GET /v2/_catalog HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        registry.host()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"repositories\":[]"), "{reply}");
    assert!(registry.blob_path("sha256:abcd").ends_with("ab/abcd/data"));
    let pid = registry.process().unwrap().pid();
    registry.stop();
    assert!(!alive(pid));
    assert!(TcpStream::connect(("127.0.0.1", registry.port())).is_err());
}

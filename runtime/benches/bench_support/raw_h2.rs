//! A load generator that measures the server, not itself: unary gRPC calls
//! as pre-encoded HTTP/2 frames, many per write, over a few connections.
//!
//! Each client is one pre-encoded request message sent every `interval`,
//! its phase spread evenly, as independent clients would be. Headers are
//! encoded as a real client's HPACK would: the first request of a
//! connection adds them to the server's dynamic table, every later one
//! names them by index (6 bytes), so two encodings serve every request.
//! Answers are read without decoding headers: a call that
//! got a DATA frame before its end of stream succeeded; one that ended on
//! headers alone (a trailers-only error) or was reset was refused.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
/// Requests are sent in slots of this length.
const SLOT: Duration = Duration::from_millis(5);
/// At most this many bytes wait to be sent on one connection.
const MAX_PENDING: usize = 1 << 20;

/// What a run measured, over its measuring period only.
#[derive(Debug, Default)]
pub struct Report {
    /// Calls answered with a message.
    pub ok: u64,
    /// Calls answered with an error, or reset.
    pub refused: u64,
    /// The longest time any client went between two answered calls.
    pub max_gap: Duration,
    /// Every answered call's round trip, in ms.
    pub latencies_ms: Vec<f64>,
    /// Connections the server closed.
    pub closed: u64,
    /// Calls not sent because the server had not taken the earlier ones.
    pub unsent: u64,
}

/// `messages` (one per client, the request's protobuf bytes) to `path`,
/// each every `interval`, over `connections` connections to `addr`; measures
/// from `settle` after the start for `measure`.
pub async fn run(
    addr: String,
    path: &'static str,
    messages: Vec<Vec<u8>>,
    connections: usize,
    interval: Duration,
    settle: Duration,
    measure: Duration,
) -> Report {
    let start = Instant::now();
    let window = (start + settle, start + settle + measure);
    let clients = messages.len().max(1);
    let mut per_conn: Vec<Vec<(usize, Vec<u8>)>> = vec![Vec::new(); connections];
    for (i, m) in messages.into_iter().enumerate() {
        per_conn[i % connections].push((i, m));
    }
    let mut tasks = Vec::new();
    for clients_here in per_conn {
        let stream = TcpStream::connect(&addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let head = header_blocks(&addr, path);
        let conn = Connection::new(stream, head, clients_here, clients, interval, window);
        tasks.push(tokio::spawn(conn.drive()));
    }
    let mut report = Report::default();
    for t in tasks {
        let (r, closed) = t.await.expect("connection task");
        report.closed += u64::from(closed);
        report.ok += r.ok;
        report.refused += r.refused;
        report.max_gap = report.max_gap.max(r.max_gap);
        report.unsent += r.unsent;
        report.latencies_ms.extend(r.latencies_ms);
    }
    report
}

/// A gRPC request's headers: the first block of a connection, which adds
/// each field to the server's HPACK table, and every later one, which
/// names them by index.
fn header_blocks(authority: &str, path: &str) -> (Vec<u8>, Vec<u8>) {
    // Static table: 3 is `:method: POST`, 6 is `:scheme: http`.
    let (mut first, mut next) = (vec![0x83, 0x86], vec![0x83, 0x86]);
    let fields = [
        (":path", path),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ];
    for (name, value) in fields {
        first.push(0x40); // literal with incremental indexing, new name
        for s in [name, value] {
            assert!(s.len() < 127, "one-byte HPACK lengths only");
            first.push(s.len() as u8);
            first.extend_from_slice(s.as_bytes());
        }
    }
    // The dynamic table's newest entry is 62: the fields in reverse.
    for i in (0..fields.len()).rev() {
        next.push(0x80 | (62 + i) as u8);
    }
    (first, next)
}

fn frame_header(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
}

struct Client {
    message: Vec<u8>,
    last_ok: Option<Instant>,
}

struct Connection {
    stream: Option<TcpStream>,
    /// The first request's header block, and every later one's.
    head: (Vec<u8>, Vec<u8>),
    /// Clients by slot within the interval.
    slots: Vec<Vec<usize>>,
    clients: Vec<Client>,
    next_stream: u32,
    /// Open streams: client index and when the request went.
    open: HashMap<u32, (usize, Instant, bool)>,
    window: (Instant, Instant),
    report: Report,
}

impl Connection {
    fn new(
        stream: TcpStream,
        head: (Vec<u8>, Vec<u8>),
        mine: Vec<(usize, Vec<u8>)>,
        all: usize,
        interval: Duration,
        window: (Instant, Instant),
    ) -> Self {
        let n_slots = (interval.as_micros() / SLOT.as_micros()).max(1) as usize;
        let mut slots = vec![Vec::new(); n_slots];
        let mut clients = Vec::new();
        for (local, (global, message)) in mine.into_iter().enumerate() {
            slots[global * n_slots / all].push(local);
            clients.push(Client {
                message,
                last_ok: None,
            });
        }
        Self {
            stream: Some(stream),
            head,
            slots,
            clients,
            next_stream: 1,
            open: HashMap::new(),
            window,
            report: Report::default(),
        }
    }

    /// Sends on schedule and reads answers, never blocking one on the
    /// other: a server that falls behind gets its answers read, and the
    /// requests it has not taken wait here (up to [`MAX_PENDING`] bytes;
    /// beyond, they are not sent, and counted).
    async fn drive(mut self) -> (Report, bool) {
        let closed = self.pump().await.is_err();
        (self.report, closed)
    }

    async fn pump(&mut self) -> std::io::Result<()> {
        let stream = self.stream.take().expect("a connection drives once");
        let mut pending = PREFACE.to_vec();
        // The server may send as much as it likes: no flow control to tend.
        frame_header(&mut pending, 6, SETTINGS, 0, 0);
        pending.extend_from_slice(&[0, 4]);
        pending.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
        frame_header(&mut pending, 4, 8, 0, 0);
        pending.extend_from_slice(&(0x7fff_ffffu32 - 65_535).to_be_bytes());
        let mut tick = tokio::time::interval(SLOT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut slot = 0;
        let mut buf = Vec::with_capacity(64 << 10);
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if Instant::now() >= self.window.1 {
                        return Ok(());
                    }
                    for i in 0..self.slots[slot].len() {
                        if pending.len() > MAX_PENDING {
                            self.report.unsent += 1;
                            continue;
                        }
                        self.request(self.slots[slot][i], &mut pending);
                    }
                    slot = (slot + 1) % self.slots.len();
                }
                ready = stream.readable() => {
                    ready?;
                    match stream.try_read(&mut chunk) {
                        Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => {
                            buf.extend_from_slice(&chunk[..n]);
                            let used = self.frames(&buf, &mut pending)?;
                            buf.drain(..used);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
                ready = stream.writable(), if !pending.is_empty() => {
                    ready?;
                    match stream.try_write(&pending) {
                        Ok(n) => { pending.drain(..n); }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    fn request(&mut self, c: usize, out: &mut Vec<u8>) {
        let id = self.next_stream;
        self.next_stream += 2;
        let head = if id == 1 { &self.head.0 } else { &self.head.1 };
        frame_header(out, head.len(), HEADERS, END_HEADERS, id);
        out.extend_from_slice(head);
        let m = &self.clients[c].message;
        frame_header(out, 5 + m.len(), DATA, END_STREAM, id);
        out.push(0);
        out.extend_from_slice(&(m.len() as u32).to_be_bytes());
        out.extend_from_slice(m);
        self.open.insert(id, (c, Instant::now(), false));
    }

    /// Handles every whole frame in `buf`; answers how many bytes it used.
    fn frames(&mut self, buf: &[u8], out: &mut Vec<u8>) -> std::io::Result<usize> {
        let mut at = 0;
        while buf.len() - at >= 9 {
            let h = &buf[at..at + 9];
            let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
            if buf.len() - at - 9 < len {
                break;
            }
            let (kind, flags) = (h[3], h[4]);
            let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
            let payload = &buf[at + 9..at + 9 + len];
            match kind {
                DATA => {
                    if let Some(s) = self.open.get_mut(&stream) {
                        s.2 = true;
                    }
                }
                HEADERS if flags & END_STREAM != 0 => self.finish(stream, true),
                RST_STREAM => self.finish(stream, false),
                SETTINGS if flags & ACK == 0 => frame_header(out, 0, SETTINGS, ACK, 0),
                PING if flags & ACK == 0 => {
                    frame_header(out, 8, PING, ACK, 0);
                    out.extend_from_slice(payload);
                }
                GOAWAY => return Err(std::io::ErrorKind::ConnectionAborted.into()),
                _ => {}
            }
            at += 9 + len;
        }
        Ok(at)
    }

    fn finish(&mut self, stream: u32, ended: bool) {
        let Some((c, sent, got_data)) = self.open.remove(&stream) else {
            return;
        };
        let now = Instant::now();
        let measuring = now >= self.window.0 && now < self.window.1;
        let ok = ended && got_data;
        if ok {
            let client = &mut self.clients[c];
            if measuring && let Some(last) = client.last_ok {
                self.report.max_gap = self.report.max_gap.max(now - last);
            }
            client.last_ok = Some(now);
        }
        if measuring {
            if ok {
                self.report.ok += 1;
                self.report
                    .latencies_ms
                    .push((now - sent).as_secs_f64() * 1e3);
            } else {
                self.report.refused += 1;
            }
        }
    }
}

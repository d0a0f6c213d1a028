//! What goes in and out of a [`JitterBuffer`](super::JitterBuffer): a
//! packet's header fields, the settings, what `insert` and `pop` answer,
//! and the counters.

use std::time::{Duration, Instant};

/// What the jitter buffer needs of a packet's RTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// Sequence number.
    pub seq: u16,
    /// Synchronization source.
    pub ssrc: u32,
    /// RTP timestamp.
    pub rtp_ts: u32,
}

/// Settings of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy)]
pub struct JitterConfig {
    /// Ask for missing packets ([`JitterBuffer::nack_requests`]): each
    /// gap's sequence numbers are requested at once, then again every
    /// `nack_retry` while the wait lasts, at most `nack_max` times.
    pub nack: bool,
    /// How long a missing packet is given to arrive reordered before it
    /// is asked for (a request sooner would bring a copy of a packet that
    /// was only late).
    pub nack_delay: Duration,
    /// Time between two requests for the same packet (about an RTT).
    pub nack_retry: Duration,
    /// Requests per missing packet.
    pub nack_max: u8,
    /// Longest wait for a missing packet.
    pub latency: Duration,
    /// How long the first packet waits for earlier ones (capped at
    /// `latency`).
    pub startup: Duration,
    /// How long the followed source must be silent before a confirmed
    /// candidate of another SSRC replaces it.
    pub switch_after: Duration,
    /// Packets the window holds; rounded up to a power of two.
    pub capacity: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            nack: false,
            nack_delay: Duration::from_millis(10),
            nack_retry: Duration::from_millis(15),
            nack_max: 3,
            latency: Duration::from_millis(50),
            startup: Duration::from_millis(20),
            switch_after: Duration::from_millis(250),
            capacity: 2048,
        }
    }
}

/// What [`JitterBuffer::insert`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// Held in the window, to go out in order.
    Held,
    /// Its slot was already given up or pushed: dropped.
    Late,
    /// Already held: dropped.
    Duplicate,
    /// From another source or far outside the window: set aside on
    /// probation.
    Stray,
    /// It confirmed a restart: the candidate source is now followed.
    Restart,
}

/// What [`JitterBuffer::pop`] has for the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Popped<T> {
    /// The next packet in order.
    Packet {
        /// The caller's packet.
        item: T,
        /// Its header fields.
        info: PacketInfo,
        /// Packets are missing just before this one (lost, or a restart).
        discont: bool,
    },
    /// Nothing is due before this instant (a gap or the start-up window).
    WaitUntil(Instant),
    /// Nothing is held.
    Empty,
}

/// The counters of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets handed out.
    pub pushed: u64,
    /// Sequence numbers given up in the followed stream.
    pub lost: u64,
    /// Packets that came after their slot was given up or pushed.
    pub late: u64,
    /// Packets received twice.
    pub duplicates: u64,
    /// Packets of other sources, or far outside the window, dropped.
    pub stray: u64,
    /// Restarted senders adopted.
    pub restarts: u64,
    /// Retransmission requests made (one per sequence number and try).
    pub nacks: u64,
}

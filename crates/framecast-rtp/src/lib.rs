//! RTP (being written).

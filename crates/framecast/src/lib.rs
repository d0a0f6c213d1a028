//! framecast: get video frames out of a program and onto the network.
//!
//! This facade re-exports [`framecast_core`] (memory, buffers, pools, tracing);
//! the pipeline engine and elements live here.

pub use framecast_core::*;

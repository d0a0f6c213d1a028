//! RTSP elements (framecast-rtsp's sessions in a pipeline).

pub mod rtspclientsink;
pub mod rtspsrc;

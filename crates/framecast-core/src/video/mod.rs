//! Video formats and plane arithmetic (being written).

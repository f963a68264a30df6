//! Shared bits of the runnable examples (see examples/*.rs).

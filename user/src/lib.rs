//! Ring-3 runtime for Bulkhead's user programs (placeholder, grows with the suites).
#![cfg_attr(target_os = "none", no_std)]

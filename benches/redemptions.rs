//! Redemption benchmarks (issue 5): work in progress.

fn main() {}

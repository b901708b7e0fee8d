//! Unit tests of [`super`], in a file of their own to keep the module short.

use super::*;

#[test]
fn report_counts_and_percentiles() {
    let mut r = Report::new();
    for ms in 1..=100u64 {
        let o = if ms <= 50 {
            Outcome::Redeemed
        } else {
            Outcome::CapReached
        };
        r.record(o, Duration::from_millis(ms), None);
    }
    r.elapsed = Duration::from_secs(2);
    assert_eq!(r.count(Outcome::Redeemed), 50);
    assert_eq!(r.count(Outcome::CapReached), 50);
    assert_eq!(r.attempts(), 100);
    assert!((r.throughput() - 50.0).abs() < 1e-9);
    assert!((r.latency_ms(0.5) - 50.0).abs() < 0.1);
    assert!((r.latency_ms(0.99) - 99.0).abs() < 0.1);
    let table = outcome_table(&r);
    assert!(table.contains("  redeemed          50\n"), "{table}");
    assert!(table.contains("  error              0\n"), "{table}");
}

#[test]
fn the_first_error_is_kept() {
    let mut r = Report::new();
    r.record(Outcome::Error, Duration::from_millis(1), Some("one".into()));
    r.record(Outcome::Error, Duration::from_millis(1), Some("two".into()));
    assert_eq!(r.first_error.as_deref(), Some("one"));
}

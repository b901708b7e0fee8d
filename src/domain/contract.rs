//! Contracts (seed 002 §13) and benefit fulfilment (seed 002 §18): the status machines, and
//! the canonical JSON of a contract's snapshot with its SHA-256 hash.

use super::deal::text_enum;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

text_enum!(
    /// `draft → pending_signature → signed → completed | cancelled | disputed`.
    ContractStatus {
        Draft => "draft",
        PendingSignature => "pending_signature",
        Signed => "signed",
        Completed => "completed",
        Cancelled => "cancelled",
        Disputed => "disputed",
    }
);

impl ContractStatus {
    /// The allowed moves: the first signature makes a draft `pending_signature`, the second
    /// `signed`; a signed contract is completed, cancelled or disputed; an unsigned one may be
    /// cancelled. `completed`, `cancelled` and `disputed` are final.
    pub fn check_transition(self, to: ContractStatus) -> Result<(), String> {
        use ContractStatus::*;
        match (self, to) {
            (Draft, PendingSignature)
            | (PendingSignature, Signed)
            | (Signed, Completed | Cancelled | Disputed)
            | (Draft | PendingSignature, Cancelled) => Ok(()),
            (a, _) if matches!(a, Completed | Cancelled | Disputed) => {
                Err(format!("the contract is {a}, which is final"))
            }
            (a, b) if a == b => Err(format!("the contract is already {a}")),
            (_, Signed | PendingSignature) => {
                Err("a contract becomes signed when both sides have signed".into())
            }
            (a, b) => Err(format!("{a} → {b} is not allowed")),
        }
    }
}

text_enum!(
    /// A contracted benefit: `pending`, then `delivered` (with evidence) or `missed` (with a reason).
    BenefitStatus { Pending => "pending", Delivered => "delivered", Missed => "missed" }
);

impl BenefitStatus {
    pub fn check_transition(self, to: BenefitStatus) -> Result<(), String> {
        match (self, to) {
            (BenefitStatus::Pending, BenefitStatus::Delivered | BenefitStatus::Missed) => Ok(()),
            (a, b) if a == b => Err(format!("the benefit is already {a}")),
            (_, BenefitStatus::Pending) => Err("a benefit never goes back to pending".into()),
            (a, _) => Err(format!("the benefit is {a}, which is final")),
        }
    }
}

/// Canonical JSON: object keys sorted, no whitespace, numbers and strings as serde_json
/// writes them. The same value always gives the same bytes.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The SHA-256 of the canonical JSON, lowercase hex.
pub fn snapshot_hash(v: &Value) -> String {
    let digest = Sha256::digest(canonical_json(v).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_ignores_key_order() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "é"}});
        let b = json!({"a": {"x": "é", "y": [1, 2]}, "b": 1});
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"é","y":[1,2]},"b":1}"#);
        assert_eq!(snapshot_hash(&a), snapshot_hash(&b));
        assert_eq!(snapshot_hash(&a).len(), 64);
        assert_ne!(snapshot_hash(&a), snapshot_hash(&json!({"b": 2})));
    }

    #[test]
    fn contract_moves() {
        use ContractStatus::*;
        for &from in ContractStatus::ALL {
            for &to in ContractStatus::ALL {
                let want = matches!(
                    (from, to),
                    (Draft, PendingSignature)
                        | (PendingSignature, Signed)
                        | (Signed, Completed | Cancelled | Disputed)
                        | (Draft | PendingSignature, Cancelled)
                );
                assert_eq!(from.check_transition(to).is_ok(), want, "{from} → {to}");
            }
        }
        use BenefitStatus as B;
        assert!(B::Pending.check_transition(B::Delivered).is_ok());
        assert!(B::Delivered.check_transition(B::Missed).is_err());
    }
}

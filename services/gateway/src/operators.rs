//! Operator keys: the second role. Operators see every tenant's inquiries,
//! work the escalation queue, resolve inquiries with a human answer and add
//! reservations.
//!
//! Only SHA-256 hashes of operator keys are ever held (from
//! `SWITCHBOARD_OPERATOR_KEY_HASHES` and, in embedded mode, the
//! `operator-keys` file `switchboard operator create` writes into the data
//! directory). A presented key is hashed and compared with every entry in
//! constant time, so neither timing nor an early exit tells how close a
//! guess came or which entry it matched.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// One operator: a name for the audit trail and the hash of its key.
#[derive(Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    hash: [u8; 32],
}

/// The operator keys the gateway accepts.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OperatorKeys {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for OperatorKeys {
    // The hashes stay out of debug output: they are as good as keys for an offline guess.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorKeys").field("operators", &self.names()).finish()
    }
}

/// Why an operator key list was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operator key entry {index}: {reason}")]
pub struct InvalidOperatorKeys {
    pub index: usize,
    pub reason: &'static str,
}

/// The SHA-256 of an API key, as stored.
pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl OperatorKeys {
    /// Parses `name=hexhash` entries separated by commas or newlines (a bare
    /// hash is named `operator`); blank entries and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<Self, InvalidOperatorKeys> {
        let mut entries = Vec::new();
        for (index, raw) in text.split([',', '\n']).enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, hex) = line.split_once('=').unwrap_or(("operator", line));
            let name = name.trim();
            let valid_name =
                !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid_name {
                return Err(InvalidOperatorKeys { index, reason: "the name must be 1-64 letters, digits, '-', '_' or '.'" });
            }
            let hash = decode_hex(hex.trim())
                .ok_or(InvalidOperatorKeys { index, reason: "the hash must be 64 hex digits (SHA-256 of the key)" })?;
            entries.push(Entry { name: name.to_owned(), hash });
        }
        Ok(Self { entries })
    }

    /// Adds the entries of `other`.
    pub fn extend(&mut self, other: OperatorKeys) {
        self.entries.extend(other.entries);
    }

    /// Adds one operator by its key (the demo operator of `up --demo`).
    pub fn add_key(&mut self, name: &str, key: &str) {
        self.entries.push(Entry { name: name.to_owned(), hash: key_hash(key) });
    }

    /// The operator whose key this is. Every entry is compared, in constant time.
    pub fn find(&self, key: &str) -> Option<&str> {
        let presented = key_hash(key);
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.hash.ct_eq(&presented)) && found.is_none() {
                found = Some(entry.name.as_str());
            }
        }
        found
    }

    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.name.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `name=hash` for a new operator key: what `switchboard operator create` stores.
pub fn entry_line(name: &str, key: &str) -> String {
    let hash: String = key_hash(key).iter().map(|b| format!("{b:02x}")).collect();
    format!("{name}={hash}")
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_matches_only_its_own_entry() {
        let text = format!("{}\n# a comment\n{}", entry_line("alice", "alice-key"), entry_line("bob", "bob-key"));
        let keys = OperatorKeys::parse(&text).unwrap();
        assert_eq!(keys.find("alice-key"), Some("alice"));
        assert_eq!(keys.find("bob-key"), Some("bob"));
        assert_eq!(keys.find("carol-key"), None);
        assert_eq!(keys.names(), ["alice", "bob"]);
    }

    #[test]
    fn a_bare_hash_is_an_operator_and_bad_entries_are_named() {
        let line = entry_line("x", "k");
        let bare = line.split_once('=').unwrap().1;
        assert_eq!(OperatorKeys::parse(bare).unwrap().find("k"), Some("operator"));
        assert_eq!(OperatorKeys::parse("ok=abc").unwrap_err().index, 0);
        assert!(OperatorKeys::parse(&format!("{line},bad name={bare}")).is_err());
    }

    #[test]
    fn debug_output_never_shows_hashes() {
        let keys = OperatorKeys::parse(&entry_line("alice", "k")).unwrap();
        let shown = format!("{keys:?}");
        assert!(shown.contains("alice") && !shown.contains(&entry_line("alice", "k")[6..20]), "{shown}");
    }
}

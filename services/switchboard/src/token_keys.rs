//! HMAC keys for partner links: from `SWITCHBOARD_TOKEN_KEYS`, or generated
//! once and kept in the data directory (embedded mode).

use anyhow::{Context, bail};
use base64::Engine;
use std::path::Path;
use switchboard_domain::token::TokenKeys;

const KEY_FILE: &str = "token-keys";

/// The configured keys, or the data directory's (created on first use).
pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<TokenKeys> {
    let text = match configured {
        Some(text) => text.to_owned(),
        None => {
            let path = data_dir.join(KEY_FILE);
            match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let key: [u8; 32] = rand::random();
                    create_once(&path, &hex(&key)).with_context(|| format!("cannot write {}", path.display()))?;
                    // Ours, or the keys of a process that got there first.
                    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?
                }
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            }
        }
    };
    let keys = text.split(',').map(str::trim).filter(|k| !k.is_empty()).map(decode).collect::<anyhow::Result<Vec<_>>>()?;
    match TokenKeys::new(keys) {
        Ok(keys) => Ok(keys),
        Err(e) => bail!("SWITCHBOARD_TOKEN_KEYS: {e}"),
    }
}

fn decode(key: &str) -> anyhow::Result<Vec<u8>> {
    if key.len().is_multiple_of(2) && key.chars().all(|c| c.is_ascii_hexdigit()) {
        return (0..key.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&key[i..i + 2], 16).context("SWITCHBOARD_TOKEN_KEYS: bad hex"))
            .collect();
    }
    base64::engine::general_purpose::STANDARD.decode(key).context("SWITCHBOARD_TOKEN_KEYS: each key must be hex or base64")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates `path` holding `text` unless it exists, so that processes (and
/// threads) racing on a new data directory all end up reading one whole
/// file: the text is written to a file of this caller's own, then
/// hard-linked into place, which fails when another caller's link won. No
/// reader can see the file half written, and nobody overwrites it.
fn create_once(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.{:016x}.tmp", std::process::id(), rand::random::<u64>()));
    let linked = write_private(&temp, text).and_then(|()| std::fs::hard_link(&temp, path));
    // The name in place (if ours) keeps the contents; the temporary name goes either way.
    let _ = std::fs::remove_file(&temp);
    match linked {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    // On disk before it gets its real name: a crash never leaves an empty key file.
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::token::{CONFIRM_SCOPE, TokenClaims};

    /// What `keys` sign a fixed claim as: equal signatures, equal keys.
    fn signature(keys: &TokenKeys) -> String {
        let claims = TokenClaims { inquiry_id: "i".into(), partner_id: "p".into(), expires_at: 0, scope: CONFIRM_SCOPE.into() };
        keys.sign(&claims)
    }

    #[test]
    fn many_threads_creating_the_key_file_at_once_all_read_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let start = std::sync::Barrier::new(16);
        let signatures: Vec<String> = std::thread::scope(|s| {
            let loaders: Vec<_> = (0..16)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        signature(&load(None, dir.path()).expect("every thread gets the keys"))
                    })
                })
                .collect();
            loaders.into_iter().map(|l| l.join().unwrap()).collect()
        });
        assert!(signatures.iter().all(|k| *k == signatures[0]), "one set of keys for all: {signatures:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, [KEY_FILE], "no temporary file is left behind");
        assert_eq!(signature(&load(None, dir.path()).unwrap()), signatures[0], "a later start reads the same keys");
    }
}

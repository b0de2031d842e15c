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
                    let text = hex(&key);
                    write_private(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
                    text
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

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

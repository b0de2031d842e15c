//! How the simulated partner gets its link.
//!
//! In embedded mode "sending" an SMS means recording it in the outbox
//! table of the data directory's SQLite file; that table *is* the SMS
//! channel. The simulated partner reads its message there, on a read-only
//! connection (WAL lets it read beside the server's writer without
//! blocking it), and takes the `/r/{id}` link (a 22-character link id, or
//! the signed token of a server from before link ids) out of the text,
//! exactly as a person would from the SMS. It never writes to the server's file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_sqlite::rusqlite::{Connection, OpenFlags, OptionalExtension};

/// Why links cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot open {path} read-only: {source}")]
    Open { path: PathBuf, source: switchboard_sqlite::rusqlite::Error },
    #[error("reading the outbox failed: {0}")]
    Query(#[from] switchboard_sqlite::rusqlite::Error),
    #[error("the outbox reader thread failed: {0}")]
    Worker(String),
}

/// Reads partner links from an embedded data directory's outbox.
#[derive(Clone)]
pub struct OutboxLinks {
    conn: Arc<Mutex<Connection>>,
}

impl OutboxLinks {
    /// Opens `{data_dir}/switchboard.db` read-only.
    pub fn open(data_dir: &Path) -> Result<Self, LinkError> {
        let path = data_dir.join("switchboard.db");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = |source| LinkError::Open { path: path.clone(), source };
        let conn = Connection::open_with_flags(&path, flags).map_err(open)?;
        conn.busy_timeout(Duration::from_secs(2)).map_err(open)?;
        // Fails now, not mid-run, if this is not a Switchboard data directory.
        conn.prepare("SELECT body FROM outbox LIMIT 0").map_err(open)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// The token of the partner link texted about `inquiry_id`, if sent yet.
    pub async fn token(&self, inquiry_id: &str) -> Result<Option<String>, LinkError> {
        let (conn, id) = (self.conn.clone(), inquiry_id.to_owned());
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            let body: Option<String> = conn
                .prepare_cached(
                    "SELECT body FROM outbox WHERE inquiry_id = ?1 AND channel = 'sms' AND body LIKE '%/r/%' ORDER BY seq LIMIT 1",
                )?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            Ok(body.and_then(|b| token_in(&b)))
        })
        .await
        .map_err(|e| LinkError::Worker(e.to_string()))?
    }
}

/// What the first `…/r/{id}` link in an SMS text carries: a link id or a signed token.
pub fn token_in(text: &str) -> Option<String> {
    let start = text.find("/r/")? + 3;
    let token: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=')).collect();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_taken_out_of_the_sms_text() {
        let sms = "[한빛호텔] 예약 변경 요청: http://127.0.0.1:8080/r/eyJhYmMi.sig-_x 5분 안에 답해 주세요";
        assert_eq!(token_in(sms).as_deref(), Some("eyJhYmMi.sig-_x"));
        let short = "[Switchboard] 예약 HT-20481123 변경 요청. 5분 내 응답: https://sb.example/r/Zm9yZ2VkLWxpbmstaWQtMQ";
        assert_eq!(token_in(short).as_deref(), Some("Zm9yZ2VkLWxpbmstaWQtMQ"), "a link id at the end of the text");
        assert_eq!(token_in("no link here"), None);
        assert_eq!(token_in("http://x/r/ then nothing"), None);
    }

    #[test]
    fn a_directory_without_a_switchboard_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(OutboxLinks::open(dir.path()).is_err());
    }
}

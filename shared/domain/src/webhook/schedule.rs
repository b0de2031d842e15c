//! When a failed delivery is tried again: the Standard Webhooks
//! specification's example schedule (at once, then after 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h and 10 h), or the deployment's own. Each wait
//! grows by up to a fifth at random (jitter), never shrinks, so receivers
//! coming back from an outage are not hit by every sender at once.

use std::time::Duration;

/// The specification's schedule.
pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";
/// Most retries a schedule may list.
pub const MAX_RETRIES: usize = 20;
/// Longest wait a schedule may list: a day.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest share of a wait jitter adds.
pub const JITTER: f64 = 0.2;

/// The waits before each retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    waits: Vec<Duration>,
}

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSchedule(String);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse(DEFAULT_SCHEDULE).unwrap_or(Self { waits: vec![] })
    }
}

impl RetrySchedule {
    /// Parses comma-separated waits, each a number and a unit (`ms`, `s`,
    /// `m`, `h`): `5s,5m,30m`. Empty: no retries.
    pub fn parse(text: &str) -> Result<Self, InvalidSchedule> {
        let waits = text.split(',').map(str::trim).filter(|w| !w.is_empty()).map(wait).collect::<Result<Vec<_>, _>>()?;
        if waits.len() > MAX_RETRIES {
            return Err(InvalidSchedule(format!("at most {MAX_RETRIES} retries")));
        }
        Ok(Self { waits })
    }

    /// How many attempts a message gets: the first and one per wait.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.waits.len()).unwrap_or(u32::MAX).saturating_add(1)
    }

    /// The wait before attempt `attempt` (1-based) as the schedule lists
    /// it; `None` for the first attempt or past the last.
    pub fn wait_before(&self, attempt: u32) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(2)?).ok()?;
        self.waits.get(index).copied()
    }

    /// [`Self::wait_before`] grown by jitter: `random` in `[0, 1)` adds
    /// up to [`JITTER`] of the wait.
    pub fn jittered_wait_before(&self, attempt: u32, random: f64) -> Option<Duration> {
        let wait = self.wait_before(attempt)?;
        Some(wait + wait.mul_f64(JITTER * random.clamp(0.0, 1.0)))
    }
}

fn wait(text: &str) -> Result<Duration, InvalidSchedule> {
    let bad = || InvalidSchedule(format!("{text} is not a wait (a number and ms, s, m or h)"));
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let wait = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    if wait > MAX_WAIT {
        return Err(InvalidSchedule(format!("{text} is longer than a day")));
    }
    Ok(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_specifications_schedule() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(schedule.wait_before(1), None);
        assert_eq!(schedule.wait_before(2), Some(Duration::from_secs(5)));
        assert_eq!(schedule.wait_before(8), Some(Duration::from_secs(36_000)));
        assert_eq!(schedule.wait_before(9), None);
    }

    #[test]
    fn jitter_only_lengthens_a_wait_and_by_a_fifth_at_most() {
        let schedule = RetrySchedule::parse("100ms, 1s").unwrap();
        assert_eq!(schedule.jittered_wait_before(2, 0.0), Some(Duration::from_millis(100)));
        assert_eq!(schedule.jittered_wait_before(3, 0.5), Some(Duration::from_millis(1100)));
        assert!(schedule.jittered_wait_before(3, 0.999_999).unwrap() < Duration::from_millis(1200));
    }

    #[test]
    fn bad_waits_are_named() {
        assert!(RetrySchedule::parse("5").unwrap_err().to_string().contains("5 is not a wait"));
        assert!(RetrySchedule::parse("5d").is_err());
        assert!(RetrySchedule::parse("25h").is_err());
        assert_eq!(RetrySchedule::parse("").unwrap().max_attempts(), 1);
    }
}

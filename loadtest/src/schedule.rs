//! When each request of an open-loop run is due.
//!
//! An open-loop generator sends on a fixed timetable whatever the server
//! does, and measures each request from the moment it was *due*, not from
//! when it went out. A closed loop (send, wait, send) slows down with the
//! server and hides exactly the latency a real user sees when it is slow
//! (coordinated omission, Gil Tene).

use std::time::Duration;

/// A constant-rate timetable: request `i` is due `i / rate` seconds after the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    rate: f64,
    count: u64,
}

/// Why a schedule cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the rate must be a positive number of requests per second")]
    BadRate,
    #[error("the run is too short to send even one request at this rate")]
    Empty,
}

impl Schedule {
    /// `rate` requests per second for `duration`.
    pub fn new(rate: f64, duration: Duration) -> Result<Self, ScheduleError> {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(ScheduleError::BadRate);
        }
        let count = (rate * duration.as_secs_f64()).round();
        if count < 1.0 {
            return Err(ScheduleError::Empty);
        }
        Ok(Self { rate, count: count as u64 })
    }

    /// Requests in the run.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// When request `i` (0-based) is due, from the start of the run.
    pub fn offset(&self, i: u64) -> Duration {
        // Computed from `i` each time rather than by adding intervals, so
        // rounding never accumulates over a long run.
        Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// How long sending takes: the due time of the last request plus one interval.
    pub fn span(&self) -> Duration {
        Duration::from_secs_f64(self.count as f64 / self.rate)
    }
}

/// Parses a duration such as `30s`, `500ms`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 30s, 500ms or 2m"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit {other:?} in {text:?}; use ms, s, m or h")),
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("{text:?} is not a usable duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_sends_rate_times_duration_requests() {
        let s = Schedule::new(100.0, Duration::from_secs(30)).unwrap();
        assert_eq!(s.count(), 3000);
        let s = Schedule::new(2.5, Duration::from_secs(2)).unwrap();
        assert_eq!(s.count(), 5);
    }

    #[test]
    fn requests_are_due_at_even_intervals_from_the_start() {
        let s = Schedule::new(1000.0, Duration::from_secs(1)).unwrap();
        assert_eq!(s.offset(0), Duration::ZERO);
        assert_eq!(s.offset(1), Duration::from_millis(1));
        assert_eq!(s.offset(999), Duration::from_millis(999));
        assert_eq!(s.span(), Duration::from_secs(1));
    }

    #[test]
    fn due_times_do_not_drift_over_a_long_run() {
        // 1/3 s has no exact binary form; a running sum would drift.
        let s = Schedule::new(3.0, Duration::from_secs(3600)).unwrap();
        let last = s.offset(s.count() - 1);
        let expected = Duration::from_secs(3600) - Duration::from_secs_f64(1.0 / 3.0);
        let error = last.abs_diff(expected);
        assert!(error < Duration::from_micros(1), "drifted by {error:?}");
    }

    #[test]
    fn a_useless_rate_or_an_empty_run_is_refused() {
        assert_eq!(Schedule::new(0.0, Duration::from_secs(1)), Err(ScheduleError::BadRate));
        assert_eq!(Schedule::new(f64::NAN, Duration::from_secs(1)), Err(ScheduleError::BadRate));
        assert_eq!(Schedule::new(-5.0, Duration::from_secs(1)), Err(ScheduleError::BadRate));
        assert_eq!(Schedule::new(1.0, Duration::from_millis(100)), Err(ScheduleError::Empty));
    }

    #[test]
    fn durations_parse_with_or_without_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3 days").is_err());
    }
}

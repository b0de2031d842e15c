//! First-response SLAs: a tenant's [`SlaPolicy`] (a target per urgency,
//! business hours, a time zone) and the [`Sla`] clock an escalated inquiry
//! carries (when a person must first answer it, and whether they did).
//!
//! A deadline counts only open hours: escalated Friday 17:30 with a
//! one-hour target in a Mon–Fri 09:00–18:00 week, it is due Monday 09:30
//! local time. Time zones come from the system's tz database through
//! `jiff` (the one thing here that reads a file, once, when a zone is
//! first named); the arithmetic takes the time it is given.

use crate::classification::Urgency;
use crate::field_error::{FieldError, ValidationErrors};
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest first-response target: 30 days.
pub const MAX_TARGET_SECS: u32 = 30 * 24 * 3600;

/// Minutes in a day: an opening period closes at most at 24:00.
const DAY_MINUTES: u16 = 24 * 60;

/// First-response targets, in seconds, by urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// For high-urgency inquiries.
    pub high: u32,
    /// For medium-urgency inquiries.
    pub medium: u32,
    /// For low-urgency inquiries.
    pub low: u32,
}

impl Targets {
    /// The target of `urgency`.
    pub fn of(&self, urgency: Urgency) -> u32 {
        match urgency {
            Urgency::High => self.high,
            Urgency::Medium => self.medium,
            Urgency::Low => self.low,
        }
    }
}

/// One opening period as written: the days it applies to and its hours
/// (`"09:00"` to `"18:00"`; `"24:00"` closes at midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningInput {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// Opens at, `HH:MM`.
    pub open: String,
    /// Closes at, `HH:MM`, after `open` (an overnight period is two entries).
    pub close: String,
}

/// A policy as a client writes it (REST body, gRPC message, CLI JSON, and
/// the stored form): [`SlaPolicyInput::parse`] is the only way to a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicyInput {
    /// Seconds to the first response of a person, by urgency.
    pub first_response_secs: Targets,
    /// The IANA time zone business hours are in, e.g. `Asia/Seoul`.
    pub time_zone: String,
    /// When the business answers; empty: always (24/7).
    #[serde(default)]
    pub business_hours: Vec<OpeningInput>,
}

/// A tenant's first-response SLA, valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SlaPolicyInput", into = "SlaPolicyInput")]
pub struct SlaPolicy(Box<Parsed>);

/// A policy's parts. Boxed: a tenant (and so every API caller's
/// principal) carries its policy, and most callers never look at it.
#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    input: SlaPolicyInput,
    zone: TimeZone,
    /// Open minute ranges `[open, close)` per weekday (Monday first),
    /// sorted and merged; all empty: always open.
    week: [Vec<(u16, u16)>; 7],
}

impl Default for SlaPolicy {
    /// The policy of a tenant that sets none: a person answers a high-urgency
    /// inquiry within 1 hour, medium within 4 hours, low within 24 hours,
    /// around the clock (UTC).
    fn default() -> Self {
        let input = SlaPolicyInput {
            first_response_secs: Targets { high: 3600, medium: 4 * 3600, low: 24 * 3600 },
            time_zone: "UTC".into(),
            business_hours: Vec::new(),
        };
        Self(Box::new(Parsed { input, zone: TimeZone::UTC, week: Default::default() }))
    }
}

impl TryFrom<SlaPolicyInput> for SlaPolicy {
    type Error = ValidationErrors;
    fn try_from(input: SlaPolicyInput) -> Result<Self, Self::Error> {
        input.parse()
    }
}

impl From<SlaPolicy> for SlaPolicyInput {
    fn from(policy: SlaPolicy) -> Self {
        policy.0.input
    }
}

fn weekday(day: &str) -> Option<Weekday> {
    Some(match day.trim().to_ascii_lowercase().as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// `HH:MM` as minutes of the day, 00:00 to 24:00.
fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let total = h * 60 + m;
    (m < 60 && total <= DAY_MINUTES).then_some(total)
}

impl SlaPolicyInput {
    /// Checks every field, naming each bad one (`first_response_secs.high`,
    /// `time_zone`, `business_hours[0].close`, …).
    pub fn parse(self) -> Result<SlaPolicy, ValidationErrors> {
        let mut errors = Vec::new();
        let targets = self.first_response_secs;
        for (name, secs) in [("high", targets.high), ("medium", targets.medium), ("low", targets.low)] {
            if !(1..=MAX_TARGET_SECS).contains(&secs) {
                errors.push(FieldError::new(
                    format!("first_response_secs.{name}"),
                    format!("must be 1 to {MAX_TARGET_SECS} seconds (30 days)"),
                ));
            }
        }
        let zone = match TimeZone::get(self.time_zone.trim()) {
            Ok(zone) if !self.time_zone.trim().is_empty() => Some(zone),
            _ => {
                errors.push(FieldError::new("time_zone", "must be an IANA time zone, e.g. Asia/Seoul or UTC"));
                None
            }
        };
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (i, opening) in self.business_hours.iter().enumerate() {
            let field = |name: &str| format!("business_hours[{i}].{name}");
            let days: Vec<Option<Weekday>> = opening.days.iter().map(|d| weekday(d)).collect();
            if days.is_empty() || days.iter().any(Option::is_none) {
                errors.push(FieldError::new(field("days"), "must list days among mon, tue, wed, thu, fri, sat, sun"));
            }
            let open = minutes(&opening.open);
            let close = minutes(&opening.close);
            if open.is_none_or(|o| o >= DAY_MINUTES) {
                errors.push(FieldError::new(field("open"), "must be a time HH:MM from 00:00 to 23:59"));
            }
            match (open, close) {
                (_, None) => errors.push(FieldError::new(field("close"), "must be a time HH:MM from 00:01 to 24:00")),
                (Some(o), Some(c)) if c <= o => {
                    errors.push(FieldError::new(field("close"), "must be after open (write overnight hours as two periods)"))
                }
                (Some(o), Some(c)) => {
                    for day in days.into_iter().flatten() {
                        week[usize::from(day.to_monday_zero_offset().unsigned_abs())].push((o, c));
                    }
                }
                (None, Some(_)) => {}
            }
        }
        if !errors.is_empty() {
            return Err(ValidationErrors(errors));
        }
        for day in week.iter_mut() {
            *day = merged(std::mem::take(day));
        }
        let zone = zone.unwrap_or(TimeZone::UTC);
        let input = SlaPolicyInput { time_zone: self.time_zone.trim().to_owned(), ..self };
        Ok(SlaPolicy(Box::new(Parsed { input, zone, week })))
    }
}

/// Sorted, non-overlapping ranges covering the same minutes as `ranges`.
fn merged(mut ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    ranges.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for (open, close) in ranges {
        match out.last_mut() {
            Some(last) if open <= last.1 => last.1 = last.1.max(close),
            _ => out.push((open, close)),
        }
    }
    out
}

impl SlaPolicy {
    /// The policy as written (what the API shows and the store keeps).
    pub fn input(&self) -> &SlaPolicyInput {
        &self.0.input
    }

    /// The first-response target of `urgency`.
    pub fn target(&self, urgency: Urgency) -> SignedDuration {
        SignedDuration::from_secs(i64::from(self.0.input.first_response_secs.of(urgency)))
    }

    /// Whether the business is always open (no business hours).
    pub fn always_open(&self) -> bool {
        self.0.week.iter().all(Vec::is_empty)
    }

    /// When an inquiry of `urgency` escalated at `escalated_at` must have
    /// had a person's first response: the target counted in open hours only.
    pub fn deadline(&self, escalated_at: Timestamp, urgency: Urgency) -> Timestamp {
        self.deadline_after(escalated_at, self.target(urgency))
    }

    /// `target` of open time after `start`.
    pub fn deadline_after(&self, start: Timestamp, target: SignedDuration) -> Timestamp {
        if self.always_open() {
            return start.checked_add(target).unwrap_or(Timestamp::MAX);
        }
        let mut remaining = target;
        let mut date = start.to_zoned(self.0.zone.clone()).date();
        // A schedule opens at least one minute a week, so a 30-day target
        // ends within 30 × 7 × 24 × 60 weeks; the bound only guards the loop.
        for _ in 0..(MAX_TARGET_SECS as usize / 60 * 7 + 14) {
            let weekday = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
            for &(open, close) in &self.0.week[weekday] {
                let (Some(from), Some(to)) = (self.instant(date, open), self.instant(date, close)) else { continue };
                let from = from.max(start);
                if from >= to {
                    continue;
                }
                let open_for = to.duration_since(from);
                if remaining <= open_for {
                    return from.checked_add(remaining).unwrap_or(Timestamp::MAX);
                }
                remaining -= open_for;
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        Timestamp::MAX
    }

    /// The instant `minute` minutes into local `date` (24:00 is the next
    /// midnight; a time skipped by a DST change counts as the moment after it).
    fn instant(&self, date: Date, minute: u16) -> Option<Timestamp> {
        let local: DateTime =
            date.to_datetime(jiff::civil::Time::midnight()).checked_add(SignedDuration::from_mins(i64::from(minute))).ok()?;
        self.0.zone.to_ambiguous_timestamp(local).compatible().ok()
    }
}

/// Where an inquiry's first-response clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlaState {
    /// Waiting for a person, within the target so far.
    Pending,
    /// A person answered by the deadline.
    Met,
    /// The deadline passed before a person answered (it stays breached
    /// when the answer comes later).
    Breached,
}

impl SlaState {
    /// Every state.
    pub const ALL: [SlaState; 3] = [Self::Pending, Self::Met, Self::Breached];

    /// The wire name: `pending`, `met` or `breached`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Met => "met",
            Self::Breached => "breached",
        }
    }

    /// The state with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// An escalation's first-response clock, on the inquiry. One per
/// escalation: a re-escalation (after the customer wrote again) starts a
/// new one, keyed by its [`Sla::round`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    /// The escalation's round (`sla`, or `sla-{follow-up}`), as
    /// [`crate::Inquiry::step`] names it: its check message carries it.
    pub round: String,
    /// The urgency its target was taken for.
    pub urgency: Urgency,
    /// When the inquiry was escalated.
    pub started_at: Timestamp,
    /// When a person must have answered.
    pub due_at: Timestamp,
    /// Pending, met or breached.
    pub state: SlaState,
    /// When it was found breached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    /// When a person first answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<Timestamp>,
}

impl Sla {
    /// A pending clock for the escalation of `round` at `started_at`.
    pub fn start(policy: &SlaPolicy, round: String, urgency: Urgency, started_at: Timestamp) -> Self {
        let due_at = policy.deadline(started_at, urgency);
        Self { round, urgency, started_at, due_at, state: SlaState::Pending, breached_at: None, responded_at: None }
    }

    /// Whether the deadline has passed at `now` while still pending.
    pub fn overdue(&self, now: Timestamp) -> bool {
        self.state == SlaState::Pending && now > self.due_at
    }

    /// Marks it breached at `now` if it is pending and overdue; `true` if it changed.
    pub fn breach(&mut self, now: Timestamp) -> bool {
        if !self.overdue(now) {
            return false;
        }
        self.state = SlaState::Breached;
        self.breached_at = Some(now);
        true
    }

    /// A person's first answer at `at`: met by the deadline, else breached
    /// (and a breach found earlier stays). `true` if this found the breach.
    pub fn respond(&mut self, at: Timestamp) -> bool {
        if self.responded_at.is_some() {
            return false;
        }
        self.responded_at = Some(at);
        match self.state {
            SlaState::Pending if at <= self.due_at => {
                self.state = SlaState::Met;
                false
            }
            SlaState::Pending => {
                self.state = SlaState::Breached;
                self.breached_at = Some(at);
                true
            }
            SlaState::Met | SlaState::Breached => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(json: serde_json::Value) -> Result<SlaPolicy, ValidationErrors> {
        serde_json::from_value::<SlaPolicyInput>(json).expect("input shape").parse()
    }

    fn office_week() -> SlaPolicy {
        policy(serde_json::json!({
            "first_response_secs": { "high": 3600, "medium": 7200, "low": 86400 },
            "time_zone": "Asia/Seoul",
            "business_hours": [{ "days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "18:00" }]
        }))
        .unwrap()
    }

    fn seoul(text: &str) -> Timestamp {
        text.parse::<DateTime>().unwrap().to_zoned(TimeZone::get("Asia/Seoul").unwrap()).unwrap().timestamp()
    }

    #[test]
    fn friday_afternoon_with_an_hour_left_is_due_monday_morning() {
        // 2026-01-09 is a Friday.
        assert_eq!(office_week().deadline(seoul("2026-01-09T17:30"), Urgency::High), seoul("2026-01-12T09:30"));
    }

    #[test]
    fn an_escalation_outside_hours_starts_counting_at_the_next_opening() {
        assert_eq!(office_week().deadline(seoul("2026-01-10T11:00"), Urgency::High), seoul("2026-01-12T10:00"));
        assert_eq!(office_week().deadline(seoul("2026-01-06T07:00"), Urgency::Medium), seoul("2026-01-06T11:00"));
        assert_eq!(office_week().deadline(seoul("2026-01-06T12:00"), Urgency::High), seoul("2026-01-06T13:00"));
    }

    #[test]
    fn the_default_policy_is_around_the_clock() {
        let default = SlaPolicy::default();
        let at = seoul("2026-01-10T03:00");
        assert!(default.always_open());
        assert_eq!(default.deadline(at, Urgency::High), at + SignedDuration::from_hours(1));
        assert_eq!(default.deadline(at, Urgency::Low), at + SignedDuration::from_hours(24));
    }

    #[test]
    fn a_policy_round_trips_as_it_was_written() {
        let written = office_week();
        let json = serde_json::to_value(&written).unwrap();
        assert_eq!(json["business_hours"][0]["open"], "09:00");
        assert_eq!(serde_json::from_value::<SlaPolicy>(json).unwrap(), written);
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = policy(serde_json::json!({
            "first_response_secs": { "high": 0, "medium": 60, "low": MAX_TARGET_SECS + 1 },
            "time_zone": "Mars/Olympus",
            "business_hours": [
                { "days": ["mon", "someday"], "open": "9am", "close": "18:00" },
                { "days": ["sat"], "open": "22:00", "close": "06:00" },
                { "days": [], "open": "10:00", "close": "24:01" }
            ]
        }))
        .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "first_response_secs.high",
                "first_response_secs.low",
                "time_zone",
                "business_hours[0].days",
                "business_hours[0].open",
                "business_hours[1].close",
                "business_hours[2].days",
                "business_hours[2].close",
            ]
        );
    }

    #[test]
    fn overlapping_periods_count_once() {
        let p = policy(serde_json::json!({
            "first_response_secs": { "high": 3 * 3600, "medium": 60, "low": 60 },
            "time_zone": "UTC",
            "business_hours": [
                { "days": ["mon"], "open": "09:00", "close": "12:00" },
                { "days": ["mon"], "open": "11:00", "close": "13:00" }
            ]
        }))
        .unwrap();
        let monday_nine = "2026-01-05T09:00:00Z".parse::<Timestamp>().unwrap();
        // 4 open hours on Monday: 3 of them end at noon.
        assert_eq!(p.deadline(monday_nine, Urgency::High), "2026-01-05T12:00:00Z".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn a_clock_is_met_by_a_timely_answer_and_stays_breached_after_a_late_one() {
        let start = seoul("2026-01-06T10:00");
        let mut timely = Sla::start(&office_week(), "sla".into(), Urgency::High, start);
        assert!(!timely.respond(start + SignedDuration::from_mins(30)));
        assert_eq!(timely.state, SlaState::Met);
        assert!(!timely.breach(start + SignedDuration::from_hours(2)), "a met clock never breaches");

        let mut late = Sla::start(&office_week(), "sla".into(), Urgency::High, start);
        assert!(!late.breach(late.due_at), "due is not yet overdue");
        assert!(late.breach(late.due_at + SignedDuration::from_secs(1)));
        assert!(!late.breach(late.due_at + SignedDuration::from_secs(2)), "breached once");
        assert!(!late.respond(late.due_at + SignedDuration::from_mins(5)));
        assert_eq!(late.state, SlaState::Breached);
        assert!(late.responded_at.is_some());
    }

    fn schedule() -> impl Strategy<Value = SlaPolicy> {
        let period = (proptest::collection::vec(0usize..7, 1..4), 0u16..(DAY_MINUTES - 1), 60u16..=DAY_MINUTES);
        proptest::collection::vec(period, 0..4).prop_map(|periods| {
            const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            let hours: Vec<OpeningInput> = periods
                .into_iter()
                .map(|(days, open, len)| {
                    let close = (open + len).min(DAY_MINUTES);
                    OpeningInput {
                        days: days.into_iter().map(|d| DAYS[d].to_owned()).collect(),
                        open: format!("{:02}:{:02}", open / 60, open % 60),
                        close: format!("{:02}:{:02}", close / 60, close % 60),
                    }
                })
                .collect();
            SlaPolicyInput {
                first_response_secs: Targets { high: 1, medium: 1, low: 1 },
                time_zone: "Europe/Berlin".into(),
                business_hours: hours,
            }
            .parse()
            .unwrap()
        })
    }

    fn instant() -> impl Strategy<Value = Timestamp> {
        // 2020 to 2030, through DST changes.
        (1_577_836_800i64..1_893_456_000).prop_map(|s| Timestamp::from_second(s).unwrap())
    }

    proptest! {
        #[test]
        fn a_deadline_is_never_before_its_start(p in schedule(), start in instant(), secs in 0i64..400_000) {
            prop_assert!(p.deadline_after(start, SignedDuration::from_secs(secs)) >= start);
        }

        #[test]
        fn a_longer_target_is_never_due_earlier(p in schedule(), start in instant(), a in 0i64..400_000, b in 0i64..400_000) {
            let (short, long) = (a.min(b), a.max(b));
            prop_assert!(p.deadline_after(start, SignedDuration::from_secs(short)) <= p.deadline_after(start, SignedDuration::from_secs(long)));
        }

        #[test]
        fn around_the_clock_is_plain_addition(start in instant(), secs in 0i64..(MAX_TARGET_SECS as i64)) {
            let target = SignedDuration::from_secs(secs);
            prop_assert_eq!(SlaPolicy::default().deadline_after(start, target), start + target);
        }
    }
}

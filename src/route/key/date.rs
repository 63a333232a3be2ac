//! DATE and DATETIME values as shard keys: parsing of MySQL's literal forms and ordering.
//!
//! Hand-written rather than chrono: we need only "parse a literal, compare two values", and
//! MySQL's literal rules (a `T` or space separator, 1 to 6 fraction digits, no time zone) are
//! not chrono's; a calendar check is a few lines.

use std::fmt;

/// A calendar date (MySQL DATE), ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// A date and time of day with microseconds (MySQL DATETIME(6)), ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    micro: u32,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

impl Date {
    /// A valid date (years 1..=9999; MySQL's zero dates are refused), else None.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let ok = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        ok.then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD` exactly (four, two and two digits).
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::new(
            digits(&s[0..4])? as u16,
            digits(&s[5..7])? as u8,
            digits(&s[8..10])? as u8,
        )
    }

    /// A date in the other forms MariaDB reads as exactly that date when it compares a DATE
    /// column with a string (and stores it in one): `YYYY-M-D` with one- or two-digit month
    /// and day and any punctuation as separators (`2026-2-1`, `2026/02/01`, `2026.02.01`), and
    /// `YYYYMMDD` (`20260201`). Not the rules file's format: that stays `YYYY-MM-DD`.
    pub fn parse_relaxed(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
            return Date::new(
                digits(&s[0..4])? as u16,
                digits(&s[4..6])? as u8,
                digits(&s[6..8])? as u8,
            );
        }
        let parts: Vec<&str> = s.split(|c: char| c.is_ascii_punctuation()).collect();
        match parts.as_slice() {
            [y, m, d]
                if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) =>
            {
                Date::new(digits(y)? as u16, digits(m)? as u8, digits(d)? as u8)
            }
            _ => None,
        }
    }

    /// A number MariaDB reads as a date: `YYYYMMDD` (8 digits).
    pub fn from_number(n: i128) -> Option<Date> {
        if !(10_000_101..=99_991_231).contains(&n) {
            return None;
        }
        let n = n as u32;
        Date::new((n / 10_000) as u16, (n / 100 % 100) as u8, (n % 100) as u8)
    }

    /// Midnight of this date.
    pub fn at_midnight(self) -> DateTime {
        DateTime {
            date: self,
            hour: 0,
            minute: 0,
            second: 0,
            micro: 0,
        }
    }
}

impl DateTime {
    /// A valid date and time, else None.
    pub fn new(date: Date, hour: u8, minute: u8, second: u8, micro: u32) -> Option<DateTime> {
        let ok = hour < 24 && minute < 60 && second < 60 && micro < 1_000_000;
        ok.then_some(DateTime {
            date,
            hour,
            minute,
            second,
            micro,
        })
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` and
    /// `YYYY-MM-DD HH:MM:SS.f` (1 to 6 fraction digits); `T` may replace the space.
    pub fn parse(s: &str) -> Option<DateTime> {
        if s.len() == 10 {
            return Date::parse(s).map(Date::at_midnight);
        }
        let date = Date::parse(s.get(..10)?)?;
        let sep = s.as_bytes()[10];
        if sep != b' ' && sep != b'T' {
            return None;
        }
        let time = &s[11..];
        let (hms, frac) = match time.split_once('.') {
            Some((hms, frac)) => (hms, Some(frac)),
            None => (time, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.len() != 2) {
            return None;
        }
        if frac.is_some() && parts.len() != 3 {
            return None;
        }
        let second = match parts.get(2) {
            Some(p) => digits(p)? as u8,
            None => 0,
        };
        let micro = match frac {
            Some(f) if (1..=6).contains(&f.len()) => digits(f)? * 10u32.pow(6 - f.len() as u32),
            Some(_) => return None,
            None => 0,
        };
        DateTime::new(
            date,
            digits(parts[0])? as u8,
            digits(parts[1])? as u8,
            second,
            micro,
        )
    }

    /// The date part.
    pub fn date(self) -> Date {
        self.date
    }

    /// True at 00:00:00.000000.
    pub fn is_midnight(self) -> bool {
        self.hour == 0 && self.minute == 0 && self.second == 0 && self.micro == 0
    }
}

/// ASCII digits only (no sign, no spaces) as a number.
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for DateTime {
    /// `YYYY-MM-DD HH:MM:SS`, with `.ffffff` when there are microseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        if self.micro != 0 {
            write!(f, ".{:06}", self.micro)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            Date::parse("2026-02-28").map(|d| d.to_string()),
            Some("2026-02-28".into())
        );
        assert!(Date::parse("2026-02-29").is_none());
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2000-02-29").is_some());
        assert!(Date::parse("1900-02-29").is_none());
        assert!(Date::parse("0000-00-00").is_none());
        assert!(Date::parse("2026-13-01").is_none());
        assert!(Date::parse("2026-1-01").is_none());
        assert!(Date::parse("2026-01-01 ").is_none());
        assert!(Date::parse("2026-01-01") < Date::parse("2026-01-02"));
        assert!(Date::parse("2025-12-31") < Date::parse("2026-01-01"));
    }

    #[test]
    fn datetimes() {
        let p = |s| DateTime::parse(s).map(|d| d.to_string());
        assert_eq!(p("2026-01-02"), Some("2026-01-02 00:00:00".into()));
        assert_eq!(p("2026-01-02 03:04"), Some("2026-01-02 03:04:00".into()));
        assert_eq!(p("2026-01-02T03:04:05"), Some("2026-01-02 03:04:05".into()));
        assert_eq!(
            p("2026-01-02 03:04:05.5"),
            Some("2026-01-02 03:04:05.500000".into())
        );
        assert_eq!(
            p("2026-01-02 03:04:05.123456"),
            Some("2026-01-02 03:04:05.123456".into())
        );
        assert_eq!(p("2026-01-02 03:04:05.1234567"), None);
        assert_eq!(p("2026-01-02 24:00:00"), None);
        assert_eq!(p("2026-01-02 3:04:05"), None);
        assert_eq!(p("2026-01-02 03:04.5"), None);
        assert!(DateTime::parse("2026-01-02 23:59:59") < DateTime::parse("2026-01-03"));
    }
}

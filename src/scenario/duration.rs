//! Durations as written in scenarios: a number of hours, or a string with one
//! unit (`ms`, `s`, `m`, `h`, `d`, `w`, `y`; 1 y = 8760 h, also spelt out:
//! `sec`, `min`, `hr`, `hours`, `days`, …).

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::error::escape;

/// Hours in a year, as availsim counts them (365 days).
pub const HOURS_PER_YEAR: f64 = 8760.0;

/// Units as (spellings, hours per unit as a fraction): dividing by the
/// denominator keeps "3600s" exactly 1 h. The first spelling is the short
/// one messages suggest.
const UNITS: [(&[&str], f64, f64); 7] = [
    (
        &["ms", "msec", "msecs", "millisecond", "milliseconds"],
        1.0,
        3_600_000.0,
    ),
    (&["s", "sec", "secs", "second", "seconds"], 1.0, 3600.0),
    (&["m", "min", "mins", "minute", "minutes"], 1.0, 60.0),
    (&["h", "hr", "hrs", "hour", "hours"], 1.0, 1.0),
    (&["d", "day", "days"], 24.0, 1.0),
    (&["w", "wk", "wks", "week", "weeks"], 168.0, 1.0),
    (&["y", "yr", "yrs", "year", "years"], HOURS_PER_YEAR, 1.0),
];

/// A non-negative, finite duration in hours.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Duration(pub f64);

impl Duration {
    /// The duration in hours.
    pub fn hours(self) -> f64 {
        self.0
    }
}

/// Parses a duration written as a string: a number and one unit, e.g.
/// `"90s"`, `"2.5d"`, `"10y"`, `"30 min"`, `"2 hours"`. A bare number in a
/// string (`"5"`) is an error: write `5` (hours) or `"5h"`.
///
/// # Errors
/// A message (lowercase, with the fix) when the text is not a finite,
/// non-negative number with one known unit.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (number, unit) = (t[..split].trim(), t[split..].trim());
    let shown = escape(text);
    let invalid = || {
        format!("invalid duration \"{shown}\": expected a number and a unit, like \"90s\", \"8h\" or \"2.5d\"")
    };
    if number.is_empty() {
        return Err(invalid());
    }
    if unit.is_empty() {
        if number.parse::<f64>().is_err() {
            return Err(invalid());
        }
        return Err(format!(
            "duration \"{shown}\" has no unit: write a number of hours without quotes, or a unit, like \"{}h\"",
            escape(number)
        ));
    }
    let Some((_, mul, div)) = UNITS.iter().find(|(names, _, _)| names.contains(&unit)) else {
        return Err(format!(
            "unknown unit `{}` in duration \"{shown}\": use one of ms, s (sec), m (min), h (hr, hours), d (days), w (weeks), y (years)",
            escape(unit)
        ));
    };
    let value: f64 = number.parse().map_err(|_| invalid())?;
    check_hours(value * mul / div, &shown)
}

fn check_hours(hours: f64, shown: &str) -> Result<f64, String> {
    if !hours.is_finite() {
        Err(format!("duration {shown} is not a finite number"))
    } else if hours < 0.0 {
        Err(format!(
            "duration {shown} is negative: durations are zero or more"
        ))
    } else {
        Ok(hours)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration: a number of hours or a string like \"90s\", \"8h\", \"2.5d\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        check_hours(v, &crate::model::dist::number(v))
            .map(Duration)
            .map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        self.visit_f64(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        self.visit_f64(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration(v).map(Duration).map_err(E::custom)
    }
}

/// A number as the loader reads it before a unit: digits with an optional
/// fraction and exponent (what `f64::from_str` takes, without `inf`/`nan`).
const NUMBER: &str = r"\+?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?";

/// A number whose digits are not all zero (so, short of underflow, > 0).
const NONZERO_NUMBER: &str =
    r"\+?([0-9]*[1-9][0-9]*\.?[0-9]*|[0-9]*\.[0-9]*[1-9][0-9]*)([eE][+-]?[0-9]+)?";

/// The JSON Schema pattern of a duration string: a number and one unit,
/// built from the unit table so that schema and parser name the same units.
/// `positive` leaves out numbers whose digits are all zero.
pub fn duration_pattern(positive: bool) -> String {
    let units: Vec<&str> = UNITS
        .iter()
        .flat_map(|(names, _, _)| names.iter().copied())
        .collect();
    let number = if positive { NONZERO_NUMBER } else { NUMBER };
    format!(r"^\s*{number}\s*({})\s*$", units.join("|"))
}

/// The schema of a duration, zero or more (`positive`: more than zero).
pub fn duration_schema(positive: bool) -> Schema {
    let (number, what) = if positive {
        (
            json_schema!({ "type": "number", "exclusiveMinimum": 0 }),
            "A positive duration",
        )
    } else {
        (
            json_schema!({ "type": "number", "minimum": 0 }),
            "A duration (zero or more)",
        )
    };
    json_schema!({
        "description": format!("{what}: a number of hours, or a string with a number and one unit (ms, s, m, h, d, w, y; 1y = 8760h; also sec, min, hr, hours, days, weeks, years), e.g. \"90s\", \"2.5d\", \"30 min\""),
        "oneOf": [
            number,
            { "type": "string", "pattern": duration_pattern(positive) }
        ]
    })
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        duration_schema(false)
    }
}

/// A duration that must be more than zero (a mean, an interval), for the
/// schema only: the loader reads it as a [`Duration`] and checks the sign
/// where it builds the model.
pub struct PositiveDuration;

impl JsonSchema for PositiveDuration {
    fn schema_name() -> Cow<'static, str> {
        "PositiveDuration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        duration_schema(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_to_hours() {
        assert_eq!(parse_duration("90s").unwrap(), 0.025);
        assert_eq!(parse_duration("2.5d").unwrap(), 60.0);
        assert_eq!(parse_duration("10y").unwrap(), 87_600.0);
        assert_eq!(parse_duration("30m").unwrap(), 0.5);
        assert_eq!(parse_duration("1w").unwrap(), 168.0);
        assert_eq!(parse_duration("3600000ms").unwrap(), 1.0);
        assert_eq!(parse_duration("30 min").unwrap(), 0.5);
        assert_eq!(parse_duration("2 hours").unwrap(), 2.0);
        assert_eq!(parse_duration("1hr").unwrap(), 1.0);
        assert_eq!(parse_duration("3 days").unwrap(), 72.0);
        assert_eq!(parse_duration("90sec").unwrap(), 0.025);
        assert_eq!(parse_duration("2 weeks").unwrap(), 336.0);
        assert_eq!(parse_duration("1 year").unwrap(), 8760.0);
        assert_eq!(parse_duration(" 1e3 h ").unwrap(), 1000.0);
    }

    #[test]
    fn bad_durations_are_errors() {
        for bad in [
            "5x", "-3h", "h", "", "1e400h", "nanh", "inf", "5 mon", "1..2h", "8", " 5 ",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }
}

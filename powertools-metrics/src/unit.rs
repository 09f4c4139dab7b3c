//! CloudWatch metric units and storage resolutions.

use std::fmt;
use std::str::FromStr;

macro_rules! units {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// A CloudWatch metric unit: every unit CloudWatch accepts, spelled as CloudWatch spells it.
        ///
        /// # Example
        /// ```
        /// use powertools_metrics::Unit;
        ///
        /// assert_eq!("Bytes/Second".parse::<Unit>(), Ok(Unit::BytesPerSecond));
        /// assert_eq!(Unit::CountPerSecond.to_string(), "Count/Second");
        /// assert!("Furlongs".parse::<Unit>().is_err());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Unit {
            $(#[doc = $doc] $variant,)*
        }

        impl Unit {
            /// Every unit, in CloudWatch's order.
            pub const ALL: &'static [Unit] = &[$(Unit::$variant),*];

            /// The name CloudWatch uses (`Bytes/Second`, `Count`, …).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Unit::$variant => $name,)*
                }
            }
        }

        impl FromStr for Unit {
            type Err = crate::MetricsError;

            /// Parses CloudWatch's name of a unit (exact spelling).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Unit::$variant),)*
                    _ => Err(crate::MetricsError::UnknownUnit(s.to_owned())),
                }
            }
        }
    };
}

units! {
    Seconds => "Seconds", "Seconds.";
    Microseconds => "Microseconds", "Microseconds.";
    Milliseconds => "Milliseconds", "Milliseconds.";
    Bytes => "Bytes", "Bytes.";
    Kilobytes => "Kilobytes", "Kilobytes.";
    Megabytes => "Megabytes", "Megabytes.";
    Gigabytes => "Gigabytes", "Gigabytes.";
    Terabytes => "Terabytes", "Terabytes.";
    Bits => "Bits", "Bits.";
    Kilobits => "Kilobits", "Kilobits.";
    Megabits => "Megabits", "Megabits.";
    Gigabits => "Gigabits", "Gigabits.";
    Terabits => "Terabits", "Terabits.";
    Percent => "Percent", "Percent.";
    Count => "Count", "A count.";
    BytesPerSecond => "Bytes/Second", "Bytes per second.";
    KilobytesPerSecond => "Kilobytes/Second", "Kilobytes per second.";
    MegabytesPerSecond => "Megabytes/Second", "Megabytes per second.";
    GigabytesPerSecond => "Gigabytes/Second", "Gigabytes per second.";
    TerabytesPerSecond => "Terabytes/Second", "Terabytes per second.";
    BitsPerSecond => "Bits/Second", "Bits per second.";
    KilobitsPerSecond => "Kilobits/Second", "Kilobits per second.";
    MegabitsPerSecond => "Megabits/Second", "Megabits per second.";
    GigabitsPerSecond => "Gigabits/Second", "Gigabits per second.";
    TerabitsPerSecond => "Terabits/Second", "Terabits per second.";
    CountPerSecond => "Count/Second", "A count per second.";
    None => "None", "No unit.";
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How finely CloudWatch stores a metric.
///
/// # Example
/// ```
/// use powertools_metrics::Resolution;
/// assert_eq!(Resolution::default(), Resolution::Standard);
/// assert_eq!(Resolution::High.seconds(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Resolution {
    /// One-minute resolution (`StorageResolution` 60, omitted from the document).
    #[default]
    Standard,
    /// One-second resolution (`StorageResolution: 1`).
    High,
}

impl Resolution {
    /// The storage resolution in seconds: 60 or 1.
    pub const fn seconds(self) -> u8 {
        match self {
            Resolution::Standard => 60,
            Resolution::High => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_round_trips_through_its_name() {
        assert_eq!(Unit::ALL.len(), 27);
        for unit in Unit::ALL {
            assert_eq!(unit.to_string().parse::<Unit>(), Ok(*unit));
        }
    }

    #[test]
    fn every_unit_matches_the_schema_pattern() {
        let schema = crate::test_support::schema_json();
        let pattern =
            schema["properties"]["_aws"]["properties"]["CloudWatchMetrics"]["items"]["properties"]
                ["Metrics"]["items"]["properties"]["Unit"]["pattern"]
                .as_str()
                .unwrap()
                .to_owned();
        let names: Vec<String> = pattern
            .trim_start_matches("^(")
            .trim_end_matches(")$")
            .split('|')
            .map(|n| n.replace("\\/", "/"))
            .collect();
        let ours: Vec<&str> = Unit::ALL.iter().map(|u| u.as_str()).collect();
        assert_eq!(names, ours);
    }

    #[test]
    fn unknown_and_misspelt_units_are_rejected() {
        for bad in ["", "count", "Bytes/second", "Nanoseconds", " Count"] {
            assert_eq!(
                bad.parse::<Unit>(),
                Err(crate::MetricsError::UnknownUnit(bad.to_owned()))
            );
        }
    }
}

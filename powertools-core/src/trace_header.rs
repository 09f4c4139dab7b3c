//! The X-Ray trace header: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
//!
//! Lambda hands every invocation one of these (the `Lambda-Runtime-Trace-Id` header, exposed as
//! [`lambda_runtime::Context::xray_trace_id`]). [`TraceHeader`] parses it strictly: a malformed
//! `Root`, `Parent` or `Sampled` is a [`TraceHeaderError`], never a panic. Keys this crate does not
//! know (`Self=…` from ALB, for example) are skipped.

use std::fmt;
use std::str::FromStr;

/// Why a trace header could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceHeaderError {
    /// The header carries no `Root=` field.
    #[error("trace header has no Root field")]
    MissingRoot,
    /// `Root` is not `1-<8 hex>-<24 hex>`.
    #[error("trace header Root {0:?} is not of the form 1-<8 hex digits>-<24 hex digits>")]
    InvalidRoot(String),
    /// `Parent` is not 16 hex digits.
    #[error("trace header Parent {0:?} is not 16 hex digits")]
    InvalidParent(String),
    /// `Sampled` is not `0`, `1` or `?`.
    #[error("trace header Sampled {0:?} is not 0, 1 or ?")]
    InvalidSampled(String),
    /// A `key=value` pair has no `=`, or a key appears twice.
    #[error("trace header field {0:?} is malformed")]
    MalformedField(String),
}

/// A parsed X-Ray trace header.
///
/// # Example
/// ```
/// use powertools_core::TraceHeader;
///
/// let header: TraceHeader =
///     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".parse()?;
/// assert_eq!(header.root(), "1-5759e988-bd862e3fe1be46a994272793");
/// assert_eq!(header.parent(), Some("53995c3f42cd8ad8"));
/// assert_eq!(header.sampled(), Some(true));
/// # Ok::<(), powertools_core::TraceHeaderError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceHeader {
    root: String,
    parent: Option<String>,
    sampled: Option<bool>,
    lineage: Option<String>,
}

impl TraceHeader {
    /// Builds a header from its parts, checking each like [`str::parse`] does.
    ///
    /// ```
    /// use powertools_core::TraceHeader;
    /// let h = TraceHeader::new("1-5759e988-bd862e3fe1be46a994272793", Some("53995c3f42cd8ad8"), Some(true))?;
    /// assert_eq!(h.to_string(), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
    /// # Ok::<(), powertools_core::TraceHeaderError>(())
    /// ```
    pub fn new(
        root: &str,
        parent: Option<&str>,
        sampled: Option<bool>,
    ) -> Result<Self, TraceHeaderError> {
        if !is_valid_root(root) {
            return Err(TraceHeaderError::InvalidRoot(root.to_owned()));
        }
        if let Some(p) = parent
            && !is_hex_id(p)
        {
            return Err(TraceHeaderError::InvalidParent(p.to_owned()));
        }
        Ok(Self {
            root: root.to_owned(),
            parent: parent.map(str::to_owned),
            sampled,
            lineage: None,
        })
    }

    /// The trace id, `1-<epoch seconds, 8 hex>-<24 hex>`: the X-Ray `trace_id` of every
    /// subsegment of the invocation and the logger's `xray_trace_id` key.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The id of the segment Lambda created for the invocation: the `parent_id` of the handler's
    /// subsegment.
    pub fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }

    /// The sampling decision: `Some(true)` for `Sampled=1`, `Some(false)` for `Sampled=0`, `None`
    /// when undecided (`Sampled=?` or absent).
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// The `Lineage` field, passed through untouched when present.
    pub fn lineage(&self) -> Option<&str> {
        self.lineage.as_deref()
    }

    /// The same trace with another parent: the header to send downstream from a subsegment.
    ///
    /// ```
    /// use powertools_core::TraceHeader;
    /// let h: TraceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".parse()?;
    /// let down = h.with_parent("0123456789abcdef")?;
    /// assert_eq!(down.parent(), Some("0123456789abcdef"));
    /// # Ok::<(), powertools_core::TraceHeaderError>(())
    /// ```
    pub fn with_parent(&self, parent: &str) -> Result<Self, TraceHeaderError> {
        if !is_hex_id(parent) {
            return Err(TraceHeaderError::InvalidParent(parent.to_owned()));
        }
        Ok(Self {
            parent: Some(parent.to_owned()),
            ..self.clone()
        })
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 16 && is_hex(s)
}

fn is_valid_root(root: &str) -> bool {
    let mut parts = root.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("1"), Some(time), Some(unique), None)
            if time.len() == 8 && is_hex(time) && unique.len() == 24 && is_hex(unique)
    )
}

impl FromStr for TraceHeader {
    type Err = TraceHeaderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        let mut lineage = None;
        for field in s.split(';').map(str::trim).filter(|f| !f.is_empty()) {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| TraceHeaderError::MalformedField(field.to_owned()))?;
            let duplicate = || TraceHeaderError::MalformedField(field.to_owned());
            match key.trim() {
                "Root" => {
                    if root.is_some() {
                        return Err(duplicate());
                    }
                    if !is_valid_root(value) {
                        return Err(TraceHeaderError::InvalidRoot(value.to_owned()));
                    }
                    root = Some(value.to_owned());
                }
                "Parent" => {
                    if parent.is_some() {
                        return Err(duplicate());
                    }
                    if !is_hex_id(value) {
                        return Err(TraceHeaderError::InvalidParent(value.to_owned()));
                    }
                    parent = Some(value.to_owned());
                }
                "Sampled" => {
                    sampled = match value {
                        "1" => Some(true),
                        "0" => Some(false),
                        "?" => None,
                        other => return Err(TraceHeaderError::InvalidSampled(other.to_owned())),
                    };
                }
                "Lineage" => lineage = Some(value.to_owned()),
                _ => {}
            }
        }
        Ok(Self {
            root: root.ok_or(TraceHeaderError::MissingRoot)?,
            parent,
            sampled,
            lineage,
        })
    }
}

impl fmt::Display for TraceHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Root={}", self.root)?;
        if let Some(parent) = &self.parent {
            write!(f, ";Parent={parent}")?;
        }
        if let Some(sampled) = self.sampled {
            write!(f, ";Sampled={}", u8::from(sampled))?;
        }
        if let Some(lineage) = &self.lineage {
            write!(f, ";Lineage={lineage}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";

    #[test]
    fn parses_a_full_header() {
        let h: TraceHeader =
            format!("Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5")
                .parse()
                .unwrap();
        assert_eq!(h.root(), ROOT);
        assert_eq!(h.parent(), Some("53995c3f42cd8ad8"));
        assert_eq!(h.sampled(), Some(true));
        assert_eq!(h.lineage(), Some("a87bd80c:1|68fd508a:5"));
        assert_eq!(
            h.to_string(),
            format!("Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5")
        );
    }

    #[test]
    fn sampled_zero_and_undecided() {
        let h: TraceHeader = format!("Root={ROOT};Sampled=0").parse().unwrap();
        assert_eq!(h.sampled(), Some(false));
        assert_eq!(h.parent(), None);
        let h: TraceHeader = format!("Root={ROOT};Sampled=?").parse().unwrap();
        assert_eq!(h.sampled(), None);
    }

    #[test]
    fn unknown_keys_are_skipped() {
        let h: TraceHeader = format!("Self=1-67891234-12456789abcdef012345678;Root={ROOT}")
            .parse()
            .unwrap();
        assert_eq!(h.root(), ROOT);
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        let cases = [
            ("", TraceHeaderError::MissingRoot),
            ("Parent=53995c3f42cd8ad8", TraceHeaderError::MissingRoot),
            (
                "Root=2-5759e988-bd862e3fe1be46a994272793",
                TraceHeaderError::InvalidRoot("2-5759e988-bd862e3fe1be46a994272793".into()),
            ),
            (
                "Root=1-5759e98-bd862e3fe1be46a994272793",
                TraceHeaderError::InvalidRoot("1-5759e98-bd862e3fe1be46a994272793".into()),
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a99427279z",
                TraceHeaderError::InvalidRoot("1-5759e988-bd862e3fe1be46a99427279z".into()),
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793-00",
                TraceHeaderError::InvalidRoot("1-5759e988-bd862e3fe1be46a994272793-00".into()),
            ),
            (
                &format!("Root={ROOT};Parent=53995c3f"),
                TraceHeaderError::InvalidParent("53995c3f".into()),
            ),
            (
                &format!("Root={ROOT};Parent=53995c3f42cd8adX"),
                TraceHeaderError::InvalidParent("53995c3f42cd8adX".into()),
            ),
            (
                &format!("Root={ROOT};Sampled=yes"),
                TraceHeaderError::InvalidSampled("yes".into()),
            ),
            (
                &format!("Root={ROOT};garbage"),
                TraceHeaderError::MalformedField("garbage".into()),
            ),
            (
                &format!("Root={ROOT};Root={ROOT}"),
                TraceHeaderError::MalformedField(format!("Root={ROOT}")),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(input.parse::<TraceHeader>(), Err(expected), "{input}");
        }
    }

    #[test]
    fn multibyte_input_is_an_error_not_a_panic() {
        assert!(
            "Root=1-é759e988-bd862e3fe1be46a994272793"
                .parse::<TraceHeader>()
                .is_err()
        );
        assert!(
            "Root=1-5759e988-ééééééééééééééééééééééé;"
                .parse::<TraceHeader>()
                .is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC*") {
            if let Ok(h) = s.parse::<TraceHeader>() {
                let again: TraceHeader = h.to_string().parse().unwrap();
                proptest::prop_assert_eq!(again, h);
            }
        }
    }
}

//! Subsegment names as X-Ray accepts them.

use std::borrow::Cow;

/// The longest name X-Ray accepts, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 200;

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            ' ' | '_' | '.' | ':' | '/' | '%' | '&' | '#' | '=' | '+' | '-' | '@'
        )
}

/// `name` with every character X-Ray rejects replaced by `_`, cut to 200 characters; `unnamed`
/// when empty. Borrows when the name is already valid.
///
/// Only ASCII letters and digits are kept as such: the set of non-ASCII letters X-Ray accepts is
/// tied to an old Unicode version, and a name it rejects loses the whole document.
pub(crate) fn sanitize(name: &str) -> Cow<'_, str> {
    if name.is_empty() {
        return Cow::Borrowed("unnamed");
    }
    if name.len() <= MAX_NAME_CHARS && name.chars().all(allowed) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(
        name.chars()
            .take(MAX_NAME_CHARS)
            .map(|c| if allowed(c) { c } else { '_' })
            .collect(),
    )
}

/// Like [`sanitize`], for a `'static` name (span names from callsites).
pub(crate) fn sanitize_static(name: &'static str) -> Cow<'static, str> {
    match sanitize(name) {
        Cow::Borrowed(b) if std::ptr::eq(b, name) => Cow::Borrowed(name),
        Cow::Borrowed(_) => Cow::Borrowed("unnamed"),
        Cow::Owned(o) => Cow::Owned(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_borrowed() {
        assert!(matches!(
            sanitize("## handler"),
            Cow::Borrowed("## handler")
        ));
        assert!(matches!(sanitize("GET /orders/{id}"), Cow::Owned(_)));
        assert_eq!(sanitize("GET /orders/{id}"), "GET /orders/_id_");
        assert_eq!(sanitize_static("fetch_order"), "fetch_order");
    }

    #[test]
    fn bad_characters_and_length() {
        assert_eq!(sanitize(""), "unnamed");
        assert_eq!(sanitize("a<b>c\"d\u{e9}\n"), "a_b_c_d__");
        let long = "x".repeat(500);
        assert_eq!(sanitize(&long).chars().count(), MAX_NAME_CHARS);
        assert_eq!(sanitize(&"é".repeat(300)).chars().count(), MAX_NAME_CHARS);
    }
}

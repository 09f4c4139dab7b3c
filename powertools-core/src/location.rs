//! Source locations as the toolkit writes them: never an absolute path of the machine that built
//! the function.

/// `file` as written in a `location`: a relative path is kept as the compiler gave it
/// (`src/main.rs`, or `my-fn/src/main.rs` in a workspace); an absolute one (a dependency in
/// `~/.cargo/registry`, a crate built outside the workspace root) is cut to its crate's folder:
/// `/home/me/.cargo/registry/src/index…/tokio-1.47.0/src/time.rs` is written
/// `tokio-1.47.0/src/time.rs`.
///
/// ```
/// use powertools_core::location::relative;
/// assert_eq!(relative("src/main.rs"), "src/main.rs");
/// assert_eq!(relative("/home/me/.cargo/registry/src/index.crates.io-1/tokio-1.47.0/src/time.rs"),
///            "tokio-1.47.0/src/time.rs");
/// assert_eq!(relative("/build/orders/src/bin/orders.rs"), "orders/src/bin/orders.rs");
/// assert_eq!(relative("/tmp/gen.rs"), "gen.rs");
/// ```
pub fn relative(file: &str) -> &str {
    let absolute = file.starts_with('/') || file.as_bytes().get(1) == Some(&b':');
    if !absolute {
        return file;
    }
    let file_sep = |c: char| c == '/' || c == '\\';
    // The last `src` folder, and the crate folder that holds it.
    let mut search = file;
    while let Some(at) = search.rfind("src") {
        let before = &file[..at];
        let after = &file[at + 3..];
        if before.ends_with(file_sep) && after.starts_with(file_sep) {
            let crate_dir = before[..before.len() - 1]
                .rfind(file_sep)
                .map_or(0, |i| i + 1);
            return &file[crate_dir..];
        }
        search = &file[..at];
    }
    file.rsplit(file_sep).next().unwrap_or(file)
}

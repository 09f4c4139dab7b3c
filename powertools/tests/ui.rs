//! Compile errors of `#[powertools::handler]`: each points at the mistake.

#[test]
fn handler_attribute_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

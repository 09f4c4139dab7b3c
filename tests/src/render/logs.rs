use serde_json::Value;

use super::Style;

fn level_code(level: &str) -> &'static str {
    match level {
        "ERROR" | "CRITICAL" => "1;31",
        "WARN" | "WARNING" => "1;33",
        "INFO" => "1;32",
        "DEBUG" => "1;34",
        _ => "2",
    }
}

/// One log line: `LEVEL message` on a header line, then the line's JSON indented, the Lambda
/// context keys dimmed.
pub fn render_log_line(line: &Value, style: Style) -> String {
    let level = line["level"].as_str().unwrap_or("?");
    let message = match &line["message"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = format!(
        "{} {}\n",
        style.paint(level_code(level), &format!("{level:<5}")),
        style.paint("1", &message)
    );
    let pretty = serde_json::to_string_pretty(line).unwrap_or_default();
    for l in pretty.lines() {
        let context_key = [
            "\"cold_start\"",
            "\"function_name\"",
            "\"function_memory_size\"",
            "\"function_arn\"",
            "\"timestamp\"",
            "\"location\"",
            "\"xray_trace_id\"",
        ]
        .iter()
        .any(|k| l.trim_start().starts_with(k));
        let l = if context_key {
            style.paint("2", l)
        } else {
            l.to_owned()
        };
        out.push_str("      ");
        out.push_str(&l);
        out.push('\n');
    }
    out
}

use std::fmt::Write as _;

use serde_json::Value;

use super::Style;

/// The metrics of EMF documents as a table: namespace, metric, unit, value(s), dimensions.
pub fn render_metrics_table(docs: &[&Value], style: Style) -> String {
    let mut rows: Vec<[String; 5]> = Vec::new();
    for doc in docs {
        for directive in doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let namespace = directive["Namespace"].as_str().unwrap_or("").to_owned();
            let dims: Vec<String> = directive["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|set| {
                    set.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(|k| format!("{k}={}", doc[k].as_str().unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect();
            for metric in directive["Metrics"].as_array().into_iter().flatten() {
                let name = metric["Name"].as_str().unwrap_or("").to_owned();
                let mut unit = metric["Unit"].as_str().unwrap_or("None").to_owned();
                if metric["StorageResolution"] == 1 {
                    unit.push_str(" (1s)");
                }
                rows.push([
                    namespace.clone(),
                    name.clone(),
                    unit,
                    doc[&name].to_string(),
                    dims.join(" | "),
                ]);
            }
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let header = ["namespace", "metric", "unit", "value", "dimensions"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(s, "{c:<w$}  ", w = widths[i]);
        }
        s.trim_end().to_owned()
    };
    let mut out = style.paint("1", &line(header)) + "\n";
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
        out.push('\n');
    }
    out
}

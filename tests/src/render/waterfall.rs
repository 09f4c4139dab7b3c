use std::fmt::Write as _;

use serde_json::Value;

use super::Style;

const BAR_WIDTH: usize = 40;

/// The subsegments of one trace as a terminal waterfall: the tree indented by nesting, each with
/// a bar placed on the invocation's timeline, its duration and its flags.
///
/// `documents` are the X-Ray documents of the trace; `root_parent` the `Parent` of the trace
/// header (Lambda's segment), under which the top subsegments hang. Documents sent twice (in
/// progress, then complete) are shown once, complete.
pub fn render_waterfall(documents: &[&Value], root_parent: Option<&str>, style: Style) -> String {
    let mut nodes: Vec<&Value> = Vec::new();
    // Subsegments embedded in another document carry no `parent_id`: their parent draws them.
    let mut embedded: Vec<&str> = Vec::new();
    for doc in documents {
        collect(doc, &mut nodes, &mut embedded, false);
    }
    // Keep the last document per id (complete beats in-progress).
    let mut unique: Vec<&Value> = Vec::new();
    for n in nodes {
        if let Some(pos) = unique.iter().position(|u| u["id"] == n["id"]) {
            if n.get("end_time").is_some() {
                unique[pos] = n;
            }
        } else {
            unique.push(n);
        }
    }
    if unique.is_empty() {
        return String::new();
    }
    let start = unique
        .iter()
        .filter_map(|n| n["start_time"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let end = unique
        .iter()
        .filter_map(|n| n["end_time"].as_f64().or(n["start_time"].as_f64()))
        .fold(f64::NEG_INFINITY, f64::max);
    let span = (end - start).max(1e-6);
    let ids: Vec<&str> = unique.iter().filter_map(|n| n["id"].as_str()).collect();
    let mut out = String::new();
    let roots: Vec<&Value> = unique
        .iter()
        .copied()
        .filter(|n| {
            let p = n["parent_id"].as_str();
            let is_embedded = n["id"].as_str().is_some_and(|id| embedded.contains(&id));
            !is_embedded
                && (p.is_none() || p == root_parent || !ids.contains(&p.unwrap_or_default()))
        })
        .collect();
    for r in roots {
        draw(r, &unique, 0, start, span, style, &mut out);
    }
    out
}

fn collect<'a>(
    doc: &'a Value,
    into: &mut Vec<&'a Value>,
    embedded: &mut Vec<&'a str>,
    is_child: bool,
) {
    into.push(doc);
    if is_child && let Some(id) = doc["id"].as_str() {
        embedded.push(id);
    }
    for child in doc["subsegments"].as_array().into_iter().flatten() {
        collect(child, into, embedded, true);
    }
}

fn draw(
    node: &Value,
    all: &[&Value],
    depth: usize,
    start: f64,
    span: f64,
    style: Style,
    out: &mut String,
) {
    let s = node["start_time"].as_f64().unwrap_or(start);
    let e = node["end_time"].as_f64();
    let from = (((s - start) / span) * BAR_WIDTH as f64).round() as usize;
    let to =
        ((((e.unwrap_or(s) - start) / span) * BAR_WIDTH as f64).round() as usize).max(from + 1);
    let bar: String = (0..BAR_WIDTH)
        .map(|i| {
            if i >= from && i < to.min(BAR_WIDTH) {
                '█'
            } else {
                '·'
            }
        })
        .collect();
    let failed = node["fault"] == true || node["error"] == true;
    let bar = style.paint(if failed { "31" } else { "36" }, &bar);
    let duration = e.map_or_else(
        || "in progress".to_owned(),
        |e| format!("{:.3} ms", (e - s) * 1000.0),
    );
    let name = node["name"].as_str().unwrap_or("?");
    let mut flags = String::new();
    for f in ["fault", "error", "throttle"] {
        if node[f] == true {
            let _ = write!(flags, " {}", style.paint("1;31", f));
        }
    }
    if let Some(a) = node["annotations"].as_object() {
        for (k, v) in a {
            let _ = write!(flags, " {}", style.paint("2", &format!("{k}={v}")));
        }
    }
    let label = format!("{}{name}", "  ".repeat(depth));
    let _ = writeln!(out, "  {label:<36} {bar} {duration:>12}{flags}");
    let id = node["id"].as_str();
    let mut children: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|c| c["parent_id"].as_str() == id && c["id"] != node["id"])
        .collect();
    for c in node["subsegments"].as_array().into_iter().flatten() {
        if !children.iter().any(|x| x["id"] == c["id"]) {
            children.push(c);
        }
    }
    children.sort_by(|a, b| {
        a["start_time"]
            .as_f64()
            .partial_cmp(&b["start_time"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for c in children {
        draw(c, all, depth + 1, start, span, style, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn draws_a_nested_tree_once_per_subsegment() {
        let handler = json!({"id": "aaaaaaaaaaaaaaaa", "parent_id": "ffffffffffffffff", "name": "## handler",
            "start_time": 100.0, "end_time": 100.010, "annotations": {"ColdStart": true}});
        let child_in_progress = json!({"id": "bbbbbbbbbbbbbbbb", "parent_id": "aaaaaaaaaaaaaaaa", "name": "load_order",
            "start_time": 100.002, "in_progress": true});
        let child = json!({"id": "bbbbbbbbbbbbbbbb", "parent_id": "aaaaaaaaaaaaaaaa", "name": "load_order",
            "start_time": 100.002, "end_time": 100.007, "fault": true});
        let text = render_waterfall(
            &[&handler, &child_in_progress, &child],
            Some("ffffffffffffffff"),
            Style { color: false },
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("## handler")
                && lines[0].contains("10.000 ms")
                && lines[0].contains("ColdStart=true")
        );
        assert!(
            lines[1].contains("  load_order")
                && lines[1].contains("5.000 ms")
                && lines[1].contains("fault")
        );
    }

    #[test]
    fn embedded_subsegments_are_drawn_under_their_parent_only() {
        let handler = json!({"id": "aaaaaaaaaaaaaaaa", "parent_id": "ffffffffffffffff", "name": "## handler",
            "start_time": 100.0, "end_time": 100.010,
            "subsegments": [{"id": "cccccccccccccccc", "name": "greet", "start_time": 100.001, "end_time": 100.004}]});
        let text = render_waterfall(
            &[&handler],
            Some("ffffffffffffffff"),
            Style { color: false },
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[1].contains("  greet"), "{text}");
    }
}

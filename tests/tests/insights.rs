//! `docs/insights.md` against real output: every CloudWatch Logs Insights query of the cookbook
//! names only fields the toolkit writes, with the JSON type the query treats them as, and the
//! fields of one query appear together in at least one line; the cookbook's field table holds
//! too.
//!
//! The output comes from the real `hello-world` binary (cold, warm, failing and panicking
//! invocations, with event logging, sampling and tenant ids) through the local Runtime API, and
//! from handlers run through `powertools::testing` for what `hello-world` does not show
//! (correlation ids across two functions, an error with a `source()` chain).
//!
//! The type rules follow how Logs Insights reads JSON (see the cookbook): a field compared with
//! `<`, `>`, `<=`, `>=` or used in arithmetic or `avg`/`pct`/`stddev` must be a number; one
//! aggregated with `sum`, `min` or `max` a number or a boolean (booleans are indexed as 1 and 0);
//! one compared with `= 1`/`= 0`/`= true`/`= false` a boolean; one compared with a string,
//! `like`, `=~` or `in ["…"]` a string. Fields starting with `@` and those a query lists in a
//! `# from Lambda:` comment are Lambda's or Logs Insights', and not checked.

use std::collections::{BTreeMap, BTreeSet};

use lambda_runtime::{Error, LambdaEvent};
use powertools::metrics::Unit;
use powertools::testing::TestHarness;
use powertools_e2e::function::{FunctionHarness, workspace_binary, workspace_root};
use powertools_e2e::runtime_api::ScriptedEvent;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The cookbook: its queries and its field table.

/// One ```insights block of the cookbook.
#[derive(Debug)]
struct Query {
    /// The heading above it, for messages.
    title: String,
    text: String,
}

fn cookbook() -> String {
    let path = workspace_root().join("docs/insights.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn queries(markdown: &str) -> Vec<Query> {
    let mut out = Vec::new();
    let mut title = String::new();
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        match &mut block {
            Some(text) if line.trim_start().starts_with("```") => {
                out.push(Query {
                    title: title.clone(),
                    text: std::mem::take(text),
                });
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None if line.trim() == "```insights" => block = Some(String::new()),
            None if line.starts_with('#') => {
                line.trim_start_matches('#').trim().clone_into(&mut title);
            }
            None => {}
        }
    }
    assert!(block.is_none(), "an ```insights block is not closed");
    out
}

/// The rows of the "fields we write" table: (field, JSON type as written).
fn field_table(markdown: &str) -> Vec<(String, String)> {
    let section = markdown
        .split("## The fields we write")
        .nth(1)
        .expect("the cookbook has a \"The fields we write\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), (*cells.get(2)?).to_owned()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading a Logs Insights query.

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Regex,
    Number(String),
    Punct(&'static str),
}

const PUNCTS: [&str; 19] = [
    "!=", "<=", ">=", "=~", "=", "<", ">", "(", ")", ",", "*", "/", "+", "-", "%", "^", "|", "[",
    "]",
];

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@'
}

/// Whether a `/` at this point starts a regular expression (an operand is expected) rather than
/// dividing.
fn operand_expected(previous: Option<&Token>) -> bool {
    match previous {
        None => true,
        Some(Token::Ident(word)) => matches!(
            word.to_ascii_lowercase().as_str(),
            "like" | "not" | "and" | "or" | "filter" | "parse"
        ),
        Some(Token::Punct(p)) => !matches!(*p, ")" | "]"),
        Some(_) => false,
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' || c == '\'' || c == '`' {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            let inner: String = chars[start..i.min(chars.len())].iter().collect();
            tokens.push(if c == '`' {
                Token::Ident(inner)
            } else {
                Token::Str(inner)
            });
            i += 1;
        } else if c == '/' && operand_expected(tokens.last()) {
            i += 1;
            while i < chars.len() && chars[i] != '/' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            tokens.push(Token::Regex);
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            // Numbers, and durations such as `5m` or `1h`.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if is_ident_char(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let punct = PUNCTS
                .iter()
                .find(|p| rest.starts_with(**p))
                .unwrap_or_else(|| panic!("unexpected character {c:?} in query:\n{text}"));
            tokens.push(Token::Punct(punct));
            i += punct.len();
        }
    }
    tokens
}

/// What a query needs of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Expect {
    /// Present, any type (`fields`, `display`, `by`, `sort`, `ispresent`, `count`, …).
    Present,
    /// A JSON number.
    Number,
    /// A JSON number or boolean (`sum`, `min`, `max`: booleans count as 1 and 0).
    Numeric,
    /// A JSON boolean (`= 1`, `= 0`, `= true`, `= false`).
    Boolean,
    /// A JSON string.
    String,
}

const KEYWORDS: [&str; 12] = [
    "and", "or", "not", "like", "in", "as", "by", "asc", "desc", "true", "false", "null",
];
const COMMANDS: [&str; 9] = [
    "fields", "filter", "stats", "sort", "display", "parse", "limit", "dedup", "where",
];
const COMPARISONS: [&str; 6] = ["=", "!=", "<", ">", "<=", ">="];
const ARITHMETIC: [&str; 6] = ["*", "/", "+", "-", "%", "^"];

fn function_expect(function: &str) -> Expect {
    match function.to_ascii_lowercase().as_str() {
        "avg" | "pct" | "percentile" | "stddev" | "abs" | "ceil" | "floor" | "log" | "sqrt" => {
            Expect::Number
        }
        "sum" | "min" | "max" => Expect::Numeric,
        "strcontains" | "strlen" | "substr" | "tolower" | "toupper" | "trim" | "ltrim"
        | "rtrim" | "replace" => Expect::String,
        _ => Expect::Present,
    }
}

fn literal_expect(op: &str, literal: &Token) -> Option<Expect> {
    let ordering = matches!(op, "<" | ">" | "<=" | ">=");
    match literal {
        Token::Number(_) if ordering => Some(Expect::Number),
        Token::Number(n) if n == "1" || n == "0" => Some(Expect::Boolean),
        Token::Number(_) => Some(Expect::Number),
        Token::Ident(w) if matches!(w.as_str(), "true" | "false") => Some(Expect::Boolean),
        Token::Str(_) if ordering => None,
        Token::Str(_) => Some(Expect::String),
        _ => None,
    }
}

/// The fields a query names and what it needs of each; Lambda's (`@…` and those listed in a
/// `# from Lambda:` comment) and the query's own aliases left out.
fn field_uses(query: &str) -> BTreeMap<String, BTreeSet<Expect>> {
    let lambda: BTreeSet<String> = query
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# from Lambda:"))
        .flat_map(|list| list.split(','))
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    let tokens = tokenize(query);
    let ident = |i: usize| match tokens.get(i) {
        Some(Token::Ident(w)) => Some(w.as_str()),
        _ => None,
    };
    let punct = |i: usize| match tokens.get(i) {
        Some(Token::Punct(p)) => Some(*p),
        _ => None,
    };

    // Aliases: `… as name` (and `parse … as a, b`).
    let mut aliases = BTreeSet::new();
    for i in 0..tokens.len() {
        if ident(i).is_some_and(|w| w.eq_ignore_ascii_case("as")) {
            let mut j = i + 1;
            while let Some(name) = ident(j) {
                aliases.insert(name.to_owned());
                if punct(j + 1) == Some(",") && i > 0 && is_parse_alias_list(&tokens, i) {
                    j += 2;
                } else {
                    break;
                }
            }
        }
    }

    let mut uses: BTreeMap<String, BTreeSet<Expect>> = BTreeMap::new();
    // The functions whose parentheses enclose the current token.
    let mut calls: Vec<Option<String>> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct("(") => {
                // A function's parentheses, or grouping ones (after a command or operator).
                let function = if i > 0 { ident(i - 1) } else { None }.filter(|w| {
                    let lower = w.to_ascii_lowercase();
                    !COMMANDS.contains(&lower.as_str()) && !KEYWORDS.contains(&lower.as_str())
                });
                calls.push(function.map(str::to_owned));
            }
            Token::Punct(")") => {
                calls.pop();
            }
            Token::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                let is_command =
                    (i == 0 || punct(i - 1) == Some("|")) && COMMANDS.contains(&lower.as_str());
                if is_command
                    || KEYWORDS.contains(&lower.as_str())
                    || punct(i + 1) == Some("(")
                    || word.starts_with('@')
                    || aliases.contains(word)
                    || lambda.contains(word)
                {
                    continue;
                }
                let function = calls.last().cloned().flatten();
                let expects = expectations(&tokens, i, function.as_deref());
                uses.entry(word.clone()).or_default().extend(expects);
            }
            _ => {}
        }
    }
    uses
}

/// What the token at `i` (a field inside `function`'s parentheses, if any) is used as.
fn expectations(tokens: &[Token], i: usize, function: Option<&str>) -> BTreeSet<Expect> {
    let ident = |i: usize| match tokens.get(i) {
        Some(Token::Ident(w)) => Some(w.as_str()),
        _ => None,
    };
    let punct = |i: usize| match tokens.get(i) {
        Some(Token::Punct(p)) => Some(*p),
        _ => None,
    };
    let mut expects = BTreeSet::new();
    if let Some(function) = function {
        expects.insert(function_expect(function));
    }
    if let (Some(op), Some(literal)) = (punct(i + 1), tokens.get(i + 2))
        && COMPARISONS.contains(&op)
        && let Some(e) = literal_expect(op, literal)
    {
        expects.insert(e);
    }
    if i >= 2
        && let (Some(op), Some(literal)) = (punct(i - 1), tokens.get(i - 2))
        && COMPARISONS.contains(&op)
        && let Some(e) = literal_expect(op, literal)
    {
        expects.insert(e);
    }
    let next_word = ident(i + 1).map(str::to_ascii_lowercase);
    let after_not = if next_word.as_deref() == Some("not") {
        ident(i + 2).map(str::to_ascii_lowercase)
    } else {
        None
    };
    if next_word.as_deref() == Some("like")
        || after_not.as_deref() == Some("like")
        || punct(i + 1) == Some("=~")
    {
        expects.insert(Expect::String);
    }
    if next_word.as_deref() == Some("in") && punct(i + 2) == Some("[") {
        match tokens.get(i + 3) {
            Some(Token::Str(_)) => expects.insert(Expect::String),
            Some(Token::Number(_)) => expects.insert(Expect::Number),
            _ => false,
        };
    }
    let arithmetic = |p: Option<&str>| p.is_some_and(|p| ARITHMETIC.contains(&p));
    if arithmetic(punct(i + 1)) || (i > 0 && arithmetic(punct(i - 1))) {
        expects.insert(Expect::Number);
    }
    if expects.is_empty() {
        expects.insert(Expect::Present);
    }
    expects
}

/// Whether the `as` at `i` belongs to a `parse` command (whose `as` names several fields).
fn is_parse_alias_list(tokens: &[Token], i: usize) -> bool {
    tokens[..i]
        .iter()
        .rev()
        .take_while(|t| **t != Token::Punct("|"))
        .last()
        .is_some_and(|t| matches!(t, Token::Ident(w) if w.eq_ignore_ascii_case("parse")))
}

// ---------------------------------------------------------------------------------------------
// Checking queries against output.

/// A document's fields as Logs Insights names them: nested keys joined with dots, array items
/// by index (the array itself kept under its own name too).
fn flatten(value: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        let child = |key: &str| {
            if prefix.is_empty() {
                key.to_owned()
            } else {
                format!("{prefix}.{key}")
            }
        };
        match value {
            Value::Object(map) => {
                if !prefix.is_empty() {
                    out.insert(prefix.to_owned(), value.clone());
                }
                for (k, v) in map {
                    walk(&child(k), v, out);
                }
            }
            Value::Array(items) => {
                out.insert(prefix.to_owned(), value.clone());
                for (n, v) in items.iter().enumerate() {
                    walk(&child(&n.to_string()), v, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", value, &mut out);
    out
}

fn satisfies(value: &Value, expect: Expect) -> bool {
    match expect {
        Expect::Present => !value.is_null(),
        Expect::Number => value.is_number(),
        Expect::Numeric => value.is_number() || value.is_boolean(),
        Expect::Boolean => value.is_boolean(),
        Expect::String => value.is_string(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What is wrong with `query` against `documents` (empty when nothing is).
fn check_query(query: &str, documents: &[BTreeMap<String, Value>]) -> Vec<String> {
    let uses = field_uses(query);
    let mut problems = Vec::new();
    for (field, expects) in &uses {
        let seen: Vec<&Value> = documents.iter().filter_map(|d| d.get(field)).collect();
        if seen.is_empty() {
            problems.push(format!(
                "`{field}` is not in any line or EMF document we write"
            ));
            continue;
        }
        for &expect in expects {
            if !seen.iter().any(|v| satisfies(v, expect)) {
                let types: BTreeSet<&str> = seen.iter().map(|v| type_name(v)).collect();
                problems.push(format!(
                    "`{field}` is used as {expect:?} but we write it as {types:?}"
                ));
            }
        }
    }
    if problems.is_empty() && !uses.is_empty() {
        let together = documents.iter().any(|doc| {
            uses.iter().all(|(field, expects)| {
                doc.get(field)
                    .is_some_and(|v| expects.iter().all(|&e| satisfies(v, e)))
            })
        });
        if !together {
            problems.push(format!(
                "no single line has all of {:?}: the query cannot match anything",
                uses.keys().collect::<Vec<_>>()
            ));
        }
    }
    problems
}

fn table_type_matches(value: &Value, written: &str) -> bool {
    written.split(" or ").any(|t| type_name(value) == t.trim())
}

// ---------------------------------------------------------------------------------------------
// Producing real output.

/// Log lines and EMF documents of the real `hello-world` binary: cold, warm, failing and
/// panicking invocations, with event logging, sampling and tenant ids.
async fn hello_world_output() -> Vec<Value> {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .env("POWERTOOLS_LOGGER_LOG_EVENT", "true")
        .env("POWERTOOLS_LOGGER_SAMPLE_RATE", "1")
        .start()
        .await;
    let events = [
        json!({ "name": "Ada" }),
        json!({ "name": "Grace" }),
        json!({ "fail": true }),
        json!({ "panic": true }),
    ];
    let mut request_ids = Vec::new();
    for (n, body) in events.into_iter().enumerate() {
        let event =
            ScriptedEvent::new(body).tenant(if n % 2 == 0 { "tenant-a" } else { "tenant-b" });
        request_ids.push(event.request_id.clone());
        f.invoke(event).await;
    }
    let captured = f.stop().await;

    // What the queries rely on, beyond field names and types.
    let cold: Vec<&Value> = captured
        .logs
        .iter()
        .filter(|l| l["cold_start"] == true)
        .collect();
    assert!(
        !cold.is_empty()
            && cold
                .iter()
                .all(|l| l["function_request_id"] == request_ids[0].as_str()),
        "only the first invocation's lines are cold: {cold:?}"
    );
    let errors: Vec<&Value> = captured
        .logs
        .iter()
        .filter(|l| l["level"] == "ERROR" && l.get("exception_name").is_some())
        .collect();
    assert_eq!(
        errors.len(),
        2,
        "one ERROR line per failed invocation: {errors:?}"
    );
    assert_eq!(errors[0]["function_request_id"], request_ids[2].as_str());
    assert_eq!(errors[1]["exception_name"], "Panic");
    assert_eq!(
        captured.emf_with_metric("ColdStart").len(),
        1,
        "one ColdStart document per cold invocation"
    );
    for (n, id) in request_ids.iter().enumerate() {
        let lines = captured.logs_for(id);
        assert!(!lines.is_empty(), "invocation {n} logged");
        let tenant = if n % 2 == 0 { "tenant-a" } else { "tenant-b" };
        assert!(
            lines.iter().all(|l| l["tenant_id"] == tenant),
            "every line of invocation {n} carries its tenant id: {lines:?}"
        );
        assert!(
            captured.emf.iter().any(|d| d["request_id"] == id.as_str()),
            "invocation {n}'s EMF document carries its request_id metadata"
        );
    }
    captured.logs.into_iter().chain(captured.emf).collect()
}

#[derive(Debug)]
struct Declined {
    source: std::num::ParseIntError,
}

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the order was declined")
    }
}

impl std::error::Error for Declined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The front function: takes the correlation id from the API Gateway event.
async fn orders_api(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracing::info!(path = event.payload["path"].as_str(), "order received");
    powertools::metrics::current().add_metric("Orders", Unit::Count, 1.0)?;
    Ok(json!({ "correlation_id": powertools::logger::correlation_id() }))
}

/// The function it calls: sets the correlation id it was handed, then fails with a chained error.
async fn orders_worker(event: LambdaEvent<Value>) -> Result<Value, Error> {
    if let Some(id) = event.payload["correlation_id"].as_str() {
        powertools::logger::set_correlation_id(id);
    }
    tracing::info!("processing the order");
    let source = "x".parse::<u32>().expect_err("not a number");
    Err(Box::new(Declined { source }))
}

/// Log lines and EMF documents of two functions sharing one correlation id, through
/// `powertools::testing`.
async fn correlated_output() -> Vec<Value> {
    let api = TestHarness::builder()
        .function_name("orders-api")
        .service("orders")
        .correlation_id_path("API_GATEWAY_REST")
        .build();
    let worker = TestHarness::builder()
        .function_name("orders-worker")
        .service("orders")
        .build();
    let request = json!({ "path": "/orders", "requestContext": { "requestId": "corr-1" } });
    let front = api.invoke(orders_api, request).await;
    let handed = front.result.as_ref().expect("the api answers")["correlation_id"].clone();
    assert_eq!(handed, "corr-1");
    let back = worker
        .invoke(orders_worker, json!({ "correlation_id": handed }))
        .await;
    assert!(back.result.is_err());

    let functions: BTreeSet<&str> = front
        .logs
        .iter()
        .chain(&back.logs)
        .filter(|l| l["correlation_id"] == "corr-1")
        .filter_map(|l| l["function_name"].as_str())
        .collect();
    assert_eq!(
        functions,
        BTreeSet::from(["orders-api", "orders-worker"]),
        "one correlation id across both functions"
    );
    let failure = back
        .logs
        .iter()
        .find(|l| l["level"] == "ERROR")
        .expect("the worker's failure is logged");
    assert_eq!(
        failure["exception_chain"],
        json!(["invalid digit found in string"])
    );

    [front.logs, front.metrics, back.logs, back.metrics]
        .into_iter()
        .flatten()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn every_cookbook_query_names_fields_we_write_with_their_types() {
    let markdown = cookbook();
    let queries = queries(&markdown);
    assert!(
        queries.len() >= 20,
        "the cookbook's queries were found ({} of them)",
        queries.len()
    );

    let mut documents = hello_world_output().await;
    documents.extend(correlated_output().await);
    let flat: Vec<BTreeMap<String, Value>> = documents.iter().map(flatten).collect();

    let mut problems = Vec::new();
    let mut checked_fields = BTreeSet::new();
    for query in &queries {
        checked_fields.extend(field_uses(&query.text).into_keys());
        for p in check_query(&query.text, &flat) {
            problems.push(format!("{}: {p}\n{}", query.title, query.text));
        }
    }
    for (field, written) in field_table(&markdown) {
        let seen: Vec<&Value> = flat.iter().filter_map(|d| d.get(&field)).collect();
        if !seen.iter().any(|v| table_type_matches(v, &written)) {
            let types: BTreeSet<&str> = seen.iter().map(|v| type_name(v)).collect();
            problems.push(format!(
                "field table: `{field}` is documented as {written} but we write {types:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    for field in [
        "cold_start",
        "function_request_id",
        "correlation_id",
        "exception_name",
        "sampling_rate",
        "tenant_id",
        "xray_trace_id",
        "ColdStart",
    ] {
        assert!(checked_fields.contains(field), "a query uses `{field}`");
    }
}

#[test]
fn queries_are_read_as_logs_insights_reads_them() {
    let uses = field_uses(
        "# from Lambda: record.metrics.durationMs\n\
         fields @timestamp, function_name, `order-id`\n\
         | filter cold_start = 1 and level in [\"ERROR\", \"WARN\"] and message like /declined/\n\
         | filter function_memory_size > 64 and record.metrics.durationMs > 3\n\
         | stats max(cold_start) as cold, avg(amount) as mean, count(*) as n by service, bin(5m)\n\
         | stats sum(cold) * 100 / count(*) as pct by service\n\
         | sort pct desc",
    );
    let expected: BTreeMap<String, BTreeSet<Expect>> = [
        ("function_name", vec![Expect::Present]),
        ("order-id", vec![Expect::Present]),
        ("cold_start", vec![Expect::Boolean, Expect::Numeric]),
        ("level", vec![Expect::String]),
        ("message", vec![Expect::String]),
        ("function_memory_size", vec![Expect::Number]),
        ("amount", vec![Expect::Number]),
        ("service", vec![Expect::Present]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().collect()))
    .collect();
    assert_eq!(uses, expected);
}

#[test]
fn the_check_rejects_fields_we_do_not_write_and_wrong_types() {
    let line = json!({
        "level": "ERROR", "message": "boom", "cold_start": true, "function_memory_size": 128,
        "function_request_id": "r-1", "exception_name": "Error"
    });
    let emf = json!({ "_aws": { "Timestamp": 1 }, "service": "s", "Orders": 1 });
    let docs = [flatten(&line), flatten(&emf)];

    assert!(
        check_query(
            "filter cold_start = 1 | stats count(*) by function_request_id",
            &docs
        )
        .is_empty()
    );
    assert!(
        check_query(
            "filter ispresent(Orders) | stats sum(Orders) by service",
            &docs
        )
        .is_empty()
    );
    assert!(check_query("filter @type = \"REPORT\" | sort @duration desc", &docs).is_empty());

    let unwritten = check_query("filter level = \"ERROR\" | display error_code", &docs);
    assert_eq!(unwritten.len(), 1, "{unwritten:?}");
    assert!(unwritten[0].contains("`error_code` is not in any line"));
    let wrong_types = [
        "filter cold_start > 0",                 // a boolean compared as a number
        "filter function_memory_size = \"128\"", // a number compared with a string
        "filter function_request_id = 1",        // a string compared as a boolean
        "stats avg(level)",                      // a string averaged
        "filter Orders = 1",                     // a number compared as a boolean
    ];
    for query in wrong_types {
        let problems = check_query(query, &docs);
        assert!(
            problems.len() == 1 && problems[0].contains("is used as"),
            "{query}: {problems:?}"
        );
    }
    let apart = check_query("filter level = \"ERROR\" and Orders > 0", &docs);
    assert!(
        apart.len() == 1 && apart[0].contains("no single line"),
        "fields of different lines: {apart:?}"
    );
}

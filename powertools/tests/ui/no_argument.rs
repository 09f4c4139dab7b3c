use lambda_runtime::Error;
use serde_json::Value;

#[powertools::handler]
async fn handler() -> Result<Value, Error> {
    Ok(Value::Null)
}

fn main() {}

use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;

#[powertools::handler]
fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

fn main() {}

use lambda_runtime::LambdaEvent;
use serde_json::Value;

#[powertools::handler]
async fn handler(event: LambdaEvent<Value>) {
    let _ = event;
}

fn main() {}

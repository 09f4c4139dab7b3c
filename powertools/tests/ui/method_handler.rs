use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;

struct Api;

impl Api {
    #[powertools::handler]
    async fn handler(&self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
}

fn main() {
    let _ = Api;
    let _: Option<LambdaEvent<Value>> = None;
}

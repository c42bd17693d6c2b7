//! A tiny `--name value` parser: the harness is the only caller, so no CLI crate is needed.

use std::collections::HashMap;
use std::str::FromStr;

use crate::common::BenchResult;

pub struct Args {
    values: HashMap<String, String>,
}

impl Args {
    pub fn parse(raw: impl Iterator<Item = String>) -> BenchResult<Args> {
        let mut values = HashMap::new();
        let mut raw = raw.peekable();
        while let Some(name) = raw.next() {
            let Some(name) = name.strip_prefix("--") else {
                return Err(format!("expected --name, got {name:?}").into());
            };
            let value = raw
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            values.insert(name.to_owned(), value);
        }
        Ok(Args { values })
    }

    pub fn get<T: FromStr>(&self, name: &str, default: T) -> BenchResult<T> {
        match self.values.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("--{name}: cannot parse {text:?}").into()),
        }
    }

    pub fn string(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    pub fn required(&self, name: &str) -> BenchResult<String> {
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| format!("--{name} is required").into())
    }
}

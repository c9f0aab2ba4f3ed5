//! Key parsing: any input is a key or a typed error, and neither the error nor the key's
//! `Debug`/`Display` ever contains more of the input than the dashboard hint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperlink_sdk::{ApiKey, Currency, ProductId};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    match ApiKey::new(text.clone()) {
        Ok(key) => {
            let shown = format!("{key} {key:?}");
            assert!(shown.len() <= 64, "a key shows only its hint: {shown}");
            assert!(text.starts_with("pk_live_") || text.starts_with("pk_test_"));
        }
        Err(error) => {
            // An error's text is one of a few fixed sentences (at most a byte offset varies):
            // nothing of the input is echoed.
            let shown: String = format!("{error} {error:?}").chars().filter(|c| !c.is_ascii_digit()).collect();
            let fixed = [
                "the api key is empty Empty",
                "the api key contains whitespace, a control or a non-ASCII character at byte  InvalidCharacter { position:  }",
                "the api key does not start with `pk_live_` or `pk_test_` UnknownPrefix",
                "the api key has a mode prefix but no token after it MissingToken",
            ];
            assert!(fixed.contains(&shown.as_str()), "{shown}");
        }
    }
    let _ = Currency::new(&text);
    let _ = text.parse::<ProductId>();
});

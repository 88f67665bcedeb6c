//! Duration strings as Viam configs write them (Go's `time.ParseDuration`):
//! `"2s"`, `"500ms"`, `"1m30s"`, `"1.5s"`.

use std::time::Duration;

const UNITS: &[(&str, f64)] = &[
    ("ns", 1e-9),
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
];

/// Parses a duration string; the error says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = || format!("{text:?} is not a duration; write it like \"2s\" or \"500ms\"");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(expected());
    }
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(expected)?;
        let value: f64 = rest[..digits].parse().map_err(|_| expected())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = UNITS
            .iter()
            .find(|(u, _)| *u == &rest[..unit_len])
            .map(|(_, s)| *s)
            .ok_or_else(expected)?;
        seconds += value * scale;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| expected())
}

/// Shows a duration the way configs write it.
pub fn show_duration(d: Duration) -> String {
    match d.as_millis() {
        ms if ms % 60_000 == 0 && ms > 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 && ms > 0 => format!("{}s", ms / 1000),
        ms if ms > 0 => format!("{ms}ms"),
        _ => format!("{}µs", d.as_micros()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_durations_parse() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("2s"), Ok(ms(2000)));
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_duration("30000us"), Ok(ms(30)));
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for bad in ["", "2", "s", "2 parsecs", "-1s", "1..5s", "2S"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations_show_in_config_form() {
        assert_eq!(show_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(show_duration(Duration::from_secs(2)), "2s");
        assert_eq!(show_duration(Duration::from_secs(60)), "1m");
    }
}

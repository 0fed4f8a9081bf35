//! Bounded, trimmed, normalised text values.
//!
//! Free text arrives from forms, CSV files and other systems. Each kind of text has a
//! length limit so that a hostile or careless client cannot store megabytes in a name.
//! Text is stored in Unicode normalisation form C, so that "が" typed as one character
//! or as か plus a combining mark is the same name, the same code and the same search.
//! Control characters (other than line breaks in long text) are refused because they
//! break exports and audit trails; bidirectional overrides, byte-order marks and (in
//! names, codes and identifiers) zero-width characters are refused because they make
//! two different values look the same on screen.

use crate::error::ValidationErrors;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Characters that reorder or hide text without showing themselves: the bidirectional
/// embeddings, overrides and isolates, the directional marks, and the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// Zero-width characters: harmless inside free text (emoji sequences join with U+200D),
/// but in a name or code they make two values that look alike differ.
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{180E}')
}

/// Refuses the characters no stored text may hold: controls (but line breaks and tabs
/// in multi-line text), invisible formatting, and zero-width characters outside free text.
pub fn check_characters(value: &str, multiline: bool) -> Result<(), String> {
    for c in value.chars() {
        let allowed_control = multiline && (c == '\n' || c == '\t' || c == '\r');
        if c.is_control() && !allowed_control {
            return Err(format!(
                "must not contain control character U+{:04X}",
                c as u32
            ));
        }
        if is_invisible_format(c) {
            return Err(format!(
                "must not contain the invisible formatting character U+{:04X}",
                c as u32
            ));
        }
        if !multiline && is_zero_width(c) {
            return Err(format!(
                "must not contain the zero-width character U+{:04X}",
                c as u32
            ));
        }
    }
    Ok(())
}

/// Checks a candidate string against the limits shared by all text types, and returns
/// it trimmed and in normalisation form C.
fn check(value: &str, max: usize, min: usize, multiline: bool) -> Result<String, String> {
    check_characters(value, multiline)?;
    let normalised: String = value.nfc().collect();
    let trimmed = normalised.trim();
    let chars = trimmed.chars().count();
    if chars < min {
        return Err(if min == 1 {
            "must not be empty".to_string()
        } else {
            format!("must be at least {min} characters")
        });
    }
    if chars > max {
        return Err(format!("must be at most {max} characters (got {chars})"));
    }
    Ok(trimmed.to_string())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, min = $min:expr, max = $max:expr, multiline = $ml:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted, in characters.
            pub const MAX_CHARS: usize = $max;

            /// The text as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                check(&value, $max, $min, $ml).map($name)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = String;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                check(value, $max, $min, $ml).map($name)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::try_from(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .min_length(Some($min))
                    .max_length(Some($max))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

bounded_text!(
    /// A name of a person, organisation or product (1–200 characters, one line).
    Name, min = 1, max = 200, multiline = false
);
bounded_text!(
    /// A short label or title (1–500 characters, one line).
    Title, min = 1, max = 500, multiline = false
);
bounded_text!(
    /// A code from a code system, a number or an identifier issued elsewhere (1–100 characters).
    Code, min = 1, max = 100, multiline = false
);
bounded_text!(
    /// Free text: descriptions, reasons, justifications (1–10,000 characters, may span lines).
    Text, min = 1, max = 10_000, multiline = true
);

/// Turns a text-parse failure into a validation error for `field`.
pub fn parse_text<T: TryFrom<String, Error = String>>(
    field: &str,
    value: impl Into<String>,
) -> Result<T, ValidationErrors> {
    T::try_from(value.into()).map_err(|p| ValidationErrors::one(field, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(Name::try_from("  Ada  ").unwrap().as_str(), "Ada");
        assert!(Name::try_from("   ").is_err());
        assert!(Name::try_from("x".repeat(201)).is_err());
        assert!(Name::try_from("x".repeat(200)).is_ok());
        assert!(Name::try_from("a\u{0}b").is_err());
        assert!(Name::try_from("a\nb").is_err());
        assert!(Text::try_from("a\nb").is_ok());
    }

    #[test]
    fn normalises_and_refuses_invisible_characters() {
        let composed = Name::try_from("が").unwrap();
        let decomposed = Name::try_from("か\u{3099}").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(Name::try_from("e\u{301}").unwrap().as_str(), "é");
        for bad in [
            "\u{202E}evil",
            "ab\u{2066}c",
            "\u{FEFF}name",
            "a\u{200B}b",
            "a\u{200D}b",
            "a\u{200E}b",
        ] {
            assert!(Name::try_from(bad).is_err(), "{bad:?}");
            assert!(Code::try_from(bad).is_err(), "{bad:?}");
        }
        // Free text keeps emoji sequences but not overrides.
        assert!(Text::try_from("👩\u{200D}🔬 ok").is_ok());
        assert!(Text::try_from("\u{202E}x").is_err());
        assert!(Text::try_from("line\nbreak").is_ok());
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(Name::try_from("再".repeat(200)).is_ok());
    }

    #[test]
    fn serde_refuses_invalid() {
        let r: Result<Name, _> = serde_json::from_str("\"\"");
        assert!(r.unwrap_err().to_string().contains("must not be empty"));
    }
}

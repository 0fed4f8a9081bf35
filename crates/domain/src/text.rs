//! Bounded, trimmed text values.
//!
//! Free text arrives from forms, CSV files and other systems. Each kind of text has a
//! length limit so that a hostile or careless client cannot store megabytes in a name,
//! and control characters (other than line breaks in long text) are refused because they
//! break exports and audit trails.

use crate::error::ValidationErrors;
use std::fmt;

/// Checks a candidate string against the limits shared by all text types.
fn check(value: &str, max: usize, min: usize, multiline: bool) -> Result<String, String> {
    let trimmed = value.trim();
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
    if let Some(c) = trimmed
        .chars()
        .find(|c| c.is_control() && !(multiline && (*c == '\n' || *c == '\t' || *c == '\r')))
    {
        return Err(format!(
            "must not contain control character U+{:04X}",
            c as u32
        ));
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
    fn counts_characters_not_bytes() {
        assert!(Name::try_from("再".repeat(200)).is_ok());
    }

    #[test]
    fn serde_refuses_invalid() {
        let r: Result<Name, _> = serde_json::from_str("\"\"");
        assert!(r.unwrap_err().to_string().contains("must not be empty"));
    }
}

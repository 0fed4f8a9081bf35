//! Parsed identifiers used by quality and traceability: lot numbers, ISBT 128 Donation
//! Identification Numbers (DIN), EU Single European Codes (SEC), and the short codes that
//! specifications and QC results use to name attributes, methods and rules.
//!
//! Each type is built with `FromStr`/`TryFrom` and refuses malformed input with an
//! [`IdentifierError`] that names the field and the problem, so once code holds one it
//! never has to re-check it. DIN and SEC are checked for *syntax only*: the registry
//! cannot know whether a facility code or tissue-establishment code was really issued.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::{Date, Month};
use utoipa::ToSchema;

/// Why an identifier was refused: the field it was meant for and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Nothing (or only spaces) was given.
    #[error("{field}: must not be empty")]
    Empty {
        /// The field being parsed.
        field: &'static str,
    },
    /// The value is longer than the identifier allows.
    #[error("{field}: {actual} characters, at most {max} allowed")]
    TooLong {
        /// The field being parsed.
        field: &'static str,
        /// The longest length allowed.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A character outside the allowed set.
    #[error("{field}: character {character:?} at position {position} is not allowed ({allowed})")]
    InvalidCharacter {
        /// The field being parsed.
        field: &'static str,
        /// The offending character.
        character: char,
        /// Its 1-based position in the (normalised) value.
        position: usize,
        /// The characters that are allowed there.
        allowed: &'static str,
    },
    /// The value does not have one of the lengths the structure allows.
    #[error("{field}: {actual} characters, expected {expected}")]
    WrongLength {
        /// The field being parsed.
        field: &'static str,
        /// The allowed lengths, in words.
        expected: &'static str,
        /// The length given.
        actual: usize,
    },
    /// One part of a structured identifier is malformed.
    #[error("{field}: {part} {value:?} is invalid: expected {expected}")]
    InvalidPart {
        /// The field being parsed.
        field: &'static str,
        /// The part of the structure (e.g. "facility identification number").
        part: &'static str,
        /// The part as given.
        value: String,
        /// What the part must look like.
        expected: &'static str,
    },
    /// The check character does not match the one computed from the identifier.
    #[error("{field}: check character {found:?} does not match the computed {expected:?}")]
    CheckMismatch {
        /// The field being parsed.
        field: &'static str,
        /// The check character computed with ISO 7064 MOD 37-2.
        expected: char,
        /// The check character given.
        found: char,
    },
}

/// Builds the newtype boilerplate for a short, lowercase code (attribute, method, rule…).
macro_rules! code_type {
    (
        $(#[$doc:meta])*
        $name:ident, field = $field:literal, max = $max:expr,
        allowed = $allowed:literal, first = $first:expr, rest = $rest:expr
    ) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The code as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdentifierError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_code(s, $field, $max, $allowed, $first, $rest).map($name)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentifierError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdentifierError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Trims, lowercases and checks a code against its grammar.
fn parse_code(
    s: &str,
    field: &'static str,
    max: usize,
    allowed: &'static str,
    first: fn(char) -> bool,
    rest: fn(char) -> bool,
) -> Result<String, IdentifierError> {
    let v = s.trim().to_ascii_lowercase();
    if v.is_empty() {
        return Err(IdentifierError::Empty { field });
    }
    let len = v.chars().count();
    if len > max {
        return Err(IdentifierError::TooLong {
            field,
            max,
            actual: len,
        });
    }
    for (i, c) in v.chars().enumerate() {
        let ok = if i == 0 { first(c) } else { rest(c) };
        if !ok {
            return Err(IdentifierError::InvalidCharacter {
                field,
                character: c,
                position: i + 1,
                allowed,
            });
        }
    }
    Ok(v)
}

fn lower_letter(c: char) -> bool {
    c.is_ascii_lowercase()
}
fn snake(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}
fn dotted(c: char) -> bool {
    snake(c) || c == '.' || c == '-'
}
fn kebab(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

code_type!(
    /// The quality attribute a QC result measures and a rule constrains, e.g. `cd73_positive`
    /// or `endotoxin` (lowercase letters, digits, `_`; at most 64). Results and rules meet
    /// on this code, so it is normalised to lowercase.
    AttributeCode, field = "attribute", max = 64,
    allowed = "a-z first, then a-z 0-9 _", first = lower_letter, rest = snake
);
code_type!(
    /// The analytical method a QC result came from, e.g. `flow_cytometry`, `nta`, `lal_kinetic`
    /// (lowercase letters, digits, `_`; at most 64). Rules may restrict the acceptable methods.
    MethodCode, field = "method", max = 64,
    allowed = "a-z first, then a-z 0-9 _", first = lower_letter, rest = snake
);
code_type!(
    /// A rule's identifier inside a specification, e.g. `isct.cd73` (lowercase letters,
    /// digits, `_`, `.`, `-`; at most 64). A product specification overrides a base rule by
    /// reusing its id, and deviations name the rules they cover by id.
    RuleId, field = "rule id", max = 64,
    allowed = "a-z first, then a-z 0-9 _ . -", first = lower_letter, rest = dotted
);
code_type!(
    /// A specification's identifier, e.g. `isct-msc` (lowercase letters, digits, `-`; at
    /// most 64). Together with a version it names one immutable specification.
    SpecId, field = "specification id", max = 64,
    allowed = "a-z first, then a-z 0-9 -", first = lower_letter, rest = kebab
);
code_type!(
    /// A checklist or checklist item identifier, e.g. `jsrm-ev-guidance` or
    /// `release.ev_markers` (lowercase letters, digits, `_`, `.`, `-`; at most 64).
    ChecklistId, field = "checklist id", max = 64,
    allowed = "a-z first, then a-z 0-9 _ . -", first = lower_letter, rest = dotted
);

/// A manufacturing lot (batch) number as the facility prints it: 1–40 printable ASCII
/// characters, case kept, surrounding spaces trimmed. Look-back starts from this value, so
/// characters that do not survive labels, barcodes and exports are refused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct LotNumber(String);

impl LotNumber {
    /// The longest lot number accepted (GS1 AI (10) allows 20, ISBT 128 18; 40 leaves room).
    pub const MAX_CHARS: usize = 40;

    /// The lot number as printed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LotNumber {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const FIELD: &str = "lot_number";
        let v = s.trim();
        if v.is_empty() {
            return Err(IdentifierError::Empty { field: FIELD });
        }
        let len = v.chars().count();
        if len > Self::MAX_CHARS {
            return Err(IdentifierError::TooLong {
                field: FIELD,
                max: Self::MAX_CHARS,
                actual: len,
            });
        }
        if let Some((i, c)) = v
            .chars()
            .enumerate()
            .find(|(_, c)| !(' '..='~').contains(c))
        {
            return Err(IdentifierError::InvalidCharacter {
                field: FIELD,
                character: c,
                position: i + 1,
                allowed: "printable ASCII",
            });
        }
        Ok(LotNumber(v.to_string()))
    }
}

impl TryFrom<String> for LotNumber {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<LotNumber> for String {
    fn from(v: LotNumber) -> String {
        v.0
    }
}

impl fmt::Display for LotNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ISO 7064 character values used by MOD 37-2: `0–9` → 0–9, `A–Z` → 10–35, `*` → 36.
const MOD37_ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

fn mod37_value(c: char) -> Option<u32> {
    MOD37_ALPHABET
        .iter()
        .position(|&b| b as char == c)
        .map(|p| p as u32)
}

/// ISO/IEC 7064 MOD 37-2 checksum (0–36) of an alphanumeric string; `None` if a character
/// is outside `0–9 A–Z *`. ISBT 128 computes it over the 13-character DIN.
pub fn iso7064_mod37_2(s: &str) -> Option<u32> {
    let mut p = 0u32;
    for c in s.chars() {
        p = ((p + mod37_value(c)?) * 2) % 37;
    }
    Some((38 - p) % 37)
}

/// The eye-readable character for a MOD 37-2 checksum (0–36).
fn mod37_char(v: u32) -> char {
    MOD37_ALPHABET
        .get(v as usize)
        .map(|&b| b as char)
        .unwrap_or('?')
}

/// An ISBT 128 Donation Identification Number (Data Structure 001), checked for syntax:
/// a 5-character facility identification number (FIN), a 2-digit year and a 6-digit
/// sequence number (13 characters), optionally followed by the two flag characters and/or
/// the eye-readable ISO 7064 MOD 37-2 check character.
///
/// Accepted input: an optional leading `=` (the barcode data identifier), spaces anywhere
/// (as printed, e.g. `G1234 98 654321 H`), lowercase folded to uppercase, then 13, 14
/// (+ check), 15 (+ flags) or 16 (+ flags + check) characters. FIN grammar per ISBT 128
/// ST-001 v6: first character `A–N P–Z 1–9`, next two `A–N P–Z 0–9`, last two digits
/// (today's FINs are one letter and four digits). Flag values 60–96 encode the check
/// character (60 + checksum) and are verified like it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DonationIdentificationNumber {
    din: String,
    flags: Option<String>,
    check: Option<char>,
}

impl DonationIdentificationNumber {
    /// The 13-character DIN itself (FIN + year + sequence): the part that identifies the
    /// donation and the one to compare for traceability.
    pub fn din(&self) -> &str {
        &self.din
    }
    /// The facility identification number (FIN) of the organisation that assigned the DIN.
    pub fn facility(&self) -> &str {
        &self.din[..5]
    }
    /// The nominal two-digit year in which the DIN was assigned.
    pub fn year(&self) -> &str {
        &self.din[5..7]
    }
    /// The six-digit sequence number within the facility and year.
    pub fn sequence(&self) -> &str {
        &self.din[7..13]
    }
    /// The flag characters, when given (not part of the DIN itself).
    pub fn flags(&self) -> Option<&str> {
        self.flags.as_deref()
    }
    /// The eye-readable check character computed from the DIN (whether or not one was given).
    pub fn check_character(&self) -> char {
        mod37_char(iso7064_mod37_2(&self.din).unwrap_or(0))
    }
}

impl FromStr for DonationIdentificationNumber {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const FIELD: &str = "din";
        let mut v: String = s
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_ascii_uppercase();
        if let Some(rest) = v.strip_prefix('=') {
            v = rest.to_string();
        }
        if v.is_empty() {
            return Err(IdentifierError::Empty { field: FIELD });
        }
        if let Some((i, c)) = v
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '*'))
        {
            return Err(IdentifierError::InvalidCharacter {
                field: FIELD,
                character: c,
                position: i + 1,
                allowed: "A-Z 0-9 (and * as check character)",
            });
        }
        let len = v.len();
        let (has_flags, has_check) = match len {
            13 => (false, false),
            14 => (false, true),
            15 => (true, false),
            16 => (true, true),
            _ => {
                return Err(IdentifierError::WrongLength {
                    field: FIELD,
                    expected: "13 (DIN), 14 (+ check character), 15 (+ flags) or 16 (+ flags + check character)",
                    actual: len,
                });
            }
        };
        let din = &v[..13];
        let fin = &din[..5];
        let b = fin.as_bytes();
        let fin_letter = |c: u8| c.is_ascii_uppercase() && c != b'O';
        let fin_ok = (fin_letter(b[0]) || (b'1'..=b'9').contains(&b[0]))
            && b[1..3].iter().all(|&c| fin_letter(c) || c.is_ascii_digit())
            && b[3..5].iter().all(u8::is_ascii_digit);
        if !fin_ok {
            return Err(IdentifierError::InvalidPart {
                field: FIELD,
                part: "facility identification number",
                value: fin.to_string(),
                expected: "A-N/P-Z/1-9, then two of A-N/P-Z/0-9, then two digits (e.g. G1234)",
            });
        }
        let digits = |part: &'static str, value: &str, expected: &'static str| {
            if value.bytes().all(|c| c.is_ascii_digit()) {
                Ok(())
            } else {
                Err(IdentifierError::InvalidPart {
                    field: FIELD,
                    part,
                    value: value.to_string(),
                    expected,
                })
            }
        };
        digits("year", &din[5..7], "two digits")?;
        digits("sequence number", &din[7..13], "six digits")?;
        let checksum = iso7064_mod37_2(din).unwrap_or(0);
        let expected = mod37_char(checksum);
        let flags = if has_flags {
            let f = &v[13..15];
            let flag_char = |c: u8| {
                c.is_ascii_digit()
                    || (b'A'..=b'H').contains(&c)
                    || (b'J'..=b'N').contains(&c)
                    || c == b'P'
                    || (b'R'..=b'Y').contains(&c)
            };
            if !f.bytes().all(flag_char) {
                return Err(IdentifierError::InvalidPart {
                    field: FIELD,
                    part: "flag characters",
                    value: f.to_string(),
                    expected: "two of 0-9, A-H, J-N, P, R-Y",
                });
            }
            if let Ok(n) = f.parse::<u32>()
                && (60..=96).contains(&n)
                && n - 60 != checksum
            {
                return Err(IdentifierError::CheckMismatch {
                    field: FIELD,
                    expected,
                    found: mod37_char(n - 60),
                });
            }
            Some(f.to_string())
        } else {
            None
        };
        let check = if has_check {
            let c = v[len - 1..].chars().next().unwrap_or('?');
            if c != expected {
                return Err(IdentifierError::CheckMismatch {
                    field: FIELD,
                    expected,
                    found: c,
                });
            }
            Some(c)
        } else {
            None
        };
        Ok(DonationIdentificationNumber {
            din: din.to_string(),
            flags,
            check,
        })
    }
}

impl TryFrom<String> for DonationIdentificationNumber {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DonationIdentificationNumber> for String {
    fn from(v: DonationIdentificationNumber) -> String {
        v.to_string()
    }
}

impl fmt::Display for DonationIdentificationNumber {
    /// The DIN followed by the flags and check character as given (no `=`, no spaces),
    /// which parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.din)?;
        if let Some(flags) = &self.flags {
            f.write_str(flags)?;
        }
        if let Some(c) = self.check {
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// The product coding system named in a Single European Code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecCodingSystem {
    /// `E`: EU Tissue and Cell product code (EUTC).
    Eutc,
    /// `A`: ISBT 128.
    Isbt128,
    /// `B`: Eurocode.
    Eurocode,
}

impl SecCodingSystem {
    /// The one-letter identifier used inside the SEC.
    pub fn letter(self) -> char {
        match self {
            SecCodingSystem::Eutc => 'E',
            SecCodingSystem::Isbt128 => 'A',
            SecCodingSystem::Eurocode => 'B',
        }
    }
}

/// An EU Single European Code for tissues and cells (Directive 2006/86/EC Annex VII as
/// amended by Directive (EU) 2015/565), checked for syntax: 40 characters made of the
/// donation identification sequence — ISO country code (2 letters), tissue-establishment
/// number (6 alphanumeric), unique donation number (13 alphanumeric) — and the product
/// identification sequence — coding-system identifier (`E` EUTC, `A` ISBT 128, `B`
/// Eurocode), product number (7 alphanumeric), split number (3 alphanumeric), expiry date
/// `YYYYMMDD` (`00000000` when no expiry date is set).
///
/// Accepted input: an optional leading `SEC` (with optional `:`), the two sequences
/// separated by spaces or a line break or not at all; lowercase is folded to uppercase.
/// The country code is not checked against the list of EU member states.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SingleEuropeanCode {
    code: String,
    coding_system: SecCodingSystem,
    expiry: Option<Date>,
}

impl SingleEuropeanCode {
    /// The 40-character code without separators.
    pub fn as_str(&self) -> &str {
        &self.code
    }
    /// ISO 3166-1 alpha-2 country code of the tissue establishment.
    pub fn country(&self) -> &str {
        &self.code[0..2]
    }
    /// The EU tissue-establishment code (country + establishment number, 8 characters).
    pub fn tissue_establishment(&self) -> &str {
        &self.code[0..8]
    }
    /// The unique donation number (13 characters; a DIN when ISBT 128 is used).
    pub fn donation_number(&self) -> &str {
        &self.code[8..21]
    }
    /// The donation identification sequence (SEC-DI, 21 characters).
    pub fn donation_identification_sequence(&self) -> &str {
        &self.code[0..21]
    }
    /// The product identification sequence (SEC-PI, 19 characters).
    pub fn product_identification_sequence(&self) -> &str {
        &self.code[21..40]
    }
    /// The product coding system.
    pub fn coding_system(&self) -> SecCodingSystem {
        self.coding_system
    }
    /// The product number within the coding system (7 characters).
    pub fn product_number(&self) -> &str {
        &self.code[22..29]
    }
    /// The split number (3 characters).
    pub fn split_number(&self) -> &str {
        &self.code[29..32]
    }
    /// The expiry date, or `None` when the code carries `00000000` (no expiry set).
    pub fn expiry(&self) -> Option<Date> {
        self.expiry
    }
    /// The printed form the Directive prescribes: `SEC`, then the two sequences separated
    /// by a single space.
    pub fn eye_readable(&self) -> String {
        format!(
            "SEC {} {}",
            self.donation_identification_sequence(),
            self.product_identification_sequence()
        )
    }
}

impl FromStr for SingleEuropeanCode {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const FIELD: &str = "sec";
        let mut t = s.trim();
        if let (Some(prefix), Some(rest)) = (t.get(..3), t.get(3..))
            && prefix.eq_ignore_ascii_case("SEC")
        {
            t = rest.trim_start();
            t = t.strip_prefix(':').unwrap_or(t);
        }
        let v: String = t
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if v.is_empty() {
            return Err(IdentifierError::Empty { field: FIELD });
        }
        if let Some((i, c)) = v
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(IdentifierError::InvalidCharacter {
                field: FIELD,
                character: c,
                position: i + 1,
                allowed: "A-Z 0-9",
            });
        }
        if v.len() != 40 {
            return Err(IdentifierError::WrongLength {
                field: FIELD,
                expected: "40 (21 donation identification + 19 product identification)",
                actual: v.len(),
            });
        }
        let part = |part: &'static str, range: std::ops::Range<usize>| (part, v[range].to_string());
        let (p, country) = part("ISO country code", 0..2);
        if !country.bytes().all(|c| c.is_ascii_uppercase()) {
            return Err(IdentifierError::InvalidPart {
                field: FIELD,
                part: p,
                value: country,
                expected: "two letters",
            });
        }
        let (p, letter) = part("product coding system identifier", 21..22);
        let coding_system = match letter.as_str() {
            "E" => SecCodingSystem::Eutc,
            "A" => SecCodingSystem::Isbt128,
            "B" => SecCodingSystem::Eurocode,
            _ => {
                return Err(IdentifierError::InvalidPart {
                    field: FIELD,
                    part: p,
                    value: letter,
                    expected: "E (EUTC), A (ISBT 128) or B (Eurocode)",
                });
            }
        };
        let (p, expiry_text) = part("expiry date", 32..40);
        let expiry = if expiry_text == "00000000" {
            None
        } else {
            let bad = || IdentifierError::InvalidPart {
                field: FIELD,
                part: p,
                value: expiry_text.clone(),
                expected: "a calendar date YYYYMMDD, or 00000000 for no expiry date",
            };
            if !expiry_text.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let year: i32 = expiry_text[0..4].parse().map_err(|_| bad())?;
            let month: u8 = expiry_text[4..6].parse().map_err(|_| bad())?;
            let day: u8 = expiry_text[6..8].parse().map_err(|_| bad())?;
            let month = Month::try_from(month).map_err(|_| bad())?;
            Some(Date::from_calendar_date(year, month, day).map_err(|_| bad())?)
        };
        Ok(SingleEuropeanCode {
            code: v,
            coding_system,
            expiry,
        })
    }
}

impl TryFrom<String> for SingleEuropeanCode {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<SingleEuropeanCode> for String {
    fn from(v: SingleEuropeanCode) -> String {
        v.code
    }
}

impl fmt::Display for SingleEuropeanCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_are_normalised_and_bounded() {
        assert_eq!(
            AttributeCode::from_str(" CD73_Positive ").unwrap().as_str(),
            "cd73_positive"
        );
        assert!(matches!(
            AttributeCode::from_str("7up"),
            Err(IdentifierError::InvalidCharacter { position: 1, .. })
        ));
        assert!(matches!(
            AttributeCode::from_str("cd 73"),
            Err(IdentifierError::InvalidCharacter { character: ' ', .. })
        ));
        assert!(RuleId::from_str("isct.cd14-or-cd11b").is_ok());
        assert!(SpecId::from_str("isct.msc").is_err());
        assert!(matches!(
            MethodCode::from_str(""),
            Err(IdentifierError::Empty { field: "method" })
        ));
        assert!(AttributeCode::from_str(&"a".repeat(65)).is_err());
    }

    #[test]
    fn lot_numbers() {
        assert_eq!(
            LotNumber::from_str("  MSC-2025-001 ").unwrap().as_str(),
            "MSC-2025-001"
        );
        assert_eq!(
            LotNumber::from_str("").unwrap_err(),
            IdentifierError::Empty {
                field: "lot_number"
            }
        );
        assert!(matches!(
            LotNumber::from_str("ロット1"),
            Err(IdentifierError::InvalidCharacter { position: 1, .. })
        ));
        assert!(LotNumber::from_str("A\tB").is_err());
        assert!(LotNumber::from_str(&"9".repeat(41)).is_err());
        let json: Result<LotNumber, _> = serde_json::from_str("\"   \"");
        assert!(
            json.unwrap_err()
                .to_string()
                .contains("lot_number: must not be empty")
        );
    }

    #[test]
    fn mod37_2_matches_the_published_example() {
        // UK Red Book annex 2: donation number G123 498 654 321 has check character H.
        assert_eq!(iso7064_mod37_2("G123498654321"), Some(17));
        assert_eq!(mod37_char(17), 'H');
    }

    #[test]
    fn valid_dins() {
        for s in [
            "G123498654321",
            "G123498654321H",
            "g123 498 654 321 h",
            "=A99991712345600",
            "A99991712345600",
            "G12349865432100H",
            "G12349865432177", // flags 77 = 60 + checksum 17
            "W0000 15 123456",
        ] {
            let din =
                DonationIdentificationNumber::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(din.din().len(), 13, "{s}");
            let again: DonationIdentificationNumber = din.to_string().parse().unwrap();
            assert_eq!(again, din);
        }
        let din = DonationIdentificationNumber::from_str("=A99991712345600").unwrap();
        assert_eq!(din.facility(), "A9999");
        assert_eq!(din.year(), "17");
        assert_eq!(din.sequence(), "123456");
        assert_eq!(din.flags(), Some("00"));
        assert_eq!(
            DonationIdentificationNumber::from_str("G123498654321")
                .unwrap()
                .check_character(),
            'H'
        );
    }

    #[test]
    fn invalid_dins() {
        type Check = fn(&IdentifierError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, IdentifierError::Empty { .. })),
            ("G12349865432", |e| {
                matches!(e, IdentifierError::WrongLength { actual: 12, .. })
            }),
            ("G123498654321HHHH", |e| {
                matches!(e, IdentifierError::WrongLength { .. })
            }),
            ("G123498654321J", |e| {
                matches!(
                    e,
                    IdentifierError::CheckMismatch {
                        expected: 'H',
                        found: 'J',
                        ..
                    }
                )
            }),
            ("G12349865432178", |e| {
                matches!(e, IdentifierError::CheckMismatch { .. })
            }),
            ("O123498654321", |e| {
                matches!(
                    e,
                    IdentifierError::InvalidPart {
                        part: "facility identification number",
                        ..
                    }
                )
            }),
            ("012349865432I", |e| {
                matches!(e, IdentifierError::InvalidPart { .. })
            }),
            ("G12A498654321", |e| {
                matches!(
                    e,
                    IdentifierError::InvalidPart {
                        part: "facility identification number",
                        ..
                    }
                )
            }),
            ("G1234X8654321", |e| {
                matches!(e, IdentifierError::InvalidPart { part: "year", .. })
            }),
            ("G123498654X21", |e| {
                matches!(
                    e,
                    IdentifierError::InvalidPart {
                        part: "sequence number",
                        ..
                    }
                )
            }),
            ("G1234986543210I", |e| {
                matches!(
                    e,
                    IdentifierError::InvalidPart {
                        part: "flag characters",
                        ..
                    }
                )
            }),
            ("G123-498654321", |e| {
                matches!(e, IdentifierError::InvalidCharacter { character: '-', .. })
            }),
        ];
        for (s, check) in cases {
            let err = DonationIdentificationNumber::from_str(s).unwrap_err();
            assert!(check(&err), "{s}: unexpected {err:?}");
            assert!(err.to_string().starts_with("din:"), "{err}");
        }
    }

    const SEC_OK: &str = "BE000111A99991712345600E00010350012025123";

    #[test]
    fn valid_secs() {
        let sec = SingleEuropeanCode::from_str("SEC: BE0001112345678901234 E0001035001 20251231");
        let sec = sec.unwrap();
        assert_eq!(sec.country(), "BE");
        assert_eq!(sec.tissue_establishment(), "BE000111");
        assert_eq!(sec.donation_number(), "2345678901234");
        assert_eq!(sec.coding_system(), SecCodingSystem::Eutc);
        assert_eq!(sec.product_number(), "0001035");
        assert_eq!(sec.split_number(), "001");
        assert_eq!(sec.expiry(), Some(time::macros::date!(2025 - 12 - 31)));
        assert_eq!(
            sec.eye_readable(),
            "SEC BE0001112345678901234 E000103500120251231"
        );
        let no_expiry =
            SingleEuropeanCode::from_str("it123abcA999917123456 A00001A9001\n00000000").unwrap();
        assert_eq!(no_expiry.expiry(), None);
        assert_eq!(no_expiry.coding_system(), SecCodingSystem::Isbt128);
        let round: SingleEuropeanCode =
            serde_json::from_value(serde_json::to_value(&no_expiry).unwrap()).unwrap();
        assert_eq!(round, no_expiry);
    }

    #[test]
    fn invalid_secs() {
        // 41 characters.
        assert!(matches!(
            SingleEuropeanCode::from_str(SEC_OK),
            Err(IdentifierError::WrongLength { actual: 41, .. })
        ));
        let cases = [
            (
                "1E0001112345678901234E000103500120251231",
                "ISO country code",
            ),
            (
                "BE0001112345678901234X000103500120251231",
                "product coding system identifier",
            ),
            ("BE0001112345678901234E000103500120251331", "expiry date"),
            ("BE0001112345678901234E000103500120250230", "expiry date"),
            ("BE0001112345678901234E0001035001202512AB", "expiry date"),
        ];
        for (s, part_name) in cases {
            match SingleEuropeanCode::from_str(s) {
                Err(IdentifierError::InvalidPart { part, .. }) => {
                    assert_eq!(part, part_name, "{s}")
                }
                other => panic!("{s}: {other:?}"),
            }
        }
        // Multi-byte input never panics on slicing.
        for s in ["éé", "再生医療", "SE", "Sé", "SEC"] {
            assert!(SingleEuropeanCode::from_str(s).is_err(), "{s}");
            assert!(DonationIdentificationNumber::from_str(s).is_err(), "{s}");
        }
        assert!(matches!(
            SingleEuropeanCode::from_str("BE000111-345678901234E000103500120251231"),
            Err(IdentifierError::InvalidCharacter { character: '-', .. })
        ));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,60}") {
            let _ = DonationIdentificationNumber::from_str(&s);
            let _ = SingleEuropeanCode::from_str(&s);
            let _ = LotNumber::from_str(&s);
            let _ = AttributeCode::from_str(&s);
            let _ = crate::quality::temperature::TemperatureLog::parse_csv(&s);
        }

        #[test]
        fn any_wellformed_din_with_its_check_character_parses(
            first in "[A-NP-Z]", fin in "[0-9]{4}", year in "[0-9]{2}", seq in "[0-9]{6}"
        ) {
            let din = format!("{first}{fin}{year}{seq}");
            let check = mod37_char(iso7064_mod37_2(&din).unwrap());
            let parsed = DonationIdentificationNumber::from_str(&format!("{din}{check}")).unwrap();
            prop_assert_eq!(parsed.din(), din.as_str());
            // Any other check character is refused.
            let wrong = mod37_char((iso7064_mod37_2(&din).unwrap() + 1) % 37);
            let wrong_input = format!("{din}{wrong}");
            prop_assert!(DonationIdentificationNumber::from_str(&wrong_input).is_err());
        }

        #[test]
        fn lot_numbers_round_trip(s in "[!-~][ -~]{0,38}[!-~]") {
            let lot = LotNumber::from_str(&s).unwrap();
            prop_assert_eq!(lot.as_str(), s.as_str());
        }
    }
}

/// A code that travels as one string: its schema is a string with the code's rules in
/// words (the type's own parser is the exact check).
macro_rules! text_schema {
    ($ty:ty, $description:literal, $max:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .max_length(Some($max))
                    .description(Some($description))
                    .into()
            }
        }
        impl ToSchema for $ty {}
    };
}

text_schema!(
    DonationIdentificationNumber,
    "An ISBT 128 Donation Identification Number: a 5-character facility identification number, a 2-digit year and a 6-digit sequence number, optionally followed by the flag characters and the check character. Spaces and a leading `=` are accepted on input; it is returned without them, in uppercase.",
    40
);
text_schema!(
    SingleEuropeanCode,
    "An EU Single European Code (40 characters): the donation identification sequence (country, tissue establishment, donation number) and the product identification sequence (coding system E, A or B, product number, split number, expiry date YYYYMMDD or 00000000). A leading `SEC` and separating spaces are accepted on input.",
    60
);

//! Risk classes, classification outcomes and committee kinds.
//!
//! The Act sorts every regenerative-medicine technology into class 1, 2 or 3
//! (第1種/第2種/第3種再生医療等) or leaves it outside the Act; the class decides which
//! committee reviews the plan and whether a waiting period applies. These are the closed
//! vocabularies for that, each parsed from its wire string (`"1"`, `"outside"`,
//! `"specially_certified"`…) so a held value is always valid.

use std::str::FromStr;

/// A string that is not one of an enumeration's wire values.
///
/// Returned by every `FromStr` of the regulation vocabularies, so callers can tell the user
/// which values are accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of: {}", .expected.join(", "))]
pub struct UnknownVariant {
    /// The rejected input.
    pub value: String,
    /// The accepted wire values.
    pub expected: &'static [&'static str],
}

/// Declares a closed vocabulary with its wire strings, serde, OpenAPI schema, `as_str`,
/// `Display`, `FromStr` and the list of all values (used to enumerate descriptions).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];
            /// Every wire string, in declaration order.
            pub const WIRE: &'static [&'static str] = &[ $( $wire, )+ ];

            /// The wire string (as used in JSON and in rule set conditions).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::regulation::class::UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok($name::$variant), )+
                    _ => Err($crate::regulation::class::UnknownVariant {
                        value: s.to_owned(),
                        expected: Self::WIRE,
                    }),
                }
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// A risk class under the Act (第1種/第2種/第3種再生医療等), serialised `"1"`, `"2"`, `"3"`.
    ///
    /// Provision plans carry one; it decides the reviewing committee and the waiting period.
    pub enum RiskClass {
        /// Class 1 (第1種): highest risk, e.g. iPS/ES cells, allogeneic or gene-modified cells.
        One => "1",
        /// Class 2 (第2種): e.g. cultured stem cells, cultured cells for reconstruction.
        Two => "2",
        /// Class 3 (第3種): everything else within the Act.
        Three => "3",
    }
}

impl RiskClass {
    /// The class number, 1 to 3.
    pub const fn number(self) -> u8 {
        match self {
            RiskClass::One => 1,
            RiskClass::Two => 2,
            RiskClass::Three => 3,
        }
    }
}

/// Why a value could not become a [`RiskClass`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseClassError {
    /// A number other than 1, 2 or 3.
    #[error("risk class must be 1, 2 or 3, not {0}")]
    OutOfRange(i64),
    /// A string other than "1", "2" or "3".
    #[error(transparent)]
    Unknown(#[from] UnknownVariant),
    /// The classification is "outside the Act", which has no risk class.
    #[error("the therapy is outside the Act and has no risk class")]
    Outside,
}

impl TryFrom<u8> for RiskClass {
    type Error = ParseClassError;

    fn try_from(n: u8) -> Result<Self, Self::Error> {
        match n {
            1 => Ok(RiskClass::One),
            2 => Ok(RiskClass::Two),
            3 => Ok(RiskClass::Three),
            other => Err(ParseClassError::OutOfRange(i64::from(other))),
        }
    }
}

impl TryFrom<&str> for RiskClass {
    type Error = ParseClassError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Ok(RiskClass::from_str(s)?)
    }
}

impl TryFrom<Classification> for RiskClass {
    type Error = ParseClassError;

    fn try_from(c: Classification) -> Result<Self, Self::Error> {
        c.risk_class().ok_or(ParseClassError::Outside)
    }
}

wire_enum! {
    /// The outcome of classifying a therapy: a risk class, or outside the Act.
    ///
    /// Serialised `"1"`, `"2"`, `"3"` or `"outside"`, as the API and CLI publish it.
    pub enum Classification {
        /// Class 1.
        One => "1",
        /// Class 2.
        Two => "2",
        /// Class 3.
        Three => "3",
        /// Not a regenerative-medicine technology under the Act (e.g. transfusion, HSC
        /// transplantation, assisted reproduction, or EVs under the in-force rules).
        Outside => "outside",
    }
}

impl Classification {
    /// The risk class, or `None` when the therapy is outside the Act.
    pub const fn risk_class(self) -> Option<RiskClass> {
        match self {
            Classification::One => Some(RiskClass::One),
            Classification::Two => Some(RiskClass::Two),
            Classification::Three => Some(RiskClass::Three),
            Classification::Outside => None,
        }
    }

    /// Human wording used in reason texts: "class 1" or "outside the Act".
    pub fn describe(self) -> String {
        match self.risk_class() {
            Some(class) => format!("class {class}"),
            None => "outside the Act".to_owned(),
        }
    }
}

impl From<RiskClass> for Classification {
    fn from(class: RiskClass) -> Self {
        match class {
            RiskClass::One => Classification::One,
            RiskClass::Two => Classification::Two,
            RiskClass::Three => Classification::Three,
        }
    }
}

wire_enum! {
    /// The kind of committee that reviews a provision plan.
    ///
    /// 認定再生医療等委員会 (certified) or 特定認定再生医療等委員会 (specially certified);
    /// which kinds a class accepts is a rule-set parameter.
    pub enum CommitteeKind {
        /// 認定再生医療等委員会: may review class 3 plans.
        Certified => "certified",
        /// 特定認定再生医療等委員会: may review plans of every class.
        SpeciallyCertified => "specially_certified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_class_round_trips_through_its_wire_form() {
        for class in RiskClass::ALL {
            let json = serde_json::to_string(class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.number()));
            let back: RiskClass = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, class);
            assert_eq!(RiskClass::try_from(class.number()).unwrap(), *class);
            assert_eq!(RiskClass::try_from(class.as_str()).unwrap(), *class);
        }
    }

    #[test]
    fn risk_class_rejects_other_values() {
        assert_eq!(
            RiskClass::try_from(4u8),
            Err(ParseClassError::OutOfRange(4))
        );
        assert!(RiskClass::try_from("outside").is_err());
        assert!(serde_json::from_str::<RiskClass>("\"4\"").is_err());
        assert!(serde_json::from_str::<RiskClass>("1").is_err());
        let err = "one".parse::<RiskClass>().unwrap_err();
        assert_eq!(err.to_string(), "`one` is not one of: 1, 2, 3");
    }

    #[test]
    fn classification_serialises_as_class_or_outside() {
        assert_eq!(
            serde_json::to_string(&Classification::Outside).unwrap(),
            "\"outside\""
        );
        assert_eq!(
            serde_json::to_string(&Classification::Two).unwrap(),
            "\"2\""
        );
        assert_eq!(
            RiskClass::try_from(Classification::Outside),
            Err(ParseClassError::Outside)
        );
        assert_eq!(Classification::from(RiskClass::One), Classification::One);
        assert_eq!(Classification::Three.describe(), "class 3");
        assert_eq!(Classification::Outside.describe(), "outside the Act");
    }
}

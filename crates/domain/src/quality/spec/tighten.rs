//! Whether an overriding rule tightens the base rule it replaces. Anything that would
//! loosen a base rule, or change what it is about, is described in words so the load
//! error can say exactly what a product specification tried to relax.

use super::{AnyOfPolicy, Bound, Condition, Requirement, Rule, join};
use crate::quality::identifiers::AttributeCode;
use std::fmt;

impl Bound {
    /// `None` if `self` is at least as strict as `base`, otherwise why not.
    pub(super) fn tightening_problem(&self, base: &Bound) -> Option<String> {
        if self.unit != base.unit {
            return Some(format!(
                "changes the unit from {} to {}",
                base.unit, self.unit
            ));
        }
        if self.comparator.is_lower_bound() != base.comparator.is_lower_bound() {
            return Some(format!(
                "turns the {} limit {base} into {self}",
                if base.comparator.is_lower_bound() {
                    "lower"
                } else {
                    "upper"
                }
            ));
        }
        let at_least_as_strict = if self.comparator.is_lower_bound() {
            self.limit > base.limit
                || (self.limit == base.limit
                    && (self.comparator.is_strict() || !base.comparator.is_strict()))
        } else {
            self.limit < base.limit
                || (self.limit == base.limit
                    && (self.comparator.is_strict() || !base.comparator.is_strict()))
        };
        (!at_least_as_strict).then(|| format!("{self} is looser than the base limit {base}"))
    }
}

impl Condition {
    pub(super) fn tightening_problem(&self, base: &Condition) -> Option<String> {
        match (self, base) {
            (Condition::Numeric { bound }, Condition::Numeric { bound: b }) => {
                bound.tightening_problem(b)
            }
            (Condition::Qualitative { accept }, Condition::Qualitative { accept: b }) => {
                subset_problem("accepted readings", accept, b)
            }
            _ => Some("changes a numeric condition into a qualitative one or back".into()),
        }
    }
}

impl Requirement {
    /// `None` if `self` is at least as strict as `base`, otherwise why not.
    pub(super) fn tightening_problem(&self, base: &Requirement) -> Option<String> {
        use Requirement as R;
        match (self, base) {
            (
                R::Numeric { attribute, bound },
                R::Numeric {
                    attribute: ba,
                    bound: bb,
                },
            ) => same_attribute(attribute, ba).or_else(|| bound.tightening_problem(bb)),
            (
                R::Qualitative { attribute, accept },
                R::Qualitative {
                    attribute: ba,
                    accept: bacc,
                },
            ) => same_attribute(attribute, ba)
                .or_else(|| subset_problem("accepted readings", accept, bacc)),
            (
                R::DoseNormalised {
                    attribute,
                    threshold_per_kg,
                    intrathecal_threshold_per_kg,
                    unit,
                    reference_body_mass_kg,
                },
                R::DoseNormalised {
                    attribute: ba,
                    threshold_per_kg: bk,
                    intrathecal_threshold_per_kg: bik,
                    unit: bu,
                    reference_body_mass_kg: bm,
                },
            ) => same_attribute(attribute, ba).or_else(|| {
                if unit != bu {
                    Some(format!("changes the unit from {bu} to {unit}"))
                } else if threshold_per_kg > bk {
                    Some(format!("raises K from {bk} to {threshold_per_kg} EU/kg"))
                } else if reference_body_mass_kg > bm {
                    Some(format!(
                        "raises the reference body mass from {bm} to {reference_body_mass_kg} kg"
                    ))
                } else {
                    // Without its own intrathecal K, a rule applies K to intrathecal use too.
                    let base_it = bik.unwrap_or(*bk);
                    match intrathecal_threshold_per_kg {
                        None if bik.is_some() => {
                            Some(format!("drops the intrathecal K of {base_it} EU/kg"))
                        }
                        Some(k) if *k > base_it => Some(format!(
                            "raises the intrathecal K from {base_it} to {k} EU/kg"
                        )),
                        _ => None,
                    }
                }
            }),
            (
                R::AnyOf {
                    alternatives,
                    policy,
                },
                R::AnyOf {
                    alternatives: balts,
                    policy: bpol,
                },
            ) => {
                if *policy == AnyOfPolicy::AnyPassing && *bpol == AnyOfPolicy::AllMeasured {
                    return Some("relaxes the policy from all_measured to any_passing".into());
                }
                for alt in alternatives {
                    match balts.iter().find(|b| b.attribute == alt.attribute) {
                        None => {
                            return Some(format!(
                                "adds the alternative {} that the base does not allow",
                                alt.attribute
                            ));
                        }
                        Some(b) => {
                            if let Some(p) = alt.condition.tightening_problem(&b.condition) {
                                return Some(format!("alternative {}: {p}", alt.attribute));
                            }
                        }
                    }
                }
                None
            }
            (
                R::DistinctCount {
                    attributes,
                    distinct,
                    min,
                    qualifying,
                },
                R::DistinctCount {
                    attributes: battrs,
                    distinct: bd,
                    min: bmin,
                    qualifying: bq,
                },
            ) => {
                if distinct != bd {
                    Some("changes what is counted (methods vs attributes)".into())
                } else if min < bmin {
                    Some(format!("lowers the minimum count from {bmin} to {min}"))
                } else if let Some(p) = subset_problem("counted attributes", attributes, battrs) {
                    Some(p)
                } else {
                    match (qualifying, bq) {
                        (None, Some(_)) => {
                            Some("drops the qualifying readings, so any result would count".into())
                        }
                        (Some(q), Some(b)) => subset_problem("qualifying readings", q, b),
                        _ => None,
                    }
                }
            }
            (
                R::Evidence { attribute, unit },
                R::Evidence {
                    attribute: ba,
                    unit: bu,
                },
            ) => same_attribute(attribute, ba).or_else(|| match (unit, bu) {
                (_, None) => None,
                (Some(u), Some(b)) if u == b => None,
                _ => Some("changes or drops the required unit".into()),
            }),
            _ => Some(format!(
                "changes the kind from {} to {}",
                base.kind_name(),
                self.kind_name()
            )),
        }
    }
}

impl Rule {
    /// `None` if `self` is at least as strict as `base` (same id), otherwise why not.
    pub fn tightening_problem(&self, base: &Rule) -> Option<String> {
        if let Some(p) = self.requirement.tightening_problem(&base.requirement) {
            return Some(p);
        }
        if !base.methods.is_empty() {
            if self.methods.is_empty() {
                return Some(format!(
                    "accepts any method where the base accepts only {}",
                    join(&base.methods, ", ")
                ));
            }
            return subset_problem("acceptable methods", &self.methods, &base.methods);
        }
        None
    }
}

fn same_attribute(a: &AttributeCode, base: &AttributeCode) -> Option<String> {
    (a != base).then(|| format!("changes the attribute from {base} to {a}"))
}

fn subset_problem<T: PartialEq + fmt::Display>(
    what: &str,
    child: &[T],
    base: &[T],
) -> Option<String> {
    child
        .iter()
        .find(|c| !base.contains(c))
        .map(|c| format!("adds {c} to the {what}, which the base does not allow"))
}

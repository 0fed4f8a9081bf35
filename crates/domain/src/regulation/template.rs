//! Reason text templates of rules, parsed once at load so rendering cannot fail.
//!
//! A template is text with placeholders in braces (`{{` and `}}` for literal braces):
//!
//! | placeholder | renders |
//! |---|---|
//! | `{facts}` | the facts the rule's condition used, e.g. `cell_source = allogeneic`; for a fallback rule (no condition) the whole description |
//! | `{description}` | every answer of the description |
//! | `{class}` | `class 1` … or `outside the Act` |
//! | `{rule}` | the qualified rule id, `rule-set-id/rule-id` |
//! | `{cites}` | the rule's legal citation |
//! | `{rule_set}` | the rule set id |
//! | `{<field>}` | one answer, e.g. `{cell_kind}` or `{source.cell_source}` (`none` when unanswered) |

use super::class::Classification;
use super::condition::{Fact, FieldPath, FieldValue};
use super::therapy::TherapyDescription;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Facts,
    Description,
    Class,
    Rule,
    Cites,
    RuleSet,
    Field(FieldPath),
}

/// A parsed reason template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template(Vec<Segment>);

/// What a template is rendered with.
pub(crate) struct Context<'a> {
    pub rule_set: &'a str,
    pub rule: &'a str,
    pub cites: &'a str,
    pub class: Classification,
    pub facts: &'a [Fact],
    pub description: &'a TherapyDescription,
}

impl Template {
    /// Parses a template, rejecting unknown placeholders and unbalanced braces.
    pub(crate) fn parse(text: &str) -> Result<Template, String> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => {
                                return Err(format!("unclosed placeholder `{{{name}`"));
                            }
                            Some(ch) => name.push(ch),
                        }
                    }
                    if !literal.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut literal)));
                    }
                    segments.push(match name.as_str() {
                        "facts" => Segment::Facts,
                        "description" => Segment::Description,
                        "class" => Segment::Class,
                        "rule" => Segment::Rule,
                        "cites" => Segment::Cites,
                        "rule_set" => Segment::RuleSet,
                        other => Segment::Field(other.parse().map_err(|_| {
                            format!(
                                "unknown placeholder `{{{other}}}`; use facts, description, class, rule, cites, rule_set or a field name"
                            )
                        })?),
                    });
                }
                '}' => return Err("unmatched `}` (write `}}` for a literal brace)".to_owned()),
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(Template(segments))
    }

    /// Renders the template.
    pub(crate) fn render(&self, ctx: &Context<'_>) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Facts if ctx.facts.is_empty() => {
                    out.push_str(&describe(ctx.description));
                }
                Segment::Facts => out.push_str(&join_facts(ctx.facts)),
                Segment::Description => out.push_str(&describe(ctx.description)),
                Segment::Class => out.push_str(&ctx.class.describe()),
                Segment::Rule => out.push_str(ctx.rule),
                Segment::Cites => out.push_str(ctx.cites),
                Segment::RuleSet => out.push_str(ctx.rule_set),
                Segment::Field(path) => match path.value_in(ctx.description) {
                    Some(v) => out.push_str(&v.to_string()),
                    None => out.push_str("none"),
                },
            }
        }
        out
    }
}

fn join_facts(facts: &[Fact]) -> String {
    facts
        .iter()
        .map(|(path, value)| match value {
            Some(v) => format!("{path} = {v}"),
            None => format!("{path} = none"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every answer the description has, in field order.
/// Every answer of the description, leaving out the scope-edge answers left at their
/// default (`minimally_manipulated = false` and the like), which every older description
/// has and which say nothing.
pub(crate) fn describe(d: &TherapyDescription) -> String {
    let facts: Vec<Fact> = FieldPath::all()
        .filter_map(|path| path.value_in(d).map(|v| (path, Some(v))))
        .filter(|(path, value)| {
            !(path.name.defaults_to_false() && *value == Some(FieldValue::Bool(false)))
        })
        .collect();
    join_facts(&facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_reject_unknown_placeholders_and_stray_braces() {
        assert!(Template::parse("{facts} → {class}").is_ok());
        assert!(Template::parse("{source.cell_kind} {{literal}}").is_ok());
        assert!(
            Template::parse("{fact}")
                .unwrap_err()
                .contains("unknown placeholder")
        );
        assert!(Template::parse("{facts").is_err());
        assert!(Template::parse("facts}").is_err());
    }

    #[test]
    fn templates_render_fields_and_literal_braces() {
        let d: TherapyDescription = serde_json::from_value(serde_json::json!({
            "material": "ev", "purpose": "treatment",
            "source": {"cell_source": "allogeneic", "cell_kind": "somatic_stem",
                       "gene_introduced": false, "genome_edited": false, "cultured": true}
        }))
        .unwrap();
        let t = Template::parse("{{x}} {source.cell_source} {cell_kind} {class} {rule}").unwrap();
        let text = t.render(&Context {
            rule_set: "s",
            rule: "s/r",
            cites: "c",
            class: Classification::Outside,
            facts: &[],
            description: &d,
        });
        assert_eq!(text, "{x} allogeneic none outside the Act s/r");
    }
}

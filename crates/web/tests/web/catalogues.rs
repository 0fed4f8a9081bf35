//! The message catalogues: one key set, no empty message.

use fluent_syntax::ast::Entry;
use std::collections::BTreeSet;

fn keys(lang: &str) -> BTreeSet<String> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let resource = fluent_syntax::parser::parse(text.as_str())
        .unwrap_or_else(|(_, errors)| panic!("{path} does not parse: {errors:?}"));
    resource
        .body
        .iter()
        .filter_map(|e| match e {
            Entry::Message(m) => {
                assert!(m.value.is_some(), "{path}: {} has no text", m.id.name);
                Some(m.id.name.to_string())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn japanese_and_english_have_the_same_keys() {
    let ja = keys("ja");
    let en = keys("en");
    let only_ja: Vec<_> = ja.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&ja).collect();
    assert!(
        only_ja.is_empty() && only_en.is_empty(),
        "only in ja: {only_ja:?}; only in en: {only_en:?}"
    );
    assert!(ja.len() > 100, "the catalogues hold the pages' words");
}

/// Every value of every enumerated type a page shows or offers has words in both
/// languages (the values come from the types' own schemas, so a new variant without
/// words fails here, not on a page).
#[test]
fn every_enumerated_value_has_words() {
    use saisei_domain::auth::Role;
    use saisei_domain::registry::*;
    use saisei_domain::regulation::{DeadlineCategory, DeadlineStatus, RiskClass};
    use saisei_web::forms::enum_values;
    use saisei_web::i18n::{Lang, MISSING, Ui};
    let groups: Vec<(&str, Vec<String>)> = vec![
        ("sex", enum_values::<Sex>()),
        ("arm", enum_values::<Arm>()),
        ("route", enum_values::<Route>()),
        ("seriousness", enum_values::<SeriousnessCriterion>()),
        ("causality", enum_values::<Causality>()),
        ("outcome", enum_values::<AeOutcome>()),
        ("plan-status", enum_values::<PlanStatus>()),
        ("visit-status", enum_values::<VisitStatus>()),
        ("role", enum_values::<Role>()),
        ("deadline-category", enum_values::<DeadlineCategory>()),
        ("deadline-status", enum_values::<DeadlineStatus>()),
        ("risk-class", enum_values::<RiskClass>()),
        ("control-source", enum_values::<ControlSource>()),
        ("consent-scope", enum_values::<ConsentScope>()),
    ];
    let mut missing = Vec::new();
    for (group, values) in groups {
        assert!(!values.is_empty(), "{group}: the schema lists its values");
        for v in values {
            let key = format!("{group}-{}", v.replace('_', "-"));
            for lang in [Lang::Ja, Lang::En] {
                if Ui::new(lang).t(&key).starts_with(MISSING) {
                    missing.push(format!("{}: {key}", lang.code()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "no words for: {missing:?}");
}

//! The fixed part of the demo registry: organisations, practitioners, the follow-up
//! schedule, a product, and provision plans of all three classes moved through their
//! lifecycle by the same workflow the API uses.

use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::registry::*;
use saisei_domain::regulation::{RuleBook, TherapyDescription, classify};
use saisei_store::workflow::{TransitionRequest, transition_plan};
use saisei_store::{Store, StoreError};
use serde_json::json;
use time::Date;
use time::macros::date;

/// What the cohort generator needs from the scaffold.
pub struct Scaffold {
    /// Medical institutions.
    pub institutions: Vec<Record<Organisation>>,
    /// The follow-up schedule every treatment uses.
    pub schedule: Record<FollowUpSchedule>,
    /// The product under conditional approval.
    pub product: Record<Product>,
    /// Plans with their clinical profile.
    pub plans: Vec<DemoPlan>,
}

/// A plan and what patients treated under it look like.
pub struct DemoPlan {
    /// The stored plan (after its transitions).
    pub record: Record<Plan>,
    /// Index into `Scaffold::institutions`.
    pub institution: usize,
    /// The clinical profile.
    pub profile: Profile,
}

/// How patients of a plan or product are treated and measured.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// Dose given.
    pub dose: f64,
    /// Dose unit.
    pub dose_unit: &'static str,
    /// Route.
    pub route: Route,
    /// Site, if any.
    pub site: Option<&'static str>,
    /// Outcome measure code.
    pub measure: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Mean at baseline.
    pub baseline: f64,
    /// Mean change by month 12 among treated patients.
    pub effect: f64,
    /// Standard deviation of measurements.
    pub sd: f64,
    /// Typical age.
    pub age: (i32, i32),
    /// Relative weight among plans when assigning patients.
    pub weight: u32,
}

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    // The scaffold is fixed data written in this file; a failure here is a bug in it.
    serde_json::from_value(v).expect("demo scaffold data is valid")
}

async fn org(
    store: &Store,
    actor: &AuditActor,
    name: &str,
    kind: &str,
    pref: &str,
    code: &str,
) -> Result<Record<Organisation>, StoreError> {
    store
        .create(
            actor,
            parse(json!({"name": name, "kind": kind, "prefecture": pref, "code": code})),
        )
        .await
}

struct PlanSpec {
    number: &'static str,
    title: &'static str,
    institution: usize,
    disease: &'static str,
    material: &'static str,
    therapy: serde_json::Value,
    committee: usize,
    /// Dates of submitted, under review, accepted, active (None where the plan stops).
    path: &'static [(PlanStatus, Date)],
    efficacy: Option<&'static str>,
    method: Option<&'static str>,
    profile: Profile,
}

fn cells(
    source: &str,
    kind: &str,
    cultured: bool,
    homologous: bool,
    purpose: &str,
    gene: bool,
) -> serde_json::Value {
    json!({
        "material": "cells", "cell_source": source, "cell_kind": kind,
        "gene_introduced": gene, "genome_edited": false, "cultured": cultured,
        "homologous_use": homologous, "purpose": purpose, "procedure": null
    })
}

fn plan_specs() -> Vec<PlanSpec> {
    use PlanStatus::*;
    let knee = Profile {
        dose: 5.0e7,
        dose_unit: "cells",
        route: Route::IntraArticular,
        site: Some("knee"),
        measure: "KOOS-pain",
        unit: "{score}",
        baseline: 48.0,
        effect: 14.0,
        sd: 12.0,
        age: (50, 85),
        weight: 30,
    };
    vec![
        PlanSpec {
            number: "PB5190001",
            title: "変形性膝関節症に対する自己培養脂肪由来間葉系幹細胞の関節内投与",
            institution: 0,
            disease: "変形性膝関節症",
            material: "自己脂肪由来間葉系間質細胞（培養、継代2）5×10^7個を関節内投与",
            therapy: cells(
                "autologous",
                "somatic_stem",
                true,
                false,
                "treatment",
                false,
            ),
            committee: 0,
            path: &[
                (Submitted, date!(2019 - 04 - 10)),
                (UnderReview, date!(2019 - 04 - 20)),
                (Accepted, date!(2019 - 06 - 14)),
                (Active, date!(2019 - 07 - 01)),
            ],
            efficacy: Some("膝痛の軽減：12か月時点でKOOS疼痛スコア10点以上の改善"),
            method: Some(
                "KOOS pain subscale at baseline, 6 and 12 months; compared with registry controls",
            ),
            profile: knee,
        },
        PlanSpec {
            number: "PC5190002",
            title: "変形性膝関節症に対する多血小板血漿（PRP）療法",
            institution: 0,
            disease: "変形性膝関節症",
            material: "自己白血球除去多血小板血漿 4 mL を関節内投与",
            therapy: cells("autologous", "somatic", false, true, "treatment", false),
            committee: 2,
            path: &[
                (Submitted, date!(2019 - 02 - 01)),
                (UnderReview, date!(2019 - 02 - 08)),
                (Accepted, date!(2019 - 03 - 15)),
                (Active, date!(2019 - 03 - 20)),
            ],
            efficacy: Some("6か月間の疼痛緩和"),
            method: Some("1・3・6か月時点のVASとKOOS疼痛スコア"),
            profile: Profile {
                dose: 4.0,
                dose_unit: "mL",
                effect: 7.0,
                weight: 20,
                ..knee
            },
        },
        PlanSpec {
            number: "PB3200003",
            title: "顔面のしわに対する自己培養線維芽細胞移植",
            institution: 2,
            disease: "鼻唇溝のしわ",
            material: "自己真皮線維芽細胞（培養）1×10^7個を皮内投与",
            therapy: cells("autologous", "somatic", true, true, "reconstruction", false),
            committee: 1,
            path: &[
                (Submitted, date!(2020 - 01 - 15)),
                (UnderReview, date!(2020 - 01 - 30)),
                (Accepted, date!(2020 - 03 - 02)),
                (Active, date!(2020 - 03 - 10)),
            ],
            efficacy: Some("6か月時点でしわの重症度が1段階改善"),
            method: Some("WSRSによる写真の盲検評価"),
            profile: Profile {
                dose: 1.0e7,
                dose_unit: "cells",
                route: Route::Intradermal,
                site: Some("face"),
                measure: "WSRS",
                unit: "{grade}",
                baseline: 3.6,
                effect: -1.1,
                sd: 0.6,
                age: (35, 70),
                weight: 12,
            },
        },
        PlanSpec {
            number: "PC3200004",
            title: "皮膚の若返りを目的とした多血小板血漿療法",
            institution: 2,
            disease: "光老化皮膚",
            material: "自己多血小板血漿 3 mL を皮内投与",
            therapy: cells("autologous", "somatic", false, true, "treatment", false),
            committee: 2,
            path: &[
                (Submitted, date!(2020 - 05 - 11)),
                (UnderReview, date!(2020 - 05 - 20)),
                (Accepted, date!(2020 - 06 - 19)),
                (Active, date!(2020 - 07 - 01)),
                (Suspended, date!(2025 - 02 - 03)),
            ],
            efficacy: None,
            method: None,
            profile: Profile {
                dose: 3.0,
                dose_unit: "mL",
                route: Route::Intradermal,
                site: Some("face"),
                measure: "GAIS",
                unit: "{grade}",
                baseline: 3.0,
                effect: -0.5,
                sd: 0.7,
                age: (30, 70),
                weight: 6,
            },
        },
        PlanSpec {
            number: "PB1200005",
            title: "重症下肢虚血に対する自己骨髄単核球細胞移植",
            institution: 3,
            disease: "重症下肢虚血",
            material: "自己骨髄単核球細胞（非培養）を筋肉内投与",
            therapy: cells("autologous", "somatic", false, false, "treatment", false),
            committee: 0,
            path: &[
                (Submitted, date!(2020 - 08 - 03)),
                (UnderReview, date!(2020 - 08 - 10)),
                (Accepted, date!(2020 - 10 - 01)),
                (Active, date!(2020 - 10 - 15)),
            ],
            efficacy: Some("無切断生存と足関節上腕血圧比の改善"),
            method: Some("6・12か月時点のABIと下肢切断"),
            profile: Profile {
                dose: 1.0e9,
                dose_unit: "cells",
                route: Route::Intramuscular,
                site: Some("lower limb"),
                measure: "ABI",
                unit: "1",
                baseline: 0.42,
                effect: 0.12,
                sd: 0.1,
                age: (55, 88),
                weight: 6,
            },
        },
        PlanSpec {
            number: "PA1210006",
            title: "慢性心不全に対する他家臍帯由来間葉系幹細胞の静脈内投与",
            institution: 3,
            disease: "慢性心不全（HFrEF）",
            material: "他家臍帯由来MSC（マスターセルバンク）1×10^8個を静脈内投与",
            therapy: cells(
                "allogeneic",
                "somatic_stem",
                true,
                false,
                "treatment",
                false,
            ),
            committee: 0,
            path: &[
                (Submitted, date!(2021 - 01 - 12)),
                (UnderReview, date!(2021 - 01 - 20)),
                (Accepted, date!(2021 - 04 - 01)),
                (Active, date!(2021 - 07 - 05)),
            ],
            efficacy: Some("12か月時点で左室駆出率5ポイントの改善"),
            method: Some("心エコーによるLVEF（コアラボ判定）"),
            profile: Profile {
                dose: 1.0e8,
                dose_unit: "cells",
                route: Route::Intravenous,
                site: None,
                measure: "LVEF",
                unit: "%",
                baseline: 32.0,
                effect: 4.0,
                sd: 6.0,
                age: (45, 85),
                weight: 6,
            },
        },
        PlanSpec {
            number: "PA1210007",
            title: "不安定型1型糖尿病に対する他家膵島移植",
            institution: 4,
            disease: "重症低血糖を伴う1型糖尿病",
            material: "他家膵島 5,000 IEQ/kg を経門脈的に移植",
            therapy: cells("allogeneic", "somatic", true, true, "reconstruction", false),
            committee: 1,
            path: &[
                (Submitted, date!(2021 - 03 - 01)),
                (UnderReview, date!(2021 - 03 - 10)),
                (Accepted, date!(2021 - 05 - 20)),
                (Active, date!(2021 - 08 - 23)),
            ],
            efficacy: Some("12か月時点で重症低血糖なくHbA1c 7.0 %未満"),
            method: Some("HbA1cと低血糖発作"),
            profile: Profile {
                dose: 5000.0,
                dose_unit: "IEQ/kg",
                route: Route::Implantation,
                site: Some("portal vein"),
                measure: "HbA1c",
                unit: "%",
                baseline: 8.2,
                effect: -1.4,
                sd: 0.8,
                age: (25, 65),
                weight: 3,
            },
        },
        PlanSpec {
            number: "PA1220008",
            title: "滲出型加齢黄斑変性に対する他家iPS細胞由来網膜色素上皮細胞移植",
            institution: 5,
            disease: "滲出型加齢黄斑変性",
            material: "他家iPS細胞由来RPE細胞ストリップを網膜下に移植",
            therapy: cells("allogeneic", "ips", true, true, "reconstruction", false),
            committee: 1,
            path: &[
                (Submitted, date!(2022 - 02 - 01)),
                (UnderReview, date!(2022 - 02 - 15)),
                (Accepted, date!(2022 - 05 - 09)),
                (Active, date!(2022 - 09 - 01)),
            ],
            efficacy: Some("12か月時点で最高矯正視力の維持"),
            method: Some("最高矯正視力（ETDRS文字数）"),
            profile: Profile {
                dose: 2.5e5,
                dose_unit: "cells",
                route: Route::Subretinal,
                site: Some("eye"),
                measure: "BCVA",
                unit: "{letters}",
                baseline: 52.0,
                effect: 2.0,
                sd: 8.0,
                age: (55, 90),
                weight: 3,
            },
        },
        PlanSpec {
            number: "PB5220009",
            title: "慢性期脊髄損傷に対する自己培養骨髄間葉系幹細胞の静脈内投与",
            institution: 1,
            disease: "慢性期脊髄損傷",
            material: "自己骨髄MSC（培養）を静脈内投与",
            therapy: cells(
                "autologous",
                "somatic_stem",
                true,
                false,
                "treatment",
                false,
            ),
            committee: 0,
            path: &[
                (Submitted, date!(2022 - 06 - 01)),
                (UnderReview, date!(2022 - 06 - 10)),
                (Accepted, date!(2022 - 08 - 01)),
                (Active, date!(2022 - 08 - 15)),
            ],
            efficacy: Some("6か月時点でASIA運動スコア5点以上の改善"),
            method: Some("ISNCSCIによる神経学的評価"),
            profile: Profile {
                dose: 1.0e8,
                dose_unit: "cells",
                route: Route::Intravenous,
                site: None,
                measure: "ASIA-motor",
                unit: "{score}",
                baseline: 40.0,
                effect: 5.0,
                sd: 9.0,
                age: (20, 70),
                weight: 5,
            },
        },
        PlanSpec {
            number: "PC5230010",
            title: "進行固形がんに対する自己NK細胞療法",
            institution: 1,
            disease: "進行固形がん",
            material: "自己NK細胞（14日間培養）を静脈内投与",
            therapy: cells("autologous", "somatic", true, true, "treatment", false),
            committee: 2,
            path: &[
                (Submitted, date!(2023 - 01 - 10)),
                (UnderReview, date!(2023 - 01 - 20)),
                (Accepted, date!(2023 - 03 - 01)),
                (Active, date!(2023 - 03 - 15)),
                (Ended, date!(2026 - 03 - 31)),
            ],
            efficacy: None,
            method: None,
            profile: Profile {
                dose: 1.0e9,
                dose_unit: "cells",
                route: Route::Intravenous,
                site: None,
                measure: "ECOG",
                unit: "{grade}",
                baseline: 1.2,
                effect: 0.0,
                sd: 0.6,
                age: (40, 85),
                weight: 5,
            },
        },
        PlanSpec {
            number: "PB5250011",
            title: "変形性膝関節症に対する自己脂肪組織由来間質血管細胞群（SVF）療法",
            institution: 0,
            disease: "変形性膝関節症",
            material: "自己脂肪由来SVF（非培養）",
            therapy: cells(
                "autologous",
                "somatic_stem",
                false,
                false,
                "treatment",
                false,
            ),
            committee: 0,
            path: &[(Submitted, date!(2025 - 09 - 01))],
            efficacy: Some("12か月時点でKOOS疼痛スコア8点以上の改善"),
            method: Some("KOOS疼痛スコア"),
            profile: knee,
        },
        PlanSpec {
            number: "PA1260012",
            title: "再発B細胞性急性リンパ性白血病に対するゲノム編集他家CAR-T細胞療法",
            institution: 1,
            disease: "再発B細胞性急性リンパ性白血病",
            material: "TRACをノックアウトした他家CD19 CAR-T細胞",
            therapy: json!({"material": "cells", "cell_source": "allogeneic", "cell_kind": "somatic", "gene_introduced": true, "genome_edited": true, "cultured": true, "homologous_use": false, "purpose": "treatment", "procedure": null}),
            committee: 1,
            path: &[],
            efficacy: Some("28日目の完全寛解"),
            method: Some("骨髄MRD"),
            profile: Profile {
                dose: 1.0e6,
                dose_unit: "cells/kg",
                route: Route::Intravenous,
                site: None,
                measure: "MRD",
                unit: "%",
                baseline: 5.0,
                effect: -4.0,
                sd: 2.0,
                age: (18, 60),
                weight: 0,
            },
        },
    ]
}

/// Builds the scaffold.
pub async fn build(
    store: &Store,
    actor: &AuditActor,
    rules: &RuleBook,
) -> Result<Scaffold, StoreError> {
    let mut institutions = Vec::new();
    for (name, pref, code) in [
        ("鴨川整形外科クリニック", "京都府", "2612345678"),
        ("なにわ総合病院", "大阪府", "2798765432"),
        ("新宿スキン再生クリニック", "東京都", "1311223344"),
        ("札幌ハート・血管センター", "北海道", "0155667788"),
        ("博多糖尿病・膵島移植センター", "福岡県", "4099887766"),
        ("仙台眼科病院", "宮城県", "0433445566"),
    ] {
        institutions.push(org(store, actor, name, "medical_institution", pref, code).await?);
    }
    let facility = org(
        store,
        actor,
        "けいはんな細胞培養加工センター",
        "cell_processing_facility",
        "京都府",
        "FA5190001",
    )
    .await?;
    let committees = [
        org(
            store,
            actor,
            "関西特定認定再生医療等委員会",
            "specially_certified_committee",
            "大阪府",
            "NA8150001",
        )
        .await?,
        org(
            store,
            actor,
            "東京特定認定再生医療等委員会",
            "specially_certified_committee",
            "東京都",
            "NA8130002",
        )
        .await?,
        org(
            store,
            actor,
            "九州認定再生医療等委員会",
            "certified_committee",
            "福岡県",
            "NB7140003",
        )
        .await?,
    ];
    let mah = org(
        store,
        actor,
        "再生セラピューティクス株式会社",
        "marketing_authorisation_holder",
        "東京都",
        "13A1X00001",
    )
    .await?;
    org(
        store,
        actor,
        "厚生労働省（デモ）",
        "regulator",
        "東京都",
        "MHLW",
    )
    .await?;

    let surnames = [
        "Sato",
        "Suzuki",
        "Takahashi",
        "Tanaka",
        "Watanabe",
        "Ito",
        "Yamamoto",
        "Nakamura",
        "Kobayashi",
        "Kato",
        "Yoshida",
        "Yamada",
    ];
    let mut physicians = Vec::new();
    for (i, inst) in institutions.iter().enumerate() {
        let mut list = Vec::new();
        for j in 0..2 {
            let name = format!(
                "Dr. {} {}",
                surnames[(i * 2 + j) % surnames.len()],
                ["Haruto", "Yui", "Ren", "Aoi"][(i + j) % 4]
            );
            list.push(
                store
                    .create(actor, parse::<Practitioner>(json!({
                        "organisation_id": inst.id(), "name": name, "profession": "physician",
                        "qualifications": [
                            {"title": "Board-certified specialist (日本専門医機構)", "number": format!("SP-{:05}", 1000 + i * 10 + j), "obtained_on": "2012-04-01"},
                            {"title": "JSRM regenerative medicine certified physician", "number": format!("RM-{:04}", 300 + i * 10 + j), "obtained_on": "2018-10-01", "expires_on": "2028-09-30"}
                        ]
                    })))
                    .await?,
            );
        }
        physicians.push(list);
    }
    store
        .create(actor, parse::<Practitioner>(json!({
            "organisation_id": facility.id(), "name": "Kimura Sakura", "profession": "technologist",
            "qualifications": [{"title": "Cell processing QA manager", "obtained_on": "2016-04-01"}]
        })))
        .await?;

    let schedule = store
        .create(actor, parse::<FollowUpSchedule>(json!({
            "name": "ASRM standard follow-up",
            "description": "Day 7, day 30, months 3, 6 and 12, then yearly to year 5",
            "visits": [
                {"label": "D7", "days": 7, "window_before_days": 2, "window_after_days": 3},
                {"label": "D30", "days": 30, "window_before_days": 7, "window_after_days": 14},
                {"label": "M3", "months": 3, "window_before_days": 14, "window_after_days": 21},
                {"label": "M6", "months": 6, "window_before_days": 30, "window_after_days": 30},
                {"label": "M12", "months": 12, "window_before_days": 30, "window_after_days": 45}
            ],
            "repeat": {"every_months": 12, "until_months": 60, "window_days": 60}
        })))
        .await?;
    let product = store
        .create(actor, parse::<Product>(json!({
            "name": "Regenecel-K (demo)", "modality": "msc", "mah_id": mah.id(),
            "description": "Allogeneic umbilical-cord MSC from a banked donor (MCB-UC01), for knee osteoarthritis; conditional and time-limited approval",
            "approval": {
                "kind": "conditional_time_limited", "approved_on": "2021-09-24", "term_years": 7, "number": "30300FZX00001000",
                "conditions": [
                    "Evaluate efficacy against registry controls in a post-marketing approval-condition evaluation and re-apply within the term",
                    "Register every treated patient in the national registry with 5-year follow-up"
                ]
            }
        })))
        .await?;

    let mut plans = Vec::new();
    for spec in plan_specs() {
        let therapy: TherapyDescription = parse(spec.therapy.clone());
        let filed = spec
            .path
            .iter()
            .find(|(s, _)| *s == PlanStatus::Submitted)
            .map(|p| p.1)
            .unwrap_or(date!(2026 - 01 - 01));
        let rule_set = rules
            .in_force_on(filed)
            .map_err(|e| StoreError::invalid("demo", e.to_string()))?;
        let Some(class) = classify(rule_set, &therapy).class.risk_class() else {
            continue;
        };
        let inst = &institutions[spec.institution];
        let plan = store
            .create(
                actor,
                Plan {
                    plan_number: spec
                        .number
                        .parse()
                        .map_err(|e: String| StoreError::invalid("plan_number", e))?,
                    title: spec
                        .title
                        .parse()
                        .map_err(|e: String| StoreError::invalid("title", e))?,
                    institution_id: inst.id(),
                    responsible_physician_id: physicians[spec.institution][0].id(),
                    risk_class: class,
                    target_disease: spec
                        .disease
                        .parse()
                        .map_err(|e: String| StoreError::invalid("target_disease", e))?,
                    material_description: spec
                        .material
                        .parse()
                        .map_err(|e: String| StoreError::invalid("material_description", e))?,
                    therapy: Some(therapy),
                    committee_id: committees[spec.committee].id(),
                    status: PlanStatus::Draft,
                    submitted_on: None,
                    filed_on: None,
                    activated_on: None,
                    ended_on: None,
                    expected_efficacy: spec
                        .efficacy
                        .map(|s| s.parse())
                        .transpose()
                        .map_err(|e: String| StoreError::invalid("expected_efficacy", e))?,
                    evaluation_method: spec
                        .method
                        .map(|s| s.parse())
                        .transpose()
                        .map_err(|e: String| StoreError::invalid("evaluation_method", e))?,
                },
            )
            .await?;
        let mut record = plan;
        for (to, on) in spec.path {
            let reason = match to {
                PlanStatus::Suspended => Some("重篤な有害事象について委員会が調査中"),
                PlanStatus::Ended => Some("医療機関により提供終了"),
                _ => None,
            };
            let (next, _) = transition_plan(
                store,
                actor,
                rules,
                record.id(),
                TransitionRequest {
                    to: *to,
                    on: *on,
                    reason: reason
                        .map(|r| r.parse())
                        .transpose()
                        .map_err(|e: String| StoreError::invalid("reason", e))?,
                    version: record.meta.version,
                },
            )
            .await?;
            record = next;
        }
        plans.push(DemoPlan {
            record,
            institution: spec.institution,
            profile: spec.profile,
        });
    }
    Ok(Scaffold {
        institutions,
        schedule,
        product,
        plans,
    })
}

/// The clinical profile of patients treated with the demo product.
pub fn product_profile() -> Profile {
    Profile {
        dose: 5.0e7,
        dose_unit: "cells",
        route: Route::IntraArticular,
        site: Some("knee"),
        measure: "KOOS-pain",
        unit: "{score}",
        baseline: 46.0,
        effect: 12.0,
        sd: 12.0,
        age: (50, 85),
        weight: 0,
    }
}

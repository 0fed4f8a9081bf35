//! Post-marketing evaluation over HTTP: the plan check, blinded adjudication with
//! Cohen's kappa, analysis runs with a verdict, and the self-contained report.

use crate::helpers::{TestApp, TestUser};
use crate::on_both;
use reqwest::StatusCode;
use saisei_demo::{DemoOptions, demo_key};
use saisei_domain::regulation::RuleBook;
use serde_json::{Value, json};

/// A plan that settles little: the check must list what it leaves open.
fn thin_plan(product: &Value) -> Value {
    json!({
        "product_id": product["id"], "title": "Thin plan",
        "sample_size": {"target_treated": 40},
        "sites": {"planned": 1},
        "endpoints": [{
            "key": "response", "name": "Response at M12", "role": "primary",
            "definition": {"type": "binary", "measure": {"code": "KOOS-pain", "visit_label": "M12", "change_from_baseline": true},
                           "direction": "at_least", "threshold": 10},
            "objectivity": "subjective", "assessed_by": "treating_physician"
        }],
        "randomisation": {"randomised": false},
        "blinding": {"assessor_blinded": false},
        "control": {}
    })
}

/// A plan on the demo product with an adjudication committee of `panel`.
fn adjudicated_plan(product: &str, panel: &[&str]) -> Value {
    json!({
        "product_id": product, "title": "Adjudicated plan", "data_cut": "2026-09-30",
        "sample_size": {"target_treated": 30, "target_controls": 60,
            "assumptions": {"design": "survival", "hazard_ratio": 0.5, "alpha": 0.05, "power": 0.8, "allocation": 0.5, "event_probability": 0.3},
            "justification": "test"},
        "sites": {"planned": 3},
        "endpoints": [
            {"key": "failure", "name": "Time to treatment failure", "role": "primary",
             "definition": {"type": "time_to_event", "events": [
                {"source": "observation_threshold", "code": "KOOS-pain", "change_from_baseline": true, "direction": "at_most", "threshold": -10},
                {"source": "adverse_event", "ctcae_terms": ["Joint infection"]}]},
             "objectivity": "objective", "assessed_by": "central_committee", "adjudicated": true,
             "success": {"measure": "hazard_ratio", "statistic": "upper_limit", "comparator": "lt", "threshold": 1.0}}
        ],
        "randomisation": {"reason_not_randomised": "test"},
        "blinding": {"reason_not_blinded": "test", "central_adjudication": true, "adjudicators": panel},
        "control": {"source": "registry", "direction": "prospective", "source_justification": "test",
                    "covariates": ["age", "sex", "baseline:KOOS-pain"], "method": {"method": "weighting", "estimand": "att"}},
        "use_results_rationale": "test",
        "quality_efficacy": {"endpoint": "failure"}
    })
}

/// Fills the registry with a small demo (its product, patients, controls, lots and its
/// own evaluation plan) and returns the MAH analyst of the demo product's holder.
async fn demo(app: &TestApp) -> (TestUser, Value) {
    saisei_demo::generate(
        &app.store,
        RuleBook::embedded().unwrap(),
        &demo_key(7),
        DemoOptions {
            patients: 300,
            seed: 7,
        },
        |_| {},
    )
    .await
    .unwrap();
    app.act_as_admin();
    let mahs = app
        .get("/api/v1/organisations?kind=marketing_authorisation_holder")
        .await;
    let mah = mahs.body["items"][0].clone();
    let products = app.get("/api/v1/products").await;
    let product = products.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Regenecel-K (demo)")
        .unwrap()
        .clone();
    let analyst = app.user("mah_analyst", Some(&mah)).await;
    (analyst, product)
}

/// Every key and string in a JSON value, for leak checks.
fn words(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                words(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| words(x, out)),
        Value::String(s) => out.push(s.clone()),
        _ => {}
    }
}

async fn plan_check_lists_the_gaps(app: TestApp) {
    let mah = app
        .organisation("Cellex Pharma", "marketing_authorisation_holder")
        .await;
    app.act_as_admin();
    let product = app
        .create(
            "/api/v1/products",
            json!({"name": "Cellex-J", "modality": "msc", "mah_id": mah["id"]}),
        )
        .await;
    let analyst = app.user("mah_analyst", Some(&mah)).await;
    app.act_as(&analyst);
    let plan = app
        .create("/api/v1/evaluation-plans", thin_plan(&product))
        .await;
    assert!(plan["open_points"].as_u64().unwrap() >= 10, "{plan}");
    let id = plan["id"].as_str().unwrap();
    let check = app
        .get(&format!("/api/v1/evaluation-plans/{id}/check"))
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text);
    let messages: Vec<&str> = check.body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    for m in [
        "no central adjudication and no reason given",
        "not randomised and no reason given",
        "assessment not blinded and no reason given",
        "no explanation why a use-results survey is adequate",
        "no control group source",
    ] {
        assert!(messages.contains(&m), "{m} not in {messages:?}");
    }
    let fields: Vec<&str> = check.body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in [
        "sample_size.assumptions",
        "sites.justification",
        "endpoints[0].success",
        "endpoints[0].assessor_justification",
        "control.method",
        "quality_efficacy",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    assert_eq!(check.body["gaps"].as_u64(), plan["open_points"].as_u64());
    // Filling the gaps in a draft closes them; the power check names a target too low.
    let mut better = adjudicated_plan(
        product["id"].as_str().unwrap(),
        &["a@x.example", "b@x.example"],
    );
    better["sample_size"]["target_treated"] = json!(5);
    better["sample_size"]["target_controls"] = json!(200);
    let draft = app
        .post("/api/v1/evaluation-plans/check", better.clone())
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.text);
    let stored = app.create("/api/v1/evaluation-plans", better).await;
    let check = app
        .get(&format!(
            "/api/v1/evaluation-plans/{}/check",
            stored["id"].as_str().unwrap()
        ))
        .await;
    let found: Vec<&str> = check.body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "gap")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("below the") && found[0].contains("power calculation requires"),
        "{found:?}"
    );
    assert!(check.body["power"]["required_events"].as_u64().unwrap() > 0);
    // Bad input is a 422 naming the field, never a 5xx.
    let mut two = thin_plan(&product);
    two["endpoints"][0]["success"] = json!({"measure": "hazard_ratio", "statistic": "upper_limit", "comparator": "lt", "threshold": 1});
    app.post("/api/v1/evaluation-plans", two)
        .await
        .assert_problem(422, Some("endpoints[0].success.measure"));
    let mut odd = thin_plan(&product);
    odd["control"] = json!({"covariates": ["shoe_size"]});
    app.post("/api/v1/evaluation-plans", odd)
        .await
        .assert_problem(422, Some("control.covariates[0]"));
    app.get("/api/v1/evaluation-plans/not-a-uuid/check")
        .await
        .assert_problem(400, Some("id"));
    // The plans are listed.
    assert_eq!(app.count("/api/v1/evaluation-plans").await, 2);
}
on_both!(plan_check, plan_check_lists_the_gaps);

async fn adjudication_is_blinded_and_agreement_is_kappa(app: TestApp) {
    let (analyst, product) = demo(&app).await;
    let a = app.user("adjudicator", None).await;
    let b = app.user("adjudicator", None).await;
    let outsider = app.user("adjudicator", None).await;
    app.act_as(&analyst);
    let plan = app
        .create(
            "/api/v1/evaluation-plans",
            adjudicated_plan(product["id"].as_str().unwrap(), &[&a.email, &b.email]),
        )
        .await;
    let pid = plan["id"].as_str().unwrap();
    let made = app
        .post(
            &format!("/api/v1/evaluation-plans/{pid}/adjudication-tasks"),
            json!({}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let n = made.body["created"].as_u64().unwrap();
    assert!(
        n >= 4,
        "the demo has treatment failures to adjudicate: {}",
        made.text
    );
    // Asking again creates no duplicates.
    let again = app
        .post(
            &format!("/api/v1/evaluation-plans/{pid}/adjudication-tasks"),
            json!({}),
        )
        .await;
    assert_eq!(again.body["created"], 0, "{}", again.text);

    // Adjudicators never reach the unblinded views.
    app.act_as(&a);
    app.get(&format!(
        "/api/v1/evaluation-plans/{pid}/adjudication-tasks"
    ))
    .await
    .assert_problem(403, None);
    app.get(&format!("/api/v1/evaluation-plans/{pid}"))
        .await
        .assert_problem(403, None);
    let mine = app.get("/api/v1/adjudication/tasks").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    let items = mine.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len() as u64, n);
    // The blinded view names no product, arm, site, patient or plan.
    let mut seen = Vec::new();
    words(&mine.body, &mut seen);
    let sites = ["鴨川", "なにわ", "新宿", "札幌", "博多", "仙台"];
    for w in &seen {
        let lower = w.to_lowercase();
        for banned in [
            "product",
            "arm",
            "site",
            "patient",
            "plan_id",
            "treated",
            "control",
            "causality",
            "institution",
        ] {
            assert!(
                lower != banned && !lower.starts_with(&format!("{banned}_")),
                "key or value '{w}' unblinds"
            );
        }
        assert!(!lower.contains("regenecel"), "'{w}' names the product");
        assert!(!sites.iter().any(|s| w.contains(s)), "'{w}' names a site");
    }
    let tasks: Vec<String> = items
        .iter()
        .take(4)
        .map(|t| t["task_id"].as_str().unwrap().to_string())
        .collect();
    assert!(items.iter().all(|t| t["state"] == "awaiting_you"));
    // Someone outside the committee sees nothing and cannot assess.
    app.act_as(&outsider);
    let none = app.get("/api/v1/adjudication/tasks").await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.text);
    assert_eq!(none.body["items"], json!([]));
    app.post(
        &format!("/api/v1/adjudication/tasks/{}/assessments", tasks[0]),
        json!({"decision": "confirmed", "signature": app.my_signature()}),
    )
    .await
    .assert_problem(404, None);

    // Independent assessments: A confirms, confirms, rejects, confirms; B confirms,
    // rejects, rejects, confirms. p_o = 0.75, p_e = 0.5, κ = 0.5.
    let decide = |confirmed: bool| if confirmed { "confirmed" } else { "rejected" };
    let first = [true, true, false, true];
    let second = [true, false, false, true];
    for (k, t) in tasks.iter().enumerate() {
        app.act_as(&a);
        let r = app
            .post(
                &format!("/api/v1/adjudication/tasks/{t}/assessments"),
                json!({"decision": decide(first[k]), "comment": "on the data shown", "signature": app.my_signature()}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["state"], "awaiting_others");
        assert_eq!(r.body["others"], json!([]), "nothing of B before B submits");
        // B cannot see A's answer before answering.
        app.act_as(&b);
        let view = app.get(&format!("/api/v1/adjudication/tasks/{t}")).await;
        assert_eq!(view.status, StatusCode::OK, "{}", view.text);
        assert_eq!(
            view.body["others"],
            json!([]),
            "B must not see A's assessment first: {}",
            view.text
        );
        assert_eq!(view.body["state"], "awaiting_you");
        let r = app
            .post(
                &format!("/api/v1/adjudication/tasks/{t}/assessments"),
                json!({"decision": decide(second[k]), "signature": app.my_signature()}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(
            r.body["others"].as_array().unwrap().len(),
            1,
            "after submitting, B sees A's"
        );
        let want = if first[k] == second[k] {
            "decided"
        } else {
            "needs_consensus"
        };
        assert_eq!(r.body["state"], want, "{}", r.text);
    }
    // A second independent answer is refused; a consensus only after disagreeing.
    app.act_as(&a);
    app.post(
        &format!("/api/v1/adjudication/tasks/{}/assessments", tasks[1]),
        json!({"decision": "rejected", "signature": app.my_signature()}),
    )
    .await
    .assert_problem(422, Some("round"));
    app.post(
        &format!("/api/v1/adjudication/tasks/{}/assessments", tasks[0]),
        json!({"decision": "rejected", "round": "consensus", "signature": app.my_signature()}),
    )
    .await
    .assert_problem(422, Some("task"));
    app.post(
        &format!("/api/v1/adjudication/tasks/{}/assessments", tasks[3]),
        json!({"decision": "maybe", "signature": app.my_signature()}),
    )
    .await
    .assert_problem(422, Some("decision"));
    let c = app
        .post(&format!("/api/v1/adjudication/tasks/{}/assessments", tasks[1]), json!({"decision": "confirmed", "round": "consensus", "comment": "agreed after discussion", "signature": app.my_signature()}))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    assert_eq!(c.body["state"], "decided");
    assert_eq!(c.body["decision"], "confirmed");
    // Without a signature an assessment is refused.
    app.post(
        &format!("/api/v1/adjudication/tasks/{}/assessments", tasks[2]),
        json!({"decision": "rejected", "round": "consensus"}),
    )
    .await
    .assert_problem(422, Some("signature"));

    // The coordinator sees the states and the agreement.
    app.act_as(&analyst);
    let agreement = app
        .get(&format!(
            "/api/v1/evaluation-plans/{pid}/adjudication/agreement"
        ))
        .await;
    assert_eq!(agreement.status, StatusCode::OK, "{}", agreement.text);
    let k = &agreement.body["agreement"][0]["kappa"];
    assert_eq!(k["n"], 4);
    assert!(
        (k["observed_agreement"].as_f64().unwrap() - 0.75).abs() < 1e-12,
        "{k}"
    );
    assert!((k["kappa"].as_f64().unwrap() - 0.5).abs() < 1e-12, "{k}");
    assert_eq!(agreement.body["by_consensus"], 1);
    assert_eq!(agreement.body["by_agreement"], 3);
    let list = app
        .get(&format!(
            "/api/v1/evaluation-plans/{pid}/adjudication-tasks"
        ))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len() as u64, n);
    // With tasks still open, the adjudicated primary endpoint is not yet evaluable.
    let run = app
        .post(&format!("/api/v1/evaluation-plans/{pid}/runs"), json!({}))
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    assert_eq!(run.body["verdict"], "not_yet_evaluable", "{}", run.text);
    assert!(
        run.body["verdict_reasons"][0]
            .as_str()
            .unwrap()
            .contains("await central adjudication"),
        "{}",
        run.text
    );
}
on_both!(adjudication, adjudication_is_blinded_and_agreement_is_kappa);

async fn run_gives_a_verdict_and_a_self_contained_report(app: TestApp) {
    let (analyst, product) = demo(&app).await;
    app.act_as(&analyst);
    let plans = app.get("/api/v1/evaluation-plans").await;
    assert_eq!(plans.status, StatusCode::OK, "{}", plans.text);
    let demo_plan = plans.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == product["id"])
        .expect("the demo's plan is listed")
        .clone();
    let pid = demo_plan["id"].as_str().unwrap();
    assert_eq!(
        demo_plan["open_points"], 0,
        "the demo plan settles every point"
    );
    let patients = app
        .get(&format!(
            "/api/v1/products/{}/patients?limit=1000",
            product["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(patients.status, StatusCode::OK, "{}", patients.text);
    assert!(
        patients.body["next_cursor"].is_null(),
        "one page holds them all"
    );
    let treated = patients.body["items"].as_array().unwrap().len();
    assert!(treated > 20, "{}", patients.text);
    let cohort = app
        .get(&format!("/api/v1/evaluation-plans/{pid}/cohort"))
        .await;
    assert_eq!(cohort.status, StatusCode::OK, "{}", cohort.text);
    // The registry's treated patients are those with an administration; patients
    // enrolled as treated and still waiting for theirs leave the flow at once.
    let flow = cohort.body["flow"].as_array().unwrap();
    let administered = flow
        .iter()
        .find(|s| s["step"] == "Enrolled as treated, no administration recorded")
        .unwrap_or(&flow[0]);
    assert_eq!(
        administered["remaining_treated"].as_u64().unwrap() as usize,
        treated
    );

    let run = app
        .post(&format!("/api/v1/evaluation-plans/{pid}/runs"), json!({}))
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    let verdict = run.body["verdict"].as_str().unwrap().to_string();
    assert!(["met", "not_met", "not_yet_evaluable"].contains(&verdict.as_str()));
    assert_eq!(run.body["as_of"], "2026-09-30");
    assert_eq!(
        run.body["snapshot"]["data_hash"].as_str().unwrap().len(),
        64
    );
    assert!(
        run.body["snapshot"]["counts"]["observations"]
            .as_u64()
            .unwrap()
            > 0
    );
    // The live JSON agrees with the filed run, and the filed run is listed.
    let live = app
        .get(&format!(
            "/api/v1/evaluation-plans/{pid}/report?format=json"
        ))
        .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.text);
    assert_eq!(live.body["verdict"], verdict.as_str());
    assert_eq!(
        live.body["snapshot"]["data_hash"],
        run.body["snapshot"]["data_hash"]
    );
    assert!(
        live.body["endpoints"][0]["estimate"]["value"].is_number(),
        "{}",
        live.text
    );
    let runs = app
        .get(&format!("/api/v1/evaluation-runs?plan_id={pid}"))
        .await;
    assert_eq!(
        runs.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        runs.text
    );
    assert_eq!(runs.body["items"][0]["verdict"], verdict.as_str());
    // The report: HTML with inline SVG and nothing fetched from elsewhere.
    let report = app.get(run.body["report"].as_str().unwrap()).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(
        report.content_type.starts_with("text/html"),
        "{}",
        report.content_type
    );
    assert!(report.text.contains("<svg") && report.text.contains("Patient flow"));
    assert!(report.text.contains(&format!("<code>{verdict}</code>")));
    for bad in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "<script",
        "<link",
        "url(http",
    ] {
        assert!(!report.text.contains(bad), "external reference {bad}");
    }
    let live_html = app
        .get(&format!("/api/v1/evaluation-plans/{pid}/report"))
        .await;
    assert!(live_html.text.contains("<svg"));
    // A filed run's report renders the same each time.
    let again = app.get(run.body["report"].as_str().unwrap()).await;
    assert_eq!(again.text, report.text);
    // Text from the plan is escaped by the report's template.
    let current = app.get(&format!("/api/v1/evaluation-plans/{pid}")).await;
    let renamed = app
        .patch(
            &format!("/api/v1/evaluation-plans/{pid}"),
            json!({"version": current.body["version"], "title": "<b>Knee & \"cartilage\"</b>"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let escaped = app
        .get(&format!("/api/v1/evaluation-plans/{pid}/report"))
        .await;
    assert!(
        escaped
            .text
            .contains("&#60;b&#62;Knee &#38; &#34;cartilage&#34;&#60;/b&#62;")
            || escaped
                .text
                .contains("&lt;b&gt;Knee &amp; &quot;cartilage&quot;&lt;/b&gt;"),
        "{}",
        &escaped.text[..2000.min(escaped.text.len())]
    );
    assert!(!escaped.text.contains("<b>Knee"));
    app.get(&format!("/api/v1/evaluation-plans/{pid}/report?format=pdf"))
        .await
        .assert_problem(400, Some("format"));
    app.get(&format!(
        "/api/v1/evaluation-plans/{pid}/report?as_of=2026-13-01"
    ))
    .await
    .assert_problem(400, Some("as_of"));
    // An adjudicator cannot run or read evaluations.
    let adj = app.user("adjudicator", None).await;
    app.act_as(&adj);
    app.post(&format!("/api/v1/evaluation-plans/{pid}/runs"), json!({}))
        .await
        .assert_problem(403, None);
    app.get(run.body["report"].as_str().unwrap())
        .await
        .assert_problem(403, None);
}
on_both!(
    run_and_report,
    run_gives_a_verdict_and_a_self_contained_report
);

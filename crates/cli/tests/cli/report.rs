//! `saisei report periodic --submit` files a report only as the API does: signed by a
//! physician of the plan's institution with their password and current code. Before,
//! it filed with no user and no signature (the audit said `system:cli`).

use std::process::Command;

fn saisei(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_saisei"))
        .env_remove("SAISEI_SECRET_KEY")
        .env_remove("SAISEI_SECRET_KEY_FILE")
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The TOTP secret `saisei user add` printed.
fn secret_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("TOTP secret (add it to an authenticator app): "))
        .expect("a secret is printed")
        .trim()
        .to_string()
}

fn code(secret: &str, offset: u64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    saisei_domain::auth::credentials::totp_code(secret, now + offset).unwrap()
}

#[test]
fn periodic_report_submit_filed_without_a_signature() {
    let dir = std::env::temp_dir().join(format!("saisei-report-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("demo.db");
    let db = db.to_str().unwrap();
    let (c, _, err) = saisei(&["demo", "--no-serve", "--db", db, "--patients", "60"]);
    assert_eq!(c, 0, "{err}");
    let (_, out, _) = saisei(&["deadlines", "--db", db, "--json", "--all"]);
    let deadlines: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (institution, plan, period) = deadlines["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|i| {
            i["items"].as_array().unwrap().iter().find_map(|it| {
                (it["kind"] == "periodic_report" && it["status"] != "done").then(|| {
                    (
                        i["institution"].as_str().unwrap().to_string(),
                        it["plan_number"].as_str().unwrap().to_string(),
                        it["period"].to_string(),
                    )
                })
            })
        })
        .expect("the demo has a report not yet filed");
    let password = dir.join("password");
    std::fs::write(&password, "the physician's own passphrase").unwrap();
    let pw = password.to_str().unwrap();
    let (c, out, err) = saisei(&[
        "user",
        "add",
        "--db",
        db,
        "--email",
        "signer@test.example",
        "--role",
        "physician",
        "--org",
        &institution,
        "--password-file",
        pw,
    ]);
    assert_eq!(c, 0, "{err}");
    let secret = secret_of(&out);
    let (c, out, err) = saisei(&[
        "user",
        "add",
        "--db",
        db,
        "--email",
        "staff@test.example",
        "--role",
        "institution_staff",
        "--org",
        &institution,
        "--password-file",
        pw,
    ]);
    assert_eq!(c, 0, "{err}");
    let staff_secret = secret_of(&out);
    let submit = |who: &str, code: String| {
        saisei(&[
            "report",
            "periodic",
            "--db",
            db,
            "--plan",
            &plan,
            "--period",
            &period,
            "--submit",
            "--sign-as",
            who,
            "--password-file",
            pw,
            "--code",
            &code,
            "--out",
            dir.join("r.json").to_str().unwrap(),
        ])
    };
    // No signer: refused by the command line itself.
    let (c, _, _) = saisei(&[
        "report", "periodic", "--db", db, "--plan", &plan, "--period", &period, "--submit",
    ]);
    assert_eq!(c, 2);
    // Not a physician, or a wrong code: refused, naming the signer.
    let (c, _, err) = submit("staff@test.example", code(&staff_secret, 0));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("physician"), "{err}");
    let (c, _, err) = submit("signer@test.example", "000000".into());
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("--sign-as"), "{err}");
    // The physician files it, signed.
    let (c, _, err) = submit("signer@test.example", code(&secret, 0));
    assert_eq!(c, 0, "{err}");
    assert!(err.contains("signed by signer@test.example"), "{err}");
    // Once only (with the next step's code: a code works once).
    let (c, _, err) = submit("signer@test.example", code(&secret, 30));
    assert_eq!(c, 2);
    assert!(err.contains("already filed"), "{err}");
    let (c, out, _) = saisei(&["audit", "verify", "--db", db]);
    assert_eq!(c, 0, "{out}");
}

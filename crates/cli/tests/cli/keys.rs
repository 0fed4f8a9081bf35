//! The secret key that seals second-factor secrets: made beside a new SQLite registry,
//! refused at start when missing or wrong, rotated in one step; and `user unlock`.

use std::process::Command;

fn saisei() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_saisei"));
    c.env_remove("SAISEI_SECRET_KEY")
        .env_remove("SAISEI_SECRET_KEY_FILE");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = saisei().args(args).output().expect("run saisei");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn secret_key_is_checked_rotated_and_users_unlocked() {
    let dir = std::env::temp_dir().join(format!("saisei-keys-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("r.db");
    let db = db.to_str().unwrap();
    let password = dir.join("password");
    std::fs::write(&password, "a long enough password").unwrap();
    let pw = password.to_str().unwrap();
    assert_eq!(run(&["migrate", "--db", db]).0, 0);
    let add = |email: &str, extra: &[&str]| {
        let mut args = vec![
            "user",
            "add",
            "--db",
            db,
            "--email",
            email,
            "--role",
            "admin",
            "--password-file",
            pw,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (code, out, err) = add("first@test.example", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("made a new secret key"), "{err}");
    assert!(out.contains("recovery codes"), "{out}");
    let secret = format!("{db}.secret");
    assert!(std::path::Path::new(&secret).exists());
    // A wrong key is refused before anything happens, naming the problem.
    let wrong = dir.join("wrong.key");
    std::fs::write(&wrong, "x".repeat(40)).unwrap();
    let (code, _, err) = add(
        "second@test.example",
        &["--secret-key-file", wrong.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("not the one"), "{err}");
    let (code, _, err) = run(&[
        "serve",
        "--db",
        db,
        "--addr",
        "127.0.0.1:0",
        "--secret-key-file",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "serve refuses a wrong key: {err}");
    // Without any key: refused too, saying where a key comes from.
    let moved = dir.join("kept.secret");
    std::fs::rename(&secret, &moved).unwrap();
    let (code, _, err) = run(&["serve", "--db", db, "--addr", "127.0.0.1:0"]);
    assert_eq!(code, 2);
    assert!(err.contains("SAISEI_SECRET_KEY"), "{err}");
    std::fs::rename(&moved, &secret).unwrap();
    // Rotation re-seals every secret; the file beside the database holds the new key.
    let new_key = dir.join("new.key");
    let (code, out, err) = run(&[
        "key",
        "rotate",
        "--db",
        db,
        "--new-key-file",
        new_key.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 secrets re-sealed"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap().trim(),
        std::fs::read_to_string(&new_key).unwrap().trim()
    );
    let (code, _, err) = add("second@test.example", &[]);
    assert_eq!(code, 0, "the new key is the one now: {err}");
    let old = format!("{secret}.old");
    let (code, _, _) = add("third@test.example", &["--secret-key-file", &old]);
    assert_eq!(code, 2, "the old key no longer opens the database");
    // Unlock clears a user's throttling; an unknown user is named.
    let (code, out, _) = run(&[
        "user",
        "unlock",
        "--db",
        db,
        "--email",
        "first@test.example",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("cleared"));
    let (code, _, err) = run(&[
        "user",
        "unlock",
        "--db",
        db,
        "--email",
        "nobody@test.example",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--email"), "{err}");
    let (code, out, _) = run(&["audit", "verify", "--db", db]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ok "));
}

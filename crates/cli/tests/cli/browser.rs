//! The web application's outer ring: `saisei demo` started as a newcomer starts it,
//! then real journeys in Debian's Chromium (`tests/browser/journeys.py`: Japanese and
//! English, JavaScript on and off, axe on every page, screenshots kept in
//! `target/browser-shots/`). Runs when `SAISEI_BROWSER_TOOLS` names the bin directory
//! `scripts/browser-tools.sh` made (as `scripts/test.sh` does); skipped otherwise.

use crate::durability::free_port;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn journeys_in_chromium() {
    let Ok(tools) = std::env::var("SAISEI_BROWSER_TOOLS") else {
        eprintln!("SAISEI_BROWSER_TOOLS is not set: the browser journeys are skipped");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("saisei-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("demo.db");
    let out = dir.join("demo-output.txt");
    let port = free_port();
    let server = Command::new(env!("CARGO_BIN_EXE_saisei"))
        .args([
            "demo",
            "--db",
            db.to_str().unwrap(),
            "--fresh",
            "--patients",
            "120",
        ])
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start saisei demo");
    let _server = Killed(server);
    let deadline = Instant::now() + Duration::from_secs(300);
    while !std::fs::read_to_string(&out)
        .unwrap_or_default()
        .contains("Saisei is serving")
    {
        assert!(Instant::now() < deadline, "the demo did not start serving");
        std::thread::sleep(Duration::from_millis(200));
    }
    let shots = root.join("target/browser-shots");
    let run = Command::new(Path::new(&tools).join("python"))
        .arg(root.join("tests/browser/journeys.py"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(&shots)
        .arg(&out)
        .output()
        .expect("run the browser journeys");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "browser journeys failed:\n{report}");
    assert!(report.contains("pages visited"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

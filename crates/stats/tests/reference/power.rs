//! Sample-size figures against the R computations in reference.R.

use saisei_stats::power::{EventsMethod, Sides, single_arm, survival_events, two_proportions};

use crate::data::{assert_rel, f, reference};

#[test]
fn events_match_schoenfeld_and_freedman() {
    let r = reference("reference_r.json");
    let s = survival_events(0.7, 0.05, 0.8, 1.0, Sides::Two, EventsMethod::Schoenfeld).unwrap();
    assert_eq!(s.events, 247);
    assert_eq!(s.events as f64, f(&r["power"]["schoenfeld_hr07"]["events"]));
    assert_rel(
        "Schoenfeld",
        s.events_exact,
        f(&r["power"]["schoenfeld_hr07"]["events_exact"]),
        1e-9,
    );
    let fr = survival_events(0.7, 0.05, 0.8, 1.0, Sides::Two, EventsMethod::Freedman).unwrap();
    assert_eq!(fr.events as f64, f(&r["power"]["freedman_hr07"]["events"]));
    assert_rel(
        "Freedman",
        fr.events_exact,
        f(&r["power"]["freedman_hr07"]["events_exact"]),
        1e-9,
    );
}

#[test]
fn proportions_match_power_prop_test() {
    let r = reference("reference_r.json");
    for (p1, p2, power, key) in [
        (0.5, 0.75, 0.9, "prop_050_075_p90"),
        (0.2, 0.35, 0.8, "prop_020_035_p80"),
    ] {
        let n = two_proportions(p1, p2, 0.05, power, 1.0, Sides::Two).unwrap();
        assert_eq!(n.n1 as f64, f(&r["power"][key]["n"]), "{key}");
        assert_eq!(n.n2, n.n1);
    }
}

#[test]
fn single_arm_matches_exact_binomial_search() {
    let r = reference("reference_r.json");
    for want in r["power"]["single_arm"].as_array().unwrap() {
        let d = single_arm(
            f(&want["p0"]),
            f(&want["p1"]),
            f(&want["alpha"]),
            f(&want["power"]),
        )
        .unwrap();
        assert_eq!(d.n as f64, f(&want["n"]));
        assert_eq!(d.critical as f64, f(&want["critical"]));
        assert_rel("exact power", d.power_exact, f(&want["power_exact"]), 1e-9);
        assert_rel("exact alpha", d.alpha_exact, f(&want["alpha_exact"]), 1e-9);
    }
}

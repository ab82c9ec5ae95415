//! SVG plots of a run: the cumulative distribution of delivery latency, one curve per seed.
//! Plain SVG text, no dependency.

use std::fmt::Write;

/// One curve: a label and sorted latencies in ms.
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// Sorted values, ms.
    pub values: Vec<u64>,
}

const W: f64 = 640.0;
const H: f64 = 400.0;
const PAD: f64 = 50.0;
const COLOURS: [&str; 6] = [
    "#1b7837", "#2166ac", "#b2182b", "#762a83", "#e08214", "#4d4d4d",
];

/// An SVG of the delivery-latency CDFs of `curves`, titled `title`.
pub fn delivery_cdf(title: &str, curves: &[Curve]) -> String {
    let max = curves
        .iter()
        .filter_map(|c| c.values.last().copied())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |v: f64| PAD + (W - 2.0 * PAD) * v / max;
    let y = |q: f64| H - PAD - (H - 2.0 * PAD) * q;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="14">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r#"<line x1="{PAD}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{}" stroke="black"/>"#,
        H - PAD,
        W - PAD,
        H - PAD,
        H - PAD
    );
    for i in 0..=4 {
        let q = i as f64 / 4.0;
        let v = max * q;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{:.2}</text><text x="{}" y="{}" text-anchor="middle">{:.0}</text>"#,
            PAD - 4.0,
            y(q) + 4.0,
            q,
            x(v),
            H - PAD + 16.0,
            v
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">delivery latency (ms)</text>"#,
        W / 2.0,
        H - 10.0
    );
    for (i, curve) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let n = curve.values.len().max(1) as f64;
        let step = (curve.values.len() / 400).max(1);
        let mut points = String::new();
        for (j, v) in curve.values.iter().enumerate().step_by(step) {
            let _ = write!(points, "{:.1},{:.1} ", x(*v as f64), y((j + 1) as f64 / n));
        }
        if let Some(last) = curve.values.last() {
            let _ = write!(points, "{:.1},{:.1}", x(*last as f64), y(1.0));
        }
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" fill="{colour}">{}</text>"#,
            W - PAD - 150.0,
            PAD + 16.0 * (i as f64 + 1.0),
            escape(&curve.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_is_well_formed_svg_with_one_curve_per_seed() {
        let svg = delivery_cdf(
            "t <1>",
            &[
                Curve {
                    label: "seed 1".into(),
                    values: vec![1, 2, 3],
                },
                Curve {
                    label: "seed 2".into(),
                    values: vec![],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("t &lt;1&gt;"));
    }
}

//! Plots in plain SVG, for the figures people would rather look at than read: each is a
//! `figure` with a caption, an `aria-label`, and every value written out beside its bar, so
//! a screen reader and a printout say what the picture shows.

use maud::{html, Markup};

const GREEN: &str = "#3b6e4f";

/// A horizontal bar chart: one labelled bar per `(label, value)`, scaled to the largest.
pub fn bars(title: &str, bars: &[(String, u64)]) -> Markup {
    const WIDTH: u64 = 640;
    const ROW: u64 = 28;
    const LABEL: u64 = 200;
    let largest = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * bars.len() as u64 + 8;
    html! {
        figure {
            svg role="img" aria-label=(title) width=(WIDTH) height=(height) viewBox={ "0 0 " (WIDTH) " " (height) } {
                title { (title) }
                @for (i, (label, value)) in bars.iter().enumerate() {
                    @let y = i as u64 * ROW + 4;
                    @let length = value * (WIDTH - LABEL - 100) / largest;
                    text x="0" y=(y + 17) font-size="14" { (label) }
                    rect x=(LABEL) y=(y) width=(length.max(1)) height="20" fill=(GREEN) {}
                    text x=(LABEL + 8 + length) y=(y + 16) font-size="13" { (value) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// A column chart over time: one column per `(label, value)` in the order given (oldest
/// first), scaled to `top` (a percentage's 100) or to the largest value when `top` is 0.
pub fn columns(title: &str, unit: &str, points: &[(String, u64)], top: u64) -> Markup {
    const HEIGHT: u64 = 180;
    const COLUMN: u64 = 44;
    const BASE: u64 = HEIGHT - 30;
    let top = if top == 0 {
        points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1)
    } else {
        top
    };
    let width = (COLUMN * points.len() as u64).max(COLUMN) + 10;
    html! {
        figure {
            svg role="img" aria-label=(title) width=(width) height=(HEIGHT) viewBox={ "0 0 " (width) " " (HEIGHT) } {
                title { (title) }
                line x1="0" y1=(BASE) x2=(width) y2=(BASE) stroke="#5a5a55" {}
                @for (i, (label, value)) in points.iter().enumerate() {
                    @let x = i as u64 * COLUMN + 6;
                    @let tall = (value.min(&top) * (BASE - 24)) / top;
                    rect x=(x) y=(BASE - tall) width=(COLUMN - 12) height=(tall.max(1)) fill=(GREEN) {
                        title { (label) ": " (value) (unit) }
                    }
                    text x=(x) y=(BASE - tall - 5) font-size="12" { (value) (unit) }
                    text x=(x) y=(BASE + 16) font-size="11" { (label) }
                }
            }
            figcaption { (title) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_write_out_their_values_and_escape_their_labels() {
        let svg = bars("Stories", &[("<public>".into(), 3), ("pod".into(), 0)]).into_string();
        assert!(
            svg.contains("&lt;public&gt;") && svg.contains(">3<"),
            "{svg}"
        );
        let svg = columns("Turnout", "%", &[("Jan 2".into(), 150)], 100).into_string();
        assert!(
            svg.contains("150%"),
            "values above the top are capped in height only: {svg}"
        );
        let empty = columns("Nothing yet", "", &[], 0).into_string();
        assert!(empty.contains("Nothing yet"));
    }
}

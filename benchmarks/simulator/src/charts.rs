//! Charts of one run, as a PNG of four panels: the price path (each asset as a multiple of its
//! start), the notional liquidated per block, the insurance fund, and the bad debt so far.
//!
//! Text needs a TrueType font, read at run time (`PERPCHAIN_SIM_FONT`, or DejaVu Sans from
//! Debian's `fonts-dejavu-core`), so that no system font library is linked.

use crate::{engine::Outcome, paths::START};
use plotters::prelude::*;
use std::path::Path;

/// Where the font is looked for when `PERPCHAIN_SIM_FONT` is not set.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Registers the font for the charts; an error says why there will be none.
pub fn load_font() -> Result<(), String> {
	let path = std::env::var("PERPCHAIN_SIM_FONT").unwrap_or_else(|_| DEFAULT_FONT.into());
	let bytes = std::fs::read(&path).map_err(|e| format!("no font at {path}: {e}"))?;
	let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
	plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
		.map_err(|_| format!("{path} is not a font plotters can read"))
}

/// One panel: `series` (name, colour, values per block) on a chart titled `title`.
fn panel(
	area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
	title: &str,
	series: &[(&str, RGBColor, Vec<f64>)],
) -> Result<(), String> {
	let blocks = series.iter().map(|s| s.2.len()).max().unwrap_or(1).max(2);
	let (mut lo, mut hi) = (f64::MAX, f64::MIN);
	for (_, _, values) in series {
		for v in values {
			lo = lo.min(*v);
			hi = hi.max(*v);
		}
	}
	if lo >= hi {
		hi = lo + 1.0;
	}
	let pad = (hi - lo) * 0.05;
	let mut chart = ChartBuilder::on(area)
		.caption(title, ("sans-serif", 18))
		.margin(8)
		.x_label_area_size(28)
		.y_label_area_size(70)
		.build_cartesian_2d(0..blocks, (lo - pad)..(hi + pad))
		.map_err(|e| e.to_string())?;
	chart
		.configure_mesh()
		.x_desc("block")
		.label_style(("sans-serif", 12))
		.y_label_formatter(&|v| short(*v))
		.draw()
		.map_err(|e| e.to_string())?;
	for (name, colour, values) in series {
		let colour = *colour;
		chart
			.draw_series(LineSeries::new(
				values.iter().copied().enumerate(),
				colour.stroke_width(2),
			))
			.map_err(|e| e.to_string())?
			.label(*name)
			.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
	}
	if series.len() > 1 {
		chart
			.configure_series_labels()
			.label_font(("sans-serif", 12))
			.background_style(WHITE.mix(0.8))
			.border_style(BLACK)
			.draw()
			.map_err(|e| e.to_string())?;
	}
	Ok(())
}

/// A number in a few characters: 12.3M, 450k, 0.85.
fn short(v: f64) -> String {
	let a = v.abs();
	if a >= 1e6 {
		format!("{:.1}M", v / 1e6)
	} else if a >= 1e3 {
		format!("{:.0}k", v / 1e3)
	} else {
		format!("{v:.2}")
	}
}

/// Draws `outcome`'s four panels into `file`.
pub fn draw(outcome: &Outcome, file: &Path) -> Result<(), String> {
	let root = BitMapBackend::new(file, (1000, 660)).into_drawing_area();
	root.fill(&WHITE).map_err(|e| e.to_string())?;
	let title = format!("{} ({}, {} accounts)", outcome.scenario, outcome.policy, outcome.accounts);
	let root = root.titled(&title, ("sans-serif", 22)).map_err(|e| e.to_string())?;
	let panels = root.split_evenly((2, 2));
	let price = |i: usize| outcome.ticks.iter().map(|t| t.prices[i] / START[i]).collect();
	let colours = [RGBColor(230, 140, 20), RGBColor(70, 90, 200), RGBColor(200, 30, 120)];
	panel(
		&panels[0],
		"price, multiple of the start (with impact)",
		&[
			("BTC", colours[0], price(0)),
			("ETH", colours[1], price(1)),
			("DOT", colours[2], price(2)),
		],
	)?;
	let liquidated = outcome.ticks.iter().map(|t| t.liquidated).collect();
	panel(&panels[1], "notional liquidated per block (USD)", &[("", RED, liquidated)])?;
	let fund = outcome.ticks.iter().map(|t| t.fund).collect();
	panel(&panels[2], "insurance fund (USD)", &[("", RGBColor(20, 140, 60), fund)])?;
	let bad = outcome.ticks.iter().map(|t| t.bad_debt).collect();
	panel(&panels[3], "bad debt so far, socialized (USD)", &[("", BLACK, bad)])?;
	root.present().map_err(|e| e.to_string())
}

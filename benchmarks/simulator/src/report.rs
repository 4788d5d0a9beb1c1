//! The report: one table of measures per set of runs, and the text of `RISK.md`.

use crate::engine::Outcome;
use std::fmt::Write;

fn usd(value: f64) -> String {
	let rounded = value.round() as i128;
	let digits = rounded.unsigned_abs().to_string();
	let mut out = String::new();
	for (i, c) in digits.chars().enumerate() {
		if i > 0 && (digits.len() - i).is_multiple_of(3) {
			out.push(',');
		}
		out.push(c);
	}
	if rounded < 0 {
		format!("−{out}")
	} else {
		out
	}
}

/// A row of the table: its name and how to read it from an outcome.
type Row = (&'static str, Box<dyn Fn(&Outcome) -> String>);

/// The measures of `outcomes`, one column each.
pub fn table(outcomes: &[Outcome]) -> String {
	let mut rows: Vec<Row> = vec![
		("scenario", Box::new(|o: &Outcome| o.scenario.clone())),
		("policy", Box::new(|o: &Outcome| o.policy.clone())),
		("accounts", Box::new(|o: &Outcome| o.accounts.to_string())),
		(
			"population's calls the runtime refused",
			Box::new(|o: &Outcome| o.setup_errors.values().sum::<u32>().to_string()),
		),
		("blocks", Box::new(|o: &Outcome| o.ticks.len().to_string())),
		(
			"liquidations (full / partial)",
			Box::new(|o: &Outcome| {
				format!(
					"{} ({} / {})",
					o.liquidations_full + o.liquidations_partial,
					o.liquidations_full,
					o.liquidations_partial
				)
			}),
		),
		("accounts liquidated", Box::new(|o: &Outcome| o.accounts_liquidated.to_string())),
		(
			"most notional closed in a block (USD)",
			Box::new(|o: &Outcome| usd(o.ticks.iter().map(|t| t.liquidated).fold(0.0, f64::max))),
		),
		(
			"blocks from maintenance to liquidation (p50 / p99 / max)",
			Box::new(|o: &Outcome| {
				format!("{} / {} / {}", o.delay(0.5), o.delay(0.99), o.delay(1.0))
			}),
		),
		(
			"most accounts below maintenance and not yet liquidated, at a block's end",
			Box::new(|o: &Outcome| {
				o.ticks.iter().map(|t| t.waiting).max().unwrap_or(0).to_string()
			}),
		),
		(
			"below maintenance, never liquidated: recovered / still below at the end",
			Box::new(|o: &Outcome| format!("{} / {}", o.recovered, o.missed)),
		),
		(
			"collateral: auctions started / takes / holdings folded into the fund",
			Box::new(|o: &Outcome| format!("{} / {} / {}", o.auctions, o.takes, o.folded)),
		),
		("shortfall paid by the fund (USD)", Box::new(|o: &Outcome| usd(o.insurance_paid))),
		("bad debt, socialized (USD)", Box::new(|o: &Outcome| usd(o.socialized))),
		(
			"ADL: positions closed, profit given up (USD)",
			Box::new(|o: &Outcome| format!("{}, {}", o.adl_closes, usd(o.adl_recovered))),
		),
		(
			"insurance fund: start / minimum (USD)",
			Box::new(|o: &Outcome| format!("{} / {}", usd(o.fund_start), usd(o.fund_min))),
		),
		("vault PnL (USD)", Box::new(|o: &Outcome| usd(o.vault_end - o.vault_start))),
		(
			"users' losses: penalties / close discount / auction discount (USD)",
			Box::new(|o: &Outcome| {
				format!(
					"{} / {} / {}",
					usd(o.penalties),
					usd(o.close_discount),
					usd(o.auction_discount)
				)
			}),
		),
		(
			"users' losses over the liquidated accounts' equity",
			Box::new(|o: &Outcome| format!("{:.2}%", 100.0 * o.loss_share())),
		),
		("blocks with a stale price", Box::new(|o: &Outcome| o.stale_blocks.to_string())),
		(
			"liquidated out of liquidation (above maintenance and any exit): by the chain's valuation / at the true prices",
			Box::new(|o: &Outcome| {
				format!("{} / {}", o.healthy_liquidated, o.above_at_true_prices)
			}),
		),
		(
			"conservation drift (USD units)",
			Box::new(|o: &Outcome| o.conservation_drift.to_string()),
		),
		(
			"try_state at the end",
			Box::new(|o: &Outcome| o.try_state.clone().unwrap_or_else(|| "ok".into())),
		),
		("time (s)", Box::new(|o: &Outcome| format!("{:.0}", o.wall_seconds))),
	];
	let mut out = String::new();
	let (head, value) = rows.remove(0);
	let _ = writeln!(
		out,
		"| {head} | {} |",
		outcomes.iter().map(value).collect::<Vec<_>>().join(" | ")
	);
	let _ = writeln!(out, "| --- |{}", " --- |".repeat(outcomes.len()));
	for (name, value) in rows {
		let _ = writeln!(
			out,
			"| {name} | {} |",
			outcomes.iter().map(&value).collect::<Vec<_>>().join(" | ")
		);
	}
	out
}

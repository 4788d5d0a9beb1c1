//! `perpchain-sim SCENARIO [options]`: runs a scenario (or the standard set) and prints the
//! measures as a Markdown table; see `benchmarks/simulator/README.md`.

use clap::Parser;
use perpchain_sim::{
	engine::{self, Feeds, Outcome, Policy, Scenario, DEPTH},
	paths, population, report,
};

#[derive(Parser, Clone)]
#[command(about = "Replays crashes over a population of accounts through the real runtime")]
struct Args {
	/// `march-2020`, `may-2021`, `october-2025`, `outage`, `liar`, `lag`, `sweep`; `standard`
	/// (the three replays under every policy, the outage and the sweep, written to
	/// `<out>/RISK.md` with charts in `<out>/risk/`); or `ci` (500 accounts, one replay).
	/// Every run fails on a healthy account liquidated, conservation drift or a broken
	/// `try_state`. `state` runs no scenario: it writes the state after the population opened
	/// its accounts to `<out>/state.json` (hex keys to hex values), for
	/// `benchmarks/storage.sh`.
	scenario: String,
	/// Accounts in the population.
	#[arg(long, default_value_t = 10_000)]
	accounts: u32,
	/// Blocks the path is spread over.
	#[arg(long, default_value_t = 400)]
	blocks: u32,
	/// Seed of the population and of the paths' noise.
	#[arg(long, default_value_t = 1)]
	seed: u64,
	/// Share of the accounts that go long.
	#[arg(long, default_value_t = 0.7)]
	long_share: f64,
	/// Policies to compare, side by side: `baseline`, `close-factor-25`, `discount-2`,
	/// `small-fund`.
	#[arg(long, default_value = "baseline", value_delimiter = ',')]
	policies: Vec<String>,
	/// No price impact from liquidations.
	#[arg(long)]
	no_feedback: bool,
	/// Where `standard` writes `RISK.md` and `risk/`.
	#[arg(long, default_value = "benchmarks")]
	out: std::path::PathBuf,
}

/// The scenarios `name` stands for.
fn scenarios(name: &str, args: &Args) -> Result<Vec<Scenario>, String> {
	let depth = (!args.no_feedback).then_some(DEPTH);
	let history = |shape: &paths::Shape, feeds: Feeds| Scenario {
		path: paths::historical(shape, args.blocks, args.seed),
		feeds,
		depth,
	};
	let third = args.blocks / 3;
	Ok(match name {
		"march-2020" => vec![history(&paths::MARCH_2020, Feeds::Honest)],
		"may-2021" | "ci" => vec![history(&paths::MAY_2021, Feeds::Honest)],
		"october-2025" => vec![history(&paths::OCTOBER_2025, Feeds::Honest)],
		// The feeders go quiet over the cascade of 10 October 2025.
		"outage" => {
			let mut s = history(
				&paths::OCTOBER_2025,
				Feeds::Outage { from: args.blocks / 5, to: args.blocks / 5 + third },
			);
			s.path.name = "october-2025, outage".into();
			vec![s]
		},
		"liar" => {
			let mut s = history(&paths::MAY_2021, Feeds::Liar);
			s.path.name = "may-2021, a lying feeder".into();
			vec![s]
		},
		"lag" => {
			let mut s = history(&paths::MAY_2021, Feeds::Lag { blocks: 10 });
			s.path.name = "may-2021, feeds 10 blocks late".into();
			vec![s]
		},
		// One crash a path, of growing depth.
		"sweep" => [0.05, 0.10, 0.20]
			.into_iter()
			.map(|depth_of_crash| Scenario {
				path: paths::jumpy(
					format!("jumps of {:.0}%", depth_of_crash * 100.0),
					args.blocks,
					0.002,
					3.0 / f64::from(args.blocks.max(1)),
					depth_of_crash,
					args.seed,
				),
				feeds: Feeds::Honest,
				depth,
			})
			.collect(),
		other => return Err(format!("unknown scenario {other}")),
	})
}

/// Runs every scenario of `scenarios` under every policy of `policies`, in that order.
fn run_all(
	scenarios: &[Scenario],
	policies: &[Policy],
	traders: &[population::Trader],
) -> Result<Vec<Outcome>, String> {
	let mut outcomes = Vec::new();
	for scenario in scenarios {
		for policy in policies {
			eprintln!(
				"running {} under {} over {} accounts",
				scenario.path.name,
				policy.name,
				traders.len()
			);
			outcomes.push(engine::run(scenario, policy, traders)?);
		}
	}
	Ok(outcomes)
}

fn policies(names: &[&str]) -> Result<Vec<Policy>, String> {
	names
		.iter()
		.map(|n| Policy::named(n).ok_or(format!("unknown policy {n}")))
		.collect()
}

/// The standard set, as groups of runs with a title each.
fn standard(
	args: &Args,
	traders: &[population::Trader],
) -> Result<Vec<(String, Vec<Outcome>)>, String> {
	let all = policies(&["baseline", "close-factor-25", "discount-2", "small-fund"])?;
	let base = policies(&["baseline"])?;
	let mut groups = Vec::new();
	for name in ["march-2020", "may-2021", "october-2025"] {
		let title = format!("{name}, with feedback, under four policies");
		groups.push((title, run_all(&scenarios(name, args)?, &all, traders)?));
	}
	let mut imperfect = scenarios("outage", args)?;
	imperfect.extend(scenarios("liar", args)?);
	imperfect.extend(scenarios("lag", args)?);
	groups.push(("Oracle imperfections".into(), run_all(&imperfect, &base, traders)?));
	groups.push((
		"Synthetic sweep: one path a crash depth".into(),
		run_all(&scenarios("sweep", args)?, &base, traders)?,
	));
	let calm = Args { no_feedback: true, ..args.clone() };
	let mut without = scenarios("march-2020", &calm)?;
	without[0].path.name = "march-2020, no feedback".into();
	groups.push(("Feedback off, for comparison".into(), run_all(&without, &base, traders)?));
	Ok(groups)
}

/// A file name for `scenario`: letters and digits, `%` as `pct`, the rest as single dashes.
fn slug(scenario: &str) -> String {
	let plain: String = scenario
		.replace('%', "pct")
		.chars()
		.map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
		.collect();
	plain.split_whitespace().collect::<Vec<_>>().join("-")
}

/// `RISK.md` from the standard set's groups, with the charts' files under `risk/`.
fn risk_report(args: &Args, groups: &[(String, Vec<Outcome>)], seconds: f64) -> String {
	use std::fmt::Write;
	let mut md = String::new();
	let commit = std::env::var("PERPCHAIN_COMMIT").unwrap_or_else(|_| "unknown".into());
	let _ = writeln!(md, "# Risk report: the liquidation engine through historical crashes\n");
	let _ = writeln!(
		md,
		"Generated by `benchmarks/simulator.sh` (`perpchain-sim standard --accounts {} --blocks {} \
		 --seed {}`) at commit {commit}, in {:.0} s on this machine. Every number below comes from \
		 that one run; `benchmarks/simulator/README.md` says how the simulator works and what \
		 each measure means.\n",
		args.accounts, args.blocks, args.seed, seconds
	);
	let _ = writeln!(md, "## Paths\n");
	for shape in paths::SHAPES {
		let _ = writeln!(
			md,
			"- `{}` ({} hours over {} blocks): {}.",
			shape.name, shape.hours, args.blocks, shape.source
		);
	}
	let _ = writeln!(
		md,
		"- `sweep`: geometric Brownian motion (0.2% a block) with about three crashes a path of the \
		 given depth (±40%), ETH 1.3 and DOT 1.6 times as deep as BTC.\n\n\
		 Feedback: each block's net liquidation selling of an asset moves its next price by 1% per \
		 {} (BTC), {} (ETH), {} (DOT), {} (native) million USD, for good.\n",
		DEPTH[0] / 1e6, DEPTH[1] / 1e6, DEPTH[2] / 1e6, DEPTH[3] / 1e6
	);
	for (title, outcomes) in groups {
		let _ = writeln!(md, "## {title}\n");
		md.push_str(&report::table(outcomes));
		md.push('\n');
		for o in outcomes.iter().filter(|o| o.policy == "baseline") {
			let file = format!("risk/{}.png", slug(&o.scenario));
			match perpchain_sim::charts::draw(o, &args.out.join(&file)) {
				Ok(()) => {
					let _ = writeln!(md, "![{}]({file})\n", o.scenario);
				},
				Err(e) => eprintln!("no chart for {}: {e}", o.scenario),
			}
		}
	}
	md
}

/// Writes the state after `traders` opened their accounts to `file` as one JSON object, each
/// key and value `0x`-prefixed hex, as a raw chain spec's `genesis.raw.top` holds them.
fn write_state(file: &std::path::Path, traders: &[population::Trader]) -> Result<(), String> {
	use std::io::Write;
	let (pairs, errors) = engine::snapshot(traders)?;
	if let Some(parent) = file.parent() {
		std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
	}
	let fail = |e: std::io::Error| format!("{}: {e}", file.display());
	let mut out = std::io::BufWriter::new(std::fs::File::create(file).map_err(fail)?);
	let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
	write!(out, "{{").map_err(fail)?;
	for (i, (key, value)) in pairs.iter().enumerate() {
		let sep = if i == 0 { "" } else { "," };
		write!(out, "{sep}\n\"0x{}\":\"0x{}\"", hex(key), hex(value)).map_err(fail)?;
	}
	writeln!(out, "\n}}").map_err(fail)?;
	out.flush().map_err(fail)?;
	let bytes: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
	eprintln!(
		"{} accounts: {} keys, {} bytes, written to {}; failed calls: {errors:?}",
		traders.len(),
		pairs.len(),
		bytes,
		file.display()
	);
	Ok(())
}

fn main() {
	let args = Args::parse();
	let ci = args.scenario == "ci";
	let accounts = if ci { 500 } else { args.accounts };
	let spec = population::Spec { accounts, seed: args.seed, long_share: args.long_share };
	let traders = population::draw(&spec);
	let started = std::time::Instant::now();
	if args.scenario == "state" {
		if let Err(e) = write_state(&args.out.join("state.json"), &traders) {
			eprintln!("{e}");
			std::process::exit(2);
		}
		return;
	}
	let result = if args.scenario == "standard" {
		standard(&args, &traders).and_then(|groups| {
			let fonts = perpchain_sim::charts::load_font();
			if let Err(e) = &fonts {
				eprintln!("charts left out: {e}");
			}
			std::fs::create_dir_all(args.out.join("risk")).map_err(|e| e.to_string())?;
			let md = risk_report(&args, &groups, started.elapsed().as_secs_f64());
			let file = args.out.join("RISK.md");
			std::fs::write(&file, md).map_err(|e| format!("{}: {e}", file.display()))?;
			eprintln!("wrote {}", file.display());
			Ok(groups.into_iter().flat_map(|(_, o)| o).collect::<Vec<_>>())
		})
	} else {
		let names: Vec<&str> = args.policies.iter().map(String::as_str).collect();
		policies(&names).and_then(|p| run_all(&scenarios(&args.scenario, &args)?, &p, &traders))
	};
	let outcomes = match result {
		Ok(o) => o,
		Err(e) => {
			eprintln!("{e}");
			std::process::exit(2);
		},
	};
	print!("{}", report::table(&outcomes));
	eprintln!("{} runs in {:.0} s", outcomes.len(), started.elapsed().as_secs_f64());
	let failures: Vec<String> = outcomes.iter().flat_map(|o| o.failures()).collect();
	if !failures.is_empty() {
		eprintln!("FAILED: {}", failures.join("; "));
		std::process::exit(1);
	}
}

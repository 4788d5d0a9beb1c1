//! `perpchain-fuzz`: runs a campaign and prints what it did; on a broken invariant, shrinks
//! the sequence, saves it as a regression file and exits with status 1.

use clap::Parser;
use perpchain_fuzz::{campaign, runner::Stats};
use std::{path::PathBuf, time::Instant};

/// Random call sequences through the real perpchain runtime, with invariants after every
/// call and block.
#[derive(Parser)]
#[command(name = "perpchain-fuzz")]
struct Cli {
	/// The first seed.
	#[arg(long, default_value_t = 1)]
	seed: u64,
	/// How many seeds, from `--seed` on.
	#[arg(long, default_value_t = 1)]
	seeds: u64,
	/// Generated calls per seed.
	#[arg(long, default_value_t = 10_000)]
	calls: u64,
	/// Calls per chain: a campaign starts a new chain from genesis after this many.
	#[arg(long, default_value_t = 2_500)]
	epoch: u64,
	/// Where a shrunk failing sequence is saved.
	#[arg(long, default_value = "runtime/fuzz/regressions")]
	save_dir: PathBuf,
	/// Seconds to spend shrinking a failure, of a campaign or of a replay (0: a campaign's is
	/// saved as found, a replay's not at all).
	#[arg(long, default_value_t = 300)]
	shrink_secs: u64,
	/// Replay a regression file instead of generating.
	#[arg(long)]
	replay: Option<PathBuf>,
}

fn main() {
	let cli = Cli::parse();
	let started = Instant::now();
	if let Some(path) = &cli.replay {
		let actions = campaign::load(path).unwrap_or_else(|e| fail(&e));
		match campaign::replay(&actions) {
			Ok(stats) => {
				report(&stats, started);
				println!("replayed {} actions: no invariant broken", actions.len());
			},
			Err((at, violation)) => {
				println!(
					"action #{at}: invariant `{}` broken: {}",
					violation.invariant, violation.detail
				);
				if cli.shrink_secs > 0 {
					let actions = actions[..(at + 1).min(actions.len())].to_vec();
					let failure =
						campaign::Failure { seed: 0, epoch: 0, block: 0, violation, actions };
					shrink_and_save(&cli, &failure);
				}
				std::process::exit(1);
			},
		}
		return;
	}
	println!(
		"perpchain-fuzz: seeds {}..={}, {} calls each, a new chain every {} calls",
		cli.seed,
		cli.seed + cli.seeds.saturating_sub(1),
		cli.calls,
		cli.epoch
	);
	let mut total = Stats::default();
	for seed in cli.seed..cli.seed + cli.seeds {
		let base = total.clone();
		let outcome = campaign::run(seed, cli.calls, cli.epoch, |chains, stats| {
			eprintln!(
				"  seed {seed}: {chains} chains, {} calls, {} blocks, {} liquidations, {:.0} s",
				base.calls + stats.calls,
				base.blocks + stats.blocks,
				base.liquidations + stats.liquidations,
				started.elapsed().as_secs_f64()
			);
		});
		let (stats, failure) = outcome.unwrap_or_else(|e| fail(&e));
		total.add(&stats);
		if let Some(failure) = failure {
			report(&total, started);
			println!("violations 1: {}", failure.describe());
			shrink_and_save(&cli, &failure);
			std::process::exit(1);
		}
	}
	report(&total, started);
	println!("violations 0, panics 0");
}

/// Shrinks a failure for at most `--shrink-secs` and saves it under `--save-dir`.
fn shrink_and_save(cli: &Cli, failure: &campaign::Failure) {
	let shrunk = if cli.shrink_secs > 0 {
		campaign::shrink(failure, std::time::Duration::from_secs(cli.shrink_secs))
	} else {
		failure.actions.clone()
	};
	match campaign::save(&cli.save_dir, failure, &shrunk) {
		Ok(path) => println!(
			"shrunk {} actions to {}; saved as {}",
			failure.actions.len(),
			shrunk.len(),
			path.display()
		),
		Err(e) => println!("could not save the regression: {e}"),
	}
}

fn report(stats: &Stats, started: Instant) {
	println!(
		"calls run          {} ({} generated, {} from the offchain worker)",
		stats.calls,
		stats.calls - stats.worker_applied,
		stats.worker_applied
	);
	println!("blocks             {} ({} opened congested)", stats.blocks, stats.congested);
	println!(
		"liquidations       {} ({} full, {} partial)",
		stats.liquidations,
		stats.full_liquidations,
		stats.liquidations - stats.full_liquidations
	);
	println!(
		"auctions           {} started, {} taken, {} restarted, {} ended, {} retired",
		stats.auctions_started,
		stats.auctions_taken,
		stats.auctions_restarted,
		stats.auctions_ended,
		stats.auctions_retired
	);
	println!(
		"shortfalls         {} settled; {} positions deleveraged",
		stats.shortfalls, stats.deleveraged
	);
	println!(
		"offchain worker    {} submitted, {} refused by the pool",
		stats.worker_submitted, stats.worker_refused
	);
	println!(
		"forged unsigned    {} sent, {} refused by the pool",
		stats.forged, stats.forged_refused
	);
	println!("succeeded          {}", stats.ok);
	println!("errors by kind:");
	let mut errors: Vec<_> = stats.errors.iter().collect();
	errors.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
	for (kind, n) in errors {
		println!("  {n:>9}  {kind}");
	}
	println!("invariant checks:");
	for (name, n) in &stats.checks {
		println!("  {n:>9}  {name}");
	}
	println!("time               {:.1} s", started.elapsed().as_secs_f64());
}

fn fail(message: &str) -> ! {
	eprintln!("perpchain-fuzz: {message}");
	std::process::exit(2);
}

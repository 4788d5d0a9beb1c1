//! Campaigns: a seed's actions over chains of `epoch` calls each, replay of a recorded
//! sequence, shrinking of a failing one and its regression file.

use crate::{
	action::{self, Action},
	generate::Generator,
	invariants::Violation,
	runner::{Runner, Stats},
};
use std::{
	panic::{catch_unwind, AssertUnwindSafe},
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

/// A broken invariant (or a panic) and the actions that led to it, from genesis.
#[derive(Clone, Debug)]
pub struct Failure {
	/// The seed and the chain (epoch) of the campaign it came from.
	pub seed: u64,
	pub epoch: u64,
	/// The block being built when it broke.
	pub block: u32,
	/// What broke.
	pub violation: Violation,
	/// The actions from genesis, the failing one last.
	pub actions: Vec<Action>,
}

impl Failure {
	/// One paragraph: seed, chain, block, action and what broke.
	pub fn describe(&self) -> String {
		let last = self.actions.last().map(Action::to_line).unwrap_or_default();
		format!(
			"seed {}, chain {}, block {}, action #{} ({last}): invariant `{}` broken: {}",
			self.seed,
			self.epoch,
			self.block,
			self.actions.len().saturating_sub(1),
			self.violation.invariant,
			self.violation.detail
		)
	}
}

/// Runs `action`, turning a panic into a violation.
fn run_guarded(runner: &mut Runner, action: &Action) -> Result<(), Violation> {
	match catch_unwind(AssertUnwindSafe(|| runner.run(action))) {
		Ok(result) => result,
		Err(panic) => {
			let message = panic
				.downcast_ref::<String>()
				.cloned()
				.or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
				.unwrap_or_else(|| "a panic".into());
			Err(Violation { invariant: "panic", detail: message })
		},
	}
}

/// The seed of chain `epoch` of the campaign `seed`.
fn chain_seed(seed: u64, epoch: u64) -> u64 {
	seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(epoch)
}

/// Runs `calls` generated calls from `seed`, on a new chain every `epoch` calls; stops at the
/// first failure. `progress` sees the counts after each chain.
pub fn run(
	seed: u64,
	calls: u64,
	epoch: u64,
	mut progress: impl FnMut(u64, &Stats),
) -> Result<(Stats, Option<Failure>), String> {
	let mut total = Stats::default();
	let epoch_calls = epoch.max(1);
	let chains = calls.div_ceil(epoch_calls);
	for index in 0..chains {
		let budget = epoch_calls.min(calls - index * epoch_calls);
		let mut runner = Runner::new()?;
		let mut generator = Generator::new(chain_seed(seed, index));
		let mut actions = Vec::new();
		let mut made = 0;
		let mut finished = false;
		while !finished {
			let action = if made < budget {
				let action = generator.next(&mut runner.chain);
				made += u64::from(action.is_call());
				action
			} else {
				finished = true;
				Action::LAST_BLOCK
			};
			actions.push(action);
			if let Err(violation) = run_guarded(&mut runner, actions.last().expect("just pushed")) {
				total.add(&runner.stats);
				let block = runner.chain.number;
				return Ok((
					total,
					Some(Failure { seed, epoch: index, block, violation, actions }),
				));
			}
		}
		total.add(&runner.stats);
		progress(index + 1, &total);
	}
	Ok((total, None))
}

/// Replays `actions` from genesis: the counts, or the index of the action that broke an
/// invariant and the violation.
pub fn replay(actions: &[Action]) -> Result<Stats, (usize, Violation)> {
	let mut runner =
		Runner::new().map_err(|detail| (0, Violation { invariant: "genesis", detail }))?;
	for (i, action) in actions.iter().enumerate() {
		run_guarded(&mut runner, action).map_err(|violation| (i, violation))?;
	}
	run_guarded(&mut runner, &Action::LAST_BLOCK)
		.map_err(|violation| (actions.len(), violation))?;
	Ok(runner.stats)
}

/// Shrinks a failing sequence to a shorter one that breaks the same invariant, by removing
/// ever smaller chunks of it (delta debugging), for at most `budget`.
pub fn shrink(failure: &Failure, budget: Duration) -> Vec<Action> {
	let started = Instant::now();
	let invariant = failure.violation.invariant;
	// A candidate fails the same way: keep it up to the action that broke it.
	let fails = |candidate: &[Action]| -> Option<Vec<Action>> {
		match replay(candidate) {
			Err((at, violation)) if violation.invariant == invariant => {
				Some(candidate[..(at + 1).min(candidate.len())].to_vec())
			},
			_ => None,
		}
	};
	let mut best = failure.actions.clone();
	let mut chunks = 2usize;
	while best.len() >= 2 && started.elapsed() < budget {
		let size = best.len().div_ceil(chunks);
		let mut reduced = false;
		let mut start = 0;
		while start < best.len() && started.elapsed() < budget {
			let end = (start + size).min(best.len());
			let candidate: Vec<Action> =
				best[..start].iter().chain(&best[end..]).cloned().collect();
			if let Some(shorter) = fails(&candidate) {
				best = shorter;
				reduced = true;
			} else {
				start = end;
			}
		}
		if reduced {
			chunks = chunks.saturating_sub(1).max(2);
		} else if size == 1 {
			break;
		} else {
			chunks = (chunks * 2).min(best.len());
		}
	}
	best
}

/// Writes `actions` as a regression file in `dir`, named after the invariant and the seed;
/// returns its path.
pub fn save(dir: &Path, failure: &Failure, actions: &[Action]) -> std::io::Result<PathBuf> {
	std::fs::create_dir_all(dir)?;
	let path = dir.join(format!(
		"{}-seed{}-chain{}.txt",
		failure.violation.invariant, failure.seed, failure.epoch
	));
	let mut text = format!(
		"# perpchain-fuzz regression: invariant `{}` broken\n# found by: --seed {} (chain {}), \
		 block {}\n# {}\n",
		failure.violation.invariant,
		failure.seed,
		failure.epoch,
		failure.block,
		failure.violation.detail.replace('\n', " ")
	);
	for action in actions {
		text.push_str(&action.to_line());
		text.push('\n');
	}
	std::fs::write(&path, text)?;
	Ok(path)
}

/// Reads a regression file.
pub fn load(path: &Path) -> Result<Vec<Action>, String> {
	let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
	action::parse_all(&text).map_err(|e| format!("{}: {e}", path.display()))
}

//! The simulator's parts, and a small run through the runtime.

use perpchain_sim::{
	engine::{self, Feeds, Policy, Scenario, DEPTH},
	paths, population,
};

fn traders(accounts: u32) -> Vec<population::Trader> {
	population::draw(&population::Spec { accounts, seed: 7, long_share: 0.7 })
}

#[test]
fn the_population_is_seeded_and_shaped_as_described() {
	let a = traders(4_000);
	let b = traders(4_000);
	assert_eq!(
		a.iter().map(|t| t.who.clone()).collect::<Vec<_>>(),
		b.iter().map(|t| t.who.clone()).collect::<Vec<_>>()
	);
	assert!(a.iter().zip(&b).all(|(x, y)| x.usd == y.usd && x.trades == y.trades));
	let longs = a.iter().filter(|t| t.trades[0].1 > 0.0).count() as f64 / a.len() as f64;
	assert!((0.66..0.74).contains(&longs), "long share {longs}");
	let both = a.iter().filter(|t| t.trades.len() == 2).count() as f64 / a.len() as f64;
	assert!((0.12..0.18).contains(&both), "cross-market share {both}");
	let collateral = a.iter().filter(|t| t.collateral.is_some()).count() as f64 / a.len() as f64;
	assert!((0.21..0.29).contains(&collateral), "collateral share {collateral}");
}

#[test]
fn a_historical_path_follows_its_key_points() {
	let path = paths::historical(&paths::MAY_2021, 241, 1);
	assert_eq!(path.blocks.len(), 241);
	// Hour 22 of 24 is block 220: BTC at 70% of its start, within the noise.
	let btc_low = path.blocks[220][0];
	assert!((0.66..0.74).contains(&btc_low), "{btc_low}");
	let (first, last) = (path.blocks[0][1], path.blocks[240][1]);
	assert!((0.97..1.03).contains(&first) && (0.70..0.78).contains(&last), "{first} {last}");
}

#[test]
fn a_small_crash_liquidates_without_breaking_anything_and_feedback_deepens_it() {
	let population = traders(300);
	let scenario = |depth| Scenario {
		path: paths::historical(&paths::MAY_2021, 120, 1),
		feeds: Feeds::Honest,
		depth,
	};
	let with =
		engine::run(&scenario(Some(DEPTH.map(|d| d / 50.0))), &Policy::baseline(), &population)
			.expect("the run completes");
	assert!(with.failures().is_empty(), "{:?}", with.failures());
	assert!(with.accounts_liquidated > 0 && with.liquidations_partial > 0, "{with:?}");
	assert_eq!(with.setup_errors.values().sum::<u32>(), 0, "{:?}", with.setup_errors);
	let without =
		engine::run(&scenario(None), &Policy::baseline(), &population).expect("the run completes");
	// The liquidations' selling pushes the price further down, and more accounts go.
	let low = |o: &engine::Outcome| o.ticks.iter().map(|t| t.prices[0]).fold(f64::MAX, f64::min);
	assert!(low(&with) < low(&without));
	assert!(with.accounts_liquidated >= without.accounts_liquidated);
}

#[test]
fn a_run_that_liquidated_a_healthy_account_or_lost_a_unit_fails() {
	let mut outcome = engine::Outcome::default();
	assert!(outcome.failures().is_empty());
	outcome.healthy_liquidated = 1;
	outcome.conservation_drift = -1;
	outcome.try_state = Some("margin: stray entry".into());
	assert_eq!(outcome.failures().len(), 3);
}

#[test]
fn the_state_snapshot_holds_every_account_in_key_order_without_the_setups_events() {
	use perpchain_runtime::Runtime;
	let population = traders(200);
	let (pairs, errors) = engine::snapshot(&population).expect("the setup runs");
	assert_eq!(errors.values().sum::<u32>(), 0, "{errors:?}");
	assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0), "keys not strictly ascending");
	let keys: std::collections::BTreeSet<&[u8]> = pairs.iter().map(|(k, _)| k.as_slice()).collect();
	assert!(keys.contains(&b":code"[..]), "no runtime code");
	for trader in &population {
		let key = pallet_margin::Accounts::<Runtime>::hashed_key_for(&trader.who);
		assert!(keys.contains(key.as_slice()), "no margin account for {:?}", trader.who);
	}
	let events = frame_support::storage::storage_prefix(b"System", b"Events");
	assert!(!keys.contains(&events[..]), "the setup's events are in the state");
}

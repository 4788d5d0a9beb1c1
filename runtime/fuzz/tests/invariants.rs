//! The fuzzer's checks catch what they are there to catch, and a short campaign runs the
//! liquidation machinery without breaking any of them.

use frame_support::{weights::Weight, BoundedVec};
use perp_primitives::Price;
use perpchain_fuzz::{
	action::Action,
	actors, campaign,
	chain::Probe,
	invariants::{self, Books},
	runner::Runner,
};
use perpchain_runtime::{asset_ids, Runtime, RuntimeCall, RuntimeEvent, USD_UNIT};

fn feed(signer: u8, btc: u32) -> Action {
	let values = vec![
		(asset_ids::BTC, Price::from_u32(btc)),
		(asset_ids::ETH, Price::from_u32(3_000)),
		(asset_ids::DOT, Price::from_u32(5)),
		(asset_ids::NATIVE, Price::from_u32(2)),
	];
	let values = BoundedVec::truncate_from(values);
	Action::Signed { signer, call: RuntimeCall::Oracle(pallet_perp_oracle::Call::feed { values }) }
}

fn margin(signer: u8, call: pallet_margin::Call<Runtime>) -> Action {
	Action::Signed { signer, call: RuntimeCall::Margin(call) }
}

/// Eve (signer 4) opens `size` satoshis of BTC on 10,000 USD at 65,000; the next block's feeds
/// put BTC at `then`.
fn eve_long(size: i128, then: u32) -> Runner {
	let mut runner = Runner::new().expect("genesis builds");
	let actions = [
		feed(0, 65_000),
		feed(1, 65_000),
		margin(
			4,
			pallet_margin::Call::deposit { asset: asset_ids::USD, amount: 10_000 * USD_UNIT },
		),
		margin(4, pallet_margin::Call::trade { market: 0, delta: size }),
		Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 0 },
		feed(0, then),
		feed(1, then),
	];
	for action in &actions {
		runner.run(action).expect("no invariant broken");
	}
	runner
}

/// Eve opens 19x BTC; the next block's feeds crash BTC 6%.
fn eve_below_maintenance() -> Runner {
	eve_long(290_000_000, 61_100)
}

#[test]
fn the_worker_liquidates_an_account_a_governance_change_made_unsafe() {
	use perpchain_runtime::genesis_config_presets as presets;
	use sp_runtime::Perbill;
	// Eve holds 1.5 BTC on 10,000 USD, about 9.75x: healthy at 2.5% maintenance.
	let mut runner = eve_long(150_000_000, 65_000);
	assert_eq!(runner.stats.liquidations, 0);
	// Governance raises BTC-PERP's maintenance to 12%: Eve is liquidatable at the same price.
	let mut params = presets::markets()[0].clone();
	for (tier, (initial, maintenance)) in
		params.tiers.iter_mut().zip([(15, 12), (20, 15), (25, 18)])
	{
		tier.initial = Perbill::from_percent(initial);
		tier.maintenance = Perbill::from_percent(maintenance);
	}
	let update = RuntimeCall::Margin(pallet_margin::Call::update_market { market: 0, params });
	let sudo = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(update) });
	runner
		.run(&Action::Signed { signer: actors::SUDO, call: sudo })
		.expect("no invariant broken");
	runner.chain.execute(|| {
		assert!(pallet_liquidation::Pallet::<Runtime>::may_liquidate(&actors::account(4)));
	});
	// The worker runs on the finished block; its batch goes into the next one.
	let next = Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 0 };
	runner.run(&next).expect("no invariant broken");
	assert_eq!(runner.stats.worker_applied, 1);
	assert_eq!(runner.stats.liquidations, 1);
}

#[test]
fn in_a_congested_block_the_feeds_keep_their_room_and_the_liquidation_waits() {
	// Eve is below maintenance; the next block opens with the liquidations' share full.
	let mut runner = eve_below_maintenance();
	let congested = Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 1_000 };
	runner.run(&congested).expect("no invariant broken");
	assert_eq!((runner.stats.worker_applied, runner.stats.liquidations), (1, 0));
	assert_eq!(runner.stats.errors.get("invalid: Invalid(ExhaustsResources)"), Some(&1));
	// The feeds go in all the same (a feeder's feed refused for room is a violation).
	runner.run(&feed(0, 61_100)).expect("no invariant broken");
	runner.run(&feed(1, 61_100)).expect("no invariant broken");
	assert_eq!(runner.stats.errors.len(), 1, "{:?}", runner.stats.errors);
	// In an ordinary block the worker's next batch liquidates Eve.
	let next = Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 0 };
	for _ in 0..3 {
		runner.run(&next).expect("no invariant broken");
	}
	assert_eq!(runner.stats.liquidations, 1);
}

#[test]
fn a_non_feeder_in_the_operational_class_or_a_batch_in_the_feeds_room_is_caught() {
	use frame_support::dispatch::DispatchClass;
	use perpchain_runtime::RuntimeOrigin;
	let mut runner = eve_below_maintenance();
	runner.chain.execute(|| {
		// Eve's feed, as if it had been included and failed in dispatch.
		let Action::Signed { call, .. } = feed(4, 61_100) else { unreachable!() };
		let admission =
			invariants::Admission::before(&RuntimeOrigin::signed(actors::account(4)), &call);
		let failed = Err(pallet_perp_oracle::Error::<Runtime>::NoPermission.into());
		assert_eq!(admission.check(&Ok(failed)).unwrap_err().invariant, "operational-space");
		// A batch included in a block whose operational class has no room left for the feeds.
		let batch = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
			accounts: vec![actors::account(4)].try_into().unwrap(),
		});
		let admission = invariants::Admission::before(&RuntimeOrigin::none(), &batch);
		assert!(admission.check(&Ok(Ok(()))).is_ok());
		let reserved = perpchain_runtime::configs::RuntimeBlockWeights::get()
			.get(DispatchClass::Operational)
			.reserved
			.unwrap();
		perpchain_fuzz::chain::congest(1_000);
		assert!(invariants::feeds_fit());
		frame_system::BlockWeight::<Runtime>::mutate(|w| {
			w.set(reserved, DispatchClass::Operational)
		});
		assert!(!invariants::feeds_fit());
		let violation = admission.check(&Ok(Ok(()))).unwrap_err();
		assert_eq!(violation.invariant, "feed-room");
	});
}

#[test]
fn an_auction_below_the_minimum_lot_is_caught() {
	let mut runner = eve_below_maintenance();
	runner.chain.execute(|| {
		let dot = perpchain_runtime::genesis_config_presets::DOT_UNIT;
		let auction = |lot| pallet_liquidation::Auction {
			owner: actors::account(4),
			asset: asset_ids::DOT,
			unit: dot,
			lot,
			tab: 1_000 * USD_UNIT,
			top: Price::from_u32(5),
			floor: Price::from_u32(3),
			started: 1,
		};
		let started = |lot| {
			RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionStarted {
				id: 99,
				who: actors::account(4),
				asset: asset_ids::DOT,
				lot,
				tab: 1_000 * USD_UNIT,
				top: Price::from_u32(5),
			})
		};
		// 1,000 DOT: an auction worth taking.
		pallet_liquidation::Auctions::<Runtime>::insert(99, auction(1_000 * dot));
		assert!(invariants::auction_lots(&[started(1_000 * dot)]).is_ok());
		// A tenth of a DOT: dust nobody takes.
		pallet_liquidation::Auctions::<Runtime>::insert(99, auction(dot / 10));
		let violation = invariants::auction_lots(&[started(dot / 10)]).unwrap_err();
		assert_eq!(violation.invariant, "auction-min-lot");
	});
}

#[test]
fn a_deleverage_that_spares_a_better_ranked_position_is_caught() {
	// Eve (4) long 0.1 BTC from 65,000, Dave (3) long 0.1 BTC from 64,000; BTC rallies to
	// 67,000: Dave's 4.7% ranks before Eve's 3.1%.
	let mut runner = Runner::new().expect("genesis builds");
	let usd = pallet_margin::Call::deposit { asset: asset_ids::USD, amount: 10_000 * USD_UNIT };
	let long = pallet_margin::Call::trade { market: 0, delta: 10_000_000 };
	let next = Action::NextBlock { advance_ms: 6_000, worker: false, congestion: 0 };
	let actions = [
		feed(0, 65_000),
		feed(1, 65_000),
		margin(4, usd.clone()),
		margin(4, long.clone()),
		next.clone(),
		feed(0, 64_000),
		feed(1, 64_000),
		margin(3, usd),
		margin(3, long),
		next,
		feed(0, 67_000),
		feed(1, 67_000),
	];
	for action in &actions {
		runner.run(action).expect("no invariant broken");
	}
	runner.chain.execute(|| {
		pallet_liquidation::SocializedLoss::<Runtime>::put(u128::MAX / 2);
		let deleverage =
			|max| RuntimeCall::Liquidation(pallet_liquidation::Call::deleverage { max });
		let taken = |signer| {
			RuntimeEvent::Liquidation(pallet_liquidation::Event::Deleveraged {
				who: actors::account(signer),
				market: 0,
				closed: 10_000_000,
				price: Price::from_u32(65_000),
				recovered: USD_UNIT,
			})
		};
		let (dave, eve) = (taken(3), taken(4));
		let check = |max, events: &[RuntimeEvent]| {
			invariants::adl_order(&invariants::Profits::before(&deleverage(max)), events)
		};
		assert!(check(2, &[dave.clone(), eve.clone()]).is_ok());
		assert!(check(1, std::slice::from_ref(&dave)).is_ok());
		// Eve taken and Dave spared; Eve before Dave; Dave alone while the excess is left and
		// the call could have looked at Eve too.
		for (max, events) in [(1, vec![eve.clone()]), (2, vec![eve, dave.clone()]), (2, vec![dave])]
		{
			let violation = check(max, &events).unwrap_err();
			assert_eq!(violation.invariant, "adl-order", "{violation:?}");
		}
	});
}

#[test]
fn a_worker_that_submits_no_deleverage_when_one_is_due_is_caught() {
	use codec::Encode;
	// Eve's long in profit, an excess to recover: the worker deleverages her.
	let deleveraging = || {
		let mut runner = eve_long(10_000_000, 67_000);
		runner
			.chain
			.execute(|| pallet_liquidation::SocializedLoss::<Runtime>::put(u128::MAX / 2));
		runner
	};
	let next = Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 0 };
	let mut runner = deleveraging();
	runner.run(&next).expect("the worker submits a deleverage");
	// A worker that cannot run (a lock it cannot take) leaves it undone.
	let mut runner = deleveraging();
	let held = (u32::MAX, u64::MAX).encode();
	runner.chain.set_offchain(pallet_liquidation::offchain::LOCK_KEY, &held);
	let violation = runner.run(&next).unwrap_err();
	assert_eq!(violation.invariant, "adl-liveness", "{violation:?}");
}

#[test]
fn a_short_campaign_liquidates_and_breaks_no_invariant() {
	let (stats, failure) = campaign::run(7, 3_000, 3_000, |_, _| {}).expect("genesis builds");
	assert!(failure.is_none(), "{}", failure.map(|f| f.describe()).unwrap_or_default());
	assert!(stats.liquidations > 0, "nothing was liquidated: {stats:?}");
	assert!(stats.ok > 0 && !stats.errors.is_empty(), "{stats:?}");
	// Every call was checked for conservation, and every block by `try_state`.
	assert_eq!(stats.checks.get("conservation"), Some(&stats.calls));
	assert_eq!(stats.checks.get("try-state"), Some(&stats.blocks));
}

#[test]
fn a_unit_of_an_asset_destroyed_without_its_supply_is_caught() {
	let mut runner = eve_below_maintenance();
	runner.chain.execute(|| {
		assert!(invariants::supplies().is_ok());
		pallet_assets::Account::<Runtime>::mutate(asset_ids::USD, actors::account(4), |account| {
			if let Some(account) = account {
				account.balance -= 1;
			}
		});
		assert_eq!(invariants::supplies().unwrap_err().invariant, "asset-supply");
	});
}

#[test]
fn a_unit_created_or_lost_in_margins_books_is_caught() {
	let mut runner = eve_below_maintenance();
	runner.chain.execute(|| {
		let accounts = invariants::accounts();
		let before = Books::read(&accounts);
		pallet_margin::Vault::<Runtime>::mutate(|vault| *vault += 1);
		let after = Books::read(&accounts);
		let violation = invariants::conservation(&before, &after, &[]).unwrap_err();
		assert_eq!(violation.invariant, "margin-books");
		// A deposit the books do not show is caught too.
		let deposit = RuntimeEvent::Margin(pallet_margin::Event::Deposited {
			who: actors::account(4),
			asset: asset_ids::DOT,
			amount: 1,
		});
		let violation = invariants::conservation(&after, &after, &[deposit]).unwrap_err();
		assert_eq!(violation.invariant, "margin-books");
		assert!(invariants::conservation(&before, &before, &[]).is_ok());
	});
}

#[test]
fn liquidating_a_healthy_account_is_caught_and_a_liquidatable_one_is_not() {
	let mut runner = eve_below_maintenance();
	runner.chain.execute(|| {
		// Dave holds nothing: not liquidatable.
		let violation = invariants::were_liquidatable(&[actors::account(3)]).unwrap_err();
		assert_eq!(violation.invariant, "healthy-liquidated");
		assert!(invariants::were_liquidatable(&[actors::account(4)]).is_ok());
	});
}

#[test]
fn an_account_hidden_from_the_risk_index_is_caught_by_discovery() {
	let mut runner = eve_below_maintenance();
	let eve = actors::account(4);
	runner.chain.execute(|| {
		assert!(pallet_liquidation::Pallet::<Runtime>::may_liquidate(&eve));
		assert!(invariants::discovery().is_ok());
		// Remove Eve's entries from the index: liquidatable, but discovery no longer sees her.
		let entries: Vec<_> = pallet_margin::LowerTriggers::<Runtime>::iter_keys()
			.filter(|(_, _, who)| *who == eve)
			.collect();
		assert!(!entries.is_empty());
		for key in entries {
			pallet_margin::LowerTriggers::<Runtime>::remove(key);
		}
		let violation = invariants::discovery().unwrap_err();
		assert_eq!(violation.invariant, "discovery");
	});
}

#[test]
fn a_failed_call_that_left_a_trace_or_overran_its_weight_is_caught() {
	let probe = |trace: bool, reported: u64| Probe {
		result: Ok(Some(Weight::from_parts(reported, 0)).into()),
		declared: Weight::from_parts(100, 0),
		events: vec![],
		left_a_trace: trace,
	};
	assert!(invariants::probe_checks(&probe(false, 100)).is_ok());
	assert_eq!(
		invariants::probe_checks(&probe(false, 101)).unwrap_err().invariant,
		"declared-weight"
	);
	assert_eq!(
		invariants::probe_checks(&probe(true, 1)).unwrap_err().invariant,
		"no-trace-on-error"
	);
}

#[test]
fn an_auction_restarted_past_the_bound_is_caught() {
	let restart = RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionRestarted {
		id: 3,
		top: Price::from_u32(5),
		keeper: actors::account(5),
		tip: 0,
	});
	let mut counts = Default::default();
	let events = vec![restart; invariants::max_restarts() as usize];
	assert!(invariants::restarts(&mut counts, &events).is_ok());
	let violation = invariants::restarts(&mut counts, &events[..1]).unwrap_err();
	assert_eq!(violation.invariant, "auction-restarts");
}

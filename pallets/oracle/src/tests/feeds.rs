//! Tests of the oracle pallet: feeds, aggregation, freshness, breaker, governance.

use super::{p, raw_value};
use crate::{mock::*, pallet::*, Error, Event, OracleParams};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo, Pays},
	BoundedVec,
};
use frame_system::RawOrigin;
use perp_primitives::{Price, PriceProvider, PriceStatus};
use sp_runtime::{DispatchError, FixedU128, Perbill};

fn values(v: Vec<(u32, Price)>) -> FeedValuesOf<Test> {
	BoundedVec::try_from(v).expect("test feeds fit the bound")
}

fn feed(who: u64, v: Vec<(u32, Price)>) -> sp_runtime::DispatchResult {
	Oracle::feed(RuntimeOrigin::signed(who), values(v))
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Alice, Bob and Charlie each feed `price` for BTC in the current block.
fn all_feed(prices: [u32; 3]) {
	for (who, price) in [ALICE, BOB, CHARLIE].into_iter().zip(prices) {
		assert_ok!(feed(who, vec![(BTC, p(price))]));
	}
}

fn status(asset: u32) -> PriceStatus {
	Oracle::price(asset).status
}

#[test]
fn genesis_sorts_feeders_and_lists_assets() {
	run_test(|| {
		assert_eq!(Feeders::<Test>::get().into_inner(), vec![ALICE, BOB, CHARLIE]);
		assert!(Assets::<Test>::contains_key(BTC));
		assert!(!Assets::<Test>::contains_key(UNLISTED));
		assert_eq!(status(BTC), PriceStatus::Missing);
		assert_eq!(Oracle::stats(BTC), None);
	});
}

#[test]
fn a_price_needs_a_quorum_and_is_the_median() {
	run_test(|| {
		assert_ok!(feed(ALICE, vec![(BTC, p(100)), (ETH, p(10))]));
		System::assert_has_event(Event::QuorumNotMet { asset: BTC, fresh: 1 }.into());
		assert_eq!(status(BTC), PriceStatus::Missing);

		assert_ok!(feed(BOB, vec![(BTC, p(104))]));
		// Two values: the lower middle.
		assert_eq!(Oracle::price(BTC).price, p(100));
		assert_ok!(feed(CHARLIE, vec![(BTC, p(102))]));
		System::assert_last_event(
			Event::PriceAggregated { asset: BTC, price: p(102), feeders: 3, index: p(101) }.into(),
		);
		let info = Oracle::price(BTC);
		assert_eq!(
			(info.price, info.status, info.updated_at),
			(p(102), PriceStatus::Fresh, Now::get())
		);
		assert_eq!(status(ETH), PriceStatus::Missing);
	});
}

#[test]
fn feeds_are_operational_and_free_when_accepted() {
	run_test(|| {
		let call = RuntimeCall::Oracle(crate::Call::feed { values: values(vec![(BTC, p(1))]) });
		assert_eq!(call.get_dispatch_info().class, DispatchClass::Operational);
		let accepted = Oracle::feed(RuntimeOrigin::signed(ALICE), values(vec![(BTC, p(1))]));
		assert_eq!(accepted.unwrap().pays_fee, Pays::No);
		// A non-feeder's attempt fails and pays.
		let rejected = Oracle::feed(RuntimeOrigin::signed(EVE), values(vec![(BTC, p(1))]));
		assert_eq!(rejected.unwrap_err().post_info.pays_fee, Pays::Yes);
	});
}

#[test]
fn a_lying_minority_is_excluded_and_reported() {
	run_test(|| {
		all_feed([100, 101, 500]);
		System::assert_has_event(
			Event::ValuesExcluded { asset: BTC, feeders: BoundedVec::truncate_from(vec![CHARLIE]) }
				.into(),
		);
		assert_eq!(Oracle::price(BTC).price, p(100));
		assert_eq!(Aggregates::<Test>::get(BTC).unwrap().feeders, 2);
	});
}

#[test]
fn quorum_lost_turns_the_price_stale_after_max_age_and_never_serves_it_fresh() {
	run_test(|| {
		all_feed([100, 100, 100]);
		next_block(MAX_AGE);
		assert_eq!(status(BTC), PriceStatus::Fresh);
		next_block(1);
		assert_eq!(status(BTC), PriceStatus::Stale);
		// Only Alice feeds: the others' values are too old to count, no quorum, no new price.
		assert_ok!(feed(ALICE, vec![(BTC, p(90))]));
		System::assert_last_event(Event::QuorumNotMet { asset: BTC, fresh: 1 }.into());
		let info = Oracle::price(BTC);
		assert_eq!((info.status, info.price, info.fresh()), (PriceStatus::Stale, p(100), None));
		// Feeds resume: fresh again at the new level.
		assert_ok!(feed(BOB, vec![(BTC, p(92))]));
		assert_eq!(Oracle::price(BTC).price, p(90));
		assert_eq!(status(BTC), PriceStatus::Fresh);
	});
}

#[test]
fn a_price_is_as_old_as_the_oldest_value_of_its_quorum_not_its_last_aggregation() {
	run_test(|| {
		let start = Now::get();
		assert_ok!(feed(ALICE, vec![(BTC, p(100))]));
		assert_ok!(feed(BOB, vec![(BTC, p(100))]));
		// Just before Alice's and Bob's values expire, Charlie's feed re-aggregates.
		next_block(MAX_AGE - 1_000);
		assert_ok!(feed(CHARLIE, vec![(BTC, p(100))]));
		// The price still rests on a quorum that includes a value from `start`.
		assert_eq!(Oracle::price(BTC).updated_at, start);
		// Once Alice's and Bob's values are too old, Charlie's alone is no quorum: stale.
		next_block(1_001);
		assert_eq!(status(BTC), PriceStatus::Stale);
		// A second fresh value makes a quorum again, as old as the older of the two.
		let charlie = Now::get() - 1_001;
		assert_ok!(feed(BOB, vec![(BTC, p(100))]));
		assert_eq!((status(BTC), Oracle::price(BTC).updated_at), (PriceStatus::Fresh, charlie));
	});
}

#[test]
fn a_jump_beyond_the_per_block_limit_freezes_until_a_fresh_quorum_confirms() {
	run_test(|| {
		all_feed([100, 100, 100]);
		next_block(6_000);
		assert_ok!(feed(ALICE, vec![(BTC, p(150))]));
		assert_ok!(feed(BOB, vec![(BTC, p(150))]));
		System::assert_last_event(
			Event::BreakerTripped { asset: BTC, reference: p(100), rejected: p(150) }.into(),
		);
		assert_eq!(status(BTC), PriceStatus::Frozen);
		assert_eq!(Oracle::price(BTC).price, p(100));
		// Values from the tripping block do not count towards the reset.
		assert_ok!(feed(CHARLIE, vec![(BTC, p(150))]));
		assert_eq!(status(BTC), PriceStatus::Frozen);
		next_block(6_000);
		assert_ok!(feed(ALICE, vec![(BTC, p(151))]));
		assert_eq!(status(BTC), PriceStatus::Frozen);
		// Two values after the trip confirm the new level; the price is the aggregate of all
		// fresh values (151, 149 and Charlie's 150).
		assert_ok!(feed(BOB, vec![(BTC, p(149))]));
		System::assert_has_event(
			Event::BreakerReset { asset: BTC, price: Some(p(150)), by_governance: false }.into(),
		);
		assert_eq!(status(BTC), PriceStatus::Fresh);
		assert_eq!(Oracle::price(BTC).price, p(150));
	});
}

#[test]
fn moves_within_the_limit_pass_and_the_limit_is_per_block() {
	run_test(|| {
		all_feed([100, 100, 100]);
		next_block(6_000);
		all_feed([119, 119, 119]);
		assert_eq!((Oracle::price(BTC).price, status(BTC)), (p(119), PriceStatus::Fresh));
		next_block(6_000);
		// 119 -> 142 is a 19.3% move from this block's reference.
		all_feed([142, 142, 142]);
		assert_eq!((Oracle::price(BTC).price, status(BTC)), (p(142), PriceStatus::Fresh));
	});
}

#[test]
fn governance_resets_a_breaker_and_re_aggregates_without_the_limit() {
	run_test(|| {
		assert_noop!(Oracle::reset_breaker(RuntimeOrigin::root(), BTC), Error::<Test>::NotFrozen);
		all_feed([100, 100, 100]);
		assert_noop!(Oracle::reset_breaker(RuntimeOrigin::root(), BTC), Error::<Test>::NotFrozen);
		next_block(6_000);
		all_feed([300, 300, 300]);
		assert_eq!(status(BTC), PriceStatus::Frozen);
		assert_noop!(
			Oracle::reset_breaker(RuntimeOrigin::signed(ALICE), BTC),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Oracle::reset_breaker(RuntimeOrigin::root(), UNLISTED),
			Error::<Test>::UnknownAsset
		);
		assert_ok!(Oracle::reset_breaker(RuntimeOrigin::root(), BTC));
		System::assert_has_event(
			Event::BreakerReset { asset: BTC, price: None, by_governance: true }.into(),
		);
		assert_eq!((Oracle::price(BTC).price, status(BTC)), (p(300), PriceStatus::Fresh));
	});
}

#[test]
fn index_and_volatility_follow_accepted_prices() {
	run_test(|| {
		all_feed([100, 100, 100]);
		let stats = Oracle::stats(BTC).unwrap();
		assert_eq!((stats.index, stats.volatility), (p(100), FixedU128::from_u32(0)));
		for price in [110, 100, 110, 100] {
			next_block(6_000);
			all_feed([price, price, price]);
		}
		let stats = Oracle::stats(BTC).unwrap();
		assert!(stats.index > p(100) && stats.index < p(110), "index {:?}", stats.index);
		// 10% swings every 6 s are enormous when annualized.
		assert!(stats.volatility > FixedU128::from_u32(1), "volatility {:?}", stats.volatility);
	});
}

#[test]
fn feed_rejects_bad_input_without_a_trace() {
	run_test(|| {
		assert_noop!(feed(EVE, vec![(BTC, p(1))]), Error::<Test>::NoPermission);
		assert_noop!(feed(ALICE, vec![]), Error::<Test>::EmptyFeed);
		assert_noop!(feed(ALICE, vec![(UNLISTED, p(1))]), Error::<Test>::UnknownAsset);
		assert_noop!(feed(ALICE, vec![(BTC, p(0))]), Error::<Test>::InvalidPrice);
		assert_noop!(
			feed(ALICE, vec![(BTC, MaxPrice::get() + Price::from_inner(1))]),
			Error::<Test>::InvalidPrice
		);
		assert_noop!(feed(ALICE, vec![(ETH, p(5)), (BTC, p(0))]), Error::<Test>::InvalidPrice);
		assert_noop!(feed(ALICE, vec![(BTC, p(5)), (BTC, p(6))]), Error::<Test>::DuplicateAsset);
		assert_noop!(
			Oracle::feed(RawOrigin::None.into(), values(vec![(BTC, p(1))])).map_err(|e| e.error),
			DispatchError::BadOrigin
		);
		assert_ok!(feed(ALICE, vec![(BTC, p(5))]));
		assert_noop!(feed(ALICE, vec![(ETH, p(5)), (BTC, p(6))]), Error::<Test>::AlreadyFed);
		next_block(6_000);
		assert_ok!(feed(ALICE, vec![(BTC, p(6))]));
	});
}

#[test]
fn a_feeder_feeds_once_a_block_whatever_the_assets() {
	run_test(|| {
		assert_ok!(feed(ALICE, vec![(BTC, p(5))]));
		// A second feed of other assets in the same block would take a second feed's room.
		assert_noop!(feed(ALICE, vec![(ETH, p(5))]), Error::<Test>::AlreadyFed);
		assert_ok!(feed(BOB, vec![(ETH, p(5))]));
		next_block(6_000);
		assert_ok!(feed(ALICE, vec![(ETH, p(6))]));
		// A removed feeder leaves no trace.
		assert_ok!(Oracle::remove_feeder(RuntimeOrigin::root(), ALICE));
		assert!(crate::FedIn::<Test>::get(ALICE).is_none());
		assert_ok!(Oracle::do_try_state());
	});
}

#[test]
fn a_feed_is_charged_for_the_feeders_that_exist() {
	use frame_support::dispatch::GetDispatchInfo;
	run_test(|| {
		let call = crate::Call::<Test>::feed { values: values(vec![(BTC, p(5)), (ETH, p(5))]) };
		let declared = call.get_dispatch_info().call_weight;
		assert_eq!(declared, <() as crate::WeightInfo>::feed(2, MAX_FEEDERS));
		let info = Oracle::feed(RuntimeOrigin::signed(ALICE), values(vec![(BTC, p(5))])).unwrap();
		let feeders = crate::Feeders::<Test>::get().len() as u32;
		assert!(feeders < MAX_FEEDERS);
		assert_eq!(info.actual_weight, Some(<() as crate::WeightInfo>::feed(1, feeders)));
	});
}

#[test]
fn feeders_are_managed_by_governance_only() {
	run_test(|| {
		assert_noop!(
			Oracle::add_feeder(RuntimeOrigin::signed(ALICE), EVE),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Oracle::remove_feeder(RuntimeOrigin::signed(ALICE), BOB),
			DispatchError::BadOrigin
		);
		assert_ok!(Oracle::add_feeder(RuntimeOrigin::root(), EVE));
		System::assert_last_event(Event::FeederAdded { who: EVE }.into());
		assert_ok!(feed(EVE, vec![(BTC, p(1))]));
		assert_noop!(Oracle::add_feeder(RuntimeOrigin::root(), EVE), Error::<Test>::AlreadyFeeder);
		assert_noop!(Oracle::add_feeder(RuntimeOrigin::root(), 5), Error::<Test>::TooManyFeeders);
		assert_noop!(Oracle::remove_feeder(RuntimeOrigin::root(), 5), Error::<Test>::NotFeeder);
	});
}

#[test]
fn removing_a_feeder_drops_its_values_and_re_aggregates() {
	run_test(|| {
		all_feed([100, 104, 102]);
		assert_eq!(Oracle::price(BTC).price, p(102));
		assert_ok!(Oracle::remove_feeder(RuntimeOrigin::root(), CHARLIE));
		System::assert_last_event(Event::FeederRemoved { who: CHARLIE }.into());
		assert_eq!(raw_value(BTC, CHARLIE), None);
		assert_eq!(raw_value(BTC, ALICE), Some(p(100)));
		assert_eq!(Oracle::price(BTC).price, p(100));
		assert_noop!(feed(CHARLIE, vec![(BTC, p(1))]), Error::<Test>::NoPermission);
	});
}

#[test]
fn assets_are_listed_and_delisted_by_governance_within_bounds() {
	run_test(|| {
		all_feed([100, 100, 100]);
		assert_noop!(Oracle::add_asset(RuntimeOrigin::signed(ALICE), 9), DispatchError::BadOrigin);
		assert_noop!(
			Oracle::add_asset(RuntimeOrigin::root(), BTC),
			Error::<Test>::AssetAlreadyListed
		);
		assert_ok!(Oracle::add_asset(RuntimeOrigin::root(), 9));
		System::assert_last_event(Event::AssetAdded { asset: 9 }.into());
		assert_noop!(Oracle::add_asset(RuntimeOrigin::root(), 10), Error::<Test>::TooManyAssets);
		assert_noop!(Oracle::remove_asset(RuntimeOrigin::root(), 10), Error::<Test>::UnknownAsset);
		// Not while a market or collateral uses its price.
		InUse::set(vec![BTC]);
		assert_noop!(Oracle::remove_asset(RuntimeOrigin::root(), BTC), Error::<Test>::AssetInUse);
		InUse::set(vec![]);
		assert_ok!(Oracle::remove_asset(RuntimeOrigin::root(), BTC));
		System::assert_last_event(Event::AssetRemoved { asset: BTC }.into());
		assert!(!Assets::<Test>::contains_key(BTC));
		assert_eq!(status(BTC), PriceStatus::Missing);
		assert_noop!(feed(ALICE, vec![(BTC, p(1))]), Error::<Test>::UnknownAsset);
	});
}

#[test]
fn parameters_out_of_bounds_are_rejected() {
	run_test(|| {
		let good = DefaultParams::get();
		let bad: Vec<OracleParams> = vec![
			OracleParams { min_feeders: 0, ..good },
			OracleParams { min_feeders: MAX_FEEDERS + 1, ..good },
			OracleParams { max_age: 0, ..good },
			OracleParams { max_age: crate::MAX_AGE_LIMIT + 1, ..good },
			OracleParams { max_deviation: Perbill::zero(), ..good },
			OracleParams { max_deviation: Perbill::from_percent(51), ..good },
			OracleParams { max_change_per_block: Perbill::zero(), ..good },
			OracleParams { index_smoothing: Perbill::zero(), ..good },
			OracleParams { volatility_decay: Perbill::one(), ..good },
		];
		for params in bad {
			assert_noop!(
				Oracle::set_params(RuntimeOrigin::root(), params),
				Error::<Test>::InvalidParams
			);
		}
		assert_noop!(
			Oracle::set_params(RuntimeOrigin::signed(ALICE), good),
			DispatchError::BadOrigin
		);
		let new = OracleParams { min_feeders: 3, max_age: 1_000, ..good };
		assert_ok!(Oracle::set_params(RuntimeOrigin::root(), new));
		System::assert_has_event(Event::ParamsSet { params: new }.into());
		assert_eq!(Params::<Test>::get(), new);
	});
}

#[test]
fn new_parameters_apply_to_the_price_in_force_at_once() {
	run_test(|| {
		assert_ok!(feed(CHARLIE, vec![(BTC, p(110))]));
		next_block(6_000);
		assert_ok!(feed(ALICE, vec![(BTC, p(104))]));
		assert_ok!(feed(BOB, vec![(BTC, p(106))]));
		assert_eq!(Oracle::price(BTC).price, p(106));
		// Charlie's value is now too old: the price is the median of Alice's and Bob's.
		let shorter = OracleParams { max_age: 5_000, ..DefaultParams::get() };
		assert_ok!(Oracle::set_params(RuntimeOrigin::root(), shorter));
		assert_eq!(Oracle::price(BTC).price, p(104));
		assert_eq!(Oracle::price(BTC).status, PriceStatus::Fresh);
		// A quorum of three cannot be met: the price keeps its value and ages out.
		let larger = OracleParams { min_feeders: 3, ..shorter };
		assert_ok!(Oracle::set_params(RuntimeOrigin::root(), larger));
		assert_eq!(Oracle::price(BTC).price, p(104));
		next_block(6_000);
		assert_eq!(Oracle::price(BTC).status, PriceStatus::Stale);
	});
}

#[test]
fn invariants_catch_a_tampered_aggregate() {
	new_test_ext().execute_with(|| {
		all_feed([100, 100, 100]);
		assert_ok!(Oracle::do_try_state());
		Aggregates::<Test>::mutate(BTC, |a| a.as_mut().unwrap().price = p(7));
		assert!(Oracle::do_try_state().is_err());
	});
}

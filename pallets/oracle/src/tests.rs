//! Tests of the oracle pallet's calls and the prices it provides.

use crate::{mock::*, pallet::*, Error, Event};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use frame_system::RawOrigin;
use perp_primitives::{Price, PriceProvider, PriceStatus};
use sp_runtime::DispatchError;

fn p(n: u32) -> Price {
	Price::from_u32(n)
}

fn values(v: Vec<(u32, Price)>) -> FeedValuesOf<Test> {
	BoundedVec::try_from(v).expect("test feeds fit the bound")
}

fn feed(who: u64, v: Vec<(u32, Price)>) -> sp_runtime::DispatchResult {
	Oracle::feed(RuntimeOrigin::signed(who), values(v))
}

#[test]
fn genesis_sorts_feeders_and_lists_assets() {
	run_test(|| {
		assert_eq!(Feeders::<Test>::get().into_inner(), vec![ALICE, BOB, CHARLIE]);
		assert!(Assets::<Test>::contains_key(BTC));
		assert!(!Assets::<Test>::contains_key(UNLISTED));
		assert_eq!(Oracle::price(BTC).status, PriceStatus::Missing);
	});
}

#[test]
fn aggregate_is_the_median_of_feeder_values() {
	run_test(|| {
		assert_ok!(feed(ALICE, vec![(BTC, p(100)), (ETH, p(10))]));
		System::assert_has_event(
			Event::PriceFed { feeder: ALICE, asset: BTC, price: p(100), aggregate: p(100) }.into(),
		);
		assert_ok!(feed(BOB, vec![(BTC, p(104))]));
		assert_ok!(feed(CHARLIE, vec![(BTC, p(102))]));
		System::assert_last_event(
			Event::PriceFed { feeder: CHARLIE, asset: BTC, price: p(102), aggregate: p(102) }
				.into(),
		);
		let info = Oracle::price(BTC);
		assert_eq!(info.price, p(102));
		assert_eq!(info.status, PriceStatus::Fresh);
		assert_eq!(info.updated_at, Now::get());
		assert_eq!(Oracle::price(ETH).price, p(10));
	});
}

#[test]
fn price_turns_stale_after_max_age() {
	run_test(|| {
		assert_ok!(feed(ALICE, vec![(BTC, p(100))]));
		Now::set(Now::get() + MAX_AGE);
		assert_eq!(Oracle::price(BTC).status, PriceStatus::Fresh);
		Now::set(Now::get() + 1);
		let info = Oracle::price(BTC);
		assert_eq!(info.status, PriceStatus::Stale);
		assert_eq!(info.fresh(), None);
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
		// A bad value anywhere in the list rejects the whole feed.
		assert_noop!(feed(ALICE, vec![(ETH, p(5)), (BTC, p(0))]), Error::<Test>::InvalidPrice);
		assert_noop!(feed(ALICE, vec![(BTC, p(5)), (BTC, p(6))]), Error::<Test>::DuplicateAsset);
		assert_noop!(
			Oracle::feed(RawOrigin::None.into(), values(vec![(BTC, p(1))])),
			DispatchError::BadOrigin
		);
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
fn removing_a_feeder_drops_its_values_and_recomputes_the_median() {
	run_test(|| {
		assert_ok!(feed(ALICE, vec![(BTC, p(100))]));
		assert_ok!(feed(BOB, vec![(BTC, p(300))]));
		assert_ok!(feed(CHARLIE, vec![(BTC, p(200))]));
		assert_eq!(Oracle::price(BTC).price, p(200));
		assert_ok!(Oracle::remove_feeder(RuntimeOrigin::root(), CHARLIE));
		System::assert_last_event(Event::FeederRemoved { who: CHARLIE }.into());
		assert!(RawValues::<Test>::get(BTC, CHARLIE).is_none());
		assert_eq!(Oracle::price(BTC).price, p(100));
		assert_noop!(feed(CHARLIE, vec![(BTC, p(1))]), Error::<Test>::NoPermission);
		assert_ok!(Oracle::remove_feeder(RuntimeOrigin::root(), ALICE));
		assert_ok!(Oracle::remove_feeder(RuntimeOrigin::root(), BOB));
		assert_eq!(Oracle::price(BTC).status, PriceStatus::Missing);
	});
}

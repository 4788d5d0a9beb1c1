//! Governance of markets.

use super::*;
use crate::{pallet::*, Error, Event, MarketParams, Tier};
use frame_support::{assert_noop, traits::ConstU32};
use sp_runtime::{DispatchError, Perbill};

type Params = MarketParams<ConstU32<4>>;

fn with_tiers(tiers: Vec<Tier>) -> Params {
	Params { tiers: tiers.try_into().unwrap(), ..btc_market() }
}

fn tier(up_to: Balance, initial: u32, maintenance: u32) -> Tier {
	Tier {
		up_to,
		initial: Perbill::from_percent(initial),
		maintenance: Perbill::from_percent(maintenance),
	}
}

#[test]
fn governance_creates_and_updates_markets() {
	run_test(|| {
		assert_ok!(Margin::create_market(RuntimeOrigin::root(), btc_market()));
		System::assert_last_event(Event::MarketCreated { market: 1, params: btc_market() }.into());
		assert_eq!(Markets::<Test>::get(1), Some(btc_market()));
		assert_eq!(NextMarketId::<Test>::get(), 2);

		let wider = Params { max_open_interest_long: 5, ..btc_market() };
		assert_ok!(Margin::update_market(RuntimeOrigin::root(), 1, wider.clone()));
		System::assert_last_event(Event::MarketUpdated { market: 1, params: wider.clone() }.into());
		assert_eq!(Markets::<Test>::get(1), Some(wider));
	});
}

#[test]
fn out_of_bounds_market_parameters_change_nothing() {
	run_test(|| {
		let bad: Vec<Params> = vec![
			Params { asset: USD, ..btc_market() },
			Params { unit: 0, ..btc_market() },
			with_tiers(vec![]),
			// Maintenance at or above initial.
			with_tiers(vec![tier(100, 10, 10)]),
			with_tiers(vec![tier(100, 10, 12)]),
			with_tiers(vec![tier(100, 10, 0)]),
			with_tiers(vec![tier(100, 100, 100)]),
			// Brackets not increasing, ratios falling.
			with_tiers(vec![tier(100, 10, 5), tier(100, 20, 10)]),
			with_tiers(vec![tier(100, 10, 5), tier(50, 20, 10)]),
			with_tiers(vec![tier(100, 20, 10), tier(200, 15, 10)]),
			with_tiers(vec![tier(100, 20, 10), tier(200, 25, 8)]),
			// Initial margin below 1 / max leverage (10x needs at least 10%).
			with_tiers(vec![tier(100, 9, 5)]),
			Params { max_leverage: 0, ..btc_market() },
			Params { max_leverage: 1_001, ..btc_market() },
			Params { max_open_interest_long: 0, ..btc_market() },
			Params { max_open_interest_short: 0, ..btc_market() },
			Params { trading_fee: Perbill::from_percent(11), ..btc_market() },
			// A discount beyond the smallest maintenance ratio (5%).
			Params { liquidation_discount: Perbill::from_percent(6), ..btc_market() },
			Params { max_partial_liquidation: Perbill::zero(), ..btc_market() },
		];
		for params in bad {
			assert_noop!(
				Margin::create_market(RuntimeOrigin::root(), params.clone()),
				Error::<Test>::InvalidMarketParams
			);
			assert_noop!(
				Margin::update_market(RuntimeOrigin::root(), BTC_PERP, params),
				Error::<Test>::InvalidMarketParams
			);
		}
		// A market's asset and unit are fixed.
		assert_noop!(
			Margin::update_market(
				RuntimeOrigin::root(),
				BTC_PERP,
				Params { asset: DOT, ..btc_market() }
			),
			Error::<Test>::InvalidMarketParams
		);
		assert_noop!(
			Margin::update_market(
				RuntimeOrigin::root(),
				BTC_PERP,
				Params { unit: 1, ..btc_market() }
			),
			Error::<Test>::InvalidMarketParams
		);
		assert_noop!(
			Margin::update_market(RuntimeOrigin::root(), 7, btc_market()),
			Error::<Test>::UnknownMarket
		);
		assert_noop!(
			Margin::create_market(RuntimeOrigin::signed(ALICE), btc_market()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Margin::update_market(RuntimeOrigin::signed(ALICE), BTC_PERP, btc_market()),
			DispatchError::BadOrigin
		);
		// Four markets at most.
		for _ in 0..3 {
			assert_ok!(Margin::create_market(RuntimeOrigin::root(), btc_market()));
		}
		assert_noop!(
			Margin::create_market(RuntimeOrigin::root(), btc_market()),
			Error::<Test>::TooManyMarkets
		);
	});
}

#[test]
fn minimum_sizes_are_bounded() {
	use crate::CollateralParams;
	run_test(|| {
		let too_large = Params { min_notional: usd(100_001), ..btc_market() };
		assert_noop!(
			Margin::update_market(RuntimeOrigin::root(), BTC_PERP, too_large),
			Error::<Test>::InvalidMarketParams
		);
		let largest = Params { min_notional: usd(100_000), ..btc_market() };
		assert_ok!(Margin::update_market(RuntimeOrigin::root(), BTC_PERP, largest));
		let dot = CollateralParams { min_amount: 1_001 * DOT_UNIT, ..DOT_COLLATERAL };
		assert_noop!(
			Margin::set_collateral(RuntimeOrigin::root(), DOT, Some(dot)),
			Error::<Test>::InvalidCollateralParams
		);
	});
}

//! Opening, changing and closing positions; health as prices move.

use super::*;
use crate::{pallet::*, Error, Event, Interest, Position};
use frame_support::assert_noop;
use perp_primitives::{HealthState, PriceStatus};
use sp_runtime::ArithmeticError;

const ONE_BTC: i128 = BTC_UNIT as i128;

#[test]
fn a_long_opens_at_the_oracle_price_and_closes_with_its_pnl() {
	run_test(|| {
		// The vault pays profits out of what it holds.
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(10_000)));
		deposit(ALICE, USD, usd(10_000));
		assert_ok!(trade(ALICE, ONE_BTC));
		// 50,000 notional: 50 USD fee.
		System::assert_last_event(
			Event::Traded {
				who: ALICE,
				market: BTC_PERP,
				delta: ONE_BTC,
				size: ONE_BTC,
				price: p(50_000),
				fee: usd(50),
				realized: 0,
			}
			.into(),
		);
		assert_eq!(
			Margin::position(&ALICE, BTC_PERP),
			Some(Position { market: BTC_PERP, size: ONE_BTC, cost: usd(50_000) as i128 })
		);
		assert_eq!(cash(ALICE), usd(9_950) as i128);
		assert_eq!(OpenInterest::<Test>::get(BTC_PERP), Interest { long: BTC_UNIT, short: 0 });

		set_price(BTC, p(55_000));
		assert_ok!(Margin::close(RuntimeOrigin::signed(ALICE), BTC_PERP));
		System::assert_last_event(
			Event::Traded {
				who: ALICE,
				market: BTC_PERP,
				delta: -ONE_BTC,
				size: 0,
				price: p(55_000),
				fee: usd(55),
				realized: usd(5_000) as i128,
			}
			.into(),
		);
		assert_eq!(Margin::position(&ALICE, BTC_PERP), None);
		assert_eq!(cash(ALICE), usd(9_950 + 5_000 - 55) as i128);
		assert_eq!(Vault::<Test>::get(), usd(5_000) as i128);
		assert_eq!(Fees::<Test>::get(), usd(105));
		assert_eq!(OpenInterest::<Test>::get(BTC_PERP), Interest { long: 0, short: 0 });
		// The profit can be withdrawn in full.
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, usd(14_895)));
	});
}

#[test]
fn a_short_gains_when_the_price_falls_and_partial_closes_realize_pro_rata() {
	run_test(|| {
		deposit(BOB, USD, usd(20_000));
		assert_ok!(trade(BOB, -2 * ONE_BTC));
		assert_eq!(OpenInterest::<Test>::get(BTC_PERP), Interest { long: 0, short: 2 * BTC_UNIT });
		set_price(BTC, p(40_000));
		// Buy back half: 10,000 of the 20,000 gain is realized.
		assert_ok!(trade(BOB, ONE_BTC));
		let pos = Margin::position(&BOB, BTC_PERP).unwrap();
		assert_eq!(pos.size, -ONE_BTC);
		assert_eq!(pos.cost, -(usd(50_000) as i128));
		let fees = usd(100) + usd(40);
		assert_eq!(cash(BOB), (usd(20_000 + 10_000) - fees) as i128);
		assert_eq!(OpenInterest::<Test>::get(BTC_PERP), Interest { long: 0, short: BTC_UNIT });
	});
}

#[test]
fn a_trade_through_zero_flips_the_position() {
	run_test(|| {
		deposit(ALICE, USD, usd(50_000));
		assert_ok!(trade(ALICE, ONE_BTC));
		set_price(BTC, p(51_000));
		assert_ok!(trade(ALICE, -3 * ONE_BTC));
		// One unit closed at a 1,000 gain, two opened short at 51,000.
		let pos = Margin::position(&ALICE, BTC_PERP).unwrap();
		assert_eq!(
			pos,
			Position { market: BTC_PERP, size: -2 * ONE_BTC, cost: -(usd(102_000) as i128) }
		);
		assert_eq!(OpenInterest::<Test>::get(BTC_PERP), Interest { long: 0, short: 2 * BTC_UNIT });
		let fees = usd(50) + usd(153);
		assert_eq!(cash(ALICE), (usd(50_000 + 1_000) - fees) as i128);
	});
}

#[test]
fn adding_risk_needs_margin_fresh_prices_and_room_under_the_caps() {
	run_test(|| {
		deposit(ALICE, USD, usd(10_000));
		// 10x equity is the leverage limit: 2 BTC (100,000) on ~10,000 is past it.
		assert_noop!(trade(ALICE, 2 * ONE_BTC), Error::<Test>::LeverageTooHigh);
		for status in [PriceStatus::Stale, PriceStatus::Frozen, PriceStatus::Missing] {
			set_price_status(BTC, p(50_000), status);
			assert_noop!(trade(ALICE, ONE_BTC / 10), Error::<Test>::PriceNotFresh);
		}
		set_price(BTC, p(50_000));
		// A stale collateral price blocks adding risk too.
		deposit(ALICE, DOT, DOT_UNIT);
		set_price_status(DOT, p(5), PriceStatus::Stale);
		assert_noop!(trade(ALICE, ONE_BTC / 10), Error::<Test>::PriceNotFresh);
		set_price(DOT, p(5));

		// The open-interest cap: 100 BTC a side.
		mint(USD, BOB, usd(10_000_000));
		deposit(BOB, USD, usd(10_000_000));
		assert_ok!(trade(BOB, 100 * ONE_BTC));
		assert_noop!(trade(ALICE, 1), Error::<Test>::OpenInterestCapExceeded);
		assert_ok!(trade(ALICE, -ONE_BTC / 10));
	});
}

#[test]
fn larger_positions_need_more_margin_per_dollar() {
	run_test(|| {
		mint(USD, ALICE, usd(1_000_000));
		deposit(ALICE, USD, usd(250_000));
		// 40 BTC = 2,000,000 notional: 10% of the first 1M + 20% of the next = 300,000 initial,
		// within 10x leverage of 250,000 but beyond its margin.
		assert_noop!(trade(ALICE, 40 * ONE_BTC), Error::<Test>::InsufficientMargin);
		deposit(ALICE, USD, usd(60_000));
		assert_ok!(trade(ALICE, 40 * ONE_BTC));
	});
}

#[test]
fn reducing_is_always_possible_with_a_fresh_price() {
	run_test(|| {
		deposit(ALICE, USD, usd(5_100));
		assert_ok!(trade(ALICE, ONE_BTC));
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Healthy));
		set_price(BTC, p(47_000));
		// Equity 5,050 - 3,000 = 2,050, below the 2,350 maintenance.
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Liquidatable));
		assert_noop!(trade(ALICE, 1), Error::<Test>::LeverageTooHigh);
		assert_ok!(trade(ALICE, -ONE_BTC / 2));
		set_price_status(BTC, p(47_000), PriceStatus::Stale);
		assert_noop!(trade(ALICE, -1), Error::<Test>::PriceNotFresh);
		assert_eq!(Margin::health(&ALICE), None, "no verdict on a stale price");
	});
}

#[test]
fn health_moves_through_every_state_as_the_price_falls() {
	run_test(|| {
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		// Equity 10,000 at 50,000; initial 5,000, maintenance 2,500 (both scale with price).
		let state_at = |price: u32| {
			set_price(BTC, p(price));
			Margin::health(&ALICE).unwrap()
		};
		assert_eq!(state_at(50_000), HealthState::Healthy);
		// At 45,000: equity 5,000 >= initial 4,500.
		assert_eq!(state_at(45_000), HealthState::Healthy);
		// At 44,000: equity 4,000 < 4,400 initial, >= 2,200 maintenance.
		assert_eq!(state_at(44_000), HealthState::Restricted);
		// At 42,000: equity 2,000 < 2,100 maintenance.
		assert_eq!(state_at(42_000), HealthState::Liquidatable);
		// At 39,000: equity -1,000.
		assert_eq!(state_at(39_000), HealthState::Bankrupt);
	});
}

#[test]
fn an_account_holds_at_most_max_positions() {
	run_test(|| {
		deposit(ALICE, USD, usd(100_000));
		for _ in 0..3 {
			assert_ok!(Margin::create_market(RuntimeOrigin::root(), btc_market()));
		}
		for market in 0..3 {
			assert_ok!(Margin::trade(RuntimeOrigin::signed(ALICE), market, ONE_BTC / 10));
		}
		assert_noop!(
			Margin::trade(RuntimeOrigin::signed(ALICE), 3, ONE_BTC / 10),
			Error::<Test>::TooManyPositions
		);
		// Closing one makes room.
		assert_ok!(Margin::close(RuntimeOrigin::signed(ALICE), 1));
		assert_ok!(Margin::trade(RuntimeOrigin::signed(ALICE), 3, ONE_BTC / 10));
	});
}

#[test]
fn bad_trades_change_nothing() {
	run_test(|| {
		deposit(ALICE, USD, usd(10_000));
		assert_noop!(trade(ALICE, 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Margin::trade(RuntimeOrigin::signed(ALICE), 9, 1),
			Error::<Test>::UnknownMarket
		);
		assert_noop!(
			Margin::close(RuntimeOrigin::signed(ALICE), BTC_PERP),
			Error::<Test>::NoPosition
		);
		assert_noop!(trade(ALICE, i128::MIN), ArithmeticError::Overflow);
		assert_noop!(trade(ALICE, i128::MAX), Error::<Test>::OpenInterestCapExceeded);
		assert_noop!(trade(CHARLIE, 1), Error::<Test>::LeverageTooHigh);
	});
}

#[test]
fn the_vault_can_be_funded_and_pays_profits() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(1_000)));
		System::assert_last_event(Event::VaultFunded { who: CHARLIE, amount: usd(1_000) }.into());
		assert_eq!(Vault::<Test>::get(), usd(1_000) as i128);
		assert_noop!(
			Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), 0),
			Error::<Test>::ZeroAmount
		);
	});
}

#[test]
fn no_trade_leaves_a_dust_position_and_no_transfer_a_dust_holding() {
	run_test(|| {
		// BTC-PERP at 50,000: no position under 100 USD (0.002 BTC); DOT: no holding under 1 DOT.
		Markets::<Test>::mutate(BTC_PERP, |m| m.as_mut().unwrap().min_notional = usd(100));
		CollateralAssets::<Test>::mutate(DOT, |c| c.as_mut().unwrap().min_amount = DOT_UNIT);
		deposit(ALICE, USD, usd(10_000));
		let dust = ONE_BTC / 1_000;
		assert_noop!(trade(ALICE, 1), Error::<Test>::PositionTooSmall);
		assert_noop!(trade(ALICE, -dust), Error::<Test>::PositionTooSmall);
		assert_ok!(trade(ALICE, ONE_BTC));
		// Reducing to dust is refused; to zero, or to at least the minimum, it is not.
		assert_noop!(trade(ALICE, -(ONE_BTC - dust)), Error::<Test>::PositionTooSmall);
		assert_ok!(trade(ALICE, -(ONE_BTC - 2 * dust)));
		assert_ok!(trade(ALICE, -2 * dust));
		assert!(Accounts::<Test>::get(ALICE).unwrap().positions.is_empty());

		mint(DOT, ALICE, 10 * DOT_UNIT);
		assert_noop!(
			Margin::deposit(RuntimeOrigin::signed(ALICE), DOT, DOT_UNIT / 10),
			Error::<Test>::CollateralTooSmall
		);
		deposit(ALICE, DOT, 2 * DOT_UNIT);
		// Topping up by less than the minimum is fine: the holding stays above it.
		deposit(ALICE, DOT, DOT_UNIT / 10);
		let withdraw = |amount| Margin::withdraw(RuntimeOrigin::signed(ALICE), DOT, amount);
		assert_noop!(withdraw(2 * DOT_UNIT), Error::<Test>::CollateralTooSmall);
		assert_ok!(withdraw(DOT_UNIT));
		assert_ok!(withdraw(DOT_UNIT + DOT_UNIT / 10));
		assert_eq!(held(ALICE, DOT), None);
	});
}

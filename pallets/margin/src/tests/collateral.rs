//! Deposits, withdrawals and collateral listing.

use super::*;
use crate::{pallet::*, CollateralParams, Error, Event};
use frame_support::{assert_noop, traits::fungibles::Inspect};
use perp_primitives::{HealthState, PriceStatus};
use sp_runtime::{ArithmeticError, DispatchError, Perbill, TokenError};

#[test]
fn deposits_of_every_collateral_kind_are_recorded_exactly() {
	run_test(|| {
		assert_eq!(Margin::health(&ALICE), None);
		deposit(ALICE, USD, usd(600));
		System::assert_last_event(
			Event::Deposited { who: ALICE, asset: USD, amount: usd(600) }.into(),
		);
		deposit(ALICE, USD, usd(400));
		deposit(ALICE, DOT, 3 * DOT_UNIT);
		deposit(ALICE, NATIVE, 7 * NATIVE_UNIT);
		deposit(BOB, DOT, DOT_UNIT);
		assert_eq!(cash(ALICE), usd(1_000) as i128);
		assert_eq!(held(ALICE, DOT), Some(3 * DOT_UNIT));
		assert_eq!(held(ALICE, NATIVE), Some(7 * NATIVE_UNIT));
		assert_eq!(TotalCollateral::<Test>::get(DOT), 4 * DOT_UNIT);
		assert_eq!(AllAssets::balance(DOT, &ALICE), (INITIAL - 3) * DOT_UNIT);
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Healthy));
	});
}

#[test]
fn an_emptying_deposit_credits_exactly_what_custody_received() {
	run_test(|| {
		// Leaving less than the minimum balance empties the account: the dust goes along into
		// custody and is credited (`pallet-assets` would destroy it), and the credit is what the
		// custody account received.
		let all = AllAssets::balance(DOT, &ALICE);
		let supply = AllAssets::total_issuance(DOT);
		let custody_before = AllAssets::balance(DOT, &Margin::custody_account());
		deposit(ALICE, DOT, all - 1);
		let received = AllAssets::balance(DOT, &Margin::custody_account()) - custody_before;
		assert_eq!(held(ALICE, DOT), Some(received));
		assert_eq!(received, all, "the dust was lost");
		assert_eq!(AllAssets::total_issuance(DOT), supply);
		System::assert_last_event(
			Event::Deposited { who: ALICE, asset: DOT, amount: received }.into(),
		);
		assert_eq!(AllAssets::balance(DOT, &ALICE), 0);
	});
}

#[test]
fn withdrawals_return_funds_and_clear_empty_entries() {
	run_test(|| {
		deposit(ALICE, USD, usd(1_000));
		deposit(ALICE, DOT, 2 * DOT_UNIT);
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, usd(300)));
		System::assert_last_event(
			Event::Withdrawn { who: ALICE, asset: USD, amount: usd(300) }.into(),
		);
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, usd(700)));
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), DOT, 2 * DOT_UNIT));
		assert_eq!(Accounts::<Test>::get(ALICE), None);
		assert_eq!(held(ALICE, DOT), None);
		assert_eq!(TotalCollateral::<Test>::get(DOT), 0);
		assert_eq!(AllAssets::balance(USD, &ALICE), INITIAL * USD_UNIT);
		assert_eq!(AllAssets::balance(DOT, &ALICE), INITIAL * DOT_UNIT);
		assert_eq!(Margin::health(&ALICE), None);
	});
}

#[test]
fn the_last_depositor_can_always_leave_in_full() {
	run_test(|| {
		// The custody's reserve, not the depositors, keeps the custody account alive.
		deposit(ALICE, NATIVE, NATIVE_ED);
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), NATIVE, NATIVE_ED));
		deposit(ALICE, USD, MIN_BALANCE);
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, MIN_BALANCE));
	});
}

#[test]
fn bad_deposits_change_nothing() {
	run_test(|| {
		let alice = RuntimeOrigin::signed(ALICE);
		assert_noop!(Margin::deposit(alice.clone(), USD, 0), Error::<Test>::ZeroAmount);
		assert_noop!(Margin::deposit(alice.clone(), OTHER, 100), Error::<Test>::UnknownAsset);
		assert_noop!(Margin::deposit(alice.clone(), BTC, 100), Error::<Test>::UnknownAsset);
		assert_noop!(
			Margin::deposit(alice.clone(), USD, INITIAL * USD_UNIT + 1),
			TokenError::FundsUnavailable
		);
		assert_noop!(Margin::deposit(RuntimeOrigin::none(), USD, 100), DispatchError::BadOrigin);
	});
}

#[test]
fn an_overflowing_deposit_is_refused() {
	run_test(|| {
		deposit(ALICE, DOT, 1_000);
		TotalCollateral::<Test>::insert(DOT, Balance::MAX - 10);
		assert_noop!(
			Margin::deposit(RuntimeOrigin::signed(ALICE), DOT, 100),
			ArithmeticError::Overflow
		);
		TotalCollateral::<Test>::insert(DOT, 1_000);
	});
}

#[test]
fn bad_withdrawals_change_nothing() {
	run_test(|| {
		deposit(ALICE, USD, 1_000);
		deposit(ALICE, DOT, 1_000);
		let alice = RuntimeOrigin::signed(ALICE);
		assert_noop!(Margin::withdraw(alice.clone(), USD, 0), Error::<Test>::ZeroAmount);
		assert_noop!(Margin::withdraw(alice.clone(), OTHER, 1), Error::<Test>::UnknownAsset);
		assert_noop!(
			Margin::withdraw(alice.clone(), USD, 1_001),
			Error::<Test>::InsufficientCollateral
		);
		assert_noop!(
			Margin::withdraw(alice.clone(), USD, u128::MAX),
			Error::<Test>::InsufficientCollateral
		);
		assert_noop!(
			Margin::withdraw(alice.clone(), DOT, 1_001),
			Error::<Test>::InsufficientCollateral
		);
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(BOB), USD, 1),
			Error::<Test>::InsufficientCollateral
		);
	});
}

#[test]
fn withdrawals_cannot_leave_an_account_below_initial_margin() {
	run_test(|| {
		// 10,000 USD + 1,000 DOT (5,000 USD, counted at 80%: 4,000).
		deposit(ALICE, USD, usd(10_000));
		deposit(ALICE, DOT, 1_000 * DOT_UNIT);
		// 2 BTC long at 50,000: 100,000 notional, initial margin 10,000.
		assert_ok!(trade(ALICE, 2 * BTC_UNIT as i128));
		let fee = usd(100); // 0.1% of 100,000
		let free = usd(14_000) - fee - usd(10_000);
		// The free margin can go, not a unit more.
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, free + 1),
			Error::<Test>::InsufficientMargin
		);
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, free));
		// Now no DOT may leave either.
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(ALICE), DOT, DOT_UNIT),
			Error::<Test>::InsufficientMargin
		);
		// Nor anything on a stale price.
		set_price_status(DOT, p(5), PriceStatus::Stale);
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, 1),
			Error::<Test>::PriceNotFresh
		);
	});
}

#[test]
fn governance_lists_updates_and_delists_collateral() {
	run_test(|| {
		let params =
			CollateralParams { unit: BTC_UNIT, weight: Perbill::from_percent(90), min_amount: 0 };
		// The custody must hold the minimum balance first.
		assert_noop!(
			Margin::set_collateral(RuntimeOrigin::root(), BTC, Some(params)),
			Error::<Test>::CustodyNotSeeded
		);
		mint(BTC, Margin::custody_account(), MIN_BALANCE);
		assert_ok!(Margin::set_collateral(RuntimeOrigin::root(), BTC, Some(params)));
		System::assert_last_event(Event::CollateralSet { asset: BTC, params: Some(params) }.into());
		assert_eq!(CustodyReserve::<Test>::get(BTC), MIN_BALANCE);
		deposit(ALICE, BTC, BTC_UNIT);
		assert_noop!(
			Margin::set_collateral(RuntimeOrigin::root(), BTC, None),
			Error::<Test>::CollateralInUse
		);
		// Held balances are counted in the asset's unit: it cannot change under them (a unit
		// a thousand times smaller would make Alice's BTC worth a thousand times more). The
		// weight may.
		let smaller_unit = CollateralParams { unit: BTC_UNIT / 1_000, ..params };
		assert_noop!(
			Margin::set_collateral(RuntimeOrigin::root(), BTC, Some(smaller_unit)),
			Error::<Test>::CollateralInUse
		);
		let lighter = CollateralParams { weight: Perbill::from_percent(60), ..params };
		assert_ok!(Margin::set_collateral(RuntimeOrigin::root(), BTC, Some(lighter)));
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), BTC, BTC_UNIT));
		assert_ok!(Margin::set_collateral(RuntimeOrigin::root(), BTC, None));
		assert_eq!(CollateralAssets::<Test>::get(BTC), None);
	});
}

#[test]
fn bad_collateral_listings_change_nothing() {
	run_test(|| {
		let root = RuntimeOrigin::root();
		let good = CollateralParams { unit: 1, weight: Perbill::from_percent(50), min_amount: 0 };
		assert_noop!(
			Margin::set_collateral(RuntimeOrigin::signed(ALICE), OTHER, Some(good)),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Margin::set_collateral(root.clone(), USD, Some(good)),
			Error::<Test>::InvalidCollateralParams
		);
		for bad in [
			CollateralParams { unit: 0, ..good },
			CollateralParams { weight: Perbill::zero(), ..good },
			CollateralParams { min_amount: 1_001, ..good },
		] {
			assert_noop!(
				Margin::set_collateral(root.clone(), OTHER, Some(bad)),
				Error::<Test>::InvalidCollateralParams
			);
		}
		assert_noop!(
			Margin::set_collateral(root.clone(), 777, Some(good)),
			Error::<Test>::UnknownAsset
		);
		assert_noop!(
			Margin::set_collateral(root.clone(), OTHER, None),
			Error::<Test>::UnknownAsset
		);
		// Two listed (DOT, native) of three: one more fits, then the bound holds.
		mint(OTHER, Margin::custody_account(), MIN_BALANCE);
		mint(BTC, Margin::custody_account(), MIN_BALANCE);
		assert_ok!(Margin::set_collateral(root.clone(), OTHER, Some(good)));
		assert_noop!(
			Margin::set_collateral(root.clone(), BTC, Some(good)),
			Error::<Test>::TooManyCollateralAssets
		);
		assert_ok!(Margin::set_collateral(root, OTHER, None));
	});
}

#[test]
fn invariants_catch_unrecorded_losses() {
	new_test_ext().execute_with(|| {
		deposit(ALICE, DOT, 1_000);
		deposit(ALICE, USD, 1_000);
		assert_ok!(Margin::do_try_state());
		TotalCollateral::<Test>::insert(DOT, 999);
		assert!(Margin::do_try_state().is_err(), "total below the entries");
		TotalCollateral::<Test>::insert(DOT, 1_001);
		force_holding(BOB, DOT, 1);
		assert!(Margin::do_try_state().is_err(), "custody holds less than recorded");
		force_holding(BOB, DOT, 0);
		TotalCollateral::<Test>::insert(DOT, 1_000);
		assert_ok!(Margin::do_try_state());
		Vault::<Test>::put(1);
		assert!(Margin::do_try_state().is_err(), "USD owed beyond custody");
	});
}

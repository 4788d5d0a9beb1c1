//! Tests of the margin pallet's collateral calls and the health it reports.

use crate::{mock::*, pallet::*, Error, Event};
use frame_support::{assert_noop, assert_ok};
use perp_primitives::{Balance, HealthState, MarginInspector};
use sp_runtime::{ArithmeticError, DispatchError, TokenError};

fn usd(who: u64) -> Balance {
	Assets::balance(USD, who)
}

#[test]
fn deposit_moves_funds_into_custody_and_records_them() {
	run_test(|| {
		assert_eq!(Margin::health(&ALICE), None);
		assert_ok!(Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 600));
		System::assert_last_event(Event::Deposited { who: ALICE, asset: USD, amount: 600 }.into());
		assert_ok!(Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 400));
		assert_ok!(Margin::deposit(RuntimeOrigin::signed(BOB), USD, 50));
		assert_eq!(usd(ALICE), INITIAL_USD - 1_000);
		assert_eq!(usd(Margin::custody_account()), 1_050);
		assert_eq!(Collateral::<Test>::get(ALICE, USD), Some(1_000));
		assert_eq!(TotalCollateral::<Test>::get(USD), 1_050);
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Healthy));
	});
}

#[test]
fn withdraw_returns_funds_and_clears_empty_entries() {
	run_test(|| {
		assert_ok!(Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 1_000));
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, 300));
		System::assert_last_event(Event::Withdrawn { who: ALICE, asset: USD, amount: 300 }.into());
		assert_eq!(Collateral::<Test>::get(ALICE, USD), Some(700));
		assert_ok!(Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, 700));
		assert_eq!(Collateral::<Test>::get(ALICE, USD), None);
		assert_eq!(TotalCollateral::<Test>::get(USD), 0);
		assert_eq!(usd(ALICE), INITIAL_USD);
		assert_eq!(Margin::health(&ALICE), None);
	});
}

#[test]
fn bad_deposits_change_nothing() {
	run_test(|| {
		assert_noop!(
			Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Margin::deposit(RuntimeOrigin::signed(ALICE), OTHER, 100),
			Error::<Test>::UnknownAsset
		);
		assert_noop!(
			Margin::deposit(RuntimeOrigin::signed(ALICE), USD, INITIAL_USD + 1),
			TokenError::FundsUnavailable
		);
		// The custody account cannot be opened with less than the asset's minimum balance.
		assert_noop!(
			Margin::deposit(RuntimeOrigin::signed(ALICE), USD, MIN_BALANCE - 1),
			TokenError::BelowMinimum
		);
		assert_noop!(Margin::deposit(RuntimeOrigin::none(), USD, 100), DispatchError::BadOrigin);
	});
}

#[test]
fn overflowing_deposit_is_refused() {
	run_test(|| {
		assert_ok!(Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 1_000));
		TotalCollateral::<Test>::insert(USD, Balance::MAX - 10);
		Collateral::<Test>::insert(BOB, USD, Balance::MAX - 1_010);
		assert_noop!(
			Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 100),
			ArithmeticError::Overflow
		);
		// Put the books back so the invariants hold at the end of the scenario.
		TotalCollateral::<Test>::insert(USD, 1_000);
		Collateral::<Test>::remove(BOB, USD);
	});
}

#[test]
fn bad_withdrawals_change_nothing() {
	run_test(|| {
		assert_ok!(Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 1_000));
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(ALICE), OTHER, 1),
			Error::<Test>::UnknownAsset
		);
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(ALICE), USD, 1_001),
			Error::<Test>::InsufficientCollateral
		);
		assert_noop!(
			Margin::withdraw(RuntimeOrigin::signed(BOB), USD, 1),
			Error::<Test>::InsufficientCollateral
		);
	});
}

#[test]
fn invariants_catch_unrecorded_losses() {
	new_test_ext().execute_with(|| {
		assert_ok!(Margin::deposit(RuntimeOrigin::signed(ALICE), USD, 1_000));
		assert_ok!(Margin::do_try_state());
		TotalCollateral::<Test>::insert(USD, 999);
		assert!(Margin::do_try_state().is_err());
		TotalCollateral::<Test>::insert(USD, 1_001);
		Collateral::<Test>::insert(BOB, USD, 1);
		assert!(Margin::do_try_state().is_err(), "custody holds less than recorded");
	});
}

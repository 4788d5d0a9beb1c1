//! Tests of the circuit breaker and the liquidation gate.

use crate::{mock::*, BreakerLevel, Error, Event, Pallet};
use frame_support::{assert_noop, assert_ok};
use perp_primitives::HealthState;
use sp_runtime::DispatchError;

#[test]
fn breaker_is_set_by_the_emergency_origin_only() {
	new_test_ext().execute_with(|| {
		assert_eq!(crate::Breaker::<Test>::get(), BreakerLevel::Running);
		assert_noop!(
			Liquidation::set_breaker(RuntimeOrigin::signed(1), BreakerLevel::Halted),
			DispatchError::BadOrigin
		);
		assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), BreakerLevel::NoAuctions));
		System::assert_last_event(
			Event::BreakerSet { from: BreakerLevel::Running, to: BreakerLevel::NoAuctions }.into(),
		);
		assert_noop!(
			Liquidation::set_breaker(RuntimeOrigin::root(), BreakerLevel::NoAuctions),
			Error::<Test>::BreakerUnchanged
		);
	});
}

#[test]
fn only_liquidatable_accounts_pass_the_gate_and_only_while_running() {
	new_test_ext().execute_with(|| {
		Health::mutate(|h| {
			h.insert(1, HealthState::Healthy);
			h.insert(2, HealthState::Restricted);
			h.insert(3, HealthState::Liquidatable);
			h.insert(4, HealthState::Bankrupt);
		});
		let gate = || (1..=5).map(|who| Pallet::<Test>::may_liquidate(&who)).collect::<Vec<_>>();
		assert_eq!(gate(), vec![false, false, true, true, false]);
		assert_eq!(Asked::get(), vec![1, 2, 3, 4, 5]);
		for level in
			[BreakerLevel::NoNewLiquidations, BreakerLevel::NoAuctions, BreakerLevel::Halted]
		{
			assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), level));
			assert_eq!(gate(), vec![false; 5], "{level:?} must stop new liquidations");
		}
	});
}

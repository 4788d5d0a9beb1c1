//! The breaker, the gate for new liquidations and the pool's checks of a batch.

use super::*;

#[test]
fn breaker_is_set_by_the_emergency_origin_only() {
	run_test(|| {
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
	run_test(|| {
		book(1, 200, 100, 50, &[]);
		book(2, 80, 100, 50, &[]);
		book(3, 40, 100, 50, &[]);
		book(4, -5, 100, 50, &[]);
		book(5, 40, 100, 50, &[]);
		// No position left: liquidatable for the debt (8), unless there is none (7) or an
		// auction of its collateral is already raising it (9).
		book(7, -5, 0, 0, &[]);
		book(8, -5, 0, 0, &[]);
		set_cash(8, -5);
		book(9, -5, 0, 0, &[]);
		set_cash(9, -5);
		AuctionCounts::mutate(|counts| counts.insert(9, 1));
		Unpriced::set(vec![5]);
		let states: Vec<_> = (1..=4).map(|who| MarginDouble::health(&who).unwrap()).collect();
		assert_eq!(
			states,
			vec![
				HealthState::Healthy,
				HealthState::Restricted,
				HealthState::Liquidatable,
				HealthState::Bankrupt
			]
		);
		let gate = || (1..=9).map(|who| Pallet::<Test>::may_liquidate(&who)).collect::<Vec<_>>();
		// No verdict on a stale price (5), no account (6).
		assert_eq!(gate(), vec![false, false, true, true, false, false, false, true, false]);
		for level in
			[BreakerLevel::NoNewLiquidations, BreakerLevel::NoAuctions, BreakerLevel::Halted]
		{
			assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), level));
			assert_eq!(gate(), vec![false; 9], "{level:?} must stop new liquidations");
		}
		AuctionCounts::take();
	});
}

#[test]
fn bad_batches_change_nothing() {
	run_test(|| {
		book(1, 40, 100, 50, &[(0, 100, 30)]);
		assert_noop!(liquidate(&[]), Error::<Test>::EmptyBatch);
		assert_noop!(liquidate(&[1, 1]), Error::<Test>::DuplicateAccount);
		assert_noop!(
			Liquidation::liquidate(RuntimeOrigin::signed(1), batch(&[1])),
			DispatchError::BadOrigin
		);
		assert_ok!(Liquidation::set_breaker(
			RuntimeOrigin::root(),
			BreakerLevel::NoNewLiquidations
		));
		assert_noop!(liquidate(&[1]), Error::<Test>::BreakerActive);
		assert!(Reduced::get().is_empty());
	});
}

#[test]
fn the_pool_takes_only_batches_of_liquidatable_accounts_and_dedupes_them_per_account() {
	run_test(|| {
		book(1, 40, 100, 50, &[(0, 100, 30)]);
		book(2, 40, 100, 50, &[(0, 100, 30)]);
		book(3, 200, 100, 50, &[(0, 100, 30)]);
		let validate = |accounts: &[u64]| {
			Liquidation::validate_unsigned(
				TransactionSource::External,
				&Call::liquidate { accounts: batch(accounts) },
			)
		};
		let valid = validate(&[1, 2]).unwrap();
		assert_eq!(valid.priority, PRIORITY);
		assert_eq!(valid.longevity, 3);
		assert_eq!(valid.provides.len(), 2);
		// Another validator's batch naming account 2 clashes on its tag.
		let other = validate(&[2]).unwrap();
		assert!(valid.provides.contains(&other.provides[0]));

		assert_eq!(validate(&[1, 3]), Err(InvalidTransaction::Stale.into()));
		assert_eq!(validate(&[4]), Err(InvalidTransaction::Stale.into()));
		assert_eq!(validate(&[]), Err(InvalidTransaction::Custom(0).into()));
		assert_eq!(validate(&[1, 1]), Err(InvalidTransaction::Custom(0).into()));
		let set = Call::<Test>::set_breaker { level: BreakerLevel::Halted };
		assert_eq!(
			Liquidation::validate_unsigned(TransactionSource::External, &set),
			Err(InvalidTransaction::Call.into())
		);
		// Once liquidated, a replay is stale.
		assert_ok!(liquidate(&[1, 2]));
		book(1, 200, 100, 50, &[]);
		book(2, 200, 100, 50, &[]);
		assert_eq!(validate(&[1, 2]), Err(InvalidTransaction::Stale.into()));
		// With the breaker engaged nothing is valid.
		book(1, 40, 100, 50, &[(0, 100, 30)]);
		assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), BreakerLevel::Halted));
		assert_eq!(validate(&[1]), Err(InvalidTransaction::Stale.into()));
	});
}

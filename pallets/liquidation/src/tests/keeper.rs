//! Signed liquidations by keepers and their reward.

use super::*;

#[test]
fn a_keeper_liquidates_like_the_workers_and_earns_its_share_of_the_penalty() {
	run_test(|| {
		book(1, 400, 1_000, 500, &[(0, 10_000, 300)]);
		book(2, 2_000, 1_000, 500, &[(0, 10_000, 300)]);
		assert_noop!(
			Liquidation::liquidate_account(RuntimeOrigin::signed(KEEPER), 2),
			Error::<Test>::NotLiquidatable
		);
		let before = totals();
		let info = Liquidation::liquidate_account(RuntimeOrigin::signed(KEEPER), 1).unwrap();
		assert_eq!(info.pays_fee, Pays::No);
		// 25% of 10,000 closed, 1% penalty = 25 to the fund, 20% of it to the keeper.
		assert_eq!(Reduced::get().len(), 1);
		System::assert_last_event(
			Event::KeeperRewarded { keeper: KEEPER, who: 1, reward: 5 }.into(),
		);
		assert_eq!((cash(fund()), cash(KEEPER), cash(1)), (20, 5, -25));
		assert_eq!(totals(), before);
		assert_noop!(
			Liquidation::liquidate_account(RuntimeOrigin::none(), 1),
			DispatchError::BadOrigin
		);
		// With the market's cap for the block reached, the call does nothing and pays.
		NotionalCap::set(0);
		let info = Liquidation::liquidate_account(RuntimeOrigin::signed(KEEPER), 1).unwrap();
		assert_eq!(info.pays_fee, Pays::Yes);
		assert_eq!(Reduced::get().len(), 1);
		assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), BreakerLevel::Halted));
		assert_noop!(
			Liquidation::liquidate_account(RuntimeOrigin::signed(KEEPER), 1),
			Error::<Test>::BreakerActive
		);
	});
}

#[test]
fn a_keeper_earns_nothing_from_a_penalty_the_bankrupt_account_could_not_pay() {
	run_test(|| {
		// Below zero equity: every position closes, and its 1% penalty (100) only deepens the
		// debt the fund will bear.
		book(1, -100, 1_000, 500, &[(0, 10_000, 300)]);
		// 50 of equity, all cash, pays half of its 100 of penalty.
		book(2, 50, 1_000, 500, &[(0, 10_000, 300)]);
		set_cash(2, 50);
		assert_ok!(Liquidation::liquidate_account(RuntimeOrigin::signed(KEEPER), 1));
		assert_eq!(Reduced::get().len(), 1);
		assert_eq!(cash(KEEPER), 0);
		assert!(!System::events()
			.iter()
			.any(|r| matches!(r.event, RuntimeEvent::Liquidation(Event::KeeperRewarded { .. }))));
		assert_ok!(Liquidation::liquidate_account(RuntimeOrigin::signed(KEEPER), 2));
		// 20% of the 50 collected; the fund covered the other 50 of debt.
		System::assert_has_event(
			Event::KeeperRewarded { keeper: KEEPER, who: 2, reward: 10 }.into(),
		);
		assert_eq!((cash(KEEPER), cash(fund()), cash(2)), (10, 40, 0));
	});
}

//! Auto-deleveraging: the profit order, recovery at entry, and what an author cannot choose.

use super::*;

/// Positions for auto-deleveraging, all at price 100 with 100 whole units: 30 long from 80, 31 short
/// from 120, 32 long from 90, 33 long from 105 (at a loss). Their PnL%: 30: 2,000/8,000 = 25%;
/// 31: 2,000/12,000 ≈ 16.7%; 32: 1,000/9,000 ≈ 11.1%; 33 is not ranked.
fn profitable_book() {
	for (who, size, equity, pnl, cost) in [
		(30, 100, 2_000, 2_000, 8_000),
		(31, -100, 1_000, 2_000, 12_000),
		(32, 100, 500, 1_000, 9_000),
		(33, 100, 5_000, -500i128, 10_500),
	] {
		book_in(1, who, usd(equity) as i128, usd(10), usd(5), &[(0, size, usd(5))]);
		set_pnl(who, 0, pnl * USD_UNIT as i128, usd(cost));
	}
}

/// A bankrupt account with `debt` USD and nothing else, liquidated with the fund empty: the
/// vault absorbs the debt.
fn socialize(debt: u128) {
	book(20, -1, 0, 0, &[]);
	set_cash(20, -(usd(debt) as i128));
	assert_ok!(liquidate(&[20]));
}

/// The accounts deleveraged, in the order of their events.
fn deleveraged() -> Vec<u64> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Liquidation(Event::Deleveraged { who, .. }) => Some(who),
			_ => None,
		})
		.collect()
}

#[test]
fn the_vaults_loss_beyond_the_threshold_is_recovered_from_the_best_ranked_profits_at_entry() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		profitable_book();
		// Within the 50 USD threshold nothing is deleveraged.
		socialize(40);
		assert_eq!(crate::SocializedLoss::<Test>::get(), usd(40));
		assert_eq!(Liquidation::adl_excess(), 0);
		assert_eq!(Liquidation::offchain_deleverage(1), 0);
		assert_noop!(
			Liquidation::deleverage(RuntimeOrigin::none(), 1),
			Error::<Test>::NothingToDeleverage
		);
		// 1,510 USD more: 1,500 beyond the threshold.
		at_block(2);
		socialize(1_510);
		assert_eq!(Liquidation::adl_excess(), usd(1_500));

		let ranking: Vec<_> = Liquidation::adl_ranking(10).iter().map(|t| t.who).collect();
		assert_eq!(ranking, vec![30, 31, 32]);
		assert_eq!(Liquidation::adl_ranking(10)[0].score, FixedU128::from_rational(1, 4));
		// The worker asks for as many positions as their profits need to cover the excess:
		// 30's 2,000 alone.
		assert_eq!(Liquidation::offchain_liquidate(2), 0);
		let raw = pool_state.write().transactions.pop().expect("submitted");
		let xt = Extrinsic::decode(&mut &raw[..]).unwrap();
		assert!(xt.is_bare());
		let RuntimeCall::Liquidation(call) = xt.function else { panic!("not liquidation") };
		assert_eq!(call, Call::deleverage { max: 1 });
		let valid = Liquidation::validate_unsigned(TransactionSource::Local, &call).unwrap();
		assert_eq!((valid.priority, valid.longevity, valid.propagate), (PRIORITY, 3, false));
		assert_ok!(Liquidation::validate_unsigned(TransactionSource::InBlock, &call));
		// Only a validator's own worker, or a block, may bring one: not an outside submitter.
		assert_eq!(
			Liquidation::validate_unsigned(TransactionSource::External, &call),
			Err(InvalidTransaction::BadSigner.into())
		);

		let before = totals();
		assert_ok!(call.clone().dispatch_bypass_filter(RuntimeOrigin::none()));
		// 30 closes three quarters of its position at its entry 80, giving up 1,500 of its
		// 2,000.
		System::assert_last_event(
			Event::Deleveraged {
				who: 30,
				market: 0,
				closed: 75,
				price: Price::from_u32(80),
				recovered: usd(1_500),
			}
			.into(),
		);
		assert_eq!(deleveraged(), vec![30]);
		assert_eq!(crate::SocializedLoss::<Test>::get(), usd(50));
		assert_eq!(Books::get()[&30].positions[0].size, 25);
		// No fee, no penalty: no USD moves.
		assert_eq!(totals(), before);
		assert!(Reduced::get().iter().all(|r| r.4 == Perbill::zero()));
		// Recovered: a replay is stale and refused.
		assert_eq!(
			Liquidation::validate_unsigned(TransactionSource::Local, &call),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			Liquidation::deleverage(RuntimeOrigin::none(), 1),
			Error::<Test>::NothingToDeleverage
		);
	});
}

#[test]
fn an_author_cannot_spare_a_better_ranked_position() {
	run_test(|| {
		profitable_book();
		// More than every profit: all three are closed, best first, whatever `max` asks, and
		// the one at a loss is not.
		socialize(6_050);
		for max in 1..=2 {
			assert_ok!(Liquidation::deleverage(RuntimeOrigin::none(), max));
		}
		assert_eq!(deleveraged(), vec![30, 31, 32]);
		assert_eq!(Books::get()[&33].positions[0].size, 100);
		assert_eq!(crate::SocializedLoss::<Test>::get(), usd(1_050));
		// Nothing in profit is left: the pool refuses another.
		assert_eq!(
			Liquidation::validate_unsigned(TransactionSource::Local, &Call::deleverage { max: 3 }),
			Err(InvalidTransaction::Stale.into())
		);
	});
}

#[test]
fn a_deleverage_passes_over_accounts_it_may_not_take_and_looks_at_max_positions() {
	run_test(|| {
		profitable_book();
		socialize(1_550);
		let validate = |max: u32| {
			Liquidation::validate_unsigned(TransactionSource::Local, &Call::deleverage { max })
		};
		let stale = Err(InvalidTransaction::Stale.into());
		assert_ok!(validate(1));
		// None, or more than `MaxBatch` (3 here).
		assert_eq!(validate(0), stale);
		assert_eq!(validate(4), stale);
		assert_noop!(Liquidation::deleverage(RuntimeOrigin::none(), 0), Error::<Test>::EmptyBatch);
		assert_noop!(
			Liquidation::deleverage(RuntimeOrigin::none(), 4),
			Error::<Test>::BatchTooLarge
		);
		// 30's account falls to zero equity (a loss elsewhere): its position, still first by
		// entry, may not be deleveraged; the pool wants a `max` that reaches past it.
		Books::mutate(|b| b.get_mut(&30).unwrap().margins.equity = 0);
		assert_eq!(validate(1), stale);
		assert_ok!(validate(2));
		// A `max` of 1 only passes over it.
		let info = Liquidation::deleverage(RuntimeOrigin::none(), 1).unwrap();
		System::assert_last_event(Event::DeleverageSkipped { who: 30, market: 0 }.into());
		assert_eq!(crate::SocializedLoss::<Test>::get(), usd(1_550));
		use crate::WeightInfo;
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::deleverage(1)));
		// 31's valuation now shows a loss (its price moved): passed over too. 32 gives up its
		// whole 1,000; the excess left, 500, waits for the next call; the positions not
		// reached are refunded.
		set_pnl(31, 0, -(usd(10) as i128), usd(12_000));
		let info = Liquidation::deleverage(RuntimeOrigin::none(), 3).unwrap();
		System::assert_has_event(Event::DeleverageSkipped { who: 31, market: 0 }.into());
		System::assert_last_event(
			Event::Deleveraged {
				who: 32,
				market: 0,
				closed: 100,
				price: Price::from_u32(90),
				recovered: usd(1_000),
			}
			.into(),
		);
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::deleverage(3)));
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(crate::SocializedLoss::<Test>::get(), usd(550));
		// The breaker stops deleveraging too.
		Books::mutate(|b| b.get_mut(&30).unwrap().margins.equity = usd(2_000) as i128);
		assert_ok!(validate(1));
		assert_ok!(Liquidation::set_breaker(
			RuntimeOrigin::root(),
			BreakerLevel::NoNewLiquidations
		));
		assert_eq!(validate(1), stale);
		assert_noop!(
			Liquidation::deleverage(RuntimeOrigin::none(), 1),
			Error::<Test>::BreakerActive
		);
	});
}

#[test]
fn stale_entries_ahead_of_the_positions_cost_the_walk_steps_never_its_order() {
	run_test(|| {
		profitable_book();
		// Entries liquidations left behind: a long from 70 (would rank first, 42.9%), a short
		// from 130 (23.1%, between 30 and 31), a long from 110 (at a loss, never reached).
		StaleEntries::set(vec![
			(0, true, Price::from_u32(70), 40),
			(0, false, Price::from_u32(130), 41),
			(0, true, Price::from_u32(110), 42),
		]);
		socialize(1_550);
		// The runtime API's view skips them; the worker's step count includes the one ahead.
		let ranking: Vec<_> = Liquidation::adl_ranking(10).iter().map(|t| t.who).collect();
		assert_eq!(ranking, vec![30, 31, 32]);
		assert_eq!(Liquidation::adl_ranking(1), vec![]);
		assert_eq!(Liquidation::adl_steps(), 2);
		// A walk that meets only a stale entry is still progress: the pool takes it.
		assert_ok!(Liquidation::validate_unsigned(
			TransactionSource::Local,
			&Call::deleverage { max: 1 }
		));
		let info = Liquidation::deleverage(RuntimeOrigin::none(), 1).unwrap();
		System::assert_last_event(Event::StaleRankPruned { who: 40, market: 0 }.into());
		assert_eq!(crate::SocializedLoss::<Test>::get(), usd(1_550));
		use crate::WeightInfo;
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::deleverage(1)));
		// Then the positions, in their order: 30 gives up 1,500 and the walk stops there.
		assert_eq!(Liquidation::adl_steps(), 1);
		assert_ok!(Liquidation::deleverage(RuntimeOrigin::none(), 2));
		assert_eq!(deleveraged(), vec![30]);
		assert_eq!(crate::SocializedLoss::<Test>::get(), usd(50));
		assert_eq!(
			StaleEntries::get(),
			vec![(0, false, Price::from_u32(130), 41), (0, true, Price::from_u32(110), 42)]
		);
	});
}

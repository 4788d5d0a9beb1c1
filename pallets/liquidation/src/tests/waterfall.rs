//! Stage (a): partial and full closes, skips, refunds, failures and the per-block caps.

use super::*;
use crate::sizing;
use perp_primitives::MarginReader;

#[test]
fn partial_steps_close_the_largest_maintenance_first_at_the_discounted_price() {
	run_test(|| {
		// Equity 40 of maintenance 50: liquidatable, but above half of it, so partial.
		book(1, 40, 100, 50, &[(1, -200, 20), (0, 100, 30)]);
		assert_ok!(liquidate(&[1]));
		let penalty = Perbill::from_percent(1);
		assert_eq!(
			Reduced::get(),
			vec![
				// 25% of the long at 100 less 2%, then 25% of the short at 100 plus 2%.
				(1, 0, 25, Price::from_u32(98), penalty, fund()),
				(1, 1, 50, Price::from_u32(102), penalty, fund()),
			]
		);
		// One event for the account, with both closes (the double charges the penalty on the
		// units, rounded up, and realizes nothing).
		let closes = vec![close(0, 25, 98, 1), close(1, -50, 102, 1)];
		System::assert_last_event(
			Event::Liquidated { who: 1, full: false, closes, equity: 38, maintenance: 38 }.into(),
		);
		// Two steps, one re-index of the account's risk bands, at the end.
		assert_eq!(Reindexed::get(), vec![1]);
	});
}

#[test]
fn partial_liquidation_stops_once_equity_is_back_above_initial_margin_plus_the_buffer() {
	run_test(|| {
		book(1, 46, 50, 48, &[(0, 100, 40), (1, 100, 8)]);
		assert_ok!(liquidate(&[1]));
		// The plan after the first step: initial 50 − 25% of 41 = 40, target 40 + 10% = 44,
		// equity 46 − 2 (the 2% discount on 25 closed and the 1% penalty, each rounded up) = 44.
		// (The double charges the penalty only: 45.)
		assert_eq!(Reduced::get().len(), 1);
		let closes = vec![close(0, 25, 98, 1)];
		System::assert_last_event(
			Event::Liquidated { who: 1, full: false, closes, equity: 45, maintenance: 38 }.into(),
		);
	});
}

#[test]
fn deep_or_bankrupt_accounts_are_closed_in_full() {
	run_test(|| {
		// Equity 20 < half of maintenance 50.
		book(1, 20, 100, 50, &[(0, 100, 30), (1, -200, 20)]);
		book(2, -10, 100, 50, &[(0, 40, 50)]);
		assert_ok!(liquidate(&[1, 2]));
		let closed: Vec<_> = Reduced::get().iter().map(|r| (r.0, r.1, r.2)).collect();
		assert_eq!(closed, vec![(1, 0, 100), (1, 1, 200), (2, 0, 40)]);
		assert!(Books::get().values().all(|b| b.positions.is_empty()));
	});
}

#[test]
fn an_account_whose_equity_does_not_cover_the_cost_of_closing_is_closed_in_full() {
	run_test(|| {
		// Equity 40 of maintenance 50 is above half of it, but closing 1,500 of notional
		// costs 3% (2% discount, 1% penalty), 45: a partial step would lower equity against
		// maintenance instead of restoring it.
		book(1, 40, 100, 50, &[(0, 1_000, 30), (1, -500, 20)]);
		// With 1,300 of notional, 39: partial.
		book(2, 40, 100, 50, &[(0, 800, 30), (1, -500, 20)]);
		assert_ok!(liquidate(&[1, 2]));
		let closed: Vec<_> = Reduced::get().iter().map(|r| (r.0, r.1, r.2)).collect();
		assert_eq!(closed, vec![(1, 0, 1_000), (1, 1, 500), (2, 0, 200), (2, 1, 125)]);
		let closes = vec![close(0, 1_000, 98, 10), close(1, -500, 102, 5)];
		System::assert_has_event(
			Event::Liquidated { who: 1, full: true, closes, equity: 25, maintenance: 0 }.into(),
		);
	});
}

#[test]
fn recovered_accounts_are_skipped_and_their_weight_refunded() {
	run_test(|| {
		book(1, 40, 100, 50, &[(0, 100, 30)]);
		book(2, 200, 100, 50, &[(0, 100, 30)]);
		let info = liquidate(&[1, 2]).unwrap();
		System::assert_has_event(Event::Skipped { who: 2 }.into());
		assert_eq!(Reduced::get().len(), 1);
		assert_eq!(info.pays_fee, Pays::No);
		let full = Call::<Test>::liquidate { accounts: batch(&[1, 2]) }.get_dispatch_info();
		let actual = info.actual_weight.unwrap();
		assert!(
			actual.all_lte(full.call_weight) && actual.ref_time() < full.call_weight.ref_time()
		);
	});
}

#[test]
fn an_account_with_fewer_positions_than_the_most_returns_the_weight_it_did_not_use() {
	run_test(|| {
		use crate::WeightInfo;
		// Both below half their maintenance margin: closed in full, one and two positions.
		book(1, 20, 100, 50, &[(0, 100, 50)]);
		book(2, 20, 100, 50, &[(0, 100, 25), (1, 100, 25)]);
		let info = liquidate(&[1, 2]).unwrap();
		assert_eq!(Reduced::get().len(), 3);
		let unused = Pallet::<Test>::lighter_by(1).saturating_add(Pallet::<Test>::lighter_by(2));
		let declared = <() as WeightInfo>::liquidate(2);
		assert_eq!(info.actual_weight, Some(declared.saturating_sub(unused)));
		assert!(info.actual_weight.unwrap().ref_time() < declared.ref_time());
		// One position less is worth less than two; the most an account may hold, nothing.
		assert!(
			Pallet::<Test>::lighter_by(2).ref_time() < Pallet::<Test>::lighter_by(1).ref_time()
		);
		assert_eq!(Pallet::<Test>::lighter_by(8), frame_support::weights::Weight::zero());
		assert_eq!(Pallet::<Test>::lighter_by(0), Pallet::<Test>::lighter_by(1));
	});
}

#[test]
fn a_failing_account_is_reported_and_does_not_stop_the_batch() {
	run_test(|| {
		book(1, 40, 100, 50, &[(0, 100, 30)]);
		book(2, 40, 100, 50, &[(0, 100, 30)]);
		Failing::set(vec![1]);
		assert_ok!(liquidate(&[1, 2]));
		System::assert_has_event(
			Event::LiquidationFailed { who: 1, error: DispatchError::Unavailable }.into(),
		);
		assert_eq!(Reduced::get().iter().map(|r| r.0).collect::<Vec<_>>(), vec![2]);
	});
}

#[test]
fn a_markets_notional_cap_per_block_defers_the_rest_to_the_next_block() {
	run_test(|| {
		NotionalCap::set(30);
		// Both below half their maintenance margin: 100 units each to close at 98.
		book(1, 20, 100, 50, &[(0, 100, 30)]);
		book(2, 20, 100, 50, &[(0, 100, 30)]);
		assert_ok!(liquidate(&[1, 2]));
		// The cap of 30 buys 30 units at 0.98 each (29.4, counted as 30); nothing is left.
		let closed = || Reduced::get().iter().map(|r| (r.0, r.2)).collect::<Vec<_>>();
		assert_eq!(closed(), vec![(1, 30)]);
		System::assert_has_event(Event::Deferred { who: 2, market: 0 }.into());
		assert_eq!(
			crate::LiquidatedNotional::<Test>::get(0),
			crate::BlockTally { block: 1, amount: 30 }
		);
		// Nothing is dropped: both stay liquidatable and go on in the next block.
		assert!(Pallet::<Test>::may_liquidate(&1) && Pallet::<Test>::may_liquidate(&2));
		at_block(2);
		assert_ok!(liquidate(&[2, 1]));
		assert_eq!(closed(), vec![(1, 30), (2, 30)]);
		System::assert_has_event(Event::Deferred { who: 1, market: 0 }.into());
	});
}

#[test]
fn a_partial_liquidation_closes_what_restores_the_initial_margin_plus_the_buffer_at_once() {
	run_test(|| {
		CloseFactor::set(Perbill::one());
		// 1,000,000 units of 1/1,000 at 100 USD: 100,000 USD of notional. Equity 4,800 USD
		// against 5,000 of maintenance and 10,000 of initial margin.
		let usd = |n: i128| n * USD_UNIT as i128;
		book_in(
			1_000,
			1,
			usd(4_800),
			10_000 * USD_UNIT,
			5_000 * USD_UNIT,
			&[(0, 1_000_000, 5_000 * USD_UNIT)],
		);
		let before = MarginDouble::risk(&1, &mut ()).unwrap();
		assert_ok!(liquidate(&[1]));
		// The target, 11,000, less 4,800, over what closing it all gains (11,000 freed less
		// 2,000 of discount and 980 of penalty): 6,200 / 8,020 of the position, rounded up
		// with the six units of rounding slack.
		let closed = Reduced::get();
		assert_eq!(closed.len(), 1);
		assert_eq!(closed[0].2, 773_068);
		// By the plan it restores the account, and a unit less does not (this far from
		// the slack, one unit of size is 8,020 smallest USD units of gain).
		let terms = Pallet::<Test>::terms();
		let position = &before.positions[0];
		let price = sizing::liquidation_price(position.price, position.discount, true);
		let after = |x| sizing::after_step(&before.margins, position, x, price, &terms);
		assert!(sizing::is_restored(&after(773_068), &terms));
		assert!(!sizing::is_restored(&after(773_067), &terms));
	});
}

#[test]
fn a_liquidation_under_way_goes_on_above_maintenance_and_others_are_left_alone() {
	run_test(|| {
		// Both above maintenance (52 of 50); only the first is in a liquidation under way.
		book(1, 52, 100, 50, &[(0, 100, 50)]);
		book(2, 52, 100, 50, &[(0, 100, 50)]);
		InLiquidation::set(vec![1]);
		assert!(Pallet::<Test>::may_liquidate(&1) && !Pallet::<Test>::may_liquidate(&2));
		assert_ok!(liquidate(&[1, 2]));
		System::assert_has_event(Event::Skipped { who: 2 }.into());
		// A partial close of the first (its close factor's 25%), none of the second.
		let closed: Vec<_> = Reduced::get().iter().map(|r| (r.0, r.2)).collect();
		assert_eq!(closed, vec![(1, 25)]);
	});
}

//! Tests of the circuit breaker, the unsigned liquidation, its validation and the offchain
//! worker.

use crate::{mock::*, types::ClosedPosition, AccountsOf, BreakerLevel, Call, Error, Event, Pallet};
use codec::Decode;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{GetDispatchInfo, Pays},
	pallet_prelude::{InvalidTransaction, TransactionSource, ValidateUnsigned},
	traits::UnfilteredDispatchable,
};
use perp_primitives::{HealthState, Price, PriceStatus};
use sp_core::offchain::{
	testing::TestTransactionPoolExt, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::{
	traits::{ExtrinsicLike, Saturating},
	DispatchError, FixedU128, Perbill,
};

fn batch(accounts: &[u64]) -> AccountsOf<Test> {
	AccountsOf::<Test>::try_from(accounts.to_vec()).expect("within MaxBatch")
}

fn liquidate(
	accounts: &[u64],
) -> sp_runtime::DispatchResultWithInfo<frame_support::dispatch::PostDispatchInfo> {
	Liquidation::liquidate(RuntimeOrigin::none(), batch(accounts))
}

fn fund() -> u64 {
	Pallet::<Test>::insurance_fund()
}

/// A close as a `Liquidated` event tells it, in the double (which realizes nothing).
fn close(
	market: perp_primitives::MarketId,
	closed: i128,
	price: u32,
	penalty: u128,
) -> ClosedPosition {
	ClosedPosition { market, closed, price: Price::from_u32(price), realized: 0, penalty }
}

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
		crate::OpenAuctions::<Test>::insert(9, 1);
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
		crate::OpenAuctions::<Test>::remove(9);
	});
}

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

/// The accounts of the `liquidate` batches in the pool, in order; empties the pool.
fn drain_submitted(
	pool_state: &std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
) -> Vec<u64> {
	pool_state
		.write()
		.transactions
		.drain(..)
		.flat_map(|raw| match Extrinsic::decode(&mut &raw[..]).unwrap().function {
			RuntimeCall::Liquidation(Call::liquidate { accounts }) => accounts.to_vec(),
			other => panic!("unexpected call {other:?}"),
		})
		.collect()
}

/// A test externality with offchain storage and a transaction pool, and the pool's state.
fn offchain_ext() -> (
	sp_io::TestExternalities,
	std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
) {
	let mut ext = new_test_ext();
	let (offchain, _state) = sp_core::offchain::testing::TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	(ext, pool_state)
}

#[test]
fn the_offchain_worker_submits_the_liquidatable_candidates_in_batches() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		for who in [1, 3, 5, 6, 7] {
			book(who, 40, 100, 50, &[(0, 100, 30)]);
		}
		book(2, 200, 100, 50, &[(0, 100, 30)]);
		book(4, 40, 100, 50, &[(0, 100, 30)]);
		Unpriced::set(vec![4]);
		Candidates::set(vec![1, 2, 3, 4, 5, 6, 7]);

		assert_eq!(Liquidation::offchain_liquidate(1), 5);
		let submitted: Vec<Extrinsic> = pool_state
			.write()
			.transactions
			.drain(..)
			.map(|raw| Extrinsic::decode(&mut &raw[..]).unwrap())
			.collect();
		let batches: Vec<Vec<u64>> = submitted
			.iter()
			.map(|xt| match &xt.function {
				RuntimeCall::Liquidation(Call::liquidate { accounts }) => accounts.to_vec(),
				other => panic!("unexpected call {other:?}"),
			})
			.collect();
		// The healthy (2) and unpriced (4) candidates are left out; batches of MaxBatch = 3.
		assert_eq!(batches, vec![vec![1, 3, 5], vec![6, 7]]);
		for xt in submitted {
			assert!(xt.is_bare());
			let RuntimeCall::Liquidation(call) = xt.function else { unreachable!() };
			assert_ok!(Liquidation::validate_unsigned(TransactionSource::Local, &call));
			assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::none()));
		}
		assert!([1, 3, 5, 6, 7].iter().all(|who| Reduced::get().iter().any(|r| r.0 == *who)));

		// With the breaker engaged the worker does nothing.
		assert_ok!(Liquidation::set_breaker(
			RuntimeOrigin::root(),
			BreakerLevel::NoNewLiquidations
		));
		assert_eq!(Liquidation::offchain_liquidate(2), 0);
		assert!(pool_state.read().transactions.is_empty());
		assert_ok!(Liquidation::do_try_state());
	});
}

#[test]
fn the_worker_covers_a_long_candidate_list_over_several_runs_from_a_cursor() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		let accounts: Vec<u64> = (100..130).collect();
		for who in &accounts {
			book(*who, 40, 100, 50, &[(0, 100, 30)]);
		}
		Candidates::set(accounts.clone());
		let submitted = || drain_submitted(&pool_state);
		// MaxBatch 3 × 4 batches: 12 a run.
		assert_eq!(Liquidation::offchain_liquidate(1), 12);
		assert_eq!(submitted(), accounts[..12].to_vec());
		// Their batches ran and took them out of the list: the next run goes on with the 12
		// after them, not 12 further.
		Candidates::set(accounts[12..].to_vec());
		assert_eq!(Liquidation::offchain_liquidate(2), 12);
		assert_eq!(submitted(), accounts[12..24].to_vec());
		// These batches still wait in the pool: the next run skips their accounts.
		assert_eq!(Liquidation::offchain_liquidate(3), 6);
		assert_eq!(submitted(), accounts[24..].to_vec());
		// It reached the end: once the batches of the second run have run, the next run
		// starts over; the accounts of the third are still waiting and are skipped.
		Candidates::set(accounts[24..].to_vec());
		assert_eq!(Liquidation::offchain_liquidate(4), 0);
		// A run that submitted nothing skips nobody: batches that never ran are sent again.
		assert_eq!(Liquidation::offchain_liquidate(5), 6);
		assert_eq!(submitted(), accounts[24..].to_vec());
		assert_ok!(Liquidation::do_try_state());
	});
}

#[test]
fn the_worker_submits_the_largest_shortfalls_first_and_its_cursor_misses_no_one() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		// Twelve candidates a run (MaxBatch 3 × 4 batches): 100..112 in list order, their
		// shortfalls below maintenance (50) rising with the account: 10 to 21.
		let accounts: Vec<u64> = (100..115).collect();
		for (i, who) in accounts.iter().enumerate() {
			book(*who, 40 - i as i128, 100, 50, &[(0, 100, 30)]);
		}
		Candidates::set(accounts.clone());
		// Room for two batches only (the first one's refund admits the second): the six
		// largest shortfalls of the window go first.
		let (declared, light) = Liquidation::batch_weights([1, 1, 1].into_iter());
		ReservedShare::set(Some(declared.saturating_add(light)));
		assert_eq!(Liquidation::offchain_liquidate(1), 6);
		assert_eq!(drain_submitted(&pool_state), vec![111, 110, 109, 108, 107, 106]);
		// They ran: the next run starts from the first account of the window it left, so
		// none of 100..106 is skipped.
		Candidates::set(accounts[..6].iter().chain(&accounts[12..]).copied().collect());
		assert_eq!(Liquidation::offchain_liquidate(2), 6);
		assert_eq!(drain_submitted(&pool_state), vec![114, 113, 112, 105, 104, 103]);
		assert_ok!(Liquidation::do_try_state());
	});
}

#[test]
fn a_run_that_finds_no_liquidatable_account_moves_its_window_on() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		// 12 candidates whose band was crossed but who are healthy, then 5 liquidatable.
		let healthy: Vec<u64> = (100..112).collect();
		let liquidatable: Vec<u64> = (200..205).collect();
		for who in &healthy {
			book(*who, 200, 100, 50, &[(0, 100, 30)]);
		}
		for who in &liquidatable {
			book(*who, 40, 100, 50, &[(0, 100, 30)]);
		}
		Candidates::set([healthy.clone(), liquidatable.clone()].concat());
		// The first run looks at 12 candidates and finds none; the next looks further.
		assert_eq!(Liquidation::offchain_liquidate(1), 0);
		assert_eq!(Liquidation::offchain_liquidate(2), 5);
		assert_eq!(drain_submitted(&pool_state), liquidatable);
		// Their batches wait: a run skips them, looks at the 12 healthy ones again and submits
		// nothing; its cursor is past them.
		assert_eq!(Liquidation::offchain_liquidate(3), 0);
		// The list shrinks below the cursor: the run starts over instead of finding nothing.
		Candidates::set(healthy[..5].to_vec());
		for who in &healthy[..5] {
			book(*who, 40, 100, 50, &[(0, 100, 30)]);
		}
		assert_eq!(Liquidation::offchain_liquidate(4), 5);
		assert_eq!(drain_submitted(&pool_state), healthy[..5].to_vec());
		assert_ok!(Liquidation::do_try_state());
	});
}

const OWNER: u64 = 10;
const TAKER: u64 = 11;
const KEEPER: u64 = 12;

/// `n` whole USD.
fn usd(n: u128) -> u128 {
	n * USD_UNIT
}

/// `n` hundredths of a DOT.
fn centi_dot(n: u128) -> u128 {
	n * DOT_UNIT / 100
}

/// OWNER: no position left, `debt` USD of debt and `dot` whole DOT at 5 USD; the fund holds
/// 1,000 USD and TAKER 10,000.
fn indebted(debt: u128, dot: u128) {
	book(OWNER, -10, 0, 0, &[]);
	set_cash(OWNER, -(usd(debt) as i128));
	set_holding(OWNER, DOT, dot * DOT_UNIT);
	set_price(DOT, Price::from_u32(5), PriceStatus::Fresh);
	set_cash(fund(), usd(1_000) as i128);
	set_cash(TAKER, usd(10_000) as i128);
}

fn take(amount: u128, max_price: Price) -> sp_runtime::DispatchResult {
	take_weighed(amount, max_price).map(|_| ())
}

/// A take, with the weight it reports.
fn take_weighed(
	amount: u128,
	max_price: Price,
) -> Result<frame_support::weights::Weight, DispatchError> {
	let info = Liquidation::take(RuntimeOrigin::signed(TAKER), 0, amount, max_price)
		.map_err(|e| e.error)?;
	Ok(info.actual_weight.expect("a take reports its weight"))
}

fn at_block(n: u64) {
	System::set_block_number(n);
}

#[test]
fn a_run_submits_more_batches_when_its_accounts_hold_fewer_positions() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		// Room for a worst-case batch and what a batch of one-position accounts is charged.
		let (declared, light) = Liquidation::batch_weights([1, 1, 1].into_iter());
		assert!(light.ref_time() < declared.ref_time());
		ReservedShare::set(Some(declared.saturating_add(light)));
		let light_accounts: Vec<u64> = (1..=9).collect();
		for who in &light_accounts {
			book(*who, 20, 100, 50, &[(0, 100, 50)]);
		}
		let eight: Vec<_> = (0..8).map(|market| (market, 100, 5)).collect();
		let heavy_accounts: Vec<u64> = (11..=16).collect();
		for who in &heavy_accounts {
			book(*who, 20, 100, 50, &eight);
		}
		let submitted = || drain_submitted(&pool_state);
		// One-position accounts: the refund of the first batch admits a second, not a third.
		Candidates::set(light_accounts.clone());
		assert_eq!(Liquidation::offchain_liquidate(1), 6);
		assert_eq!(submitted(), light_accounts[..6].to_vec());
		// The next run goes on after the last account submitted.
		assert_eq!(Liquidation::offchain_liquidate(2), 3);
		assert_eq!(submitted(), light_accounts[6..].to_vec());
		// Worst-case accounts: one batch.
		Candidates::set(heavy_accounts.clone());
		assert_eq!(Liquidation::offchain_liquidate(3), 3);
		assert_eq!(submitted(), heavy_accounts[..3].to_vec());
		assert_ok!(Liquidation::do_try_state());
	});
}

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

#[test]
fn dust_collateral_is_folded_into_the_settlement_instead_of_auctioned() {
	run_test(|| {
		// 1,000 USD of debt, and one DOT (5 USD, below the 10 USD minimum lot) to cover it.
		indebted(1_000, 1);
		let before = totals();
		assert_ok!(liquidate(&[OWNER]));
		// No auction nobody would take: the fund takes the DOT at the floor (2.50 USD), and
		// the rest of the debt is a shortfall at once.
		assert_eq!(crate::Auctions::<Test>::count(), 0);
		assert_eq!((holding(OWNER, DOT), holding(fund(), DOT)), (0, DOT_UNIT));
		let paid = usd(5) / 2;
		System::assert_has_event(
			Event::CollateralFolded { who: OWNER, asset: DOT, amount: DOT_UNIT, paid }.into(),
		);
		System::assert_has_event(
			Event::ShortfallSettled {
				who: OWNER,
				insurance: INSURANCE_CAP,
				socialized: usd(1_000) - paid - INSURANCE_CAP,
			}
			.into(),
		);
		assert_eq!(cash(OWNER), 0);
		assert_eq!(totals(), before);
	});
}

#[test]
fn a_debt_below_the_minimum_lot_is_bought_out_by_the_fund_at_the_floor() {
	run_test(|| {
		// 5 USD of debt (below the 10 USD minimum lot) against 1,000 DOT.
		indebted(5, 1_000);
		let before = totals();
		assert_ok!(liquidate(&[OWNER]));
		// The fund pays the debt and takes what covers it at the floor (2.50 USD): 2 DOT.
		assert_eq!(crate::Auctions::<Test>::count(), 0);
		assert_eq!((holding(OWNER, DOT), holding(fund(), DOT)), (998 * DOT_UNIT, 2 * DOT_UNIT));
		assert_eq!((cash(OWNER), cash(fund())), (0, (usd(1_000) - usd(5)) as i128));
		assert_eq!(totals(), before);
		assert!(!Pallet::<Test>::may_liquidate(&OWNER));
	});
}

#[test]
fn one_liquidation_starts_at_most_max_auctions_per_liquidation_auctions() {
	run_test(|| {
		// 1,000 USD of debt against 20 DOT and 20 each of assets 5 and 6 (100 USD each).
		indebted(1_000, 20);
		for asset in [5, 6] {
			set_holding(OWNER, asset, 20 * DOT_UNIT);
			set_price(asset, Price::from_u32(5), PriceStatus::Fresh);
		}
		let before = totals();
		assert_ok!(liquidate(&[OWNER]));
		// Two auctions (the mock's bound); asset 6 waits for them to end.
		assert_eq!(crate::Auctions::<Test>::count(), 2);
		assert_eq!(holding(OWNER, 6), 20 * DOT_UNIT);
		assert_eq!(totals(), before);
	});
}

#[test]
fn debt_left_without_positions_sends_the_collateral_that_covers_it_to_auction() {
	run_test(|| {
		indebted(1_000, 1_000);
		let before = totals();
		assert!(Pallet::<Test>::may_liquidate(&OWNER));
		assert_ok!(liquidate(&[OWNER]));
		// Enough to raise 1,000 USD at the floor (half of 5): 400 DOT; the rest stays.
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		let top = Price::from_rational(55, 10);
		assert_eq!(
			(auction.owner, auction.lot, auction.tab, auction.top, auction.floor),
			(OWNER, 400 * DOT_UNIT, usd(1_000), top, Price::from_rational(25, 10))
		);
		System::assert_has_event(
			Event::AuctionStarted {
				id: 0,
				who: OWNER,
				asset: DOT,
				lot: 400 * DOT_UNIT,
				tab: usd(1_000),
				top,
			}
			.into(),
		);
		let views = Pallet::<Test>::auction_views();
		assert_eq!(views.len(), 1);
		assert_eq!((views[0].id, views[0].price, views[0].needs_restart), (0, top, false));
		assert_eq!(holding(OWNER, DOT), 600 * DOT_UNIT);
		assert_eq!(holding(Pallet::<Test>::auction_account(), DOT), 400 * DOT_UNIT);
		// The debt is being raised: no second liquidation, no shortfall paid yet.
		assert!(!Pallet::<Test>::may_liquidate(&OWNER));
		assert_eq!(cash(OWNER), -(usd(1_000) as i128));
		assert_eq!(totals(), before);
	});
}

#[test]
fn the_auction_price_decays_every_block_and_takes_repay_the_debt_and_return_the_surplus() {
	run_test(|| {
		indebted(1_000, 1_000);
		assert_ok!(liquidate(&[OWNER]));
		let before = totals();
		let top = Price::from_rational(55, 10);
		assert_noop!(take(100 * DOT_UNIT, Price::from_u32(5)), Error::<Test>::PriceAboveLimit);
		// 100 DOT at 5.50: 550 USD to the owner's debt. The auction goes on: the take is
		// refunded the debt stage its declared weight allows for.
		assert_eq!(take_weighed(100 * DOT_UNIT, top), Ok(Pallet::<Test>::take_weight(false)));
		let declared = Call::<Test>::take { id: 0, max_amount: 1, max_price: top };
		assert_eq!(declared.get_dispatch_info().call_weight, Pallet::<Test>::take_weight(true));
		assert!(Pallet::<Test>::take_weight(false).all_lt(Pallet::<Test>::take_weight(true)));
		System::assert_last_event(
			Event::AuctionTaken {
				id: 0,
				taker: TAKER,
				amount: 100 * DOT_UNIT,
				price: top,
				paid: usd(550),
			}
			.into(),
		);
		assert_eq!(cash(OWNER), -(usd(450) as i128));
		assert_eq!(holding(TAKER, DOT), 100 * DOT_UNIT);
		// 80.90 DOT would pay 444.95 and leave 5.05 USD, under the 10 USD dust.
		assert_noop!(take(centi_dot(8_090), top), Error::<Test>::LeavesDust);

		// Ten blocks later: 5.50 × 0.99^10.
		at_block(11);
		let price = Pallet::<Test>::auction_price(&crate::Auctions::<Test>::get(0).unwrap(), 11);
		let expected = top.saturating_mul(Price::from_rational(99, 100).saturating_pow(10));
		assert_eq!(price, expected);
		assert!(price < top && price > Price::from_rational(497, 100));
		// Asking for all 300 DOT left: the 450 USD tab caps it, the rest returns to the owner.
		assert_eq!(take_weighed(300 * DOT_UNIT, top), Ok(Pallet::<Test>::take_weight(true)));
		let bought = holding(TAKER, DOT) - 100 * DOT_UNIT;
		assert!(bought > centi_dot(9_040) && bought < centi_dot(9_050), "{bought}");
		assert_eq!(cash(OWNER), 0);
		assert_eq!(holding(OWNER, DOT), 1_000 * DOT_UNIT - 100 * DOT_UNIT - bought);
		System::assert_last_event(
			Event::AuctionEnded { id: 0, returned: 300 * DOT_UNIT - bought, unpaid: 0 }.into(),
		);
		assert!(crate::Auctions::<Test>::get(0).is_none());
		assert_eq!(crate::OpenAuctions::<Test>::get(OWNER), 0);
		assert_eq!(totals(), before);
		assert_noop!(take(1, top), Error::<Test>::UnknownAuction);
	});
}

#[test]
fn a_stalled_auction_is_restarted_at_a_fresh_price_with_a_tip() {
	run_test(|| {
		indebted(1_000, 1_000);
		assert_ok!(liquidate(&[OWNER]));
		let restart = || Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0);
		assert_noop!(restart(), Error::<Test>::AuctionRunning);
		// Past the 20-block tail.
		at_block(22);
		assert_noop!(take(DOT_UNIT, Price::from_u32(10)), Error::<Test>::AuctionNeedsRestart);
		set_price(DOT, Price::from_u32(4), PriceStatus::Stale);
		assert_noop!(restart(), Error::<Test>::PriceNotFresh);
		set_price(DOT, Price::from_u32(4), PriceStatus::Fresh);
		assert_ok!(restart());
		let top = Price::from_rational(44, 10);
		System::assert_last_event(
			Event::AuctionRestarted { id: 0, top, keeper: KEEPER, tip: usd(5) }.into(),
		);
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		assert_eq!((auction.top, auction.floor, auction.started), (top, Price::from_u32(2), 22));
		assert_eq!(cash(KEEPER), usd(5) as i128);
		assert_ok!(take(DOT_UNIT, top));

		// Below the floor before the tail: at 10% a block, 4.40 × 0.9^8 ≈ 1.89 < 2.
		let mut params = crate::Params::<Test>::get();
		params.step = Perbill::from_percent(10);
		assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params));
		at_block(22 + 8);
		assert_noop!(take(DOT_UNIT, top), Error::<Test>::AuctionNeedsRestart);
		assert_ok!(restart());
	});
}

#[test]
fn an_auction_nobody_takes_is_retired_to_the_insurance_fund_after_its_last_restart() {
	run_test(|| {
		// 100 DOT cannot cover the 1,000 USD debt: all of it goes to auction.
		indebted(1_000, 100);
		assert_ok!(liquidate(&[OWNER]));
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		let before = totals();
		let restart = || Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0);
		let max: u32 =
			<<Test as crate::Config>::MaxRestarts as frame_support::traits::Get<u32>>::get();
		let mut block = 1;
		for n in 1..=max {
			block += 21;
			at_block(block);
			assert_ok!(restart());
			assert_eq!(crate::Restarts::<Test>::get(0), n);
		}
		// One restart more: nobody took the lot in all those rounds; it is retired to the
		// fund, and the owner's debt goes to the shortfall stage instead of a new round.
		block += 21;
		at_block(block);
		let fund_cash = cash(fund());
		assert_ok!(restart());
		System::assert_has_event(
			Event::AuctionRetired { id: 0, lot: auction.lot, unpaid: auction.tab }.into(),
		);
		assert!(crate::Auctions::<Test>::get(0).is_none());
		assert_eq!(crate::Restarts::<Test>::get(0), 0);
		assert_eq!(crate::OpenAuctions::<Test>::get(OWNER), 0);
		assert_eq!(holding(fund(), DOT), auction.lot);
		assert_eq!(cash(OWNER), 0, "the debt was settled");
		assert!(cash(fund()) < fund_cash);
		assert_eq!(totals(), before);
		assert_noop!(restart(), Error::<Test>::UnknownAuction);
	});
}

#[test]
fn a_restart_tip_is_at_most_a_share_of_what_the_lot_is_worth() {
	run_test(|| {
		// 3 DOT (12 USD at the restart price) behind a debt: the 5 USD tip would be most of
		// what the lot is worth; a restart pays 1% of the lot's value.
		indebted(1_000, 3);
		assert_ok!(liquidate(&[OWNER]));
		at_block(22);
		set_price(DOT, Price::from_u32(4), PriceStatus::Fresh);
		assert_ok!(Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0));
		let tip = usd(12) / 100;
		System::assert_has_event(
			Event::AuctionRestarted {
				id: 0,
				top: Price::from_rational(44, 10),
				keeper: KEEPER,
				tip,
			}
			.into(),
		);
		assert_eq!(cash(KEEPER), tip as i128);
	});
}

#[test]
fn an_unsold_tab_goes_to_the_insurance_fund_up_to_its_cap_and_the_rest_to_the_vault() {
	run_test(|| {
		// 100 DOT (500 USD) cannot cover 1,000 USD even at the oracle: the whole holding goes
		// to auction for the whole debt.
		indebted(1_000, 100);
		assert_ok!(liquidate(&[OWNER]));
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		assert_eq!((auction.lot, auction.tab), (100 * DOT_UNIT, usd(1_000)));
		let before = totals();
		assert_ok!(take(100 * DOT_UNIT, Price::from_u32(6)));
		// 550 raised, 450 unpaid: the fund pays its 100 USD cap, the vault the other 350.
		System::assert_has_event(
			Event::AuctionEnded { id: 0, returned: 0, unpaid: usd(450) }.into(),
		);
		System::assert_last_event(
			Event::ShortfallSettled { who: OWNER, insurance: usd(100), socialized: usd(350) }
				.into(),
		);
		assert_eq!(cash(OWNER), 0);
		assert_eq!(cash(fund()), usd(900) as i128);
		assert_eq!(Absorbed::get(), usd(350));
		// Every USD is accounted: the vault's absorbed loss is part of `totals`.
		assert_eq!(totals(), before);
	});
}

#[test]
fn debt_with_no_collateral_is_settled_at_once_and_the_fund_cap_is_per_block() {
	run_test(|| {
		set_cash(fund(), usd(1_000) as i128);
		for (who, debt) in [(20, 60), (21, 60), (22, 30)] {
			book(who, -1, 0, 0, &[]);
			set_cash(who, -(usd(debt) as i128));
		}
		assert_ok!(liquidate(&[20, 21]));
		// 100 USD a block: 60 for the first, 40 for the second, whose other 20 is socialized.
		System::assert_has_event(
			Event::ShortfallSettled { who: 20, insurance: usd(60), socialized: 0 }.into(),
		);
		System::assert_has_event(
			Event::ShortfallSettled { who: 21, insurance: usd(40), socialized: usd(20) }.into(),
		);
		assert_eq!(Absorbed::get(), usd(20));
		at_block(2);
		assert_ok!(liquidate(&[22]));
		System::assert_has_event(
			Event::ShortfallSettled { who: 22, insurance: usd(30), socialized: 0 }.into(),
		);
		assert_eq!(cash(fund()), usd(870) as i128);
		assert!([20, 21, 22].iter().all(|who| cash(*who) == 0));
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
		assert_eq!(crate::LiquidatedNotional::<Test>::get(0), (1, 30));
		// Nothing is dropped: both stay liquidatable and go on in the next block.
		assert!(Pallet::<Test>::may_liquidate(&1) && Pallet::<Test>::may_liquidate(&2));
		at_block(2);
		assert_ok!(liquidate(&[2, 1]));
		assert_eq!(closed(), vec![(1, 30), (2, 30)]);
		System::assert_has_event(Event::Deferred { who: 1, market: 0 }.into());
	});
}

#[test]
fn anyone_may_pay_into_the_insurance_fund_from_their_cash() {
	run_test(|| {
		set_cash(TAKER, usd(50) as i128);
		assert_ok!(Liquidation::fund_insurance(RuntimeOrigin::signed(TAKER), usd(20)));
		System::assert_last_event(Event::InsuranceFunded { who: TAKER, amount: usd(20) }.into());
		assert_eq!((cash(TAKER), cash(fund())), (usd(30) as i128, usd(20) as i128));
		assert_noop!(
			Liquidation::fund_insurance(RuntimeOrigin::signed(TAKER), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Liquidation::fund_insurance(RuntimeOrigin::signed(TAKER), usd(31)),
			DispatchError::Other("insufficient cash")
		);
		assert_eq!(Pallet::<Test>::fund_view().cash, usd(20) as i128);
	});
}

#[test]
fn auctions_stop_with_the_breaker_and_bad_parameters_are_refused() {
	run_test(|| {
		indebted(1_000, 1_000);
		assert_ok!(liquidate(&[OWNER]));
		assert_noop!(take(0, Price::from_u32(10)), Error::<Test>::ZeroAmount);
		assert_noop!(
			Liquidation::take(RuntimeOrigin::signed(OWNER), 0, DOT_UNIT, Price::from_u32(10)),
			DispatchError::Other("insufficient cash")
		);
		assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), BreakerLevel::NoAuctions));
		assert_noop!(take(DOT_UNIT, Price::from_u32(10)), Error::<Test>::BreakerActive);
		assert_noop!(
			Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0),
			Error::<Test>::BreakerActive
		);

		let good = crate::Params::<Test>::get();
		assert_noop!(
			Liquidation::set_params(RuntimeOrigin::signed(1), good),
			DispatchError::BadOrigin
		);
		let bad = [
			crate::AuctionParams { step: Perbill::zero(), ..good },
			crate::AuctionParams { step: Perbill::from_percent(51), ..good },
			crate::AuctionParams { floor: Perbill::zero(), ..good },
			crate::AuctionParams { floor: Perbill::one(), ..good },
			crate::AuctionParams { start_premium: Perbill::from_percent(51), ..good },
			crate::AuctionParams { tail: 0, ..good },
			crate::AuctionParams { tail: 14_401, ..good },
		];
		for params in bad {
			assert_noop!(
				Liquidation::set_params(RuntimeOrigin::root(), params),
				Error::<Test>::InvalidParams
			);
		}
		assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), good));
		System::assert_last_event(Event::ParamsSet { params: good }.into());
	});
}

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

//! Tests of the circuit breaker, the unsigned liquidation, its validation and the offchain
//! worker.

use crate::{mock::*, AccountsOf, BreakerLevel, Call, Error, Event, Pallet};
use codec::Decode;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{GetDispatchInfo, Pays},
	pallet_prelude::{InvalidTransaction, TransactionSource, ValidateUnsigned},
	traits::UnfilteredDispatchable,
};
use perp_primitives::{HealthState, MarginInspector, Price};
use sp_core::offchain::{
	testing::TestTransactionPoolExt, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::{traits::ExtrinsicLike, DispatchError, Perbill};

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
		book(1, 200, 100, 50, &[]);
		book(2, 80, 100, 50, &[]);
		book(3, 40, 100, 50, &[]);
		book(4, -5, 100, 50, &[]);
		book(5, 40, 100, 50, &[]);
		// Debt with no position left: not this stage's.
		book(7, -5, 0, 0, &[]);
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
		let gate = || (1..=7).map(|who| Pallet::<Test>::may_liquidate(&who)).collect::<Vec<_>>();
		// No verdict on a stale price (5), no account (6), no positions (7).
		assert_eq!(gate(), vec![false, false, true, true, false, false, false]);
		for level in
			[BreakerLevel::NoNewLiquidations, BreakerLevel::NoAuctions, BreakerLevel::Halted]
		{
			assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), level));
			assert_eq!(gate(), vec![false; 7], "{level:?} must stop new liquidations");
		}
	});
}

#[test]
fn partial_steps_close_the_largest_maintenance_first_at_the_discounted_price() {
	new_test_ext().execute_with(|| {
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
		System::assert_has_event(
			Event::PositionClosed {
				who: 1,
				market: 0,
				closed: 25,
				price: Price::from_u32(98),
				penalty: 1,
			}
			.into(),
		);
		System::assert_last_event(
			Event::Liquidated { who: 1, steps: 2, full: false, equity: 38, maintenance: 38 }.into(),
		);
	});
}

#[test]
fn partial_liquidation_stops_once_equity_is_back_above_initial_margin_plus_the_buffer() {
	new_test_ext().execute_with(|| {
		book(1, 45, 50, 48, &[(0, 100, 30), (1, 100, 18)]);
		assert_ok!(liquidate(&[1]));
		// After the first step: initial 38, target 38 + 10% = 42 (rounded up), equity 44.
		assert_eq!(Reduced::get().len(), 1);
		System::assert_last_event(
			Event::Liquidated { who: 1, steps: 1, full: false, equity: 44, maintenance: 41 }.into(),
		);
	});
}

#[test]
fn deep_or_bankrupt_accounts_are_closed_in_full() {
	new_test_ext().execute_with(|| {
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
fn recovered_accounts_are_skipped_and_their_weight_refunded() {
	new_test_ext().execute_with(|| {
		book(1, 40, 100, 50, &[(0, 100, 30)]);
		book(2, 200, 100, 50, &[(0, 100, 30)]);
		let info = liquidate(&[1, 2]).unwrap();
		System::assert_has_event(Event::Skipped { who: 2 }.into());
		assert_eq!(Reduced::get().len(), 1);
		assert_eq!(info.pays_fee, Pays::No);
		let full = Call::<Test>::liquidate { accounts: batch(&[1, 2]) }.get_dispatch_info();
		assert!(info.actual_weight.unwrap().all_lt(full.call_weight));
	});
}

#[test]
fn bad_batches_change_nothing() {
	new_test_ext().execute_with(|| {
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
	new_test_ext().execute_with(|| {
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

#[test]
fn the_offchain_worker_submits_the_liquidatable_candidates_in_batches() {
	let mut ext = new_test_ext();
	let (offchain, _state) = sp_core::offchain::testing::TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
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
	});
}

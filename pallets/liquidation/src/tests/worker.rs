//! The offchain worker: discovery, batches, the cursor, batches sent again.

use super::*;

/// The batches of `accounts` ran and liquidated them in full: their books are gone, and so is
/// their place in the list of candidates.
fn ran(accounts: &[u64]) {
	Books::mutate(|books| accounts.iter().for_each(|who| drop(books.remove(who))));
	Candidates::mutate(|list| list.retain(|who| !accounts.contains(who)));
}

/// The raw extrinsics in the pool; empties it.
fn drain_raw(
	pool_state: &std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
) -> Vec<Vec<u8>> {
	pool_state.write().transactions.drain(..).collect()
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
		ran(&accounts[..12]);
		assert_eq!(Liquidation::offchain_liquidate(2), 12);
		assert_eq!(submitted(), accounts[12..24].to_vec());
		// These batches have not run: the next run sends them again as they were, first, and
		// looks for the others past them.
		assert_eq!(Liquidation::offchain_liquidate(3), 18);
		assert_eq!(submitted(), accounts[12..].to_vec());
		// It reached the end: once the batches of the second run have run, the next run
		// starts over and finds only the accounts of the batches still waiting, sent again.
		ran(&accounts[12..24]);
		assert_eq!(Liquidation::offchain_liquidate(4), 6);
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
		ran(&accounts[6..12]);
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
		// Their batches wait: a run sends them again, looks at the 12 healthy ones again and
		// finds no one else; its cursor is past them.
		assert_eq!(Liquidation::offchain_liquidate(3), 5);
		assert_eq!(drain_submitted(&pool_state), liquidatable);
		// They ran, and the list shrinks below the cursor: the run starts over instead of
		// finding nothing.
		ran(&liquidatable);
		Candidates::set(healthy[..5].to_vec());
		for who in &healthy[..5] {
			book(*who, 40, 100, 50, &[(0, 100, 30)]);
		}
		assert_eq!(Liquidation::offchain_liquidate(4), 5);
		assert_eq!(drain_submitted(&pool_state), healthy[..5].to_vec());
		assert_ok!(Liquidation::do_try_state());
	});
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
		// They ran: the next run goes on after the last account submitted.
		ran(&light_accounts[..6]);
		assert_eq!(Liquidation::offchain_liquidate(2), 3);
		assert_eq!(submitted(), light_accounts[6..].to_vec());
		// Worst-case accounts, once those batches ran: one batch.
		ran(&light_accounts[6..]);
		Candidates::set(heavy_accounts.clone());
		assert_eq!(Liquidation::offchain_liquidate(3), 3);
		assert_eq!(submitted(), heavy_accounts[..3].to_vec());
		assert_ok!(Liquidation::do_try_state());
	});
}

#[test]
fn a_run_cuts_its_last_batch_to_what_the_reserved_share_still_holds() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		// Room for a full batch of worst-case accounts and a batch of one more.
		let full = Liquidation::declared_weight(3);
		ReservedShare::set(Some(full.saturating_add(Liquidation::declared_weight(1))));
		let eight: Vec<_> = (0..8).map(|market| (market, 100, 5)).collect();
		let accounts: Vec<u64> = (11..=16).collect();
		for who in &accounts {
			book(*who, 20, 100, 50, &eight);
		}
		Candidates::set(accounts.clone());
		let batches = || drain_batches(&pool_state);
		// A second full batch would not fit; a batch of one does, as the block builder would
		// admit it.
		assert_eq!(Liquidation::offchain_liquidate(1), 4);
		assert_eq!(batches(), vec![vec![11, 12, 13], vec![14]]);
		// The accounts cut from it are the next run's first.
		ran(&accounts[..4]);
		assert_eq!(Liquidation::offchain_liquidate(2), 2);
		assert_eq!(batches(), vec![vec![15, 16]]);
		assert_ok!(Liquidation::do_try_state());
	});
}

#[test]
fn a_batch_the_pool_lost_is_sent_again_by_the_next_run_as_it_was() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		for who in [1, 3, 5, 7] {
			book(who, 40, 100, 50, &[(0, 100, 30)]);
		}
		Candidates::set(vec![1, 3, 5, 7]);
		assert_eq!(Liquidation::offchain_liquidate(1), 4);
		// The pool loses both batches (e.g. a view built after the submission dropped them).
		let first = drain_raw(&pool_state);
		assert_eq!(first.len(), 2);
		// The next run sends the same two transactions, byte for byte: a pool that still
		// holds one refuses the copy by its hash, and one it lost is back.
		assert_eq!(Liquidation::offchain_liquidate(2), 4);
		assert_eq!(drain_raw(&pool_state), first);
		// Once they have run, nothing is sent again.
		ran(&[1, 3, 5, 7]);
		assert_eq!(Liquidation::offchain_liquidate(3), 0);
		assert!(pool_state.read().transactions.is_empty());
		assert_ok!(Liquidation::do_try_state());
	});
}

#[test]
fn an_account_its_batch_left_liquidatable_goes_into_a_new_batch() {
	let (mut ext, pool_state) = offchain_ext();
	ext.execute_with(|| {
		for who in [1, 3, 5] {
			book(who, 40, 100, 50, &[(0, 100, 30)]);
		}
		Candidates::set(vec![1, 3, 5]);
		assert_eq!(Liquidation::offchain_liquidate(1), 3);
		let batch = drain_raw(&pool_state);
		// The batch runs: 3 and 5 are liquidated in full, 1 only in part and is still
		// liquidatable. Its ledger changed, so the batch is not sent again; 1 goes into a
		// batch of its own.
		let RuntimeCall::Liquidation(call) =
			Extrinsic::decode(&mut &batch[0][..]).unwrap().function
		else {
			unreachable!()
		};
		assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::none()));
		ran(&[3, 5]);
		assert!(Liquidation::may_liquidate(&1));
		assert_eq!(Liquidation::offchain_liquidate(2), 1);
		assert_eq!(drain_submitted(&pool_state), vec![1]);
		assert_ok!(Liquidation::do_try_state());
	});
}

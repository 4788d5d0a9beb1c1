//! The liquidation offchain worker: every block, under a lock, it asks margin's risk index for the
//! accounts whose safe band a price has left, keeps those liquidatable now, and submits them as
//! bare unsigned `liquidate` batches of at most `MaxBatch` accounts. One run re-checks at most
//! `MaxBatchesPerRun` batches' worth of candidates and submits batches while the block builder
//! would admit the next one into the operational class's reserved share: its declared weight fits
//! what the batches before it are charged once their refunds for accounts with fewer positions than
//! the worst case are counted (`batch_weights`; `batches_per_run()` full batches when every account
//! is the worst case). Within a run's window the accounts go largest shortfall below maintenance
//! first (and margin's discovery returns them furthest past their bands first). The next run
//! goes on from the first account of the window not submitted, from a cursor kept in
//! the node's persistent offchain storage (and starts over once it reaches the end), so a long list
//! is covered over several blocks. The cursor counts the submitted accounts as gone, since a batch
//! that runs takes them out of the list; the run remembers whom it submitted, and the next run
//! skips them, so an account whose batch still waits in the pool is not submitted twice and one
//! that ran is not counted twice. It does nothing while the breaker is not `Running` (and margin
//! gives no verdict on stale or frozen prices). While the vault carries socialized loss beyond
//! `AdlThreshold`, it also submits a `deleverage` (see `adl`).
//! Failures are logged, never panics.

use crate::pallet::*;
use crate::types::Stage;
use alloc::collections::BTreeSet;
use frame_support::traits::Get;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::BlockNumberFor};
use perp_primitives::MarginReader;
use sp_runtime::offchain::{
	storage::StorageValueRef,
	storage_lock::{BlockAndTime, StorageLock},
	Duration,
};

/// The log target of the worker.
pub const LOG_TARGET: &str = "runtime::liquidation::ocw";
/// Held while a run discovers and submits.
pub const LOCK_KEY: &[u8] = b"perp-liquidation::lock";
/// Where the next run starts in the list of candidates (a `u32`, persistent offchain storage).
pub const CURSOR_KEY: &[u8] = b"perp-liquidation::cursor";
/// The accounts the last run submitted (persistent offchain storage), which the next run skips.
pub const SUBMITTED_KEY: &[u8] = b"perp-liquidation::submitted";

impl<T: Config> Pallet<T> {
	/// One run: discover, re-check, submit. Returns the accounts submitted.
	pub(crate) fn offchain_liquidate(now: BlockNumberFor<T>) -> u32 {
		if !Breaker::<T>::get().allows(Stage::Liquidation) {
			log::debug!(target: LOG_TARGET, "breaker engaged at #{now:?}: nothing to do");
			return 0;
		}
		let mut lock =
			StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
				LOCK_KEY,
				1,
				Duration::from_millis(6_000),
			);
		let Ok(_guard) = lock.try_lock() else {
			log::debug!(target: LOG_TARGET, "another run holds the lock at #{now:?}");
			return 0;
		};
		let batch = Self::batch_size();
		let (found, end) =
			Self::next_window(batch.saturating_mul(T::MaxBatchesPerRun::get().max(1)));
		// Batches while the block builder would admit the next one (its declared weight fits
		// what the ones before are charged, refunds included), at least one.
		let mut left = Self::reserved_share();
		let mut submitted = 0;
		let mut packed = 0;
		for chunk in found.chunks(batch as usize) {
			let (declared, charged) = Self::batch_weights(chunk.iter().map(|(_, _, p)| *p));
			if packed > 0 && !declared.all_lte(left) {
				break;
			}
			left = left.saturating_sub(charged);
			packed += chunk.len();
			let accounts = AccountsOf::<T>::truncate_from(
				chunk.iter().map(|(_, who, _)| who.clone()).collect(),
			);
			let count = accounts.len() as u32;
			let xt = T::create_bare(Call::liquidate { accounts }.into());
			match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
				Ok(()) => submitted += count,
				Err(()) => {
					log::warn!(target: LOG_TARGET, "a batch of {count} was not accepted at #{now:?}")
				},
			}
		}
		// The next run goes on from the first account of the window left unpacked (or after
		// the window). The packed accounts before that point leave the list once their batches
		// run, so the cursor does not count them; if they are still there, the next run skips
		// them.
		let after = found.iter().skip(packed).map(|(index, _, _)| *index).min().unwrap_or(end);
		let before = found.iter().take(packed).filter(|(index, _, _)| *index < after).count();
		let cursor = after.saturating_sub(before as u32);
		StorageValueRef::persistent(CURSOR_KEY).set(&cursor);
		let packed: alloc::vec::Vec<&T::AccountId> =
			found.iter().take(packed).map(|(_, who, _)| who).collect();
		StorageValueRef::persistent(SUBMITTED_KEY).set(&packed);
		if submitted > 0 {
			log::info!(target: LOG_TARGET, "submitted {submitted} liquidations at #{now:?}");
		}
		if Self::adl_excess() > 0 {
			Self::offchain_deleverage(now);
		}
		submitted
	}

	/// Submits a `deleverage` that looks at as many positions as recovering the excess needs,
	/// at most `MaxBatch` (the chain picks them: see `adl`). Returns how many.
	pub(crate) fn offchain_deleverage(now: BlockNumberFor<T>) -> u32 {
		let count = Self::adl_steps();
		if count == 0 {
			log::warn!(target: LOG_TARGET, "socialized loss to recover but no position in profit");
			return 0;
		}
		let xt = T::create_bare(Call::deleverage { max: count }.into());
		match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
			Ok(()) => {
				log::info!(target: LOG_TARGET, "submitted a deleverage of {count} positions at #{now:?}");
				count
			},
			Err(()) => {
				log::warn!(target: LOG_TARGET, "deleveraging not accepted at #{now:?}");
				0
			},
		}
	}

	/// The liquidatable accounts among the next `scan` candidates from the cursor that the
	/// last run did not submit, each with its index in the list of candidates and the
	/// positions it holds, the largest shortfall below maintenance first; and where the window
	/// ends in the list: past the last candidate it looked at, or back at the start when it
	/// reached the end of the list.
	fn next_window(scan: u32) -> (alloc::vec::Vec<(u32, T::AccountId, u32)>, u32) {
		let mut offset =
			StorageValueRef::persistent(CURSOR_KEY).get::<u32>().ok().flatten().unwrap_or(0);
		let submitted: BTreeSet<T::AccountId> = StorageValueRef::persistent(SUBMITTED_KEY)
			.get::<alloc::vec::Vec<T::AccountId>>()
			.ok()
			.flatten()
			.unwrap_or_default()
			.into_iter()
			.collect();
		// The window reaches further by the accounts it skips.
		let reach = scan.saturating_add(submitted.len() as u32);
		let mut seen = T::Margin::candidates(offset.saturating_add(reach));
		if offset > 0 && seen.len() <= offset as usize {
			// The list shrank below the cursor: start over.
			offset = 0;
			seen.truncate(reach as usize);
		}
		let window: alloc::vec::Vec<(usize, T::AccountId)> = seen
			.into_iter()
			.enumerate()
			.skip(offset as usize)
			.filter(|(_, who)| !submitted.contains(who))
			.take(scan as usize)
			.collect();
		// Fewer than `scan` means the list ended: the cursor goes back to the start.
		let next = match window.last() {
			Some((index, _)) if window.len() == scan as usize => *index as u32 + 1,
			_ => 0,
		};
		let mut found: alloc::vec::Vec<_> = window
			.into_iter()
			.filter_map(|(index, who)| {
				let risk = Self::verdict(&who)?;
				let shortfall = i128::try_from(risk.margins.maintenance)
					.unwrap_or(i128::MAX)
					.saturating_sub(risk.margins.equity);
				Some((shortfall, index as u32, who, risk.positions.len() as u32))
			})
			.collect();
		// The largest shortfall below maintenance first (ties in list order).
		found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
		let found = found.into_iter().map(|(_, index, who, positions)| (index, who, positions));
		(found.collect(), next)
	}
}

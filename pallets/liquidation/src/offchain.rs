//! The liquidation offchain worker: every block, under a lock, it asks margin's risk index for
//! the accounts whose safe band a price has left, keeps those liquidatable now, and submits them
//! as bare unsigned `liquidate` batches of at most `MaxBatch` accounts. It does nothing while the
//! breaker is not `Running` (and margin gives no verdict on stale or frozen prices). Failures
//! are logged, never panics.

use crate::pallet::*;
use frame_support::traits::Get;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::BlockNumberFor};
use sp_runtime::offchain::{
	storage_lock::{BlockAndTime, StorageLock},
	Duration,
};

/// The log target of the worker.
pub const LOG_TARGET: &str = "runtime::liquidation::ocw";
/// Held while a run discovers and submits.
pub(crate) const LOCK_KEY: &[u8] = b"perp-liquidation::lock";
/// Batches submitted per run at most.
pub const MAX_BATCHES_PER_RUN: u32 = 4;

impl<T: Config> Pallet<T> {
	/// One run: discover, re-check, submit. Returns the accounts submitted.
	pub(crate) fn offchain_liquidate(now: BlockNumberFor<T>) -> u32 {
		if Breaker::<T>::get() != BreakerLevel::Running {
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
		let batch = T::MaxBatch::get();
		let found = Self::candidates(batch.saturating_mul(MAX_BATCHES_PER_RUN));
		let mut submitted = 0;
		for chunk in found.chunks(batch as usize) {
			let accounts = AccountsOf::<T>::truncate_from(chunk.to_vec());
			let count = accounts.len() as u32;
			let xt = T::create_bare(Call::liquidate { accounts }.into());
			match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
				Ok(()) => submitted += count,
				Err(()) => {
					log::warn!(target: LOG_TARGET, "a batch of {count} was not accepted at #{now:?}")
				},
			}
		}
		if submitted > 0 {
			log::info!(target: LOG_TARGET, "submitted {submitted} liquidations at #{now:?}");
		}
		submitted
	}
}

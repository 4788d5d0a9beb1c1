//! The liquidation offchain worker: every block, under a lock, it asks margin's risk index for the
//! accounts whose safe band a price has left, keeps those liquidatable now, and submits them as
//! bare unsigned `liquidate` batches of at most `MaxBatch` accounts. One run re-checks at most
//! `MaxBatchesPerRun` batches' worth of candidates and submits batches while the block builder
//! would admit the next one into the operational class's reserved share: its declared weight fits
//! what the batches before it are charged once their refunds for accounts with fewer positions than
//! the worst case are counted (`batch_weights`; `batches_per_run()` full batches when every account
//! is the worst case). Each new batch takes the most accounts, up to `MaxBatch`, whose batch is
//! admitted, so where a full batch no longer fits a smaller one fills the share. Within a run's
//! window the accounts go largest shortfall below maintenance first (and margin's discovery
//! returns them furthest past their bands first). The next run
//! goes on from the first account of the window not submitted, from a cursor kept in
//! the node's persistent offchain storage (and starts over once it reaches the end), so a long list
//! is covered over several blocks. The cursor counts the submitted accounts as gone, since a batch
//! that runs takes them out of the list.
//!
//! The worker does not trust its memory over the pool: it keeps the batches it sent, each
//! account with a fingerprint of its ledger (cash, positions, collateral: what a liquidation
//! changes and a price does not), and the next run sends again, first and byte for byte, every
//! batch whose accounts are all still liquidatable with the same ledgers, i.e. that has not run.
//! A pool that still holds it refuses the copy by its hash; one that lost it (a view built after
//! the submission, a dropped gossip) has it back, so no account waits a block for a lost batch.
//! A batch that ran, even in part, is forgotten and its accounts still liquidatable go into new
//! batches. It does nothing while the breaker is not `Running` (and margin
//! gives no verdict on stale or frozen prices). While the vault carries socialized loss beyond
//! `AdlThreshold`, it also submits a `deleverage` (see `adl`).
//! Failures are logged, never panics.

use crate::pallet::*;
use crate::types::Stage;
use alloc::collections::BTreeSet;
use frame_support::traits::Get;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::BlockNumberFor};
use perp_primitives::{AccountRisk, MarginReader};
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{BlockAndTime, StorageLock},
		Duration,
	},
	traits::{BlakeTwo256, Hash},
};

/// The log target of the worker.
pub const LOG_TARGET: &str = "runtime::liquidation::ocw";
/// Held while a run discovers and submits.
pub const LOCK_KEY: &[u8] = b"perp-liquidation::lock";
/// Where the next run starts in the list of candidates (a `u32`, persistent offchain storage).
pub const CURSOR_KEY: &[u8] = b"perp-liquidation::cursor";
/// The batches the last run sent, each account with its ledger's fingerprint then (persistent
/// offchain storage): the next run sends again those that have not run.
pub const SENT_KEY: &[u8] = b"perp-liquidation::sent";

/// A ledger's fingerprint (see `ledger_of`).
type Fingerprint = <BlakeTwo256 as Hash>::Output;

/// An account of a batch in the making: who, its ledger's fingerprint (`ledger_of`), and the
/// positions it holds (what its share of the batch's weight depends on).
type Member<T> = (<T as frame_system::Config>::AccountId, Fingerprint, u32);

/// What a liquidation changes in an account and a price does not: its cash, its positions'
/// sizes and costs, its collateral. An account whose fingerprint is unchanged has not been
/// liquidated since.
fn ledger_of(risk: &AccountRisk) -> Fingerprint {
	let positions: alloc::vec::Vec<_> =
		risk.positions.iter().map(|p| (p.market, p.size, p.cost)).collect();
	let collateral: alloc::vec::Vec<_> =
		risk.collateral.iter().map(|c| (c.asset, c.amount)).collect();
	BlakeTwo256::hash_of(&(risk.cash, positions, collateral))
}

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
		let waiting = Self::waiting_batches();
		let skip: BTreeSet<T::AccountId> =
			waiting.iter().flatten().map(|(who, _, _)| who.clone()).collect();
		let (found, end) =
			Self::next_window(batch.saturating_mul(T::MaxBatchesPerRun::get().max(1)), &skip);
		let fresh: alloc::vec::Vec<Member<T>> =
			found.iter().map(|(_, member)| member.clone()).collect();
		// The batches that have not run first, as they were, then new ones while the block
		// builder would admit them (a batch's declared weight fits what the ones before are
		// charged, refunds included), at least one: each new batch the most accounts of the
		// window, up to `batch`, whose batch is admitted, so the last ones fill the share as
		// far as a smaller batch does.
		let mut left = Self::reserved_share();
		let mut submitted = 0;
		let mut packed = 0;
		let mut sent = alloc::vec::Vec::new();
		let weights =
			|members: &[Member<T>]| Self::batch_weights(members.iter().map(|(_, _, p)| *p));
		let mut waiting = waiting.iter();
		let mut rest = &fresh[..];
		loop {
			let first = sent.is_empty();
			let admitted = |members: &[Member<T>]| first || weights(members).0.all_lte(left);
			let (again, members) = match waiting.next() {
				Some(members) if admitted(members) => (true, &members[..]),
				Some(_) => break,
				None => {
					let most = rest.len().min(batch as usize);
					let Some((members, after)) = (1..=most)
						.rev()
						.filter_map(|n| rest.split_at_checked(n))
						.find(|(members, _)| admitted(members))
					else {
						break;
					};
					rest = after;
					(false, members)
				},
			};
			left = left.saturating_sub(weights(members).1);
			if !again {
				packed += members.len();
			}
			let accounts = AccountsOf::<T>::truncate_from(
				members.iter().map(|(who, _, _)| who.clone()).collect(),
			);
			let count = accounts.len() as u32;
			let xt = T::create_bare(Call::liquidate { accounts }.into());
			match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
				Ok(()) => submitted += count,
				// Most likely the pool still holds it and refuses the copy.
				Err(()) if again => log::debug!(
					target: LOG_TARGET,
					"a batch of {count} sent again was not accepted at #{now:?}"
				),
				Err(()) => {
					log::warn!(target: LOG_TARGET, "a batch of {count} was not accepted at #{now:?}")
				},
			}
			let kept: alloc::vec::Vec<(T::AccountId, Fingerprint)> =
				members.iter().map(|(who, ledger, _)| (who.clone(), *ledger)).collect();
			sent.push(kept);
		}
		StorageValueRef::persistent(SENT_KEY).set(&sent);
		// The next run goes on from the first account of the window left unpacked (or after
		// the window). The packed accounts before that point leave the list once their batches
		// run, so the cursor does not count them; if they are still there, the next run sends
		// their batches again and skips them in its window.
		let after = found.iter().skip(packed).map(|(index, _)| *index).min().unwrap_or(end);
		let before = found.iter().take(packed).filter(|(index, _)| *index < after).count();
		let cursor = after.saturating_sub(before as u32);
		StorageValueRef::persistent(CURSOR_KEY).set(&cursor);
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

	/// The batches the last run sent that have not run: every account still liquidatable, with
	/// the ledger it had then (see `ledger_of`); in the order they were sent.
	fn waiting_batches() -> alloc::vec::Vec<alloc::vec::Vec<Member<T>>> {
		let sent: alloc::vec::Vec<alloc::vec::Vec<(T::AccountId, Fingerprint)>> =
			StorageValueRef::persistent(SENT_KEY).get().ok().flatten().unwrap_or_default();
		let mut quotes = QuotesOf::<T>::default();
		sent.into_iter()
			.filter_map(|batch| {
				batch
					.into_iter()
					.map(|(who, ledger)| {
						let risk = Self::verdict(&who, &mut quotes)?;
						let positions = risk.positions.len() as u32;
						(ledger_of(&risk) == ledger).then_some((who, ledger, positions))
					})
					.collect::<Option<alloc::vec::Vec<_>>>()
			})
			.collect()
	}

	/// The liquidatable accounts among the next `scan` candidates from the cursor, leaving out
	/// those in `skip` (the batches sent again), each with its index in the list of candidates,
	/// the largest shortfall below maintenance first; and where the window ends in the list:
	/// past the last candidate it looked at, or back at the start when it reached the end of
	/// the list.
	fn next_window(
		scan: u32,
		skip: &BTreeSet<T::AccountId>,
	) -> (alloc::vec::Vec<(u32, Member<T>)>, u32) {
		let mut offset =
			StorageValueRef::persistent(CURSOR_KEY).get::<u32>().ok().flatten().unwrap_or(0);
		// The window reaches further by the accounts it skips.
		let reach = scan.saturating_add(skip.len() as u32);
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
			.filter(|(_, who)| !skip.contains(who))
			.take(scan as usize)
			.collect();
		// Fewer than `scan` means the list ended: the cursor goes back to the start.
		let next = match window.last() {
			Some((index, _)) if window.len() == scan as usize => *index as u32 + 1,
			_ => 0,
		};
		let mut quotes = QuotesOf::<T>::default();
		let mut found: alloc::vec::Vec<_> = window
			.into_iter()
			.filter_map(|(index, who)| {
				let risk = Self::verdict(&who, &mut quotes)?;
				let shortfall = i128::try_from(risk.margins.maintenance)
					.unwrap_or(i128::MAX)
					.saturating_sub(risk.margins.equity);
				let member = (who, ledger_of(&risk), risk.positions.len() as u32);
				Some((shortfall, index as u32, member))
			})
			.collect();
		// The largest shortfall below maintenance first (ties in list order).
		found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
		let found = found.into_iter().map(|(_, index, member)| (index, member));
		(found.collect(), next)
	}
}

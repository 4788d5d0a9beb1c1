//! The weight maths of liquidations: what one batch declares and is charged, what liquidations
//! have of a block under congestion, and how the worker sizes its batches to them.

use crate::{pallet::*, WeightInfo};
use frame_support::{traits::Get, weights::Weight};
use perp_primitives::MarginReader;

impl<T: Config> Pallet<T> {
	/// The weight of a take; one that ends its auction may run the debt stage of one
	/// account, bounded by `liquidate(1)`.
	pub fn take_weight(ends_auction: bool) -> Weight {
		let take = T::WeightInfo::take();
		if ends_auction {
			take.saturating_add(T::WeightInfo::liquidate(1))
		} else {
			take
		}
	}

	/// How much less than the worst case `liquidate` declares per account (`MaxPositions`
	/// positions) liquidating an account that holds `positions` costs: the difference of
	/// `liquidate_positions`, which is measured over a full batch, shared out per account. An
	/// account without positions (its debt stage only) counts as one position.
	pub fn lighter_by(positions: u32) -> Weight {
		use crate::WeightInfo;
		let max = T::Margin::max_positions().max(1);
		let held = positions.clamp(1, max);
		let batch = u64::from(T::MaxBatch::get().max(1));
		let difference = T::WeightInfo::liquidate_positions(max)
			.saturating_sub(T::WeightInfo::liquidate_positions(held));
		Weight::from_parts(difference.ref_time() / batch, difference.proof_size() / batch)
	}

	/// The most accounts one `liquidate` may name: `MaxBatch`, or fewer if the benchmarked
	/// weight of a full batch would not fit the operational class's largest extrinsic.
	pub fn batch_size() -> u32 {
		use crate::WeightInfo;
		use frame_support::dispatch::DispatchClass;
		let limits = <T as frame_system::Config>::BlockWeights::get();
		let max = limits.get(DispatchClass::Operational).max_extrinsic;
		let mut n = T::MaxBatch::get();
		if let Some(max) = max {
			while n > 1 && !T::WeightInfo::liquidate(n).all_lte(max) {
				n -= 1;
			}
		}
		n
	}

	/// How many full batches of `batch` worst-case accounts one run submits: as many as the
	/// operational class's reserved share of a block holds at their benchmarked weight (at
	/// least one), at most `MaxBatchesPerRun`. Accounts with fewer positions are charged less,
	/// and a run then submits more (see `offchain_liquidate`).
	pub fn batches_per_run(batch: u32) -> u32 {
		let share = Self::reserved_share();
		let weight = Self::declared_weight(batch);
		let fits = [share.ref_time(), share.proof_size()]
			.into_iter()
			.zip([weight.ref_time(), weight.proof_size()])
			.filter(|(_, per_batch)| *per_batch > 0)
			.map(|(space, per_batch)| space / per_batch)
			.min()
			.unwrap_or(u64::MAX);
		u32::try_from(fits)
			.unwrap_or(u32::MAX)
			.clamp(1, T::MaxBatchesPerRun::get().max(1))
	}

	/// What liquidations have of a block under congestion: the operational class's reserved
	/// share, less the room they leave the oracle feeds (`FeedRoom`).
	pub fn reserved_share() -> Weight {
		use frame_support::dispatch::DispatchClass;
		let limits = <T as frame_system::Config>::BlockWeights::get();
		let operational = limits.get(DispatchClass::Operational);
		operational
			.reserved
			.or(operational.max_total)
			.unwrap_or(limits.max_block)
			.saturating_sub(T::FeedRoom::get())
	}

	/// The declared weight of a batch of `accounts`, with the extrinsic base: what the block
	/// builder checks before it admits the batch.
	pub fn declared_weight(accounts: u32) -> Weight {
		use crate::WeightInfo;
		use frame_support::dispatch::DispatchClass;
		let base = <T as frame_system::Config>::BlockWeights::get()
			.get(DispatchClass::Operational)
			.base_extrinsic;
		T::WeightInfo::liquidate(accounts).saturating_add(base)
	}

	/// A batch's declared weight and what it is charged once it ran, for accounts that hold
	/// `positions` positions each (`lighter_by`), both with the extrinsic base.
	pub fn batch_weights(positions: impl ExactSizeIterator<Item = u32>) -> (Weight, Weight) {
		let declared = Self::declared_weight(positions.len() as u32);
		let unused =
			positions.fold(Weight::zero(), |unused, p| unused.saturating_add(Self::lighter_by(p)));
		(declared, declared.saturating_sub(unused))
	}
}

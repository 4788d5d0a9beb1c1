//! How many liquidations a block holds under congestion, from the weights this runtime uses.
//!
//! Under congestion the normal class fills its share of the block (`NORMAL_DISPATCH_RATIO`);
//! operational transactions then have the reserved share left, which normal ones cannot take.
//! A block's oracle feeds come out of it first, counted at their bounds: every one of
//! `MaxFeeders` feeders feeding `MaxValuesPerFeed` values. The rest holds unsigned liquidation
//! batches of at most `batch_size()` accounts, each at its declared weight: the worst case of
//! an account with `MaxPositions` positions whose debt sends its collateral to auction.
//! `benchmarks/capacity.sh` prints this as a table.

use crate::{
	configs::{liquidation::FeedRoom, RuntimeBlockWeights},
	Runtime,
};
use alloc::vec::Vec;
use frame_support::{dispatch::DispatchClass, traits::Get, weights::Weight};

/// The block-space arithmetic of liquidations under congestion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capacity {
	/// The whole block's weight.
	pub block: Weight,
	/// What the normal class may fill.
	pub normal: Weight,
	/// What operational transactions have left when the normal class is full.
	pub reserved: Weight,
	/// One feed at its bounds, with the extrinsic base.
	pub feed: Weight,
	/// Feeds a block may carry at the bounds.
	pub feeds_per_block: u32,
	/// The most accounts in one liquidation batch.
	pub batch: u32,
	/// A full batch's declared weight, with the extrinsic base.
	pub batch_weight: Weight,
	/// Liquidations per block: full batches, then one partial batch, in what the feeds leave.
	pub per_block: u32,
}

/// The capacity with the weights the runtime uses.
pub fn capacity() -> Capacity {
	let limits = RuntimeBlockWeights::get();
	let block = limits.max_block;
	let normal = limits.get(DispatchClass::Normal).max_total.unwrap_or(block);
	let reserved = limits.get(DispatchClass::Operational).reserved.unwrap_or(Weight::zero());
	// The reserved share less the feeds' room (`FeedRoom`: `feeders` feeds of `feed`).
	let feeders = FeedRoom::feeders();
	let feed = FeedRoom::one_feed();
	let left = crate::Liquidation::reserved_share();
	let batch = crate::Liquidation::batch_size();
	Capacity {
		block,
		normal,
		reserved,
		feed,
		feeds_per_block: feeders,
		batch,
		batch_weight: crate::Liquidation::declared_weight(batch),
		per_block: fill(left, batch, crate::Liquidation::declared_weight),
	}
}

/// How many accounts batches of at most `batch`, weighing `weigh(n)` for `n` accounts, put
/// into `space`: full batches while they fit, then the largest partial batch that does.
pub fn fill(space: Weight, batch: u32, weigh: impl Fn(u32) -> Weight) -> u32 {
	fill_charged(space, batch, &weigh, &weigh)
}

/// [`fill`] for batches admitted at their `declared(n)` weight that use `charged(n)` of the
/// space (what a batch reports after it ran: the block builder admits a batch while its
/// declared weight fits, and the refund makes room for the next): full batches while one is
/// admitted, then the largest partial batch admitted, as long as one is.
pub fn fill_charged(
	space: Weight,
	batch: u32,
	declared: &impl Fn(u32) -> Weight,
	charged: &impl Fn(u32) -> Weight,
) -> u32 {
	let mut left = space;
	let mut accounts = 0u32;
	while batch > 0 && declared(batch).all_lte(left) && charged(batch).any_gt(Weight::zero()) {
		left = left.saturating_sub(charged(batch));
		accounts = accounts.saturating_add(batch);
	}
	while let Some(n) = (1..batch).rev().find(|n| declared(*n).all_lte(left)) {
		if !charged(n).any_gt(Weight::zero()) {
			break;
		}
		left = left.saturating_sub(charged(n));
		accounts = accounts.saturating_add(n);
	}
	accounts
}

/// For each number of positions per account, 1 to `MaxPositions`: the weight a liquidated
/// account holding that many is charged in a full batch (its share of `liquidate`, less what
/// `lighter_by` returns for it), and the liquidations per block when every account holds that
/// many: batches are declared at `MaxPositions` and charged what they report.
pub fn by_positions() -> Vec<(u32, Weight, u32)> {
	let left = crate::Liquidation::reserved_share();
	let max_batch: u32 = <Runtime as pallet_liquidation::Config>::MaxBatch::get();
	let max_positions: u32 = <Runtime as pallet_margin::Config>::MaxPositions::get();
	// Batches of `n` accounts holding `p` positions each: (declared, charged).
	let weights =
		|p: u32, n: u32| crate::Liquidation::batch_weights(core::iter::repeat_n(p, n as usize));
	(1..=max_positions)
		.map(|p| {
			let declared = |n: u32| weights(p, n).0;
			let charged = |n: u32| weights(p, n).1;
			let per_block = fill_charged(left, max_batch, &declared, &charged);
			(p, charged(max_batch).div(max_batch.into()), per_block)
		})
		.collect()
}

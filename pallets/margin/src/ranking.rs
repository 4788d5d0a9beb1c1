//! The profit order: every open position per market and side, by entry price.
//!
//! Within one market every position is valued at the same price `p`, so a long opened at
//! entry `e` gains `p / e − 1` over its entry cost and a short `1 − p / e`: at any price, the
//! longs rank by ascending entry and the shorts by descending entry. Keyed that way, the order
//! changes only when a position does, never with the price, so it is kept exact on every
//! trade and reduction and auto-deleveraging can take the best-ranked position from it
//! without trusting anyone's ranking.

use crate::{pallet::*, Position, RankKey};
use frame_support::traits::Get;
use perp_primitives::{entry_price, Balance, MarketId, Price};
use sp_runtime::Rounding;

/// The key of a position opened at `entry` on the `long` side: big-endian, inverted for a
/// short, so that ascending keys are descending profit.
pub(crate) fn rank_key(long: bool, entry: Price) -> RankKey {
	let inner = entry.into_inner();
	if long { inner } else { u128::MAX - inner }.to_be_bytes()
}

/// The entry price a key was made from.
pub(crate) fn key_entry(long: bool, key: RankKey) -> Price {
	let inner = u128::from_be_bytes(key);
	Price::from_inner(if long { inner } else { u128::MAX - inner })
}

/// A position's side and key; `None` when it is closed. An entry price beyond the range of a
/// price is taken as the largest one (a long's last, a short's first).
pub(crate) fn rank(position: &Position, unit: Balance, su: Balance) -> Option<(bool, RankKey)> {
	if position.size == 0 {
		return None;
	}
	let long = position.size > 0;
	let entry = entry_price(
		position.cost.unsigned_abs(),
		position.size.unsigned_abs(),
		unit,
		su,
		Rounding::NearestPrefUp,
	)
	.unwrap_or(Price::from_inner(u128::MAX));
	Some((long, rank_key(long, entry)))
}

impl<T: Config> Pallet<T> {
	/// Moves `who`'s entry in `market`'s profit order from where position `old` had it to
	/// where `new` has it (a size of zero: none).
	pub(crate) fn rerank(
		who: &T::AccountId,
		market: MarketId,
		old: &Position,
		new: &Position,
		unit: Balance,
	) {
		let su = T::SettlementUnit::get();
		let (before, after) = (rank(old, unit, su), rank(new, unit, su));
		if before == after {
			return;
		}
		if let Some((long, key)) = before {
			ProfitOrder::<T>::remove((market, long, key, who));
		}
		if let Some((long, key)) = after {
			ProfitOrder::<T>::insert((market, long, key, who), ());
		}
	}

	/// The position after `after` in `market`'s profit order on one side (see
	/// `MarginLiquidator::ranked_after`).
	pub(crate) fn next_ranked(
		market: MarketId,
		long: bool,
		after: Option<&(Price, T::AccountId)>,
	) -> Option<(Price, T::AccountId)> {
		let next = match after {
			Some((entry, who)) => {
				let from =
					ProfitOrder::<T>::hashed_key_for((market, long, rank_key(long, *entry), who));
				ProfitOrder::<T>::iter_key_prefix_from((market, long), from).next()
			},
			None => ProfitOrder::<T>::iter_key_prefix((market, long)).next(),
		};
		next.map(|(key, who)| (key_entry(long, key), who))
	}
}

//! The profit order: every open position per market and side, by entry price.
//!
//! Within one market every position is valued at the same price `p`, so a long opened at
//! entry `e` gains `p / e − 1` over its entry cost and a short `1 − p / e`: at any price, the
//! longs rank by ascending entry and the shorts by descending entry. Keyed that way, the order
//! changes only when a position does, never with the price, so it is kept exact on every
//! trade and reduction and auto-deleveraging can take the best-ranked position from it
//! without trusting anyone's ranking.
//!
//! A liquidation that closes a position does not remove its entry: that is one write less
//! for every position a liquidated account holds, the largest share of a worst-case
//! liquidation's writes. The entry stays, stale, counted in `StaleRanks`, until the walk of
//! auto-deleveraging meets it (`Ranked::live` tells it apart, and the walk removes it as
//! one of its steps), the holder's next position in that market takes the same key, or the
//! sweep that blocks with spare weight run (`on_idle`) reaches it. Every open position keeps
//! exactly one live entry, so the order of the live ones is exact.

use crate::{pallet::*, Position, RankKey, WeightInfo};
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use perp_primitives::{entry_price, Balance, MarketId, Price, Ranked};
use sp_runtime::Rounding;

/// The most entries one block's sweep looks at.
pub(crate) const MAX_SWEEP: u32 = 512;

/// What happens to a closed position's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
	/// It leaves the order (a trade).
	Remove,
	/// It stays, stale (a liquidation's close).
	Leave,
}

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
	/// where `new` has it (a size of zero: none); a closed position's entry goes as `closed`
	/// says. An entry left stale at the new key by an earlier position is live again.
	pub(crate) fn rerank(
		who: &T::AccountId,
		market: MarketId,
		old: &Position,
		new: &Position,
		unit: Balance,
		closed: Closed,
	) {
		let su = T::SettlementUnit::get();
		let (before, after) = (rank(old, unit, su), rank(new, unit, su));
		if before == after {
			return;
		}
		if let Some((long, key)) = before {
			if after.is_none() && closed == Closed::Leave {
				StaleRanks::<T>::mutate(|stale| *stale = stale.saturating_add(1));
			} else {
				ProfitOrder::<T>::remove((market, long, key, who));
			}
		}
		if let Some((long, key)) = after {
			if ProfitOrder::<T>::contains_key((market, long, key, who)) {
				StaleRanks::<T>::mutate(|stale| *stale = stale.saturating_sub(1));
			} else {
				ProfitOrder::<T>::insert((market, long, key, who), ());
			}
		}
	}

	/// Whether `who`'s open position in `market` is the one ranked on the `long` side at
	/// `key`.
	pub(crate) fn ranks_live(
		who: &T::AccountId,
		market: MarketId,
		long: bool,
		key: RankKey,
	) -> bool {
		let Some(unit) = Markets::<T>::get(market).map(|params| params.unit) else {
			return false;
		};
		Accounts::<T>::get(who)
			.and_then(|account| account.positions.into_iter().find(|p| p.market == market))
			.and_then(|position| rank(&position, unit, T::SettlementUnit::get()))
			== Some((long, key))
	}

	/// The entry after `after` in `market`'s profit order on one side (see
	/// `MarginReader::ranked_after`).
	pub(crate) fn next_ranked(
		market: MarketId,
		long: bool,
		after: Option<&(Price, T::AccountId)>,
	) -> Option<Ranked<T::AccountId>> {
		let next = match after {
			Some((entry, who)) => {
				let from =
					ProfitOrder::<T>::hashed_key_for((market, long, rank_key(long, *entry), who));
				ProfitOrder::<T>::iter_key_prefix_from((market, long), from).next()
			},
			None => ProfitOrder::<T>::iter_key_prefix((market, long)).next(),
		};
		next.map(|(key, who)| Ranked {
			entry: key_entry(long, key),
			live: Self::ranks_live(&who, market, long, key),
			who,
		})
	}

	/// The sweep of `on_idle` within `limit`: as many entries as `prune_stale`'s weight lets
	/// it look at, none when nothing is stale. Returns the weight used.
	pub(crate) fn sweep_stale(limit: Weight) -> Weight {
		let check = T::DbWeight::get().reads(1);
		if !check.all_lte(limit) {
			return Weight::zero();
		}
		if StaleRanks::<T>::get() == 0 {
			return check;
		}
		let left = limit.saturating_sub(check);
		// The most entries whose sweep fits (the weight grows with them).
		let (mut low, mut high) = (0u32, MAX_SWEEP);
		while low < high {
			let mid = high - (high - low) / 2;
			if T::WeightInfo::prune_stale(mid).all_lte(left) {
				low = mid;
			} else {
				high = mid - 1;
			}
		}
		if low == 0 {
			return check;
		}
		let seen = Self::prune_stale(low);
		check.saturating_add(T::WeightInfo::prune_stale(seen))
	}

	/// Looks at up to `steps` entries of the profit order from where the last call stopped
	/// (`PruneCursor`), removing the stale ones; once past the last entry, the next call starts
	/// from the first. Returns how many it looked at.
	pub(crate) fn prune_stale(steps: u32) -> u32 {
		let mut entries = match PruneCursor::<T>::get() {
			Some(raw) => ProfitOrder::<T>::iter_keys_from(raw.into_inner()),
			None => ProfitOrder::<T>::iter_keys(),
		};
		let mut seen = 0;
		while seen < steps {
			let Some((market, long, key, who)) = entries.next() else {
				PruneCursor::<T>::kill();
				return seen;
			};
			seen += 1;
			if !Self::ranks_live(&who, market, long, key) {
				Self::remove_stale(market, long, key, &who);
			}
		}
		match BoundedVec::try_from(entries.last_raw_key().to_vec()) {
			Ok(raw) => PruneCursor::<T>::put(raw),
			Err(_) => PruneCursor::<T>::kill(),
		}
		seen
	}

	/// Removes `who`'s entry at `entry` from `market`'s profit order on one side if it is
	/// there and stale; returns whether it was (see `MarginLiquidator::prune_ranked`).
	pub(crate) fn do_prune_ranked(
		market: MarketId,
		long: bool,
		entry: Price,
		who: &T::AccountId,
	) -> bool {
		let key = rank_key(long, entry);
		if !ProfitOrder::<T>::contains_key((market, long, key, who))
			|| Self::ranks_live(who, market, long, key)
		{
			return false;
		}
		Self::remove_stale(market, long, key, who);
		true
	}

	/// Removes a stale entry, and its count.
	fn remove_stale(market: MarketId, long: bool, key: RankKey, who: &T::AccountId) {
		ProfitOrder::<T>::remove((market, long, key, who));
		StaleRanks::<T>::mutate(|stale| *stale = stale.saturating_sub(1));
	}
}

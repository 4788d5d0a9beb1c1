//! The risk index: for each account at risk and each asset it is exposed to, the ends of a
//! *safe band* around the price it was last valued at. While every fresh price stays strictly
//! inside its band the account cannot be liquidatable, so discovery only visits the accounts
//! whose band some price has left: its cost grows with the accounts at risk, not with all
//! accounts.
//!
//! The band is the same relative width δ for every asset: δ = (equity − maintenance) /
//! Σ exposure, where a position's exposure is its notional × (1 + its steepest maintenance
//! ratio) and a collateral holding's its weighted value. Moving every price by less than δ
//! moves equity − maintenance by less than the buffer (see `risk::safe_move`).
//!
//! Only the ends a price can be dangerous at are indexed. Health is monotonic in each price
//! (maintenance ratios stay below 100%): equity − maintenance only grows as the price of an
//! asset the account is only long in (long positions, collateral) rises, and as the price of
//! an asset it is only short in falls. Such an asset has one entry, the lower or the upper
//! end; an asset the account is both long and short in has both.
//!
//! An account is re-indexed whenever it changes (deposit, withdrawal, trade) and by `refresh`
//! once a price has left its band while it stayed healthy.

use crate::{
	pallet::*,
	risk,
	valuation::{Pricing, Snapshot},
	Bucket, IndexEntry, Trigger,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use frame_support::traits::Get;
use perp_primitives::{AssetId, Balance, Price, PriceProvider, PriceStatus};
use sp_runtime::{traits::Zero, Rounding};

/// The lower-side key of `bucket`: inverted, so that ascending keys are descending lower ends.
/// A lower end is crossed once the price's bucket is at or below it: its key at or below the
/// key of the price's bucket.
pub(crate) fn lower_key(bucket: u32) -> Bucket {
	(u32::MAX - bucket).to_be_bytes()
}

/// The upper-side key of `bucket`, so that ascending keys are ascending upper ends. An upper end
/// is crossed once the price's bucket is at or above it: its key at or below the key of the
/// price's bucket.
pub(crate) fn upper_key(bucket: u32) -> Bucket {
	bucket.to_be_bytes()
}

/// How many buckets past the crossed end of a band the price `now` is, from the end's key
/// (lower side with `lower`): how far the account has been left behind.
fn depth(key: Bucket, now: u32, lower: bool) -> u32 {
	let bucket = u32::from_be_bytes(key);
	if lower {
		(u32::MAX - bucket).saturating_sub(now)
	} else {
		now.saturating_sub(bucket)
	}
}

/// The sides an account is on in one asset.
#[derive(Clone, Copy, Default)]
struct Sides {
	/// Long positions or collateral: the asset's falls are what hurts.
	long: bool,
	/// Short positions: its rises are what hurts.
	short: bool,
}

impl<T: Config> Pallet<T> {
	/// Recomputes `who`'s safe bands at the last known prices and replaces its index entries.
	/// An account without positions or debt cannot become liquidatable and has none; one that
	/// cannot be valued, or is already below maintenance, is indexed as crossed at any price.
	pub(crate) fn reindex(who: &T::AccountId) {
		let account = Accounts::<T>::get(who).unwrap_or_default();
		let at_risk = account.at_risk();
		let snapshot = at_risk.then(|| Self::snapshot(&account, Pricing::LastKnown).ok()).flatten();
		Self::reindex_from(who, &account, snapshot.as_ref());
	}

	/// Replaces `who`'s index entries by the bands of `snapshot`, a valuation of `account` as
	/// it is stored (at the last known prices, or at fresh ones with collateral whose price is
	/// not fresh counted for less, which only narrows the bands). Without a valuation the
	/// account is indexed as crossed at any price.
	pub(crate) fn reindex_from(
		who: &T::AccountId,
		account: &MarginAccountOf<T>,
		snapshot: Option<&Snapshot<T>>,
	) {
		// A liquidation under way goes on while the account is below its exit (its flag and
		// key stay, re-inserted below should its bands have claimed the same key).
		let in_liquidation = account.crossed
			&& snapshot
				.and_then(|snapshot| snapshot.health())
				.is_some_and(|h| Self::below_exit(&h));
		if account.crossed && !in_liquidation {
			LowerTriggers::<T>::remove(Self::crossed_key(who));
			let mut cleared = account.clone();
			cleared.crossed = false;
			Self::store_account(who, &cleared);
		}
		if let Some(old) = Triggers::<T>::take(who) {
			if old.version < RiskVersion::<T>::get() {
				Outdated::<T>::mutate(|n| *n = n.saturating_sub(1));
			}
			for trigger in old.triggers {
				if let Some(bucket) = trigger.lower {
					LowerTriggers::<T>::remove((trigger.asset, bucket, who));
				}
				if let Some(bucket) = trigger.upper {
					UpperTriggers::<T>::remove((trigger.asset, bucket, who));
				}
			}
		}
		if in_liquidation {
			LowerTriggers::<T>::insert(Self::crossed_key(who), ());
		}
		if account.positions.is_empty() && account.cash >= 0 {
			return;
		}
		let su = T::SettlementUnit::get();
		// Exposure per asset, with the price it was valued at and the sides it is on.
		let mut exposure: BTreeMap<AssetId, (Price, Balance, Sides)> = BTreeMap::new();
		let mut delta = None;
		if let Some(snapshot) = snapshot {
			let mut total: Balance = 0;
			for (asset, line) in &snapshot.collateral {
				let value = risk::value(line.amount, line.unit, line.price, su, Rounding::Up)
					.map(|v| line.weight.mul_ceil(v))
					.unwrap_or(Balance::MAX);
				let entry = exposure.entry(*asset).or_insert((line.price, 0, Sides::default()));
				entry.1 = entry.1.saturating_add(value);
				entry.2.long = true;
				total = total.saturating_add(value);
			}
			for (position, params, price) in &snapshot.markets {
				let notional = risk::value(
					position.size.unsigned_abs(),
					params.unit,
					*price,
					su,
					Rounding::Up,
				)
				.unwrap_or(Balance::MAX);
				let value = risk::position_exposure(notional, &params.tiers);
				let entry = exposure.entry(params.asset).or_insert((*price, 0, Sides::default()));
				entry.1 = entry.1.saturating_add(value);
				if position.size > 0 {
					entry.2.long = true;
				} else {
					entry.2.short = true;
				}
				total = total.saturating_add(value);
			}
			delta = snapshot.health().and_then(|h| {
				let maintenance = i128::try_from(h.maintenance).ok()?;
				risk::safe_move(h.equity.checked_sub(maintenance)?, total)
			});
		}
		if exposure.is_empty() {
			// Debt with nothing to value: bankrupt, and found under the settlement asset.
			exposure.insert(T::SettlementAsset::get(), (Price::zero(), 0, Sides::default()));
			delta = None;
		}
		if exposure
			.values()
			.any(|(price, _, sides)| price.is_zero() && (sides.long || sides.short))
		{
			// An asset with no last price (delisted and listed again) has no band to measure:
			// crossed at any price, until a re-index with a price.
			delta = None;
		}
		let mut triggers = Vec::with_capacity(exposure.len());
		for (asset, (price, _, sides)) in exposure {
			let (lower, upper) = match delta {
				Some(delta) => {
					let (lower, upper) = risk::band(price, delta);
					(
						lower.filter(|_| sides.long).map(risk::bucket),
						upper.filter(|_| sides.short).map(risk::bucket),
					)
				},
				// Crossed at any price: the highest lower end finds it whatever the price.
				None => (Some(u32::MAX), None),
			};
			let trigger =
				Trigger { asset, lower: lower.map(lower_key), upper: upper.map(upper_key) };
			if let Some(bucket) = trigger.lower {
				LowerTriggers::<T>::insert((asset, bucket, who), ());
			}
			if let Some(bucket) = trigger.upper {
				UpperTriggers::<T>::insert((asset, bucket, who), ());
			}
			triggers.push(trigger);
		}
		if !triggers.is_empty() {
			// At most one entry per position and collateral asset: within `MaxExposures`.
			let triggers = TriggersOf::<T>::truncate_from(triggers);
			Triggers::<T>::insert(who, IndexEntry { version: RiskVersion::<T>::get(), triggers });
		}
	}

	/// The `LowerTriggers` key of `who` crossed at any price: the settlement asset's entry at
	/// the highest lower end, which every price reaches (also the key of the bands of an account
	/// with debt and nothing to value).
	pub(crate) fn crossed_key(who: &T::AccountId) -> (AssetId, Bucket, T::AccountId) {
		(T::SettlementAsset::get(), lower_key(u32::MAX), who.clone())
	}

	/// Makes `who`, valued as `account` about to be stored, found at any price without
	/// recomputing its bands: its `crossed` flag and one entry under the settlement asset at the
	/// highest lower end. Its other entries stay (an entry that stays is visited more often than
	/// needed, never less). For an account that just lost value it cannot be valued well
	/// without (still liquidatable after closes, collateral seized into an auction, its debt
	/// left): cheaper than a re-index, which would remove every entry to add this one, and the
	/// flag is written with the record. Returns `false`, changing nothing, for an account
	/// without positions or debt, which the caller re-indexes (out of the index) instead.
	pub(crate) fn cross(who: &T::AccountId, account: &mut MarginAccountOf<T>) -> bool {
		if !account.at_risk() {
			return false;
		}
		if !account.crossed {
			account.crossed = true;
			LowerTriggers::<T>::insert(Self::crossed_key(who), ());
		}
		true
	}

	/// Whether `health` is below the maintenance margin times one plus `ExitBuffer`: an account
	/// a liquidation leaves there stays in liquidation (see `Config::ExitBuffer`).
	pub(crate) fn below_exit(health: &crate::risk::Health) -> bool {
		let exit = health
			.maintenance
			.saturating_add(T::ExitBuffer::get().mul_ceil(health.maintenance));
		// (An exit beyond `i128` is above any equity.)
		health.equity < i128::try_from(exit).unwrap_or(i128::MAX)
	}

	/// [`Self::reindex`] of an account that only gained value, if it is in the index at all:
	/// its bands stay on the safe side, but a debt it had may be gone.
	pub(crate) fn reindex_if_indexed(who: &T::AccountId) {
		if Triggers::<T>::contains_key(who) || Accounts::<T>::get(who).is_some_and(|a| a.crossed) {
			Self::reindex(who);
		}
	}

	/// The bucket of `asset`'s price, if it is fresh. The settlement asset has no price: only
	/// accounts crossed at any price are indexed under it, and bucket 0 finds them.
	fn fresh_bucket(asset: AssetId) -> Option<u32> {
		if asset == T::SettlementAsset::get() {
			return Some(0);
		}
		let info = T::Prices::price(asset);
		(info.status == PriceStatus::Fresh).then(|| risk::bucket(info.price))
	}

	/// Whether `asset` is collateral whose price is not fresh: liquidation values it for less
	/// than the bands assumed (`Pricing::Liquidation`), so every account long on it counts as
	/// crossed until its price is fresh again.
	fn unpriced_collateral(asset: AssetId) -> bool {
		asset != T::SettlementAsset::get()
			&& CollateralAssets::<T>::contains_key(asset)
			&& T::Prices::price(asset).status != PriceStatus::Fresh
	}

	/// Whether a fresh price has reached an end of one of `who`'s bands, it is long on
	/// collateral whose price is not fresh, or its bands are from before the current
	/// `RiskVersion`.
	pub fn is_crossed(who: &T::AccountId) -> bool {
		if Accounts::<T>::get(who).is_some_and(|account| account.crossed) {
			return true;
		}
		Triggers::<T>::get(who).is_some_and(|entry| {
			entry.version < RiskVersion::<T>::get()
				|| entry.triggers.iter().any(|t| {
					if t.lower.is_some() && Self::unpriced_collateral(t.asset) {
						return true;
					}
					let Some(now) = Self::fresh_bucket(t.asset) else { return false };
					t.lower.is_some_and(|b| b <= lower_key(now))
						|| t.upper.is_some_and(|b| b <= upper_key(now))
				})
		})
	}

	/// Voids every band after a governance change that can lower health.
	pub(crate) fn bump_risk_version() {
		RiskVersion::<T>::mutate(|v| *v = v.saturating_add(1));
		Outdated::<T>::put(Triggers::<T>::count());
	}

	/// Up to `limit` indexed accounts with bands from before the current `RiskVersion`, in key
	/// order after `after` (a cursor: the last account of the previous call). Empty at once,
	/// without reading, when there are none; otherwise it visits indexed accounts until it
	/// has `limit`, so a caller pages through them across blocks.
	pub fn outdated_accounts(after: Option<T::AccountId>, limit: u32) -> Vec<T::AccountId> {
		if Outdated::<T>::get() == 0 {
			return Vec::new();
		}
		let version = RiskVersion::<T>::get();
		let iter = match after {
			Some(who) => Triggers::<T>::iter_from(Triggers::<T>::hashed_key_for(who)),
			None => Triggers::<T>::iter(),
		};
		iter.filter(|(_, entry)| entry.version < version)
			.map(|(who, _)| who)
			.take(limit as usize)
			.collect()
	}

	/// Up to `limit` accounts whose band a fresh price has reached, the furthest past their
	/// band first across every asset and side (those crossed at any price, such as the
	/// bankrupt, before all), then those long on collateral whose price is not fresh (it counts
	/// for less now), then those whose bands are from before the current `RiskVersion` (a
	/// governance change may have made them liquidatable at unchanged prices): the only
	/// accounts that can be liquidatable (each must still be re-checked). Reads the crossed
	/// index entries of each asset (and the first one past them), every lower entry of
	/// collateral without a fresh price and, while any account is outdated, the index's
	/// accounts until it has `limit`.
	pub fn crossed_accounts(limit: u32) -> Vec<T::AccountId> {
		let mut assets: Vec<AssetId> = Markets::<T>::iter_values().map(|m| m.asset).collect();
		assets.extend(CollateralAssets::<T>::iter_keys());
		assets.push(T::SettlementAsset::get());
		assets.sort_unstable();
		assets.dedup();
		let limit = limit as usize;
		let mut found: Vec<T::AccountId> = Vec::new();
		let take = |who: T::AccountId, found: &mut Vec<T::AccountId>| {
			if !found.contains(&who) {
				found.push(who);
			}
			found.len() >= limit
		};
		// One stream of crossed entries per asset and side, each deepest first: merged by depth.
		type Stream<A> = core::iter::Peekable<alloc::boxed::Box<dyn Iterator<Item = (u32, A)>>>;
		let mut streams: Vec<Stream<T::AccountId>> = Vec::new();
		for asset in assets.iter().copied() {
			let Some(now) = Self::fresh_bucket(asset) else { continue };
			let lower = LowerTriggers::<T>::iter_key_prefix((asset,))
				.take_while(move |(key, _)| *key <= lower_key(now))
				.map(move |(key, who)| (depth(key, now, true), who));
			let upper = UpperTriggers::<T>::iter_key_prefix((asset,))
				.take_while(move |(key, _)| *key <= upper_key(now))
				.map(move |(key, who)| (depth(key, now, false), who));
			let lower: alloc::boxed::Box<dyn Iterator<Item = _>> = alloc::boxed::Box::new(lower);
			let upper: alloc::boxed::Box<dyn Iterator<Item = _>> = alloc::boxed::Box::new(upper);
			streams.push(lower.peekable());
			streams.push(upper.peekable());
		}
		loop {
			let deepest = streams
				.iter_mut()
				.enumerate()
				.filter_map(|(i, stream)| stream.peek().map(|(depth, _)| (*depth, i)))
				// The deepest; among equals the first stream (lowest asset, lower side first).
				.max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
			let Some((_, i)) = deepest else { break };
			let Some((_, who)) = streams.get_mut(i).and_then(|stream| stream.next()) else {
				break;
			};
			if take(who, &mut found) {
				return found;
			}
		}
		for asset in assets.into_iter().filter(|asset| Self::unpriced_collateral(*asset)) {
			for (_, who) in LowerTriggers::<T>::iter_key_prefix((asset,)) {
				if take(who, &mut found) {
					return found;
				}
			}
		}
		if Outdated::<T>::get() > 0 {
			let version = RiskVersion::<T>::get();
			for (who, entry) in Triggers::<T>::iter() {
				if entry.version < version && take(who, &mut found) {
					return found;
				}
			}
		}
		found
	}
}

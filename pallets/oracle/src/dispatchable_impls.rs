//! The `do_*` functions behind the calls.

use crate::{aggregation::median, pallet::*};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*, traits::UnixTime};
use perp_primitives::{AssetId, Moment, Price};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_add_feeder(who: T::AccountId) -> DispatchResult {
		let mut feeders = Feeders::<T>::get();
		let at = match feeders.binary_search(&who) {
			Ok(_) => return Err(Error::<T>::AlreadyFeeder.into()),
			Err(at) => at,
		};
		feeders.try_insert(at, who.clone()).map_err(|_| Error::<T>::TooManyFeeders)?;
		Feeders::<T>::put(feeders);
		Self::deposit_event(Event::FeederAdded { who });
		Ok(())
	}

	pub(crate) fn do_remove_feeder(who: T::AccountId) -> DispatchResult {
		let mut feeders = Feeders::<T>::get();
		let at = feeders.binary_search(&who).map_err(|_| Error::<T>::NotFeeder)?;
		feeders.remove(at);
		Feeders::<T>::put(feeders);
		// The asset set is small and bounded by governance; each asset's aggregate is
		// recomputed without the removed feeder's value.
		let assets: Vec<AssetId> = Assets::<T>::iter_keys().collect();
		for asset in assets {
			if RawValues::<T>::take(asset, &who).is_some() {
				Self::update_aggregate(asset, Self::now());
			}
		}
		Self::deposit_event(Event::FeederRemoved { who });
		Ok(())
	}

	pub(crate) fn do_feed(who: T::AccountId, values: FeedValuesOf<T>) -> DispatchResult {
		ensure!(Feeders::<T>::get().binary_search(&who).is_ok(), Error::<T>::NoPermission);
		ensure!(!values.is_empty(), Error::<T>::EmptyFeed);
		let max_price = T::MaxPrice::get();
		let mut seen: Vec<AssetId> = Vec::with_capacity(values.len());
		for (asset, price) in values.iter() {
			ensure!(Assets::<T>::contains_key(asset), Error::<T>::UnknownAsset);
			ensure!(!price.is_zero() && *price <= max_price, Error::<T>::InvalidPrice);
			ensure!(!seen.contains(asset), Error::<T>::DuplicateAsset);
			seen.push(*asset);
		}

		let now = Self::now();
		for (asset, price) in values {
			RawValues::<T>::insert(asset, &who, RawValue { price, at: now });
			let aggregate = Self::update_aggregate(asset, now).unwrap_or(price);
			Self::deposit_event(Event::PriceFed { feeder: who.clone(), asset, price, aggregate });
		}
		Ok(())
	}

	/// Recompute the aggregate of `asset` from its raw values; removes it when none are left.
	pub(crate) fn update_aggregate(asset: AssetId, now: Moment) -> Option<Price> {
		let values: Vec<Price> =
			RawValues::<T>::iter_prefix_values(asset).map(|v| v.price).collect();
		match median(values) {
			Some(price) => {
				Aggregates::<T>::insert(asset, Aggregate { price, at: now });
				Some(price)
			},
			None => {
				Aggregates::<T>::remove(asset);
				None
			},
		}
	}

	/// Milliseconds since the Unix epoch; saturates, a clock beyond `u64` milliseconds is
	/// not a case this chain will meet.
	pub(crate) fn now() -> Moment {
		u64::try_from(T::Time::now().as_millis()).unwrap_or(u64::MAX)
	}

	/// Checks the pallet's invariants (listed in the README).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let feeders = Feeders::<T>::get();
		ensure!(feeders.windows(2).all(|w| w[0] < w[1]), "feeder set not sorted or has duplicates");
		for (asset, feeder, value) in RawValues::<T>::iter() {
			ensure!(feeders.binary_search(&feeder).is_ok(), "raw value from a non-feeder");
			ensure!(Assets::<T>::contains_key(asset), "raw value for an unlisted asset");
			ensure!(!value.price.is_zero(), "zero raw value");
		}
		for asset in Assets::<T>::iter_keys() {
			let values: Vec<Price> =
				RawValues::<T>::iter_prefix_values(asset).map(|v| v.price).collect();
			let expected = median(values);
			ensure!(
				Aggregates::<T>::get(asset).map(|a| a.price) == expected,
				"aggregate is not the median of the stored values"
			);
		}
		Ok(())
	}
}

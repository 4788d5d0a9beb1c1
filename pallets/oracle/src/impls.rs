//! The traits this pallet provides to other pallets.

use crate::{aggregation, pallet::*};
use perp_primitives::{AssetId, PriceInfo, PriceProvider, PriceStats, PriceStatus};

impl<T: Config> PriceProvider for Pallet<T> {
	fn price(asset: AssetId) -> PriceInfo {
		let Some(aggregate) = Aggregates::<T>::get(asset) else { return PriceInfo::missing() };
		let age = Self::now().saturating_sub(aggregate.at);
		let status = if aggregate.frozen_since.is_some() {
			PriceStatus::Frozen
		} else if age <= Params::<T>::get().max_age {
			PriceStatus::Fresh
		} else {
			PriceStatus::Stale
		};
		PriceInfo { price: aggregate.price, updated_at: aggregate.at, status }
	}

	fn stats(asset: AssetId) -> Option<PriceStats> {
		Aggregates::<T>::get(asset).map(|aggregate| PriceStats {
			index: aggregate.index,
			volatility: aggregation::annualized_volatility(aggregate.variance_rate),
		})
	}
}

impl<T: Config> Pallet<T> {
	/// Every listed asset with its price, status and statistics (for the runtime API).
	pub fn asset_views() -> alloc::vec::Vec<crate::AssetView> {
		Assets::<T>::iter_keys()
			.map(|asset| crate::AssetView {
				asset,
				price: Self::price(asset),
				stats: Self::stats(asset),
				feeders: Aggregates::<T>::get(asset).map_or(0, |a| a.feeders),
			})
			.collect()
	}

	/// The feeders' current values for `asset` (for the runtime API).
	pub fn raw_value_views(asset: AssetId) -> alloc::vec::Vec<crate::RawValueView<T::AccountId>> {
		let now = Self::now();
		let max_age = Params::<T>::get().max_age;
		Assets::<T>::get(asset)
			.unwrap_or_default()
			.into_iter()
			.map(|crate::FeederValue { feeder, value }| crate::RawValueView {
				feeder,
				price: value.price,
				at: value.at,
				fresh: now.saturating_sub(value.at) <= max_age,
			})
			.collect()
	}
}

/// The oracle's key in a validator's session keys: the `orcl` feeder key of its offchain worker.
impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
	type Public = crate::offchain::crypto::Public;
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// For other pallets' benchmarks: lists `asset` and makes its price `Fresh` at `price`.
	pub fn set_fresh_price(asset: AssetId, price: perp_primitives::Price) {
		use sp_runtime::traits::Zero;
		if !Assets::<T>::contains_key(asset) {
			Assets::<T>::insert(asset, crate::ValuesOf::<T>::default());
		}
		Aggregates::<T>::insert(
			asset,
			crate::Aggregate {
				price,
				at: Self::now(),
				feeders: 1,
				index: price,
				variance_rate: Zero::zero(),
				base: None,
				frozen_since: None,
			},
		);
	}
}

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

//! The traits this pallet provides to other pallets.

use crate::pallet::*;
use frame_support::traits::Get;
use perp_primitives::{AssetId, PriceInfo, PriceProvider, PriceStatus};

impl<T: Config> PriceProvider for Pallet<T> {
	fn price(asset: AssetId) -> PriceInfo {
		let Some(aggregate) = Aggregates::<T>::get(asset) else { return PriceInfo::missing() };
		let age = Self::now().saturating_sub(aggregate.at);
		let status = if age <= T::MaxAge::get() { PriceStatus::Fresh } else { PriceStatus::Stale };
		PriceInfo { price: aggregate.price, updated_at: aggregate.at, status }
	}
}

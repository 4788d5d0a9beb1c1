//! The traits this pallet provides to other pallets.

use crate::pallet::*;
use perp_primitives::{HealthState, MarginInspector};

impl<T: Config> MarginInspector<T::AccountId> for Pallet<T> {
	fn health(who: &T::AccountId) -> Option<HealthState> {
		// Without positions an account has no margin requirement: any collateral is healthy.
		Collateral::<T>::iter_prefix(who).next().map(|_| HealthState::Healthy)
	}
}

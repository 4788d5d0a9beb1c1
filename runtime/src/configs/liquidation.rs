//! Liquidation: reads account health from the margin pallet; Root sets the circuit breaker.

use crate::{Margin, Runtime};
use frame_system::EnsureRoot;

impl pallet_liquidation::Config for Runtime {
	type Margin = Margin;
	type EmergencyOrigin = EnsureRoot<crate::AccountId>;
	type WeightInfo = pallet_liquidation::weights::SubstrateWeight<Runtime>;
}

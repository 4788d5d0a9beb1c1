//! Oracle aggregation: Alice, Bob and Charlie feed from genesis; Root manages the feeder set.

use crate::{Runtime, Timestamp};
use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use perp_primitives::Price;

parameter_types! {
	/// No asset this chain lists trades anywhere near a billion dollars a unit.
	pub const MaxPrice: Price = Price::from_u32(1_000_000_000);
}

impl pallet_perp_oracle::Config for Runtime {
	type FeederOrigin = EnsureRoot<crate::AccountId>;
	type Time = Timestamp;
	type MaxFeeders = ConstU32<16>;
	type MaxValuesPerFeed = ConstU32<8>;
	/// Ten blocks.
	type MaxAge = ConstU64<60_000>;
	type MaxPrice = MaxPrice;
	type WeightInfo = pallet_perp_oracle::weights::SubstrateWeight<Runtime>;
}

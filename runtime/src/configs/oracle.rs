//! Oracle aggregation: Alice, Bob and Charlie feed from genesis; Root is governance.

use crate::{Runtime, Timestamp};
use frame_support::{parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use pallet_perp_oracle::OracleParams;
use perp_primitives::Price;
use sp_runtime::Perbill;

parameter_types! {
	/// No asset this chain lists trades anywhere near a billion dollars a unit.
	pub const MaxPrice: Price = Price::from_u32(1_000_000_000);
	/// The parameters in force from genesis until governance sets others.
	pub const DefaultOracleParams: OracleParams = OracleParams {
		// Ten blocks: a price that no quorum has confirmed for a minute is stale.
		max_age: 60_000,
		// Two of the three dev feeders.
		min_feeders: 2,
		max_deviation: Perbill::from_percent(5),
		max_change_per_block: Perbill::from_percent(25),
		// An index that follows roughly the last ten aggregates.
		index_smoothing: Perbill::from_percent(18),
		// RiskMetrics-style decay.
		volatility_decay: Perbill::from_percent(94),
	};
}

impl pallet_perp_oracle::Config for Runtime {
	type GovernanceOrigin = EnsureRoot<crate::AccountId>;
	type Time = Timestamp;
	type MaxFeeders = ConstU32<16>;
	type MaxAssets = ConstU32<16>;
	// One feed a block carries every asset (a feeder feeds at most once a block).
	type MaxValuesPerFeed = ConstU32<16>;
	type MaxPrice = MaxPrice;
	type DefaultParams = DefaultOracleParams;
	type AuthorityId = pallet_perp_oracle::offchain::crypto::FeederId;
	// Every other block: a fresh value well within `max_age`, and the previous feed included
	// before the next one takes the following nonce.
	type OffchainFeedInterval = ConstU32<2>;
	type PriceUsers = crate::Margin;
	type WeightInfo = pallet_perp_oracle::weights::SubstrateWeight<Runtime>;
}

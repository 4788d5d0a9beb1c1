//! Margin accounts: collateral in the USD settlement asset, held by a pallet custody account.

use crate::{asset_ids, Assets, Runtime};
use frame_support::{parameter_types, PalletId};

parameter_types! {
	pub const SettlementAsset: crate::AssetId = asset_ids::USD;
	pub const MarginPalletId: PalletId = PalletId(*b"perp/mrg");
}

impl pallet_margin::Config for Runtime {
	type Assets = Assets;
	type SettlementAsset = SettlementAsset;
	type PalletId = MarginPalletId;
	type WeightInfo = pallet_margin::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AssetsBenchmarkHelper;
}

/// Funds benchmark accounts through `pallet-assets`, creating the asset if needed.
#[cfg(feature = "runtime-benchmarks")]
pub struct AssetsBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_margin::BenchmarkHelper<crate::AccountId> for AssetsBenchmarkHelper {
	fn fund(asset: crate::AssetId, who: &crate::AccountId, amount: crate::Balance) {
		use frame_support::traits::fungibles::{Create, Inspect, Mutate};
		let admin: crate::AccountId = frame_benchmarking::account("asset-admin", 0, 0);
		type AccountId = crate::AccountId;
		if !<Assets as Inspect<AccountId>>::asset_exists(asset) {
			// Benchmark set-up only: a failure here fails the benchmark, never a block.
			let _ = <Assets as Create<AccountId>>::create(asset, admin, true, 1);
		}
		let _ = <Assets as Mutate<AccountId>>::mint_into(asset, who, amount);
	}
}

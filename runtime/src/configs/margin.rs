//! Margin accounts: USD cash, DOT and native collateral, perpetual markets against the vault.

use crate::{asset_ids, Assets, Balances, Oracle, Runtime, USD_UNIT};
use frame_support::{
	parameter_types,
	traits::{fungible::UnionOf, ConstU128, ConstU32},
	PalletId,
};
use frame_system::EnsureRoot;
use sp_runtime::{traits::Convert, Either};

parameter_types! {
	pub const SettlementAsset: crate::AssetId = asset_ids::USD;
	pub const MarginPalletId: PalletId = PalletId(*b"perp/mrg");
	/// An account a liquidation leaves below 110% of its maintenance margin stays in
	/// liquidation until it is above that (at most the liquidation's `Buffer`, so that a
	/// liquidation that restores the initial margin plus the buffer always ends it).
	pub const ExitBuffer: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);
}

/// The most margin tiers a market may have.
pub type MaxTiers = ConstU32<8>;

/// Asset 0 is the native token (`pallet-balances`), every other id a `pallet-assets` asset.
pub struct NativeIsZero;
impl Convert<crate::AssetId, Either<(), crate::AssetId>> for NativeIsZero {
	fn convert(asset: crate::AssetId) -> Either<(), crate::AssetId> {
		if asset == asset_ids::NATIVE {
			Either::Left(())
		} else {
			Either::Right(asset)
		}
	}
}

/// The native token and the `pallet-assets` assets as one `fungibles` implementation.
pub type NativeAndAssets =
	UnionOf<Balances, Assets, NativeIsZero, crate::AssetId, crate::AccountId>;

impl pallet_margin::Config for Runtime {
	type Assets = NativeAndAssets;
	type Prices = Oracle;
	type GovernanceOrigin = EnsureRoot<crate::AccountId>;
	type SettlementAsset = SettlementAsset;
	type SettlementUnit = ConstU128<USD_UNIT>;
	type PalletId = MarginPalletId;
	type MaxPositions = ConstU32<8>;
	type MaxTiers = MaxTiers;
	type MaxCollateralAssets = ConstU32<8>;
	type MaxMarkets = ConstU32<32>;
	type MaxPrice = super::oracle::MaxPrice;
	type ExitBuffer = ExitBuffer;
	type WeightInfo = pallet_margin::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MarginBenchmarkHelper;
}

/// Funds benchmark accounts (creating `pallet-assets` assets as needed) and makes oracle prices
/// fresh.
#[cfg(feature = "runtime-benchmarks")]
pub struct MarginBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_margin::BenchmarkHelper<crate::AccountId> for MarginBenchmarkHelper {
	fn fund(asset: crate::AssetId, who: &crate::AccountId, amount: crate::Balance) {
		use frame_support::traits::fungibles::{Create, Inspect, Mutate};
		type AccountId = crate::AccountId;
		let admin: AccountId = frame_benchmarking::account("asset-admin", 0, 0);
		if !<NativeAndAssets as Inspect<AccountId>>::asset_exists(asset) {
			// Benchmark set-up only: a failure here fails the benchmark, never a block.
			let _ = <Assets as Create<AccountId>>::create(asset, admin, true, 1);
		}
		let _ = <NativeAndAssets as Mutate<AccountId>>::mint_into(asset, who, amount);
	}

	fn set_price(asset: crate::AssetId, price: perp_primitives::Price) {
		Oracle::set_fresh_price(asset, price);
	}
}

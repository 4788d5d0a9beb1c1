//! Liquidation: validators' offchain workers liquidate through unsigned batches, checked against
//! margin's state; penalties go to the insurance fund; Root sets the circuit breaker.

use crate::{priority::MAX_OPERATIONAL_PRIORITY, Margin, Runtime};
use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
	PalletId,
};
use frame_system::EnsureRoot;
use sp_runtime::Perbill;

parameter_types! {
	pub const InsuranceFundId: PalletId = PalletId(*b"perp/ins");
	/// 1% of the closed notional.
	pub const LiquidationPenalty: Perbill = Perbill::from_percent(1);
	/// Partial liquidation restores equity to the initial margin plus 10%.
	pub const LiquidationBuffer: Perbill = Perbill::from_percent(10);
	/// Below half its maintenance margin an account is closed in full.
	pub const FullLiquidationBelow: Perbill = Perbill::from_percent(50);
}

/// Unsigned liquidations outrank every signed transaction, operational ones included.
pub const LIQUIDATION_PRIORITY: u64 = MAX_OPERATIONAL_PRIORITY + 1;

impl pallet_liquidation::Config for Runtime {
	type Margin = Margin;
	type EmergencyOrigin = EnsureRoot<crate::AccountId>;
	type PalletId = InsuranceFundId;
	type Penalty = LiquidationPenalty;
	type Buffer = LiquidationBuffer;
	type FullLiquidationBelow = FullLiquidationBelow;
	type MaxBatch = ConstU32<16>;
	type UnsignedPriority = ConstU64<LIQUIDATION_PRIORITY>;
	type WeightInfo = pallet_liquidation::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LiquidationBenchmarkHelper;
}

/// Traders with `MaxPositions` leveraged positions through the real margin pallet, and a price
/// move that leaves them healthy or deep below maintenance.
#[cfg(feature = "runtime-benchmarks")]
pub struct LiquidationBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl LiquidationBenchmarkHelper {
	fn traders(n: u32, crash: bool) -> alloc::vec::Vec<crate::AccountId> {
		use crate::{
			asset_ids, genesis_config_presets as presets, Oracle, RuntimeOrigin, USD_UNIT,
		};
		use frame_support::traits::{fungibles::Mutate, Get};
		use perp_primitives::Price;
		let positions = <Runtime as pallet_margin::Config>::MaxPositions::get();
		let btc_market = presets::markets().into_iter().next().expect("genesis has BTC-PERP");
		while pallet_margin::Markets::<Runtime>::count() < positions {
			let _ = Margin::create_market(RuntimeOrigin::root(), btc_market.clone());
		}
		Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(65_000));
		Oracle::set_fresh_price(asset_ids::ETH, Price::from_u32(3_000));
		let markets: alloc::vec::Vec<_> =
			pallet_margin::Markets::<Runtime>::iter().map(|(id, m)| (id, m.asset)).collect();
		let traders: alloc::vec::Vec<crate::AccountId> = (0..n)
			.map(|i| {
				let who: crate::AccountId = frame_benchmarking::account("trader", i, 0);
				let _ = <crate::configs::NativeAndAssets as Mutate<_>>::mint_into(
					asset_ids::USD,
					&who,
					20_000 * USD_UNIT,
				);
				let _ = Margin::deposit(
					RuntimeOrigin::signed(who.clone()),
					asset_ids::USD,
					10_000 * USD_UNIT,
				);
				// About 20,000 USD of notional per position: 16x in all.
				for (market, asset) in &markets {
					let size: i128 = if *asset == asset_ids::ETH {
						6_666_666_666_666_666_666
					} else {
						30_769_230
					};
					let _ = Margin::trade(RuntimeOrigin::signed(who.clone()), *market, size);
				}
				who
			})
			.collect();
		if crash {
			// -5.5%: equity ≈ 9,900 − 8,800, below half the ≈ 3,800 maintenance margin, so
			// every position is closed: the worst case.
			Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(61_425));
			Oracle::set_fresh_price(asset_ids::ETH, Price::from_u32(2_835));
		}
		traders
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_liquidation::BenchmarkHelper<crate::AccountId> for LiquidationBenchmarkHelper {
	fn liquidatable_accounts(n: u32) -> alloc::vec::Vec<crate::AccountId> {
		Self::traders(n, true)
	}

	fn healthy_accounts(n: u32) -> alloc::vec::Vec<crate::AccountId> {
		Self::traders(n, false)
	}
}

//! Liquidation: validators' offchain workers liquidate through unsigned batches, checked against
//! margin's state; penalties go to the insurance fund; Root sets the circuit breaker.

use crate::{
	priority::{FEED_PRIORITY, MAX_OPERATIONAL_PRIORITY},
	BlockNumber, Margin, Oracle, Runtime, USD_UNIT,
};
use frame_support::{
	parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, Get},
	weights::Weight,
	PalletId,
};
use frame_system::EnsureRoot;
use pallet_liquidation::AuctionParams;
use sp_runtime::Perbill;

parameter_types! {
	pub const InsuranceFundId: PalletId = PalletId(*b"perp/ins");
	/// 1% of the closed notional.
	pub const LiquidationPenalty: Perbill = Perbill::from_percent(1);
	/// Partial liquidation restores equity to the initial margin plus 10%.
	pub const LiquidationBuffer: Perbill = Perbill::from_percent(10);
	/// Below half its maintenance margin an account is closed in full.
	pub const FullLiquidationBelow: Perbill = Perbill::from_percent(50);
	/// A keeper's signed liquidation earns it a fifth of the penalties.
	pub const KeeperShare: Perbill = Perbill::from_percent(20);
	/// Collateral auctions start 10% above the oracle price and lose 0.5% a block (under the
	/// oracle price after 20 blocks, two minutes); they must be restarted after 200 blocks or
	/// below 60% of the oracle price at their start. A restart pays its keeper 10 USD; a
	/// partial take must leave at least 50 USD to raise.
	pub const DefaultAuctionParams: AuctionParams<BlockNumber> = AuctionParams {
		start_premium: Perbill::from_percent(10),
		step: Perbill::from_parts(5_000_000),
		floor: Perbill::from_percent(60),
		tail: 200,
		tip: 10 * USD_UNIT,
		dust: 50 * USD_UNIT,
	};
}

/// Liquidations close at most 50,000,000 USD of notional per market and block; the rest waits for
/// the next block.
pub const MAX_LIQUIDATED_NOTIONAL_PER_BLOCK: u128 = 50_000_000 * USD_UNIT;

/// The insurance fund pays at most 100,000 USD of shortfalls a block; the vault absorbs the
/// rest.
pub const INSURANCE_CAP_PER_BLOCK: u128 = 100_000 * USD_UNIT;

/// The vault carries up to 250,000 USD of socialized loss; auto-deleveraging recovers the rest
/// from the most profitable positions.
pub const ADL_THRESHOLD: u128 = 250_000 * USD_UNIT;

/// An auction nobody takes is restarted at most 8 times (with the default curve, about
/// 121 blocks of decay each, some two hours in all); the next restart retires it to the
/// insurance fund.
pub const MAX_AUCTION_RESTARTS: u32 = 8;

/// One liquidation starts at most 2 auctions (or folds) for an account; its other collateral
/// goes to auction once those have ended. The benchmarked worst case holds every collateral
/// asset (`MaxCollateralAssets`) and starts this many.
pub const MAX_AUCTIONS_PER_LIQUIDATION: u32 = 2;

/// Unsigned liquidations outrank every signed transaction, operational ones included, except
/// the oracle feeds.
pub const LIQUIDATION_PRIORITY: u64 = MAX_OPERATIONAL_PRIORITY + 1;
const _: () = assert!(LIQUIDATION_PRIORITY < FEED_PRIORITY);

/// The room liquidations leave the oracle feeds in every block: every one of `MaxFeeders`
/// feeders feeding `MaxValuesPerFeed` values (every asset), each with the operational extrinsic
/// base. A feeder feeds at most once a block (`Oracle::check_feed`), so this is the bound.
pub struct FeedRoom;

impl FeedRoom {
	/// The feeders a block may carry a feed of: `MaxFeeders`.
	pub fn feeders() -> u32 {
		<Runtime as pallet_perp_oracle::Config>::MaxFeeders::get()
	}

	/// One feed at its bounds (`MaxValuesPerFeed` values, `MaxFeeders` feeders), with the
	/// operational extrinsic base.
	pub fn one_feed() -> Weight {
		use pallet_perp_oracle::WeightInfo as _;
		let values: u32 = <Runtime as pallet_perp_oracle::Config>::MaxValuesPerFeed::get();
		let base = crate::configs::RuntimeBlockWeights::get()
			.get(frame_support::dispatch::DispatchClass::Operational)
			.base_extrinsic;
		<Runtime as pallet_perp_oracle::Config>::WeightInfo::feed(values, Self::feeders())
			.saturating_add(base)
	}
}

impl Get<Weight> for FeedRoom {
	fn get() -> Weight {
		Self::one_feed().saturating_mul(Self::feeders().into())
	}
}

impl pallet_liquidation::Config for Runtime {
	type Margin = Margin;
	type Prices = Oracle;
	type EmergencyOrigin = EnsureRoot<crate::AccountId>;
	type GovernanceOrigin = EnsureRoot<crate::AccountId>;
	type KeeperShare = KeeperShare;
	type InsuranceCapPerBlock = ConstU128<INSURANCE_CAP_PER_BLOCK>;
	type AdlThreshold = ConstU128<ADL_THRESHOLD>;
	type MaxAuctions = ConstU32<1_024>;
	type MaxRestarts = ConstU32<MAX_AUCTION_RESTARTS>;
	type MaxAuctionsPerLiquidation = ConstU32<MAX_AUCTIONS_PER_LIQUIDATION>;
	type MaxLiquidatedNotionalPerBlock = ConstU128<MAX_LIQUIDATED_NOTIONAL_PER_BLOCK>;
	type DefaultAuctionParams = DefaultAuctionParams;
	type PalletId = InsuranceFundId;
	type Penalty = LiquidationPenalty;
	type Buffer = LiquidationBuffer;
	type FullLiquidationBelow = FullLiquidationBelow;
	type MaxBatch = ConstU32<64>;
	type MaxBatchesPerRun = ConstU32<64>;
	type FeedRoom = FeedRoom;
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
	fn mint(asset: crate::AssetId, who: &crate::AccountId, amount: perp_primitives::Balance) {
		use frame_support::traits::fungibles::Mutate;
		let _ = <crate::configs::NativeAndAssets as Mutate<_>>::mint_into(asset, who, amount);
	}

	/// Lists collateral assets up to `MaxCollateralAssets` beside the genesis's DOT and native
	/// token: `pallet-assets` assets from id 5 on, priced at 5 USD, at a 10% weight (so that
	/// they add little to an account's equity). Returns every collateral asset with its unit.
	fn all_collateral() -> alloc::vec::Vec<(crate::AssetId, perp_primitives::Balance)> {
		use crate::{genesis_config_presets::DOT_UNIT, Assets, RuntimeOrigin};
		use perp_primitives::Price;
		let max = <Runtime as pallet_margin::Config>::MaxCollateralAssets::get();
		let custody = pallet_margin::Pallet::<Runtime>::custody_account();
		let mut id = 5;
		while pallet_margin::CollateralAssets::<Runtime>::count() < max && id < 5 + max {
			if !pallet_margin::CollateralAssets::<Runtime>::contains_key(id) {
				let owner = sp_runtime::MultiAddress::Id(custody.clone());
				let _ = Assets::force_create(RuntimeOrigin::root(), id.into(), owner, true, 1);
				Self::mint(id, &custody, 1);
				let _ = Oracle::add_asset(RuntimeOrigin::root(), id);
				let weight = sp_runtime::Perbill::from_percent(10);
				let params =
					pallet_margin::CollateralParams { unit: DOT_UNIT, weight, min_amount: 0 };
				let _ = Margin::set_collateral(RuntimeOrigin::root(), id, Some(params));
			}
			Oracle::set_fresh_price(id, Price::from_u32(5));
			id += 1;
		}
		let mut all: alloc::vec::Vec<_> = pallet_margin::CollateralAssets::<Runtime>::iter()
			.map(|(asset, params)| (asset, params.unit))
			.collect();
		all.sort_unstable();
		all
	}

	/// Creates BTC markets until there are `count`.
	fn markets(count: u32) {
		use crate::{genesis_config_presets as presets, RuntimeOrigin};
		let btc_market = presets::markets().into_iter().next().expect("genesis has BTC-PERP");
		while pallet_margin::Markets::<Runtime>::count() < count {
			let _ = Margin::create_market(RuntimeOrigin::root(), btc_market.clone());
		}
	}

	/// `n` traders, each with `positions` long positions of about 20,000 USD of notional
	/// (markets by id; more BTC markets are created up to `MaxPositions`) on 1,250 USD a
	/// position, about 16x, and about 55 USD of every collateral asset (`MaxCollateralAssets`
	/// of them listed): from one position up, the debt a crash leaves after the close exceeds
	/// all of it, so every holding is to go to auction, each worth at least the minimum lot,
	/// `MaxAuctionsPerLiquidation` of them in the liquidation itself (the worst case of the
	/// debt stage); then the price `move_`.
	fn traders(n: u32, move_: Move, positions: u32) -> alloc::vec::Vec<crate::AccountId> {
		use crate::{asset_ids, RuntimeOrigin};
		use frame_support::traits::Get;
		use perp_primitives::Price;
		let max = <Runtime as pallet_margin::Config>::MaxPositions::get();
		Self::markets(max);
		Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(65_000));
		Oracle::set_fresh_price(asset_ids::ETH, Price::from_u32(3_000));
		Oracle::set_fresh_price(asset_ids::DOT, Price::from_u32(5));
		Oracle::set_fresh_price(asset_ids::NATIVE, Price::from_u32(5));
		let collateral = Self::all_collateral();
		let mut markets: alloc::vec::Vec<_> =
			pallet_margin::Markets::<Runtime>::iter().map(|(id, m)| (id, m.asset)).collect();
		markets.sort_unstable();
		markets.truncate(positions.min(max) as usize);
		let margin = 1_250 * USD_UNIT * u128::from(positions.min(max));
		let traders: alloc::vec::Vec<crate::AccountId> = (0..n)
			.map(|i| {
				let who: crate::AccountId = frame_benchmarking::account("trader", i, 0);
				Self::mint(asset_ids::USD, &who, margin.saturating_add(USD_UNIT));
				let origin = || RuntimeOrigin::signed(who.clone());
				let _ = Margin::deposit(origin(), asset_ids::USD, margin);
				// 11 units (55 USD at 5 USD) of every collateral asset, which the debt left
				// after the close sends to auction.
				for (asset, unit) in &collateral {
					Self::mint(*asset, &who, 12 * unit);
					let _ = Margin::deposit(origin(), *asset, 11 * unit);
				}
				for (market, asset) in &markets {
					let size: i128 = if *asset == asset_ids::ETH {
						6_666_666_666_666_666_666
					} else {
						30_769_230
					};
					let _ = Margin::trade(origin(), *market, size);
				}
				who
			})
			.collect();
		if move_ == Move::Rally {
			// +2%: every (long) position in profit, every account healthy.
			Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(66_300));
			Oracle::set_fresh_price(asset_ids::ETH, Price::from_u32(3_060));
		}
		if move_ == Move::Crash {
			// -7.5%: per position, equity ≈ 1,250 − 1,500 (plus about 100 of weighted
			// collateral for the account), below half the ≈ 460 maintenance margin from one
			// position up, so every position is closed and the debt left after the discount
			// and penalty (≈ 650 USD for one position) exceeds the ≈ 440 USD of collateral:
			// the liquidation starts as many auctions as it may, the worst case.
			Oracle::set_fresh_price(asset_ids::BTC, Price::from_rational(120_250, 2));
			Oracle::set_fresh_price(asset_ids::ETH, Price::from_u32(2_775));
		}
		traders
	}
}

/// The price move after the benchmark traders open their positions.
#[cfg(feature = "runtime-benchmarks")]
#[derive(PartialEq)]
enum Move {
	None,
	Rally,
	Crash,
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_liquidation::BenchmarkHelper<crate::AccountId> for LiquidationBenchmarkHelper {
	fn liquidatable_accounts(n: u32, positions: u32) -> alloc::vec::Vec<crate::AccountId> {
		Self::traders(n, Move::Crash, positions)
	}

	fn max_positions() -> u32 {
		<<Runtime as pallet_margin::Config>::MaxPositions as frame_support::traits::Get<u32>>::get()
	}

	fn healthy_accounts(n: u32) -> alloc::vec::Vec<crate::AccountId> {
		Self::traders(n, Move::None, Self::max_positions())
	}

	/// 100 USD and 1,000 DOT (at 5 USD) behind a 1 BTC long at 65,000; BTC falls to 60,000:
	/// bankrupt, and its debt after the close (≈ 6,100 USD) exceeds what the DOT is worth.
	fn indebted_account() -> crate::AccountId {
		use crate::{asset_ids, genesis_config_presets::DOT_UNIT, RuntimeOrigin};
		use perp_primitives::Price;
		let who: crate::AccountId = frame_benchmarking::account("indebted", 0, 0);
		Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(65_000));
		Oracle::set_fresh_price(asset_ids::DOT, Price::from_u32(5));
		Self::mint(asset_ids::USD, &who, 100 * USD_UNIT);
		Self::mint(asset_ids::DOT, &who, 1_001 * DOT_UNIT);
		let origin = || RuntimeOrigin::signed(who.clone());
		let _ = Margin::deposit(origin(), asset_ids::USD, 100 * USD_UNIT);
		let _ = Margin::deposit(origin(), asset_ids::DOT, 1_000 * DOT_UNIT);
		let _ = Margin::trade(origin(), 0, crate::genesis_config_presets::BTC_UNIT as i128);
		Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(60_000));
		who
	}

	/// `n` traders, each long in the first `MaxPositions` markets from the same entry, with
	/// `MaxMarkets` markets listed (every one a side for deleveraging to walk): deleveraging
	/// takes the traders' positions in market 0 first (ties go in market order).
	fn profitable_positions(
		n: u32,
	) -> alloc::vec::Vec<(crate::AccountId, perp_primitives::MarketId)> {
		use frame_support::traits::Get;
		Self::markets(<Runtime as pallet_margin::Config>::MaxMarkets::get());
		Self::traders(n, Move::Rally, Self::max_positions())
			.into_iter()
			.map(|who| (who, 0))
			.collect()
	}

	fn fund_cash(who: &crate::AccountId, amount: perp_primitives::Balance) {
		use crate::{asset_ids, RuntimeOrigin};
		Self::mint(asset_ids::USD, who, amount.saturating_add(USD_UNIT));
		let _ = Margin::deposit(RuntimeOrigin::signed(who.clone()), asset_ids::USD, amount);
	}
}

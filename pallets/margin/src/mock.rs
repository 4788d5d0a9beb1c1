//! A minimal runtime for the margin pallet's tests: `pallet-balances` is the native token (asset
//! 0), `pallet-assets` the others, and a price table plays the oracle.

use crate::{self as pallet_margin, CollateralParams, MarketParams, Tier};
use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		fungible::UnionOf,
		tokens::fungibles::{Inspect, Mutate},
		AsEnsureOriginWithArg, ConstU128, ConstU32,
	},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use perp_primitives::{AssetId, Balance, Price, PriceInfo, PriceProvider, PriceStats, PriceStatus};
use sp_runtime::{traits::Convert, BuildStorage, Either, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeTask,
		RuntimeViewFunction,
		RuntimeHoldReason,
		RuntimeFreezeReason
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Assets = pallet_assets;
	#[runtime::pallet_index(3)]
	pub type Margin = pallet_margin;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ConstU128<NATIVE_ED>;
}

#[derive_impl(pallet_assets::config_preludes::TestDefaultConfig)]
impl pallet_assets::Config for Test {
	type Balance = Balance;
	type AssetId = AssetId;
	type AssetIdParameter = AssetId;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<u64>>;
	type ForceOrigin = EnsureRoot<u64>;
}

/// Asset 0 is the native token; every other id is a `pallet-assets` asset.
pub struct NativeIsZero;
impl Convert<AssetId, Either<(), AssetId>> for NativeIsZero {
	fn convert(asset: AssetId) -> Either<(), AssetId> {
		if asset == NATIVE {
			Either::Left(())
		} else {
			Either::Right(asset)
		}
	}
}
pub type AllAssets = UnionOf<Balances, Assets, NativeIsZero, AssetId, u64>;

pub const NATIVE: AssetId = 0;
pub const USD: AssetId = 1;
pub const BTC: AssetId = 2;
pub const DOT: AssetId = 4;
/// An asset that exists but is not collateral.
pub const OTHER: AssetId = 9;
pub const NATIVE_ED: Balance = 5;
pub const MIN_BALANCE: Balance = 10;
/// USD has 6 decimals, DOT 10, BTC 8, the native token 12.
pub const USD_UNIT: Balance = 1_000_000;
pub const DOT_UNIT: Balance = 10_000_000_000;
pub const BTC_UNIT: Balance = 100_000_000;
pub const NATIVE_UNIT: Balance = 1_000_000_000_000;

parameter_types! {
	pub const SettlementAsset: AssetId = USD;
	pub const MarginPalletId: PalletId = PalletId(*b"perp/mrg");
	pub const MaxPrice: Price = Price::from_u32(1_000_000_000);
	pub const ExitBuffer: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);
	/// The price table: asset → (price, status).
	pub static Prices: BTreeMap<AssetId, (Price, PriceStatus)> = BTreeMap::new();
	/// How many prices [`PriceTable`] has handed out.
	pub static PriceReads: u32 = 0;
}

/// Reads [`Prices`].
pub struct PriceTable;
impl PriceProvider for PriceTable {
	fn price(asset: AssetId) -> PriceInfo {
		PriceReads::mutate(|n| *n += 1);
		match Prices::get().get(&asset) {
			Some((price, status)) => PriceInfo { price: *price, updated_at: 0, status: *status },
			None => PriceInfo::missing(),
		}
	}
	fn stats(_asset: AssetId) -> Option<PriceStats> {
		None
	}
}

/// Sets `asset`'s price, fresh.
pub fn set_price(asset: AssetId, price: Price) {
	set_price_status(asset, price, PriceStatus::Fresh);
}

/// Sets `asset`'s price with a status.
pub fn set_price_status(asset: AssetId, price: Price, status: PriceStatus) {
	let mut prices = Prices::get();
	prices.insert(asset, (price, status));
	Prices::set(prices);
}

impl pallet_margin::Config for Test {
	type Assets = AllAssets;
	type Prices = PriceTable;
	type GovernanceOrigin = EnsureRoot<u64>;
	type SettlementAsset = SettlementAsset;
	type SettlementUnit = ConstU128<USD_UNIT>;
	type PalletId = MarginPalletId;
	type MaxPositions = ConstU32<3>;
	type MaxTiers = ConstU32<4>;
	type MaxCollateralAssets = ConstU32<3>;
	type MaxMarkets = ConstU32<4>;
	type MaxPrice = MaxPrice;
	type ExitBuffer = ExitBuffer;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// Creates missing assets and mints; prices go into the table.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for MockBenchmarkHelper {
	fn fund(asset: AssetId, who: &u64, amount: Balance) {
		use frame_support::traits::fungibles::Create;
		if !AllAssets::asset_exists(asset) {
			<Assets as Create<u64>>::create(asset, ADMIN, true, MIN_BALANCE).expect("asset is new");
		}
		AllAssets::mint_into(asset, who, amount).expect("minting into an account");
	}
	fn set_price(asset: AssetId, price: Price) {
		set_price(asset, price);
	}
}

pub const ADMIN: u64 = 100;
pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
pub const CHARLIE: u64 = 3;
/// Every dev account's starting balance of each asset, in whole units.
pub const INITIAL: Balance = 1_000_000;
/// The BTC-PERP market.
pub const BTC_PERP: u32 = 0;

/// Two tiers: up to 1M USD notional at 10% initial / 5% maintenance, above at 20% / 10%.
pub fn btc_market() -> MarketParams<ConstU32<4>> {
	MarketParams {
		asset: BTC,
		unit: BTC_UNIT,
		tiers: vec![
			Tier {
				up_to: 1_000_000 * USD_UNIT,
				initial: Perbill::from_percent(10),
				maintenance: Perbill::from_percent(5),
			},
			Tier {
				up_to: 10_000_000 * USD_UNIT,
				initial: Perbill::from_percent(20),
				maintenance: Perbill::from_percent(10),
			},
		]
		.try_into()
		.unwrap(),
		max_leverage: 10,
		max_open_interest_long: 100 * BTC_UNIT,
		max_open_interest_short: 100 * BTC_UNIT,
		trading_fee: Perbill::from_parts(1_000_000), // 0.1%
		liquidation_discount: Perbill::from_percent(2),
		max_partial_liquidation: Perbill::from_percent(25),
		min_notional: 0,
	}
}

/// DOT counts at 80% of its value; the native token at 50%.
pub const DOT_COLLATERAL: CollateralParams =
	CollateralParams { unit: DOT_UNIT, weight: Perbill::from_percent(80), min_amount: 0 };
pub const NATIVE_COLLATERAL: CollateralParams =
	CollateralParams { unit: NATIVE_UNIT, weight: Perbill::from_percent(50), min_amount: 0 };

/// USD, DOT, BTC and OTHER exist; Alice, Bob and Charlie hold `INITIAL` of each and of the
/// native token; the custody account holds each collateral asset's minimum balance; DOT and the
/// native token are collateral; BTC-PERP exists; BTC is at 50,000, DOT at 5, native at 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let custody = crate::Pallet::<Test>::custody_account();
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: [ADMIN, ALICE, BOB, CHARLIE]
			.into_iter()
			.map(|who| (who, INITIAL * NATIVE_UNIT))
			.chain([(custody, NATIVE_ED)])
			.collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let units = [(USD, USD_UNIT), (DOT, DOT_UNIT), (BTC, BTC_UNIT), (OTHER, 1)];
	pallet_assets::GenesisConfig::<Test> {
		assets: units.iter().map(|(asset, _)| (*asset, ADMIN, true, MIN_BALANCE)).collect(),
		metadata: vec![],
		accounts: units
			.iter()
			.flat_map(|(asset, unit)| {
				[ALICE, BOB, CHARLIE].map(|who| (*asset, who, INITIAL * unit))
			})
			.chain([(USD, custody, MIN_BALANCE), (DOT, custody, MIN_BALANCE)])
			.collect(),
		next_asset_id: None,
		reserves: vec![],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_margin::GenesisConfig::<Test> {
		collateral: vec![(DOT, DOT_COLLATERAL), (NATIVE, NATIVE_COLLATERAL)],
		markets: vec![btc_market()],
		vault: 0,
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		Prices::set(BTreeMap::new());
		set_price(BTC, Price::from_u32(50_000));
		set_price(DOT, Price::from_u32(5));
		set_price(NATIVE, Price::from_u32(1));
	});
	ext
}

/// Runs `test` in a fresh externality, then checks the pallet's invariants and that custody
/// holds exactly what is owed (the tests send it nothing else).
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Margin::do_try_state().expect("invariants hold after the scenario");
		assert_custody_exact();
	});
}

/// Custody holds exactly its reserves, the recorded collateral, and USD cash + vault + fees.
pub fn assert_custody_exact() {
	use crate::pallet::*;
	let custody = Margin::custody_account();
	for asset in [NATIVE, DOT] {
		assert_eq!(
			AllAssets::balance(asset, &custody),
			CustodyReserve::<Test>::get(asset) + TotalCollateral::<Test>::get(asset),
			"custody of asset {asset}"
		);
	}
	let cash: i128 = Accounts::<Test>::iter().map(|(_, a)| a.cash).sum();
	let owed = cash
		+ Vault::<Test>::get()
		+ Fees::<Test>::get() as i128
		+ CustodyReserve::<Test>::get(USD) as i128;
	assert_eq!(AllAssets::balance(USD, &custody) as i128, owed, "custody of USD");
}

/// Gives `who` `amount` more of `asset` (tests that need more than `INITIAL`).
pub fn mint(asset: AssetId, who: u64, amount: Balance) {
	AllAssets::mint_into(asset, &who, amount).unwrap();
}

//! A minimal runtime for the margin pallet's tests: `pallet-assets` plays the collateral asset.

use crate as pallet_margin;
use frame_support::{
	derive_impl, parameter_types,
	traits::{AsEnsureOriginWithArg, ConstU128},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use perp_primitives::{AssetId, Balance};
use sp_runtime::BuildStorage;

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
	type ExistentialDeposit = ConstU128<1>;
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

pub const USD: AssetId = 1;
pub const OTHER: AssetId = 2;
pub const MIN_BALANCE: Balance = 10;

parameter_types! {
	pub const SettlementAsset: AssetId = USD;
	pub const MarginPalletId: PalletId = PalletId(*b"perp/mrg");
}

impl pallet_margin::Config for Test {
	type Assets = Assets;
	type SettlementAsset = SettlementAsset;
	type PalletId = MarginPalletId;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AssetsBenchmarkHelper;
}

/// Creates missing assets and mints with `pallet-assets`' force calls.
#[cfg(feature = "runtime-benchmarks")]
pub struct AssetsBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for AssetsBenchmarkHelper {
	fn fund(asset: AssetId, who: &u64, amount: Balance) {
		use frame_support::traits::fungibles::{Create, Inspect, Mutate};
		if !<Assets as Inspect<u64>>::asset_exists(asset) {
			<Assets as Create<u64>>::create(asset, ADMIN, true, MIN_BALANCE).expect("asset is new");
		}
		<Assets as Mutate<u64>>::mint_into(asset, who, amount).expect("minting into an account");
	}
}

pub const ADMIN: u64 = 100;
pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
pub const INITIAL_USD: Balance = 1_000_000;

/// USD exists and Alice and Bob hold `INITIAL_USD` each; `OTHER` is a second asset.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ADMIN, 1_000), (ALICE, 1_000), (BOB, 1_000)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_assets::GenesisConfig::<Test> {
		assets: vec![(USD, ADMIN, true, MIN_BALANCE), (OTHER, ADMIN, true, MIN_BALANCE)],
		metadata: vec![],
		accounts: vec![
			(USD, ALICE, INITIAL_USD),
			(USD, BOB, INITIAL_USD),
			(OTHER, ALICE, INITIAL_USD),
		],
		next_asset_id: None,
		reserves: vec![],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` in a fresh externality and checks the pallet's invariants afterwards.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Margin::do_try_state().expect("invariants hold after the scenario");
	});
}

//! A minimal runtime for the oracle pallet's tests.

use crate as pallet_perp_oracle;
use crate::OracleParams;
use codec::Encode;
use frame_support::{derive_impl, parameter_types, traits::UnixTime};
use frame_system::{
	offchain::{AppCrypto, CreateSignedTransaction, CreateTransactionBase, SigningTypes},
	EnsureRoot,
};
use perp_primitives::{AssetId, Moment, Price};
use sp_runtime::{
	testing::{TestSignature, UintAuthorityId},
	BuildStorage, Perbill,
};

type Block = frame_system::mocking::MockBlock<Test>;
/// What the offchain worker submits: signed by a `u64` account with a [`TestSignature`].
pub type Extrinsic = sp_runtime::generic::UncheckedExtrinsic<u64, RuntimeCall, TestSignature, ()>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Oracle = pallet_perp_oracle;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	/// The mock wall clock, in milliseconds.
	pub static Now: Moment = 1_000_000;
	pub const MaxPrice: Price = Price::from_u32(1_000_000_000);
	pub const DefaultParams: OracleParams = OracleParams {
		max_age: MAX_AGE,
		min_feeders: 2,
		max_deviation: Perbill::from_percent(5),
		max_change_per_block: Perbill::from_percent(20),
		index_smoothing: Perbill::from_percent(50),
		volatility_decay: Perbill::from_percent(90),
	};
}

/// Wall-clock time read from [`Now`].
pub struct MockTime;
impl UnixTime for MockTime {
	fn now() -> core::time::Duration {
		core::time::Duration::from_millis(Now::get())
	}
}

pub const MAX_FEEDERS: u32 = 4;
pub const MAX_AGE: Moment = 60_000;

pub const MAX_ASSETS: u32 = 3;

impl SigningTypes for Test {
	type Public = UintAuthorityId;
	type Signature = TestSignature;
}

impl<C> CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> CreateSignedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	/// Signs `(call, nonce)`: enough for the tests to check who signed what.
	fn create_signed_transaction<A: AppCrypto<UintAuthorityId, TestSignature>>(
		call: RuntimeCall,
		public: UintAuthorityId,
		account: u64,
		nonce: <Test as frame_system::Config>::Nonce,
	) -> Option<Extrinsic> {
		let signature = A::sign(&(&call, nonce).encode(), public)?;
		Some(Extrinsic::new_signed(call, account, signature, ()))
	}
}

/// Feeder keys are the test keystore's `UintAuthorityId`s (see `UintAuthorityId::set_all_keys`).
pub struct FeederKey;
impl AppCrypto<UintAuthorityId, TestSignature> for FeederKey {
	type RuntimeAppPublic = UintAuthorityId;
	type GenericPublic = UintAuthorityId;
	type GenericSignature = TestSignature;
}

pub const FEED_INTERVAL: u64 = 2;

parameter_types! {
	/// The assets whose price something uses (as margin's markets and collateral would).
	pub static InUse: Vec<AssetId> = Vec::new();
}

/// Plays margin's [`perp_primitives::PriceUsers`] over [`InUse`].
pub struct UsedAssets;
impl perp_primitives::PriceUsers for UsedAssets {
	fn uses(asset: AssetId) -> bool {
		InUse::get().contains(&asset)
	}

	fn uses_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
}

impl pallet_perp_oracle::Config for Test {
	type GovernanceOrigin = EnsureRoot<u64>;
	type Time = MockTime;
	type MaxFeeders = frame_support::traits::ConstU32<MAX_FEEDERS>;
	type MaxAssets = frame_support::traits::ConstU32<MAX_ASSETS>;
	type MaxValuesPerFeed = frame_support::traits::ConstU32<3>;
	type MaxPrice = MaxPrice;
	type DefaultParams = DefaultParams;
	type AuthorityId = FeederKey;
	type OffchainFeedInterval = frame_support::traits::ConstU64<FEED_INTERVAL>;
	type PriceUsers = UsedAssets;
	type WeightInfo = ();
}

pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
pub const CHARLIE: u64 = 3;
pub const EVE: u64 = 99;
pub const BTC: AssetId = 1;
pub const ETH: AssetId = 2;
pub const UNLISTED: AssetId = 77;

/// Alice, Bob and Charlie feed BTC and ETH; a quorum is two of them.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_perp_oracle::GenesisConfig::<Test> {
		feeders: vec![CHARLIE, ALICE, BOB],
		assets: vec![BTC, ETH],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	Now::set(1_000_000);
	ext
}

/// Runs `test` in a fresh externality and checks the pallet's invariants afterwards.
/// Moves to the next block, `ms` milliseconds later.
pub fn next_block(ms: Moment) {
	System::set_block_number(System::block_number() + 1);
	Now::set(Now::get() + ms);
}

pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Oracle::do_try_state().expect("invariants hold after the scenario");
	});
}

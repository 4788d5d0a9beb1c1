//! The configuration of every pallet in the runtime. The project pallets have a file each.

pub mod liquidation;
mod margin;
mod oracle;
mod transactions;

pub use margin::{MaxTiers, NativeAndAssets};

use crate::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Hash, Nonce, OriginCaller, PalletInfo,
	Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin,
	RuntimeTask, System, EXISTENTIAL_DEPOSIT, MAXIMUM_BLOCK_LENGTH, MAXIMUM_BLOCK_REF_TIME,
	MILLI_UNIT, NORMAL_DISPATCH_RATIO, SLOT_DURATION, VERSION,
};
use frame_support::dispatch::DispatchClass;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8},
	weights::{IdentityFee, Weight},
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot, EnsureSigned,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{traits::One, Perbill};

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: sp_version::RuntimeVersion = VERSION;

	/// 2 seconds of ref-time per block; normal extrinsics may use 75% of it, the remaining 25% is
	/// reserved for the operational class. A block's and an extrinsic's fixed costs are this
	/// runtime's, measured (`runtime/src/weights/{block,extrinsic}_weights.rs`).
	pub RuntimeBlockWeights: BlockWeights = block_weights();
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAXIMUM_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * *max
		})
		.build();
	pub const SS58Prefix: u8 = 42;
}

/// [`BlockWeights::with_sensible_defaults`] with the measured fixed costs in place of the SDK's
/// reference ones.
fn block_weights() -> BlockWeights {
	let block = Weight::from_parts(MAXIMUM_BLOCK_REF_TIME, u64::MAX);
	let normal = NORMAL_DISPATCH_RATIO * block;
	BlockWeights::builder()
		.base_block(crate::weights::block_weights::BlockExecutionWeight::get())
		.for_class(DispatchClass::all(), |class| {
			class.base_extrinsic = crate::weights::extrinsic_weights::ExtrinsicBaseWeight::get();
		})
		.for_class(DispatchClass::Normal, |class| class.max_total = Some(normal))
		.for_class(DispatchClass::Operational, |class| {
			class.max_total = Some(block);
			class.reserved = Some(block.saturating_sub(normal));
		})
		.avg_block_initialization(Perbill::from_percent(10))
		.build_or_panic()
}

/// The node stores state in ParityDB: database costs are ParityDB's, measured on a state of
/// 100,000 margin accounts (`benchmarks/storage.sh`).
#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = crate::weights::paritydb_weights::ParityDbWeight;
	type SystemWeightInfo = crate::weights::frame_system::WeightInfo<Runtime>;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// A timestamp: milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = crate::weights::pallet_timestamp::WeightInfo<Runtime>;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = crate::weights::pallet_balances::WeightInfo<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = ConstU32<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = crate::weights::pallet_sudo::WeightInfo<Runtime>;
}

// Batches of ordinary calls, as wallets and polkadot.js apps send them. A batch takes the
// dispatch class of its calls: normal unless every call in it is operational.
impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = crate::weights::pallet_utility::WeightInfo<Runtime>;
}

impl pallet_assets::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type RemoveItemsLimit = ConstU32<1000>;
	type AssetId = crate::AssetId;
	type AssetIdParameter = codec::Compact<crate::AssetId>;
	type ReserveData = ();
	type Currency = Balances;
	type CreateOrigin = CreateOutsideReserved;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = ConstU128<{ 100 * MILLI_UNIT }>;
	type AssetAccountDeposit = ConstU128<{ MILLI_UNIT }>;
	type MetadataDepositBase = ConstU128<{ MILLI_UNIT }>;
	type MetadataDepositPerByte = ConstU128<{ MILLI_UNIT / 100 }>;
	type ApprovalDeposit = ConstU128<{ MILLI_UNIT }>;
	type StringLimit = ConstU32<50>;
	type Freezer = ();
	type Holder = ();
	type Extra = ();
	type CallbackHandle = ();
	type AssetIdAllocator = ();
	type WeightInfo = crate::weights::pallet_assets::WeightInfo<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = PublicAssetIds;
}

/// Asset ids below this are the protocol's: only governance creates them (`force_create`), so
/// that no one can create and mint an asset at an id that collateral may one day use.
pub const FIRST_PUBLIC_ASSET_ID: crate::AssetId = 1_000;

/// `pallet-assets`' `create`: any signed account, at an id from `FIRST_PUBLIC_ASSET_ID` on.
pub struct CreateOutsideReserved;

impl frame_support::traits::EnsureOriginWithArg<RuntimeOrigin, crate::AssetId>
	for CreateOutsideReserved
{
	type Success = AccountId;

	fn try_origin(
		origin: RuntimeOrigin,
		asset: &crate::AssetId,
	) -> Result<AccountId, RuntimeOrigin> {
		if *asset < FIRST_PUBLIC_ASSET_ID {
			return Err(origin);
		}
		<EnsureSigned<AccountId> as frame_support::traits::EnsureOrigin<_>>::try_origin(origin)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin(asset: &crate::AssetId) -> Result<RuntimeOrigin, ()> {
		if *asset < FIRST_PUBLIC_ASSET_ID {
			return Err(());
		}
		<EnsureSigned<AccountId> as frame_support::traits::EnsureOrigin<_>>::try_successful_origin()
	}
}

/// The benchmarks' asset ids, in the public range (`create` refuses the reserved ones), from
/// 1,009: `pallet-assets`' benchmark of its v2 migration takes the first asset in storage order
/// for the one it created, and 1,009 hashes (`Blake2_128Concat`) before the genesis assets.
#[cfg(feature = "runtime-benchmarks")]
pub struct PublicAssetIds;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_assets::BenchmarkHelper<codec::Compact<crate::AssetId>, ()> for PublicAssetIds {
	fn create_asset_id_parameter(id: u32) -> codec::Compact<crate::AssetId> {
		FIRST_PUBLIC_ASSET_ID.saturating_add(9).saturating_add(id).into()
	}

	fn create_reserve_id_parameter(_: u32) {}
}

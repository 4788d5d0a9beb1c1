//! The perpchain runtime: margin accounts, oracle aggregation and automated liquidation on
//! Aura + GRANDPA.
//!
//! Block-space policy: 6-second blocks with 2 seconds of ref-time; normal-class extrinsics may
//! fill at most [`NORMAL_DISPATCH_RATIO`] of a block, the rest is reserved for the operational
//! class (oracle feeds and liquidations).

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros expand to deep recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
#[cfg(feature = "std")]
pub mod capacity;
pub mod configs;
pub mod genesis_config_presets;
pub mod priority;
#[cfg(test)]
mod tests;
pub mod weights;

// The runtime macros expand to code that names `Vec` unqualified.
use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature, Perbill,
};
use sp_version::RuntimeVersion;

pub use frame_support::weights::constants::WEIGHT_REF_TIME_PER_SECOND;
pub use perp_primitives::{AssetId, Balance};

/// Opaque types: what the node needs to know about blocks without knowing the runtime.
pub mod opaque {
	use super::*;
	use sp_runtime::{generic, traits::Hash as HashT};

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys of a validator: block authoring, finality, and the oracle feeder key
	/// its offchain worker signs price feeds with.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
		pub oracle: Oracle,
	}
}

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("perpchain"),
	impl_name: alloc::borrow::Cow::Borrowed("perpchain"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The target time between blocks (ms). Changing it after genesis breaks Aura.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// Aura slot duration: one block per slot.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Time measured in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// The native token has 12 decimals.
pub const UNIT: Balance = 1_000_000_000_000;
pub const MILLI_UNIT: Balance = 1_000_000_000;
pub const MICRO_UNIT: Balance = 1_000_000;
/// Existential deposit of the native token.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// The settlement asset (USD) has 6 decimals.
pub const USD_UNIT: Balance = 1_000_000;

/// Asset identifiers shared by `pallet-assets`, the oracle and the margin pallet.
pub mod asset_ids {
	use super::AssetId;
	/// The native token.
	pub const NATIVE: AssetId = 0;
	/// The settlement asset: a USD stable coin held in `pallet-assets`.
	pub const USD: AssetId = 1;
	/// Bitcoin, priced by the oracle.
	pub const BTC: AssetId = 2;
	/// Ether, priced by the oracle.
	pub const ETH: AssetId = 3;
	/// DOT, priced by the oracle.
	pub const DOT: AssetId = 4;
}

/// Normal-class extrinsics may fill at most this share of a block; the rest is reserved for the
/// operational class.
pub const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// The ref-time budget of a block: 2 of its 6 seconds.
pub const MAXIMUM_BLOCK_REF_TIME: u64 = 2 * WEIGHT_REF_TIME_PER_SECOND;
/// The largest block, in bytes.
pub const MAXIMUM_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;
/// An account on the chain: the public key of its signer.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Index of a transaction in the chain.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;
/// An index to a block.
pub type BlockNumber = u32;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A Block signed with a Justification.
pub type SignedBlock = generic::SignedBlock<Block>;
/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions, in the order polkadot.js applies them.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	priority::ChargeFeeWithPriority,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// The block's inherents, as `BlockBuilder::inherent_extrinsics` hands them to the block
/// author: in extrinsic format 4 (bare), which every client decodes, where the SDK builds
/// format 5, which clients such as `@substrate/api-sidecar` 18 do not decode yet. The runtime
/// reads both. (The offchain workers' bare transactions are format 4 as well, see
/// `configs::transactions`.)
pub fn inherent_extrinsics(data: &sp_inherents::InherentData) -> Vec<UncheckedExtrinsic> {
	data.create_extrinsics()
		.into_iter()
		.map(|xt| match xt.preamble {
			generic::Preamble::Bare(_) => UncheckedExtrinsic::new_bare_legacy(xt.function),
			_ => xt,
		})
		.collect()
}

/// The storage migrations a runtime upgrade runs, oldest first; each checks the pallet's
/// storage version and runs once.
pub type Migrations = (
	pallet_margin::migrations::v1::MigrateToV1<Runtime>,
	pallet_margin::migrations::v2::MigrateToV2<Runtime, Liquidation>,
	pallet_perp_oracle::migrations::v1::MigrateToV1<Runtime>,
);

/// Executive: handles dispatch to the various pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

// Pallet indices are fixed and never reused.
#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(7)]
	pub type Assets = pallet_assets;
	#[runtime::pallet_index(8)]
	pub type Utility = pallet_utility;

	#[runtime::pallet_index(20)]
	pub type Oracle = pallet_perp_oracle;
	#[runtime::pallet_index(21)]
	pub type Margin = pallet_margin;
	#[runtime::pallet_index(22)]
	pub type Liquidation = pallet_liquidation;
}

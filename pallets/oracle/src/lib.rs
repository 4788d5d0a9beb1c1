#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub mod aggregation;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
mod impls;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		dispatch::{DispatchClass, Pays, PostDispatchInfo},
		pallet_prelude::*,
		traits::UnixTime,
	};
	use frame_system::{
		offchain::{AppCrypto, CreateSignedTransaction},
		pallet_prelude::*,
	};
	use perp_primitives::{AssetId, Price};

	/// A feeder's submission: at most `MaxValuesPerFeed` `(asset, price)` pairs.
	pub type FeedValuesOf<T> = BoundedVec<(AssetId, Price), <T as Config>::MaxValuesPerFeed>;
	/// A raw value with this runtime's block number.
	pub type RawValueOf<T> = RawValue<BlockNumberFor<T>>;
	/// A feeder's value with this runtime's types.
	pub type FeederValueOf<T> =
		FeederValue<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
	/// An asset's values, one per feeder at most, sorted by feeder.
	pub type ValuesOf<T> = BoundedVec<FeederValueOf<T>, <T as Config>::MaxFeeders>;
	/// An aggregate with this runtime's block number.
	pub type AggregateOf<T> = Aggregate<BlockNumberFor<T>>;
	/// A list of feeders, as long as the feeder set at most.
	pub type FeederListOf<T> =
		BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxFeeders>;

	/// The storage version: 1 keeps each asset's values in its `Assets` record.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config + CreateSignedTransaction<Call<Self>> {
		/// The origin that manages feeders, assets, parameters and breaker resets (governance).
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Wall-clock time, for timestamping values.
		type Time: UnixTime;
		/// The largest feeder set.
		#[pallet::constant]
		type MaxFeeders: Get<u32>;
		/// The most assets the oracle prices.
		#[pallet::constant]
		type MaxAssets: Get<u32>;
		/// The most `(asset, price)` pairs in one feed.
		#[pallet::constant]
		type MaxValuesPerFeed: Get<u32>;
		/// The highest price accepted for any asset; anything above is malformed input.
		#[pallet::constant]
		type MaxPrice: Get<Price>;
		/// The parameters in force until governance sets others.
		#[pallet::constant]
		type DefaultParams: Get<OracleParams>;
		/// The crypto of the `orcl` keys with which offchain workers sign feeds.
		type AuthorityId: AppCrypto<Self::Public, Self::Signature>;
		/// The fewest blocks between two feeds of one node's offchain worker.
		#[pallet::constant]
		type OffchainFeedInterval: Get<BlockNumberFor<Self>>;
		/// Who still uses an asset's price: `remove_asset` refuses an asset in use.
		type PriceUsers: perp_primitives::PriceUsers;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The accounts allowed to feed prices, sorted.
	#[pallet::storage]
	pub type Feeders<T: Config> = StorageValue<_, FeederListOf<T>, ValueQuery>;

	/// The assets the oracle prices, each with its values: every feeder's latest, sorted by
	/// feeder, one each. One record per asset, so that a feed of an asset reads one item to
	/// check that it is listed and to aggregate it, however many feeders there are.
	#[pallet::storage]
	pub type Assets<T: Config> =
		CountedStorageMap<_, Twox64Concat, AssetId, ValuesOf<T>, OptionQuery>;

	/// The block of each feeder's last feed: a feeder feeds at most once a block, so the feeds
	/// of a block are bounded by the feeders (`MaxFeeders` feeds of at most `MaxValuesPerFeed`
	/// values), which is the room liquidations leave them.
	#[pallet::storage]
	pub type FedIn<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BlockNumberFor<T>, OptionQuery>;

	/// The current aggregate per asset.
	#[pallet::storage]
	pub type Aggregates<T: Config> =
		StorageMap<_, Twox64Concat, AssetId, AggregateOf<T>, OptionQuery>;

	/// The aggregation parameters in force.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, OracleParams, ValueQuery, T::DefaultParams>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The initial feeders.
		pub feeders: Vec<T::AccountId>,
		/// The assets priced from genesis on.
		pub assets: Vec<AssetId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut feeders = self.feeders.clone();
			feeders.sort();
			feeders.dedup();
			let feeders: FeederListOf<T> =
				feeders.try_into().expect("genesis feeder set exceeds MaxFeeders");
			Feeders::<T>::put(feeders);
			assert!(self.assets.len() <= T::MaxAssets::get() as usize, "too many genesis assets");
			for asset in &self.assets {
				Assets::<T>::insert(asset, ValuesOf::<T>::default());
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A feeder joined the feeder set.
		FeederAdded { who: T::AccountId },
		/// A feeder left the feeder set; its values were dropped.
		FeederRemoved { who: T::AccountId },
		/// The oracle now prices an asset.
		AssetAdded { asset: AssetId },
		/// The oracle no longer prices an asset; its values and aggregate were dropped.
		AssetRemoved { asset: AssetId },
		/// Governance set new aggregation parameters.
		ParamsSet { params: OracleParams },
		/// A feeder submitted a value.
		PriceFed { feeder: T::AccountId, asset: AssetId, price: Price },
		/// A new aggregate was accepted.
		PriceAggregated { asset: AssetId, price: Price, feeders: u32, index: Price },
		/// Values further than `max_deviation` from the median were left out of the aggregate.
		ValuesExcluded { asset: AssetId, feeders: FeederListOf<T> },
		/// Too few fresh values to aggregate: the price keeps ageing towards `Stale`.
		QuorumNotMet { asset: AssetId, fresh: u32 },
		/// A median moved further than `max_change_per_block` from the block's reference: the
		/// price is `Frozen` at its last accepted value.
		BreakerTripped { asset: AssetId, reference: Price, rejected: Price },
		/// The breaker was reset, by a fresh quorum (with the price it agreed on) or by
		/// governance.
		BreakerReset { asset: AssetId, price: Option<Price>, by_governance: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The sender is not a feeder.
		NoPermission,
		/// The account is already a feeder.
		AlreadyFeeder,
		/// The account is not a feeder.
		NotFeeder,
		/// The feeder set is full.
		TooManyFeeders,
		/// The asset is not priced by the oracle.
		UnknownAsset,
		/// The asset is already priced by the oracle.
		AssetAlreadyListed,
		/// The oracle prices `MaxAssets` assets already.
		TooManyAssets,
		/// The price is zero or above `MaxPrice`.
		InvalidPrice,
		/// The feed names the same asset twice.
		DuplicateAsset,
		/// The feed is empty.
		EmptyFeed,
		/// The feeder has fed in this block already (one feed a block carries every asset).
		AlreadyFed,
		/// A parameter is out of its bounds.
		InvalidParams,
		/// The asset's circuit breaker has not tripped.
		NotFrozen,
		/// A market or collateral still uses the asset's price.
		AssetInUse,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxFeeders::get() > 0, "MaxFeeders must be positive");
			assert!(T::MaxAssets::get() > 0, "MaxAssets must be positive");
			assert!(T::MaxValuesPerFeed::get() > 0, "MaxValuesPerFeed must be positive");
			// A feeder feeds once a block: one feed must be able to carry every asset.
			assert!(
				T::MaxValuesPerFeed::get() >= T::MaxAssets::get(),
				"MaxValuesPerFeed must cover MaxAssets"
			);
			assert!(!T::MaxPrice::get().is_zero(), "MaxPrice must be positive");
			assert!(
				Self::ensure_valid_params(&T::DefaultParams::get()).is_ok(),
				"DefaultParams out of bounds"
			);
		}

		/// Feeds the prices of the sources configured in this node's offchain storage, signed
		/// with each of the keystore's `orcl` keys that belongs to a feeder (see `offchain`).
		fn offchain_worker(now: BlockNumberFor<T>) {
			match Self::offchain_feed(now) {
				Ok(assets) => {
					log::info!(target: offchain::LOG_TARGET, "fed {assets} assets at #{now:?}")
				},
				// The common cases of a node that does not feed, or not in this block.
				Err(
					e @ (offchain::OffchainError::NoSources
					| offchain::OffchainError::NoFeederKey
					| offchain::OffchainError::TooSoon),
				) => log::debug!(target: offchain::LOG_TARGET, "no feed at #{now:?}: {e:?}"),
				Err(e) => log::warn!(target: offchain::LOG_TARGET, "no feed at #{now:?}: {e:?}"),
			}
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Add `who` to the feeder set.
		///
		/// Origin: `GovernanceOrigin`. Emits `FeederAdded`.
		/// Errors: `AlreadyFeeder`, `TooManyFeeders`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_feeder())]
		pub fn add_feeder(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_add_feeder(who)
		}

		/// Remove `who` from the feeder set, drop every value it submitted and re-aggregate.
		///
		/// Origin: `GovernanceOrigin`. Emits `FeederRemoved`. Errors: `NotFeeder`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_feeder(T::MaxAssets::get(), T::MaxFeeders::get()))]
		pub fn remove_feeder(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_remove_feeder(who)
		}

		/// Submit prices: one value per asset, each replacing the sender's previous value, and
		/// re-aggregate each asset.
		///
		/// Origin: signed by a feeder. Operational class; an accepted feed pays no fee.
		/// Emits `PriceFed` per value, and `PriceAggregated`, `ValuesExcluded`, `QuorumNotMet`,
		/// `BreakerTripped` or `BreakerReset` as aggregation goes.
		/// Errors: `NoPermission`, `EmptyFeed`, `UnknownAsset`, `InvalidPrice`,
		/// `DuplicateAsset`, `AlreadyFed`.
		#[pallet::call_index(2)]
		#[pallet::weight((
			T::WeightInfo::feed(values.len() as u32, T::MaxFeeders::get()),
			DispatchClass::Operational,
		))]
		pub fn feed(origin: OriginFor<T>, values: FeedValuesOf<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let count = values.len() as u32;
			let feeders = Self::do_feed(who, values)?;
			// Declared for `MaxFeeders` feeders, charged for those that exist.
			let actual = T::WeightInfo::feed(count, feeders);
			Ok(PostDispatchInfo { actual_weight: Some(actual), pays_fee: Pays::No })
		}

		/// Start pricing `asset`.
		///
		/// Origin: `GovernanceOrigin`. Emits `AssetAdded`.
		/// Errors: `AssetAlreadyListed`, `TooManyAssets`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::add_asset())]
		pub fn add_asset(origin: OriginFor<T>, asset: AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_add_asset(asset)
		}

		/// Stop pricing `asset`, dropping its values and aggregate; not while a market or
		/// collateral uses it (`PriceUsers`).
		///
		/// Origin: `GovernanceOrigin`. Emits `AssetRemoved`. Errors: `UnknownAsset`,
		/// `AssetInUse`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove_asset(T::MaxFeeders::get())
			.saturating_add(<T::PriceUsers as perp_primitives::PriceUsers>::uses_weight()))]
		pub fn remove_asset(origin: OriginFor<T>, asset: AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_remove_asset(asset)
		}

		/// Set the aggregation parameters; every listed asset is re-aggregated under them at
		/// once (a shorter `max_age` or a larger quorum applies to the price in force now).
		///
		/// The weight is the call's own plus one re-aggregation (measured as `reset_breaker`)
		/// per asset the oracle may list.
		///
		/// Origin: `GovernanceOrigin`. Emits `ParamsSet`, and what aggregation emits. Errors:
		/// `InvalidParams`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_params().saturating_add(
			T::WeightInfo::reset_breaker(T::MaxFeeders::get())
				.saturating_mul(T::MaxAssets::get().into())
		))]
		pub fn set_params(origin: OriginFor<T>, params: OracleParams) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}

		/// Reset a tripped circuit breaker: the asset is re-aggregated from its fresh values
		/// with no change limit, and the next accepted median becomes the new reference.
		///
		/// Origin: `GovernanceOrigin`. Emits `BreakerReset`. Errors: `UnknownAsset`, `NotFrozen`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::reset_breaker(T::MaxFeeders::get()))]
		pub fn reset_breaker(origin: OriginFor<T>, asset: AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_reset_breaker(asset)
		}
	}
}

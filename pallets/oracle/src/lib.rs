#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

pub mod aggregation;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{pallet_prelude::*, traits::UnixTime};
	use frame_system::pallet_prelude::*;
	use perp_primitives::{AssetId, Moment, Price};

	/// A feeder's submission: at most `MaxValuesPerFeed` `(asset, price)` pairs.
	pub type FeedValuesOf<T> = BoundedVec<(AssetId, Price), <T as Config>::MaxValuesPerFeed>;

	/// One feeder's latest value for one asset.
	#[derive(
		Clone,
		Copy,
		Encode,
		Decode,
		DecodeWithMemTracking,
		Eq,
		PartialEq,
		Debug,
		TypeInfo,
		MaxEncodedLen,
	)]
	pub struct RawValue {
		/// The submitted price.
		pub price: Price,
		/// When it was submitted (milliseconds since the Unix epoch).
		pub at: Moment,
	}

	/// The aggregate of an asset's raw values.
	#[derive(
		Clone,
		Copy,
		Encode,
		Decode,
		DecodeWithMemTracking,
		Eq,
		PartialEq,
		Debug,
		TypeInfo,
		MaxEncodedLen,
	)]
	pub struct Aggregate {
		/// The median of the asset's raw values.
		pub price: Price,
		/// When it was computed (milliseconds since the Unix epoch).
		pub at: Moment,
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The origin that manages the feeder set (governance).
		type FeederOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Wall-clock time, for timestamping values.
		type Time: UnixTime;
		/// The largest feeder set.
		#[pallet::constant]
		type MaxFeeders: Get<u32>;
		/// The most `(asset, price)` pairs in one feed.
		#[pallet::constant]
		type MaxValuesPerFeed: Get<u32>;
		/// How long an aggregate stays `Fresh` (milliseconds); older ones are `Stale`.
		#[pallet::constant]
		type MaxAge: Get<Moment>;
		/// The highest price accepted for any asset; anything above is malformed input.
		#[pallet::constant]
		type MaxPrice: Get<Price>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The accounts allowed to feed prices, sorted.
	#[pallet::storage]
	pub type Feeders<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxFeeders>, ValueQuery>;

	/// The assets the oracle prices.
	#[pallet::storage]
	pub type Assets<T: Config> = StorageMap<_, Twox64Concat, AssetId, (), OptionQuery>;

	/// Each feeder's latest value per asset.
	#[pallet::storage]
	pub type RawValues<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		AssetId,
		Blake2_128Concat,
		T::AccountId,
		RawValue,
		OptionQuery,
	>;

	/// The current aggregate per asset.
	#[pallet::storage]
	pub type Aggregates<T: Config> = StorageMap<_, Twox64Concat, AssetId, Aggregate, OptionQuery>;

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
			let feeders: BoundedVec<_, T::MaxFeeders> =
				feeders.try_into().expect("genesis feeder set exceeds MaxFeeders");
			Feeders::<T>::put(feeders);
			for asset in &self.assets {
				Assets::<T>::insert(asset, ());
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
		/// A feeder submitted a value and the asset's aggregate was recomputed.
		PriceFed { feeder: T::AccountId, asset: AssetId, price: Price, aggregate: Price },
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
		/// The price is zero or above `MaxPrice`.
		InvalidPrice,
		/// The feed names the same asset twice.
		DuplicateAsset,
		/// The feed is empty.
		EmptyFeed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxFeeders::get() > 0, "MaxFeeders must be positive");
			assert!(T::MaxValuesPerFeed::get() > 0, "MaxValuesPerFeed must be positive");
			assert!(!T::MaxPrice::get().is_zero(), "MaxPrice must be positive");
			assert!(T::MaxAge::get() > 0, "MaxAge must be positive");
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
		/// Origin: `FeederOrigin`. Emits `FeederAdded`.
		/// Errors: `AlreadyFeeder`, `TooManyFeeders`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_feeder())]
		pub fn add_feeder(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::FeederOrigin::ensure_origin(origin)?;
			Self::do_add_feeder(who)
		}

		/// Remove `who` from the feeder set and drop every value it submitted.
		///
		/// Origin: `FeederOrigin`. Emits `FeederRemoved`. Errors: `NotFeeder`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_feeder())]
		pub fn remove_feeder(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::FeederOrigin::ensure_origin(origin)?;
			Self::do_remove_feeder(who)
		}

		/// Submit prices: one value per asset, each replacing the sender's previous value.
		///
		/// Origin: signed by a feeder. Emits `PriceFed` per value.
		/// Errors: `NoPermission`, `EmptyFeed`, `UnknownAsset`, `InvalidPrice`, `DuplicateAsset`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::feed(values.len() as u32, T::MaxFeeders::get()))]
		pub fn feed(origin: OriginFor<T>, values: FeedValuesOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_feed(who, values)
		}
	}
}

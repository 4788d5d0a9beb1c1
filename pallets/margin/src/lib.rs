#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

/// Prepares state that the benchmarks need and the pallet cannot create itself.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Make sure the collateral asset `asset` exists and give `who` `amount` of it.
	fn fund(asset: perp_primitives::AssetId, who: &AccountId, amount: perp_primitives::Balance);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungibles::{Inspect, Mutate},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use perp_primitives::{AssetId, Balance};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The fungible assets accepted as collateral.
		type Assets: Inspect<Self::AccountId, AssetId = AssetId, Balance = Balance>
			+ Mutate<Self::AccountId>;
		/// The settlement asset (USD) in which PnL is realized.
		#[pallet::constant]
		type SettlementAsset: Get<AssetId>;
		/// The pallet's id, from which the custody account is derived.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
		/// Creates the state the benchmarks need.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Each account's collateral per asset (absent when zero).
	#[pallet::storage]
	pub type Collateral<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		AssetId,
		Balance,
		OptionQuery,
	>;

	/// The sum of all accounts' collateral per asset.
	#[pallet::storage]
	pub type TotalCollateral<T: Config> = StorageMap<_, Twox64Concat, AssetId, Balance, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Collateral moved into custody.
		Deposited { who: T::AccountId, asset: AssetId, amount: Balance },
		/// Collateral moved out of custody.
		Withdrawn { who: T::AccountId, asset: AssetId, amount: Balance },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount is zero.
		ZeroAmount,
		/// The asset is not accepted as collateral.
		UnknownAsset,
		/// The account holds less of the asset than it asked to withdraw.
		InsufficientCollateral,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Move `amount` of collateral `asset` from the sender into custody.
		///
		/// Origin: signed. Emits `Deposited`.
		/// Errors: `ZeroAmount`, `UnknownAsset`, `ArithmeticError::Overflow`, and the asset
		/// pallet's transfer errors (e.g. insufficient balance).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::deposit())]
		pub fn deposit(origin: OriginFor<T>, asset: AssetId, amount: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit(who, asset, amount)
		}

		/// Move `amount` of collateral `asset` from custody back to the sender.
		///
		/// Origin: signed. Emits `Withdrawn`.
		/// Errors: `ZeroAmount`, `UnknownAsset`, `InsufficientCollateral`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, asset: AssetId, amount: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who, asset, amount)
		}
	}
}

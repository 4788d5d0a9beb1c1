#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]
// `ValidateUnsigned` is deprecated in favour of `#[pallet::authorize]`, whose "general"
// transactions polkadot.js cannot decode yet (ARCHITECTURE §6).
#![allow(deprecated)]
// `#[pallet::validate_unsigned]` expands into a let-binding of a unit result.
#![allow(clippy::let_unit_value)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
pub mod weights;

/// Prepares state that the benchmarks need and the pallet cannot create itself.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Creates `n` distinct accounts, each below maintenance margin with `MaxPositions`
	/// positions, at fresh prices.
	fn liquidatable_accounts(n: u32) -> alloc::vec::Vec<AccountId>;
	/// Creates `n` distinct healthy accounts with `MaxPositions` positions, at fresh prices.
	fn healthy_accounts(n: u32) -> alloc::vec::Vec<AccountId>;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		dispatch::{DispatchClass, PostDispatchInfo},
		pallet_prelude::*,
		PalletId,
	};
	use frame_system::{offchain::CreateBare, pallet_prelude::*};
	use perp_primitives::{MarginInspector, MarginLiquidator, MarketId, Price};
	use sp_runtime::{traits::AccountIdConversion, Perbill};

	/// A batch of accounts to liquidate.
	pub type AccountsOf<T> =
		BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxBatch>;

	/// How much of the liquidation machinery may run.
	#[derive(
		Clone,
		Copy,
		Default,
		Encode,
		Decode,
		DecodeWithMemTracking,
		Eq,
		PartialEq,
		Ord,
		PartialOrd,
		Debug,
		TypeInfo,
		MaxEncodedLen,
	)]
	pub enum BreakerLevel {
		/// Everything runs.
		#[default]
		Running,
		/// Accounts already in liquidation continue; no new liquidation starts.
		NoNewLiquidations,
		/// As above, and no auction may be taken.
		NoAuctions,
		/// Nothing runs.
		Halted,
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config + CreateBare<Call<Self>> {
		/// Reads the health of margin accounts.
		type Margin: MarginInspector<Self::AccountId> + MarginLiquidator<Self::AccountId>;
		/// The origin that may set the circuit breaker.
		type EmergencyOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The insurance fund's id: penalties go to its margin account.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// The penalty on the notional a liquidation closes, paid to the insurance fund.
		#[pallet::constant]
		type Penalty: Get<Perbill>;
		/// Partial liquidation stops once equity reaches the initial margin times one plus
		/// this buffer.
		#[pallet::constant]
		type Buffer: Get<Perbill>;
		/// Below this share of its maintenance margin an account is closed in full, not in
		/// partial steps.
		#[pallet::constant]
		type FullLiquidationBelow: Get<Perbill>;
		/// The most accounts in one `liquidate` batch.
		#[pallet::constant]
		type MaxBatch: Get<u32>;
		/// The priority of unsigned liquidations: above every signed transaction's.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
		/// Creates the state the benchmarks need.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The current circuit-breaker level.
	#[pallet::storage]
	pub type Breaker<T: Config> = StorageValue<_, BreakerLevel, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The circuit breaker moved from one level to another.
		BreakerSet { from: BreakerLevel, to: BreakerLevel },
		/// Part (or all, `full`) of an account's positions was closed; its equity and
		/// maintenance margin afterwards.
		Liquidated { who: T::AccountId, steps: u32, full: bool, equity: i128, maintenance: u128 },
		/// One position step of a liquidation: `closed` units at `price`, `penalty` to the fund.
		PositionClosed {
			who: T::AccountId,
			market: MarketId,
			closed: u128,
			price: Price,
			penalty: u128,
		},
		/// An account in a batch was no longer liquidatable when the batch ran.
		Skipped { who: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The breaker is already at the requested level.
		BreakerUnchanged,
		/// The breaker does not allow new liquidations.
		BreakerActive,
		/// The batch is empty.
		EmptyBatch,
		/// The batch names an account twice.
		DuplicateAccount,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Finds liquidatable accounts through margin's risk index and submits them as
		/// unsigned `liquidate` batches (see `offchain`).
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::offchain_liquidate(now);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Set the circuit-breaker level.
		///
		/// Origin: `EmergencyOrigin`. Emits `BreakerSet`. Errors: `BreakerUnchanged`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_breaker())]
		pub fn set_breaker(origin: OriginFor<T>, level: BreakerLevel) -> DispatchResult {
			T::EmergencyOrigin::ensure_origin(origin)?;
			Self::do_set_breaker(level)
		}

		/// Liquidate `accounts`: each one still below maintenance margin at fresh prices has its
		/// positions closed, largest maintenance margin first, in partial steps (each market's
		/// `max_partial_liquidation` share) until its equity reaches the initial margin plus
		/// `Buffer`, or in full below `FullLiquidationBelow` of its maintenance margin; each
		/// step closes at the price less (long) or plus (short) the market's discount and pays
		/// `Penalty` of the closed notional to the insurance fund. Accounts that recovered are
		/// skipped, and the weight of the skipped work is refunded.
		///
		/// Origin: none (submitted by validators' offchain workers; `validate_unsigned` re-checks
		/// every account). Operational class. Emits `Liquidated`, `PositionClosed`, `Skipped`.
		/// Errors: `BreakerActive`, `EmptyBatch`, `DuplicateAccount`.
		#[pallet::call_index(1)]
		#[pallet::weight((T::WeightInfo::liquidate(accounts.len() as u32), DispatchClass::Operational))]
		pub fn liquidate(
			origin: OriginFor<T>,
			accounts: AccountsOf<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			let done = Self::do_liquidate(&accounts)?;
			let skipped = (accounts.len() as u32).saturating_sub(done);
			// Each part measured on its own, so the base cost is counted twice: never under.
			let actual =
				T::WeightInfo::liquidate(done).saturating_add(T::WeightInfo::skip(skipped));
			Ok(PostDispatchInfo { actual_weight: Some(actual), pays_fee: Pays::No })
		}
	}

	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// Valid only if the breaker runs and every account is liquidatable now. Tagged per
		/// account and block, so that the batches of several validators naming one account
		/// exclude each other; short-lived.
		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let Call::liquidate { accounts } = call else {
				return InvalidTransaction::Call.into();
			};
			Self::ensure_batch(accounts).map_err(|_| InvalidTransaction::Custom(0))?;
			if !accounts.iter().all(Self::may_liquidate) {
				return InvalidTransaction::Stale.into();
			}
			let now = frame_system::Pallet::<T>::block_number();
			let mut builder = ValidTransaction::with_tag_prefix("PerpLiquidation")
				.priority(T::UnsignedPriority::get())
				.longevity(3)
				.propagate(true);
			for who in accounts.iter() {
				builder = builder.and_provides((who, now));
			}
			builder.build()
		}
	}

	impl<T: Config> Pallet<T> {
		/// The insurance fund's account: penalties are credited to its margin cash.
		pub fn insurance_fund() -> T::AccountId {
			T::PalletId::get().into_account_truncating()
		}

		/// Whether a new liquidation of `who` may start now: the breaker allows it and the
		/// account holds positions and is below its maintenance margin at fresh prices. (Debt
		/// with no position left is for the shortfall stage, not for this one.)
		pub fn may_liquidate(who: &T::AccountId) -> bool {
			Breaker::<T>::get() == BreakerLevel::Running
				&& T::Margin::health(who).is_some_and(|h| h.is_liquidatable())
				&& T::Margin::margins(who).is_some_and(|m| m.maintenance > 0)
		}
	}
}

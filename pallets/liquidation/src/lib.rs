#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use perp_primitives::MarginInspector;

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
	pub trait Config: frame_system::Config {
		/// Reads the health of margin accounts.
		type Margin: MarginInspector<Self::AccountId>;
		/// The origin that may set the circuit breaker.
		type EmergencyOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The current circuit-breaker level.
	#[pallet::storage]
	pub type Breaker<T: Config> = StorageValue<_, BreakerLevel, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The circuit breaker moved from one level to another.
		BreakerSet { from: BreakerLevel, to: BreakerLevel },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The breaker is already at the requested level.
		BreakerUnchanged,
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
	}

	impl<T: Config> Pallet<T> {
		pub(crate) fn do_set_breaker(to: BreakerLevel) -> DispatchResult {
			let from = Breaker::<T>::get();
			ensure!(from != to, Error::<T>::BreakerUnchanged);
			Breaker::<T>::put(to);
			Self::deposit_event(Event::BreakerSet { from, to });
			Ok(())
		}

		/// Whether a new liquidation of `who` may start now: the breaker allows it and the
		/// account is below its maintenance margin.
		pub fn may_liquidate(who: &T::AccountId) -> bool {
			Breaker::<T>::get() == BreakerLevel::Running
				&& T::Margin::health(who).is_some_and(|h| h.is_liquidatable())
		}
	}
}

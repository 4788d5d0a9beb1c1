//! Benchmarks of the liquidation pallet's calls.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_breaker() -> Result<(), BenchmarkError> {
		let origin =
			T::EmergencyOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, BreakerLevel::Halted);

		assert_eq!(Breaker::<T>::get(), BreakerLevel::Halted);
		Ok(())
	}

	/// A batch of `n` accounts, each liquidatable with the most positions an account can hold.
	#[benchmark]
	fn liquidate(n: Linear<1, { T::MaxBatch::get() }>) {
		let accounts = T::BenchmarkHelper::liquidatable_accounts(n);
		assert!(accounts.iter().all(Pallet::<T>::may_liquidate));
		let batch = AccountsOf::<T>::truncate_from(accounts.clone());

		#[extrinsic_call]
		_(frame_system::RawOrigin::None, batch);

		assert!(accounts.iter().all(|who| !Pallet::<T>::may_liquidate(who)));
	}

	/// A batch of `n` accounts that recovered before it ran: each only re-checked.
	#[benchmark]
	fn skip(n: Linear<1, { T::MaxBatch::get() }>) {
		let accounts = T::BenchmarkHelper::healthy_accounts(n);
		assert!(!accounts.iter().any(Pallet::<T>::may_liquidate));
		let batch = AccountsOf::<T>::truncate_from(accounts);

		#[extrinsic_call]
		liquidate(frame_system::RawOrigin::None, batch);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

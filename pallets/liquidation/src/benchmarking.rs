//! Benchmarks of the liquidation pallet's calls.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::EnsureOrigin;

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

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

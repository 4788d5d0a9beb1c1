//! Benchmarks of the oracle pallet's calls.

use super::*;
use crate::pallet::{Assets, Feeders, RawValues};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use perp_primitives::{AssetId, Price};

/// Fill the feeder set with `n` accounts other than `except` and list `assets` assets.
fn setup<T: Config>(n: u32, assets: u32) -> Vec<T::AccountId> {
	let mut feeders: Vec<T::AccountId> = (0..n).map(|i| account("feeder", i, 0)).collect();
	feeders.sort();
	Feeders::<T>::put(BoundedVec::<_, T::MaxFeeders>::truncate_from(feeders.clone()));
	for asset in 0..assets {
		Assets::<T>::insert(asset as AssetId, ());
	}
	feeders
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_feeder() -> Result<(), BenchmarkError> {
		let max = T::MaxFeeders::get();
		setup::<T>(max - 1, 0);
		let who: T::AccountId = account("new", 0, 0);
		let origin =
			T::FeederOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Feeders::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_feeder() -> Result<(), BenchmarkError> {
		let max_values = T::MaxValuesPerFeed::get();
		let feeders = setup::<T>(T::MaxFeeders::get(), max_values);
		// The removed feeder priced every asset, so every aggregate is recomputed from the
		// values of all other feeders.
		for feeder in &feeders {
			for asset in 0..max_values {
				RawValues::<T>::insert(
					asset,
					feeder,
					RawValue { price: Price::from_u32(100 + asset), at: 1 },
				);
			}
		}
		let who = feeders[0].clone();
		let origin =
			T::FeederOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Feeders::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn feed(v: Linear<1, { T::MaxValuesPerFeed::get() }>, f: Linear<1, { T::MaxFeeders::get() }>) {
		let feeders = setup::<T>(f, v);
		for feeder in &feeders {
			for asset in 0..v {
				RawValues::<T>::insert(
					asset,
					feeder,
					RawValue { price: Price::from_u32(100), at: 1 },
				);
			}
		}
		let caller = feeders[0].clone();
		let values: FeedValuesOf<T> = BoundedVec::truncate_from(
			(0..v).map(|asset| (asset as AssetId, Price::from_u32(101))).collect::<Vec<_>>(),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), values);

		assert!(Aggregates::<T>::get(0).is_some());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

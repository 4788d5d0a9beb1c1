//! Benchmarks of the oracle pallet's calls, each in the worst case of its bounds.

use super::*;
use crate::pallet::{Aggregates, Assets, Feeders, Params};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use perp_primitives::{AssetId, Price};

/// A sorted feeder set of `n` accounts.
fn feeders<T: Config>(n: u32) -> Vec<T::AccountId> {
	let mut feeders: Vec<T::AccountId> = (0..n).map(|i| account("feeder", i, 0)).collect();
	feeders.sort();
	Feeders::<T>::put(BoundedVec::<_, T::MaxFeeders>::truncate_from(feeders.clone()));
	feeders
}

/// Lists assets `0..n`, and gives each of `feeders` a fresh value for each of them, submitted
/// in an earlier block so that the benchmarked call may feed again. A quorum of one feeder,
/// so that every benchmarked call aggregates.
fn priced<T: Config>(n: u32, feeders: &[T::AccountId]) {
	for asset in 0..n {
		price_asset::<T>(asset as AssetId, feeders);
	}
}

/// Lists `asset` and gives each of `feeders` a fresh value for it, as `priced` does.
fn price_asset<T: Config>(asset: AssetId, feeders: &[T::AccountId]) {
	Params::<T>::mutate(|params| params.min_feeders = 1);
	let now = Pallet::<T>::now();
	let values: Vec<_> = feeders
		.iter()
		.enumerate()
		.map(|(i, feeder)| {
			let price = Price::from_u32(1_000 + i as u32 % 3);
			let block: BlockNumberFor<T> = 0u32.into();
			FeederValue { feeder: feeder.clone(), value: RawValue { price, at: now, block } }
		})
		.collect();
	Assets::<T>::insert(asset, BoundedVec::<_, T::MaxFeeders>::truncate_from(values));
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_feeder() -> Result<(), BenchmarkError> {
		feeders::<T>(T::MaxFeeders::get() - 1);
		let who: T::AccountId = account("new", 0, 0);
		let origin = governance::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Feeders::<T>::get().contains(&who));
		Ok(())
	}

	/// The removed feeder priced each of `a` assets among `f` feeders: every asset is
	/// re-aggregated from the remaining values.
	#[benchmark]
	fn remove_feeder(
		a: Linear<1, { T::MaxAssets::get() }>,
		f: Linear<1, { T::MaxFeeders::get() }>,
	) -> Result<(), BenchmarkError> {
		let feeders = feeders::<T>(f);
		priced::<T>(a, &feeders);
		let who = feeders[0].clone();
		let origin = governance::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Feeders::<T>::get().contains(&who));
		Ok(())
	}

	/// `v` values, each re-aggregating an asset priced by `f` feeders.
	#[benchmark]
	fn feed(v: Linear<1, { T::MaxValuesPerFeed::get() }>, f: Linear<1, { T::MaxFeeders::get() }>) {
		let feeders = feeders::<T>(f);
		priced::<T>(v, &feeders);
		let caller = feeders[0].clone();
		let values: FeedValuesOf<T> = BoundedVec::truncate_from(
			(0..v)
				.map(|asset| (asset as AssetId, Price::from_u32(1_001)))
				.collect::<Vec<_>>(),
		);
		frame_system::Pallet::<T>::set_block_number(1u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), values);

		assert!(Aggregates::<T>::get(0).is_some());
	}

	#[benchmark]
	fn add_asset() -> Result<(), BenchmarkError> {
		let _ = Assets::<T>::clear(u32::MAX, None);
		for asset in 0..T::MaxAssets::get() - 1 {
			Assets::<T>::insert(1_000 + asset, ValuesOf::<T>::default());
		}
		let asset = T::MaxAssets::get();
		let origin = governance::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset);

		assert!(Assets::<T>::contains_key(asset));
		Ok(())
	}

	#[benchmark]
	/// An asset nothing else uses (so that the call goes through), priced by `f` feeders.
	/// (The check of its users is weighed by `PriceUsers::uses_weight`.)
	fn remove_asset(f: Linear<1, { T::MaxFeeders::get() }>) -> Result<(), BenchmarkError> {
		let feeders = feeders::<T>(f);
		let asset = AssetId::MAX;
		price_asset::<T>(asset, &feeders);
		Pallet::<T>::aggregate(asset, false);
		let origin = governance::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset);

		assert!(!Assets::<T>::contains_key(asset));
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let mut params = T::DefaultParams::get();
		params.max_age += 1;
		let origin = governance::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	/// The asset is re-aggregated from `f` fresh values after the reset.
	#[benchmark]
	fn reset_breaker(f: Linear<1, { T::MaxFeeders::get() }>) -> Result<(), BenchmarkError> {
		let feeders = feeders::<T>(f);
		priced::<T>(1, &feeders);
		Pallet::<T>::aggregate(0, false);
		let mut aggregate = Aggregates::<T>::get(0).ok_or(BenchmarkError::Weightless)?;
		aggregate.frozen_since = Some(0);
		Aggregates::<T>::insert(0, aggregate);
		let origin = governance::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 0);

		assert!(Aggregates::<T>::get(0).is_some_and(|a| a.frozen_since.is_none()));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

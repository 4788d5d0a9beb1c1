//! Benchmarks of the margin pallet's calls.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::RawOrigin;
use perp_primitives::Balance;

const AMOUNT: Balance = 1_000_000_000;

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn deposit() {
		let asset = T::SettlementAsset::get();
		let caller: T::AccountId = whitelisted_caller();
		T::BenchmarkHelper::fund(asset, &caller, AMOUNT * 2);
		// The worst case adds to an existing balance.
		Pallet::<T>::do_deposit(caller.clone(), asset, AMOUNT).expect("funded above");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, AMOUNT);

		assert_eq!(Collateral::<T>::get(&caller, asset), Some(AMOUNT * 2));
	}

	#[benchmark]
	fn withdraw() {
		let asset = T::SettlementAsset::get();
		let caller: T::AccountId = whitelisted_caller();
		T::BenchmarkHelper::fund(asset, &caller, AMOUNT * 2);
		Pallet::<T>::do_deposit(caller.clone(), asset, AMOUNT * 2).expect("funded above");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, AMOUNT);

		assert_eq!(Collateral::<T>::get(&caller, asset), Some(AMOUNT));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

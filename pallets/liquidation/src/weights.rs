// Placeholder until `benchmarks/` generates this file from the pallet's benchmarks.
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::weights::{constants::ParityDbWeight, Weight};

pub trait WeightInfo {
	fn set_breaker() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn set_breaker() -> Weight {
		Weight::from_parts(10_000_000, 500).saturating_add(ParityDbWeight::get().reads_writes(1, 1))
	}
}

impl WeightInfo for () {
	fn set_breaker() -> Weight {
		Weight::from_parts(10_000_000, 500)
	}
}

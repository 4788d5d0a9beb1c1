// Placeholder until `benchmarks/` generates this file from the pallet's benchmarks.
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::weights::{constants::ParityDbWeight, Weight};

pub trait WeightInfo {
	fn deposit() -> Weight;
	fn withdraw() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn deposit() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4))
	}
}

impl WeightInfo for () {
	fn deposit() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
	}
	fn withdraw() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
	}
}

// Placeholder until `benchmarks/` generates this file from the pallet's benchmarks.
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::weights::{constants::ParityDbWeight, Weight};

pub trait WeightInfo {
	fn add_feeder() -> Weight;
	fn remove_feeder() -> Weight;
	fn feed(v: u32, f: u32) -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn add_feeder() -> Weight {
		Weight::from_parts(20_000_000, 1_000)
			.saturating_add(ParityDbWeight::get().reads_writes(1, 1))
	}
	fn remove_feeder() -> Weight {
		Weight::from_parts(20_000_000, 1_000)
			.saturating_add(ParityDbWeight::get().reads_writes(1, 1))
	}
	fn feed(_v: u32, _f: u32) -> Weight {
		Weight::from_parts(20_000_000, 1_000)
			.saturating_add(ParityDbWeight::get().reads_writes(1, 1))
	}
}

impl WeightInfo for () {
	fn add_feeder() -> Weight {
		Weight::from_parts(20_000_000, 1_000)
	}
	fn remove_feeder() -> Weight {
		Weight::from_parts(20_000_000, 1_000)
	}
	fn feed(_v: u32, _f: u32) -> Weight {
		Weight::from_parts(20_000_000, 1_000)
	}
}

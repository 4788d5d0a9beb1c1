// Stand-in until `benchmarks/generate-weights.sh` regenerates this file for the new calls.
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::weights::{constants::ParityDbWeight, Weight};

pub trait WeightInfo {
	fn add_feeder() -> Weight;
	fn remove_feeder(a: u32, f: u32) -> Weight;
	fn feed(v: u32, f: u32) -> Weight;
	fn add_asset() -> Weight;
	fn remove_asset(f: u32) -> Weight;
	fn set_params() -> Weight;
	fn reset_breaker(f: u32) -> Weight;
}

fn rw(r: u64, w: u64) -> Weight {
	Weight::from_parts(200_000_000, 10_000).saturating_add(ParityDbWeight::get().reads_writes(r, w))
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn add_feeder() -> Weight {
		rw(1, 1)
	}
	fn remove_feeder(a: u32, f: u32) -> Weight {
		rw(u64::from(a) * u64::from(f) + 10, u64::from(a) * 2 + 1)
	}
	fn feed(v: u32, f: u32) -> Weight {
		rw(u64::from(v) * u64::from(f) + 10, u64::from(v) * 2)
	}
	fn add_asset() -> Weight {
		rw(2, 2)
	}
	fn remove_asset(f: u32) -> Weight {
		rw(2, u64::from(f) + 2)
	}
	fn set_params() -> Weight {
		rw(0, 1)
	}
	fn reset_breaker(f: u32) -> Weight {
		rw(u64::from(f) + 4, 2)
	}
}

impl WeightInfo for () {
	fn add_feeder() -> Weight {
		rw(1, 1)
	}
	fn remove_feeder(a: u32, f: u32) -> Weight {
		rw(u64::from(a) * u64::from(f) + 10, u64::from(a) * 2 + 1)
	}
	fn feed(v: u32, f: u32) -> Weight {
		rw(u64::from(v) * u64::from(f) + 10, u64::from(v) * 2)
	}
	fn add_asset() -> Weight {
		rw(2, 2)
	}
	fn remove_asset(f: u32) -> Weight {
		rw(2, u64::from(f) + 2)
	}
	fn set_params() -> Weight {
		rw(0, 1)
	}
	fn reset_breaker(f: u32) -> Weight {
		rw(u64::from(f) + 4, 2)
	}
}

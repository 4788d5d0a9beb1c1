//! A minimal runtime for the liquidation pallet's tests; a recording double plays margin.

use crate as pallet_liquidation;
use frame_support::{derive_impl, parameter_types};
use frame_system::EnsureRoot;
use perp_primitives::{HealthState, MarginInspector};
use sp_runtime::BuildStorage;
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Liquidation = pallet_liquidation;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	/// The health the margin double reports per account.
	pub static Health: BTreeMap<u64, HealthState> = BTreeMap::new();
	/// The accounts the margin double was asked about, in order.
	pub static Asked: Vec<u64> = Vec::new();
}

/// Plays the margin pallet: answers from [`Health`] and records each question in [`Asked`].
pub struct MarginDouble;
impl MarginInspector<u64> for MarginDouble {
	fn health(who: &u64) -> Option<HealthState> {
		Asked::mutate(|asked| asked.push(*who));
		Health::get().get(who).copied()
	}
}

impl pallet_liquidation::Config for Test {
	type Margin = MarginDouble;
	type EmergencyOrigin = EnsureRoot<u64>;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	Health::take();
	Asked::take();
	ext
}

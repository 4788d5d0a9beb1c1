//! Tests of the oracle's storage migrations.

use super::{p, raw_value};
use crate::{migrations::v1, mock::*, pallet::*};
use frame_support::{
	assert_ok,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	BoundedVec,
};
use perp_primitives::PriceProvider;

fn feed(who: u64, v: Vec<(u32, perp_primitives::Price)>) {
	let values = BoundedVec::try_from(v).expect("test feeds fit the bound");
	assert_ok!(Oracle::feed(RuntimeOrigin::signed(who), values));
}

/// Values of both assets from all three feeders (fed out of account order), and of ETH
/// from one feeder in a later block, as a state of version 1.
fn state_with_values() {
	// (A chain's genesis stores the version; the mock builds only the pallet's storage.)
	Oracle::in_code_storage_version().put::<Oracle>();
	feed(CHARLIE, vec![(BTC, p(102)), (ETH, p(11))]);
	feed(ALICE, vec![(ETH, p(10)), (BTC, p(100))]);
	feed(BOB, vec![(BTC, p(104))]);
	next_block(1_000);
	feed(BOB, vec![(ETH, p(12))]);
}

#[test]
fn version_1_moves_every_raw_value_into_its_assets_record() {
	run_test(|| {
		state_with_values();
		assert_eq!(Oracle::in_code_storage_version(), StorageVersion::new(1));
		let before = v1::entries::<Test>();
		assert_eq!(before.len(), 6);
		let prices = (Oracle::price(BTC), Oracle::price(ETH));

		v1::downgrade::<Test>();
		assert_eq!(Oracle::on_chain_storage_version(), StorageVersion::new(0));
		assert_eq!(v1::old_entries::<Test>(), before);
		// Every asset listed as before, with nothing in its record; none decodes as version 1.
		assert!(v1::is_listed_in_v0::<Test>(BTC) && v1::is_listed_in_v0::<Test>(ETH));
		assert_eq!(Assets::<Test>::get(BTC), None);
		assert_eq!(Assets::<Test>::count(), 2);

		#[cfg(feature = "try-runtime")]
		assert_ok!(v1::MigrateToV1::<Test>::try_on_runtime_upgrade(true));
		#[cfg(not(feature = "try-runtime"))]
		v1::MigrateToV1::<Test>::on_runtime_upgrade();

		assert_eq!(Oracle::on_chain_storage_version(), StorageVersion::new(1));
		assert!(v1::old_entries::<Test>().is_empty());
		assert_eq!(v1::entries::<Test>(), before);
		// Sorted by feeder (the pallet's checks, run after the test, say so too).
		let btc: Vec<u64> =
			Assets::<Test>::get(BTC).unwrap_or_default().iter().map(|v| v.feeder).collect();
		assert_eq!(btc, vec![ALICE, BOB, CHARLIE]);
		assert_eq!(raw_value(ETH, BOB), Some(p(12)));
		assert_eq!((Oracle::price(BTC), Oracle::price(ETH)), prices);
		assert_eq!(Assets::<Test>::count(), 2);

		// Feeds go on in the new layout: Alice's value is replaced, not added.
		next_block(1_000);
		feed(ALICE, vec![(BTC, p(103))]);
		assert_eq!(Assets::<Test>::get(BTC).map(|v| v.len()), Some(3));
		assert_eq!(Oracle::price(BTC).price, p(103));
	});
}

#[test]
fn version_1_runs_once() {
	run_test(|| {
		state_with_values();
		let before = v1::entries::<Test>();
		v1::downgrade::<Test>();
		v1::MigrateToV1::<Test>::on_runtime_upgrade();
		// Once at version 1, a second run finds nothing to do and changes nothing.
		let value = Assets::<Test>::get(BTC).expect("listed")[0].value;
		v1::RawValues::<Test>::insert(BTC, EVE, value);
		v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(v1::entries::<Test>(), before);
		v1::RawValues::<Test>::remove(BTC, EVE);
	});
}

//! Storage migrations, on state written the old way.

use super::*;
use crate::{
	migrations::v1::{self, CollateralIntoAccounts},
	Accounts, TotalCollateral,
};
#[cfg(feature = "try-runtime")]
use frame_support::traits::UncheckedOnRuntimeUpgrade;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade};

#[test]
fn collateral_moves_into_the_account_records_and_nothing_else_changes() {
	new_test_ext().execute_with(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		deposit(ALICE, USD, usd(20_000));
		deposit(ALICE, DOT, 5 * DOT_UNIT);
		deposit(ALICE, NATIVE, 7 * NATIVE_UNIT);
		assert_ok!(trade(ALICE, BTC_UNIT as i128 / 10));
		// Bob holds collateral only: version 0 kept no record for him.
		deposit(BOB, DOT, 3 * DOT_UNIT);
		assert_ok!(Margin::do_try_state());
		let before: Vec<_> = Accounts::<Test>::iter().collect();
		let totals: Vec<_> = TotalCollateral::<Test>::iter().collect();
		v1::downgrade::<Test>();
		assert_eq!(Margin::on_chain_storage_version(), 0);
		assert_eq!(CollateralIntoAccounts::<Test>::old_sums().1, 3);
		assert!(v1::has_old_record::<Test>(&ALICE) && !v1::has_old_record::<Test>(&BOB));

		#[cfg(feature = "try-runtime")]
		let state = CollateralIntoAccounts::<Test>::pre_upgrade().unwrap();
		v1::MigrateToV1::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		CollateralIntoAccounts::<Test>::post_upgrade(state).unwrap();

		assert_eq!(Margin::on_chain_storage_version(), 1);
		let mut after: Vec<_> = Accounts::<Test>::iter().collect();
		let mut expected = before;
		after.sort_by_key(|(who, _)| *who);
		expected.sort_by_key(|(who, _)| *who);
		assert_eq!(after, expected);
		assert_eq!(TotalCollateral::<Test>::iter().collect::<Vec<_>>(), totals);
		assert_eq!(v1::Collateral::<Test>::iter().count(), 0);
		assert_ok!(Margin::do_try_state());

		// Once at version 1 it does nothing, even with entries in the old map.
		v1::Collateral::<Test>::insert(BOB, DOT, 1);
		v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Accounts::<Test>::get(BOB).map(|a| a.holding(DOT)), Some(3 * DOT_UNIT));
	});
}

#[test]
fn open_interest_stored_as_a_pair_reads_as_the_named_record() {
	new_test_ext().execute_with(|| {
		let key = crate::OpenInterest::<Test>::hashed_key_for(BTC_PERP);
		frame_support::storage::unhashed::put(&key, &(7 * BTC_UNIT, 3 * BTC_UNIT));
		assert_eq!(
			crate::OpenInterest::<Test>::get(BTC_PERP),
			crate::Interest { long: 7 * BTC_UNIT, short: 3 * BTC_UNIT }
		);
		// And written back, the same bytes: no migration is needed.
		let pair = frame_support::storage::unhashed::get_raw(&key);
		crate::OpenInterest::<Test>::insert(BTC_PERP, crate::OpenInterest::<Test>::get(BTC_PERP));
		assert_eq!(frame_support::storage::unhashed::get_raw(&key), pair);
	});
}

#[test]
fn an_index_record_stored_as_a_pair_reads_as_the_named_record() {
	new_test_ext().execute_with(|| {
		deposit(ALICE, USD, usd(20_000));
		assert_ok!(trade(ALICE, BTC_UNIT as i128 / 10));
		let entry = crate::Triggers::<Test>::get(ALICE).expect("indexed");
		let key = crate::Triggers::<Test>::hashed_key_for(ALICE);
		assert_eq!(
			frame_support::storage::unhashed::get_raw(&key),
			Some(codec::Encode::encode(&(entry.version, entry.triggers.clone())))
		);
	});
}

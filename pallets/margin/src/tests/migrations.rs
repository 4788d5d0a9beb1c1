//! Storage migrations, on state written the old way.

use super::*;
use crate::{
	migrations::{
		v1::{self, CollateralIntoAccounts},
		v2::{self, AuctionCountsIntoAccounts},
	},
	Accounts, TotalCollateral,
};
#[cfg(feature = "try-runtime")]
use frame_support::traits::UncheckedOnRuntimeUpgrade;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade};

/// The liquidation pallet, as far as the migrations see it: a storage prefix.
struct Liquidation;
impl frame_support::traits::PalletInfoAccess for Liquidation {
	fn index() -> usize {
		9
	}
	fn name() -> &'static str {
		"Liquidation"
	}
	fn name_hash() -> [u8; 16] {
		sp_io::hashing::twox_128(Self::name().as_bytes())
	}
	fn module_name() -> &'static str {
		"pallet_liquidation"
	}
	fn crate_version() -> frame_support::traits::CrateVersion {
		frame_support::traits::CrateVersion::new(0, 1, 0)
	}
}

#[test]
fn auction_counts_move_into_the_account_records_and_nothing_else_changes() {
	use perp_primitives::{MarginLiquidator, MarginReader};
	new_test_ext().execute_with(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		deposit(ALICE, USD, usd(20_000));
		deposit(ALICE, DOT, 5 * DOT_UNIT);
		assert_ok!(trade(ALICE, BTC_UNIT as i128 / 10));
		// Two of Alice's lots at auction, one of Bob's, who holds nothing else.
		deposit(BOB, DOT, 3 * DOT_UNIT);
		const HOLDER: u64 = 66;
		assert_ok!(Margin::auction_collateral(&ALICE, DOT, DOT_UNIT, &HOLDER));
		assert_ok!(Margin::auction_collateral(&ALICE, DOT, DOT_UNIT, &HOLDER));
		assert_ok!(Margin::auction_collateral(&BOB, DOT, 3 * DOT_UNIT, &HOLDER));
		assert_eq!((Margin::open_auctions(&ALICE), Margin::open_auctions(&BOB)), (2, 1));
		assert_ok!(Margin::do_try_state());
		let mut before: Vec<_> = Accounts::<Test>::iter().collect();

		v2::downgrade::<Test, Liquidation>();
		assert_eq!(Margin::on_chain_storage_version(), 1);
		assert_eq!(v2::old_count::<Test, Liquidation>(&ALICE), 2);
		assert_eq!(v2::old_count::<Test, Liquidation>(&BOB), 1);
		// Bob's record held only his count: version 1 kept none.
		assert!(v1::has_v1_record::<Test>(&ALICE) && !v1::has_v1_record::<Test>(&BOB));

		#[cfg(feature = "try-runtime")]
		let state = AuctionCountsIntoAccounts::<Test, Liquidation>::pre_upgrade().unwrap();
		v2::MigrateToV2::<Test, Liquidation>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		AuctionCountsIntoAccounts::<Test, Liquidation>::post_upgrade(state).unwrap();

		assert_eq!(Margin::on_chain_storage_version(), 2);
		let mut after: Vec<_> = Accounts::<Test>::iter().collect();
		after.sort_by_key(|(who, _)| *who);
		before.sort_by_key(|(who, _)| *who);
		// Alice's seizures marked her crossed: version 1 kept the mark in her index entry,
		// where it stays, found at any price, until her next re-index.
		assert!(before[0].1.crossed && Margin::is_crossed(&ALICE));
		before[0].1.crossed = false;
		assert_eq!(after, before);
		assert_eq!(v2::old_count::<Test, Liquidation>(&ALICE), 0);
		assert_ok!(Margin::do_try_state());

		// Once at version 2 it does nothing.
		v2::MigrateToV2::<Test, Liquidation>::on_runtime_upgrade();
		assert_eq!(Margin::open_auctions(&ALICE), 2);
		assert_eq!(Margin::auction_closed(&ALICE), Ok(1));
	});
}

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
		v2::downgrade::<Test, Liquidation>();
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
		v2::MigrateToV2::<Test, Liquidation>::on_runtime_upgrade();
		assert_eq!(Margin::on_chain_storage_version(), 2);
		let mut after: Vec<_> = Accounts::<Test>::iter().collect();
		let mut expected = before;
		after.sort_by_key(|(who, _)| *who);
		expected.sort_by_key(|(who, _)| *who);
		assert_eq!(after, expected);
		assert_eq!(TotalCollateral::<Test>::iter().collect::<Vec<_>>(), totals);
		assert_eq!(v1::Collateral::<Test>::iter().count(), 0);
		assert_ok!(Margin::do_try_state());

		// Once past version 0 it does nothing, even with entries in the old map.
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

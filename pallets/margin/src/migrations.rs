//! Storage migrations, one module per storage version.

use frame_support::{traits::Get, weights::Weight};

/// The weight of a migration that rewrites `records` account records, each read and written
/// once, and moves `moved` entries into them, each read and written twice (where it was, and
/// the record it joins).
fn weight<T: crate::Config>(records: u64, moved: u64) -> Weight {
	let keys = records.saturating_add(moved.saturating_mul(2));
	T::DbWeight::get().reads_writes(keys, keys)
}

/// Version 1: each account's collateral moves from the `Collateral` double map into its
/// `MarginAccount` record, which every valuation reads anyway (one read instead of one per
/// asset plus the iteration).
pub mod v1 {
	use crate::{pallet::*, MarginAccount, MarginAccountOf, Position};
	use alloc::vec::Vec;
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		Blake2_128Concat, Twox64Concat,
	};
	use perp_primitives::{AssetId, Balance};

	/// The record before version 1: cash and positions.
	#[derive(Encode, Decode)]
	pub struct OldMarginAccount<MaxPositions: Get<u32>> {
		/// USD cash.
		pub cash: i128,
		/// Open positions.
		pub positions: BoundedVec<Position, MaxPositions>,
	}

	/// The record of version 1: cash, positions and collateral.
	#[derive(Encode, Decode)]
	pub struct V1MarginAccount<MaxPositions: Get<u32>, MaxCollateral: Get<u32>> {
		/// USD cash.
		pub cash: i128,
		/// Open positions.
		pub positions: BoundedVec<Position, MaxPositions>,
		/// Collateral: (asset, amount), ascending asset ids.
		pub collateral: BoundedVec<(AssetId, Balance), MaxCollateral>,
	}

	/// A version 1 record with this runtime's bounds.
	pub type V1MarginAccountOf<T> =
		V1MarginAccount<<T as Config>::MaxPositions, <T as Config>::MaxCollateralAssets>;

	impl<M: Get<u32>, C: Get<u32>> From<V1MarginAccount<M, C>> for MarginAccount<M, C> {
		fn from(old: V1MarginAccount<M, C>) -> Self {
			Self {
				cash: old.cash,
				positions: old.positions,
				collateral: old.collateral,
				auctions: 0,
				crossed: false,
			}
		}
	}

	/// The collateral map of version 0: account, asset → amount.
	#[storage_alias]
	pub type Collateral<T: Config> = StorageDoubleMap<
		Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		Twox64Concat,
		AssetId,
		Balance,
		OptionQuery,
	>;

	/// The migration, without the version check: see [`MigrateToV1`].
	pub struct CollateralIntoAccounts<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for CollateralIntoAccounts<T> {
		/// Every record gains an empty collateral list, then every collateral entry moves into
		/// its owner's record (created for an account that held only collateral). One block:
		/// its weight is that of the state's accounts and entries, each read and written once.
		fn on_runtime_upgrade() -> Weight {
			let mut records = 0u64;
			layout::Accounts::<T>::translate::<OldMarginAccount<T::MaxPositions>, _>(|_, old| {
				records += 1;
				Some(V1MarginAccount {
					cash: old.cash,
					positions: old.positions,
					collateral: Default::default(),
				})
			});
			let mut entries = 0u64;
			for (who, asset, amount) in Collateral::<T>::drain() {
				entries += 1;
				layout::Accounts::<T>::mutate(&who, |record| {
					let mut account: MarginAccountOf<T> =
						record.take().map(Into::into).unwrap_or_default();
					// Only listed assets are held, at most `MaxCollateralAssets` of them:
					// there is always room. Were there none, the post-upgrade check fails.
					if account
						.set_holding(asset, account.holding(asset).saturating_add(amount))
						.is_err()
					{
						log::error!(target: "runtime::margin", "no room for collateral {asset}");
					}
					*record = Some(V1MarginAccount {
						cash: account.cash,
						positions: account.positions,
						collateral: account.collateral,
					});
				});
			}
			log::info!(
				target: "runtime::margin",
				"v1: {records} account records, {entries} collateral entries moved into them"
			);
			super::weight::<T>(records, entries)
		}

		/// Per asset, the sum of the collateral entries, and how many there are.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok(Self::old_sums().encode())
		}

		/// The records hold what the entries held, asset by asset; no entry is left.
		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let (before, count): (Vec<(AssetId, Balance)>, u64) =
				Decode::decode(&mut &state[..]).map_err(|_| "undecodable pre-upgrade state")?;
			frame_support::ensure!(
				Collateral::<T>::iter_keys().next().is_none(),
				"collateral entries left"
			);
			let mut after = alloc::collections::btree_map::BTreeMap::<AssetId, Balance>::new();
			let mut held = 0u64;
			for (_, account) in layout::Accounts::<T>::iter() {
				for (asset, amount) in account.collateral {
					held += 1;
					let sum = after.entry(asset).or_default();
					*sum = sum.saturating_add(amount);
				}
			}
			frame_support::ensure!(held == count, "collateral holdings lost or added");
			frame_support::ensure!(
				after.into_iter().collect::<Vec<_>>() == before,
				"collateral sums changed"
			);
			// (The pallet's own checks read the current layout: they run after the last
			// migration.)
			Ok(())
		}
	}

	impl<T: Config> CollateralIntoAccounts<T> {
		/// Per asset (ascending), the sum of the version 0 entries, and their number.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn old_sums() -> (Vec<(AssetId, Balance)>, u64) {
			let mut sums = alloc::collections::btree_map::BTreeMap::<AssetId, Balance>::new();
			let mut count = 0u64;
			for (_, asset, amount) in Collateral::<T>::iter() {
				count += 1;
				let sum = sums.entry(asset).or_default();
				*sum = sum.saturating_add(amount);
			}
			(sums.into_iter().collect(), count)
		}
	}

	/// The records of version 0, under the same storage name.
	mod old {
		use super::*;
		#[storage_alias]
		pub type Accounts<T: Config> = StorageMap<
			Pallet<T>,
			Blake2_128Concat,
			<T as frame_system::Config>::AccountId,
			OldMarginAccount<<T as Config>::MaxPositions>,
			OptionQuery,
		>;
	}

	/// The records of version 1, under the same storage name.
	pub mod layout {
		use super::*;
		#[storage_alias]
		pub type Accounts<T: Config> = StorageMap<
			Pallet<T>,
			Blake2_128Concat,
			<T as frame_system::Config>::AccountId,
			V1MarginAccountOf<T>,
			OptionQuery,
		>;
	}

	/// Rewrites a version 1 state in the version 0 layout, the inverse of the migration:
	/// records without collateral (none for an account that holds only collateral), the
	/// collateral in the double map, storage version 0. For testing the migration on real
	/// states.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn downgrade<T: Config>() {
		let accounts: Vec<_> = layout::Accounts::<T>::iter().collect();
		for (who, account) in accounts {
			for &(asset, amount) in &account.collateral {
				Collateral::<T>::insert(&who, asset, amount);
			}
			layout::Accounts::<T>::remove(&who);
			if account.cash != 0 || !account.positions.is_empty() {
				let old = OldMarginAccount { cash: account.cash, positions: account.positions };
				old::Accounts::<T>::insert(&who, old);
			}
		}
		frame_support::traits::StorageVersion::new(0).put::<Pallet<T>>();
	}

	/// Whether `who` has a record in the version 1 layout.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn has_v1_record<T: Config>(who: &T::AccountId) -> bool {
		layout::Accounts::<T>::contains_key(who)
	}

	/// Whether `who` has a record in the version 0 layout.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn has_old_record<T: Config>(who: &T::AccountId) -> bool {
		old::Accounts::<T>::contains_key(who)
	}

	/// [`CollateralIntoAccounts`] from storage version 0 to 1: it runs once, and sets the
	/// version.
	pub type MigrateToV1<T> = VersionedMigration<
		0,
		1,
		CollateralIntoAccounts<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 2: each account's count of open collateral auctions moves from the liquidation
/// pallet's `OpenAuctions` map into its `MarginAccount` record, which every liquidation reads
/// and writes anyway (one read and one write less a liquidated account), and the record gains
/// its `crossed` flag, unset: an account version 1 marked crossed keeps the mark in its
/// `Triggers` entry, which claims the same index entry, until its next re-index.
pub mod v2 {
	use super::v1::{layout, V1MarginAccountOf};
	use crate::{pallet::*, MarginAccountOf};
	use alloc::vec::Vec;
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		storage::migration::{clear_storage_prefix, put_storage_value, storage_key_iter},
		traits::{PalletInfoAccess, UncheckedOnRuntimeUpgrade},
		Blake2_128Concat, Hashable,
	};

	/// The liquidation pallet's map of version 1's counts: account → open auctions.
	const OPEN_AUCTIONS: &[u8] = b"OpenAuctions";

	/// The counts `OpenAuctions` of the pallet `Liquidation` (the liquidation pallet of the
	/// runtime, whose storage prefix is its name) still holds.
	fn old_counts<T: Config, Liquidation: PalletInfoAccess>() -> Vec<(T::AccountId, u32)> {
		storage_key_iter::<T::AccountId, u32, Blake2_128Concat>(
			Liquidation::name().as_bytes(),
			OPEN_AUCTIONS,
		)
		.collect()
	}

	/// The migration, without the version check: see [`MigrateToV2`].
	pub struct AuctionCountsIntoAccounts<T, Liquidation>(
		core::marker::PhantomData<(T, Liquidation)>,
	);

	impl<T: Config, Liquidation: PalletInfoAccess> UncheckedOnRuntimeUpgrade
		for AuctionCountsIntoAccounts<T, Liquidation>
	{
		/// Every record gains a count of zero, then every count of `OpenAuctions` moves into
		/// its owner's record, and the map is removed. One block: its weight is that of the
		/// state's accounts and counts, each read and written once.
		fn on_runtime_upgrade() -> Weight {
			let mut records = 0u64;
			Accounts::<T>::translate::<V1MarginAccountOf<T>, _>(|_, old| {
				records += 1;
				Some(old.into())
			});
			let counts = old_counts::<T, Liquidation>();
			for (who, open) in &counts {
				// An account with an auction open still owes its debt: it has a record.
				Accounts::<T>::mutate(who, |account| {
					account.get_or_insert_with(Default::default).auctions = *open;
				});
			}
			let _ = clear_storage_prefix(
				Liquidation::name().as_bytes(),
				OPEN_AUCTIONS,
				&[],
				None,
				None,
			);
			let moved = counts.len() as u64;
			log::info!(
				target: "runtime::margin",
				"v2: {records} account records, {moved} auction counts moved into them"
			);
			super::weight::<T>(records, moved)
		}

		/// The counts, and every record as version 1 has it.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			let mut counts = old_counts::<T, Liquidation>();
			counts.sort_by(|a, b| a.0.cmp(&b.0));
			let mut records: Vec<(T::AccountId, MarginAccountOf<T>)> =
				layout::Accounts::<T>::iter().map(|(who, old)| (who, old.into())).collect();
			records.sort_by(|a, b| a.0.cmp(&b.0));
			Ok((counts, records).encode())
		}

		/// Every record as it was with its count; the old map is gone; the pallet's checks
		/// hold.
		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			type State<T> = (
				Vec<(<T as frame_system::Config>::AccountId, u32)>,
				Vec<(<T as frame_system::Config>::AccountId, MarginAccountOf<T>)>,
			);
			let (counts, mut expected): State<T> =
				Decode::decode(&mut &state[..]).map_err(|_| "undecodable pre-upgrade state")?;
			ensure!(old_counts::<T, Liquidation>().is_empty(), "auction counts left");
			for (who, open) in counts {
				match expected.binary_search_by(|(w, _)| w.cmp(&who)) {
					Ok(i) => expected[i].1.auctions = open,
					Err(i) => expected.insert(
						i,
						(who, MarginAccountOf::<T> { auctions: open, ..Default::default() }),
					),
				}
			}
			let mut after: Vec<_> = Accounts::<T>::iter().collect();
			after.sort_by(|a, b| a.0.cmp(&b.0));
			ensure!(after == expected, "account records changed");
			Pallet::<T>::do_try_state()
		}
	}

	/// Rewrites the state in the version 1 layout, the inverse of the migration: records
	/// without their count, the counts in the liquidation pallet's `OpenAuctions`, a `crossed`
	/// flag as the trigger version 1 kept in the `Triggers` entry, storage version 1. For
	/// testing the migrations on real states.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn downgrade<T: Config, Liquidation: PalletInfoAccess>() {
		let accounts: Vec<_> = Accounts::<T>::iter().collect();
		for (who, account) in accounts {
			if account.crossed {
				let (asset, bucket, _) = Pallet::<T>::crossed_key(&who);
				let crossed = crate::Trigger { asset, lower: Some(bucket), upper: None };
				Triggers::<T>::mutate(&who, |entry| {
					let entry = entry.get_or_insert_with(|| crate::IndexEntry {
						version: RiskVersion::<T>::get(),
						triggers: Default::default(),
					});
					if !entry.triggers.contains(&crossed) {
						// (Version 1 re-indexed an account whose entry had no room.)
						let _ = entry.triggers.try_push(crossed);
					}
				});
			}
			if account.auctions > 0 {
				put_storage_value(
					Liquidation::name().as_bytes(),
					OPEN_AUCTIONS,
					&who.blake2_128_concat(),
					account.auctions,
				);
			}
			Accounts::<T>::remove(&who);
			let old = super::v1::V1MarginAccount {
				cash: account.cash,
				positions: account.positions,
				collateral: account.collateral,
			};
			if old.cash != 0 || !old.positions.is_empty() || !old.collateral.is_empty() {
				layout::Accounts::<T>::insert(&who, old);
			}
		}
		frame_support::traits::StorageVersion::new(1).put::<Pallet<T>>();
	}

	/// `who`'s count in the liquidation pallet's `OpenAuctions`, as version 1 kept it.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn old_count<T: Config, Liquidation: PalletInfoAccess>(who: &T::AccountId) -> u32 {
		frame_support::storage::migration::get_storage_value(
			Liquidation::name().as_bytes(),
			OPEN_AUCTIONS,
			&who.blake2_128_concat(),
		)
		.unwrap_or(0)
	}

	/// [`AuctionCountsIntoAccounts`] from storage version 1 to 2: it runs once, and sets the
	/// version.
	pub type MigrateToV2<T, Liquidation> = VersionedMigration<
		1,
		2,
		AuctionCountsIntoAccounts<T, Liquidation>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

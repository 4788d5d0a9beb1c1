//! Storage migrations, one module per storage version.

/// Version 1: each account's collateral moves from the `Collateral` double map into its
/// `MarginAccount` record, which every valuation reads anyway (one read instead of one per
/// asset plus the iteration).
pub mod v1 {
	use crate::{pallet::*, MarginAccount, Position};
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
			Accounts::<T>::translate::<OldMarginAccount<T::MaxPositions>, _>(|_, old| {
				records += 1;
				Some(MarginAccount {
					cash: old.cash,
					positions: old.positions,
					collateral: Default::default(),
				})
			});
			let mut entries = 0u64;
			for (who, asset, amount) in Collateral::<T>::drain() {
				entries += 1;
				Accounts::<T>::mutate(&who, |account| {
					let account = account.get_or_insert_with(Default::default);
					// Only listed assets are held, at most `MaxCollateralAssets` of them:
					// there is always room. Were there none, the post-upgrade check fails.
					if account
						.set_holding(asset, account.holding(asset).saturating_add(amount))
						.is_err()
					{
						log::error!(target: "runtime::margin", "no room for collateral {asset}");
					}
				});
			}
			log::info!(
				target: "runtime::margin",
				"v1: {records} account records, {entries} collateral entries moved into them"
			);
			T::DbWeight::get().reads_writes(
				records.saturating_add(entries.saturating_mul(2)),
				records.saturating_add(entries.saturating_mul(2)),
			)
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
			for (_, account) in Accounts::<T>::iter() {
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
			Pallet::<T>::do_try_state()
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

	/// Rewrites the state in the version 0 layout, the inverse of the migration: records
	/// without collateral (none for an account that holds only collateral), the collateral in
	/// the double map, storage version 0. For testing the migration on real states.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn downgrade<T: Config>() {
		let accounts: Vec<_> = Accounts::<T>::iter().collect();
		for (who, account) in accounts {
			for &(asset, amount) in &account.collateral {
				Collateral::<T>::insert(&who, asset, amount);
			}
			Accounts::<T>::remove(&who);
			if account.cash != 0 || !account.positions.is_empty() {
				let old = OldMarginAccount { cash: account.cash, positions: account.positions };
				old::Accounts::<T>::insert(&who, old);
			}
		}
		frame_support::traits::StorageVersion::new(0).put::<Pallet<T>>();
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

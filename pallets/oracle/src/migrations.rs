//! Storage migrations, one module per storage version.

/// Version 1: each asset's raw values move from the `RawValues` double map (asset, feeder →
/// value) into the asset's `Assets` record (until then `()`), sorted by feeder. A feed of an
/// asset then reads one item to check its listing and aggregate it, instead of one per
/// feeder and the iteration, which was most of a feed's weight.
pub mod v1 {
	use crate::{pallet::*, FeederValue, RawValueOf, ValuesOf};
	use alloc::vec::Vec;
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		Blake2_128Concat, Twox64Concat,
	};
	use perp_primitives::AssetId;

	/// The raw values of version 0: asset, feeder → the feeder's latest value.
	#[storage_alias]
	pub type RawValues<T: Config> = StorageDoubleMap<
		Pallet<T>,
		Twox64Concat,
		AssetId,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		RawValueOf<T>,
		OptionQuery,
	>;

	/// The listed assets of version 0, under the same storage name, with nothing in them.
	mod old {
		use super::*;
		#[storage_alias]
		pub type Assets<T: Config> =
			CountedStorageMap<Pallet<T>, Twox64Concat, AssetId, (), OptionQuery>;
	}

	/// One raw value as both layouts hold it: asset, feeder, value.
	pub type Entry<T> = (AssetId, <T as frame_system::Config>::AccountId, RawValueOf<T>);

	/// The migration, without the version check: see [`MigrateToV1`].
	pub struct ValuesIntoAssets<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for ValuesIntoAssets<T> {
		/// Each listed asset's record is written with its values, drained from the double
		/// map; the count of assets is unchanged. One block: its weight is that of the assets
		/// and the values, each read and written once.
		fn on_runtime_upgrade() -> Weight {
			let assets: Vec<AssetId> = old::Assets::<T>::iter_keys().collect();
			let mut moved = 0u64;
			for &asset in &assets {
				let mut values: Vec<_> = RawValues::<T>::drain_prefix(asset)
					.map(|(feeder, value)| FeederValue { feeder, value })
					.collect();
				moved += values.len() as u64;
				// The double map keys feeders by their hash: sort them by account.
				values.sort_by(|a, b| a.feeder.cmp(&b.feeder));
				// One value per current feeder (the pallet's `try_state`): there is room.
				// Were there not, the post-upgrade check fails.
				if values.len() > T::MaxFeeders::get() as usize {
					log::error!(target: "runtime::oracle", "asset {asset}: values dropped");
				}
				Assets::<T>::insert(asset, ValuesOf::<T>::truncate_from(values));
			}
			// Values of unlisted assets, which `try_state` rules out, would be dropped.
			let stray = RawValues::<T>::drain().count() as u64;
			if stray > 0 {
				log::error!(target: "runtime::oracle", "{stray} values of unlisted assets dropped");
			}
			log::info!(
				target: "runtime::oracle",
				"v1: {moved} raw values moved into {} asset records",
				assets.len()
			);
			let keys = (assets.len() as u64).saturating_add(moved).saturating_add(stray);
			T::DbWeight::get().reads_writes(keys, keys)
		}

		/// The listed assets and every raw value, in the order the records will hold them.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			let mut assets: Vec<AssetId> = old::Assets::<T>::iter_keys().collect();
			assets.sort();
			Ok((assets, old_entries::<T>()).encode())
		}

		/// The same assets are listed, and their records hold exactly the values the double
		/// map held; no entry is left.
		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let (assets, before): (Vec<AssetId>, Vec<Entry<T>>) =
				Decode::decode(&mut &state[..]).map_err(|_| "undecodable pre-upgrade state")?;
			frame_support::ensure!(
				RawValues::<T>::iter_keys().next().is_none(),
				"raw values left in the double map"
			);
			let mut listed: Vec<AssetId> = Assets::<T>::iter_keys().collect();
			listed.sort();
			frame_support::ensure!(listed == assets, "listed assets changed");
			frame_support::ensure!(
				Assets::<T>::count() as usize == assets.len(),
				"count of assets changed"
			);
			frame_support::ensure!(entries::<T>() == before, "raw values lost, added or changed");
			Ok(())
		}
	}

	/// Every entry of the version 0 double map, by asset then feeder.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn old_entries<T: Config>() -> Vec<Entry<T>> {
		let mut entries: Vec<Entry<T>> = RawValues::<T>::iter().collect();
		entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
		entries
	}

	/// Every value of the version 1 records, by asset then feeder.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn entries<T: Config>() -> Vec<Entry<T>> {
		let mut entries: Vec<Entry<T>> = Assets::<T>::iter()
			.flat_map(|(asset, values)| {
				values
					.into_iter()
					.map(move |FeederValue { feeder, value }| (asset, feeder, value))
			})
			.collect();
		entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
		entries
	}

	/// Rewrites a version 1 state in the version 0 layout, the inverse of the migration: the
	/// records' values in the double map, the records emptied to `()`, storage version 0.
	/// For testing the migration on real states.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn downgrade<T: Config>() {
		let records: Vec<_> = Assets::<T>::iter().collect();
		for (asset, values) in records {
			for FeederValue { feeder, value } in values {
				RawValues::<T>::insert(asset, feeder, value);
			}
			old::Assets::<T>::insert(asset, ());
		}
		frame_support::traits::StorageVersion::new(0).put::<Pallet<T>>();
	}

	/// Whether `asset` is listed in the version 0 layout (an empty record).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn is_listed_in_v0<T: Config>(asset: AssetId) -> bool {
		old::Assets::<T>::get(asset).is_some()
	}

	/// [`ValuesIntoAssets`] from storage version 0 to 1: it runs once, and sets the version.
	pub type MigrateToV1<T> = VersionedMigration<
		0,
		1,
		ValuesIntoAssets<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
